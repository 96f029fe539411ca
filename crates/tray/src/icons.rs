//! The tray icons (`icons/tray/*.png` at the top of the repository, built into the
//! binary), decoded once into the ARGB32 pixmaps (network byte order) StatusNotifierItem
//! sends.

use crate::TrayError;

const IDLE: &[u8] = include_bytes!("../../../icons/tray/idle.png");
const OK: &[u8] = include_bytes!("../../../icons/tray/ok.png");
const FAILED: &[u8] = include_bytes!("../../../icons/tray/failed.png");
const ALERT: &[u8] = include_bytes!("../../../icons/tray/alert.png");

/// Which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    /// Not signed in, or the lines are still connecting.
    Idle,
    /// Signed in, every line registered (or no line to register).
    Ok,
    /// A line failed to register.
    Failed,
    /// Missed calls, or a call ringing.
    Alert,
}

/// One pixmap: width, height, ARGB32 bytes (the D-Bus `(iiay)`).
pub type Pixmap = (i32, i32, Vec<u8>);

/// The four icons, decoded.
#[derive(Debug, Clone)]
pub struct Icons {
    idle: Pixmap,
    ok: Pixmap,
    failed: Pixmap,
    alert: Pixmap,
}

impl Icons {
    /// Decodes the built-in icons.
    pub fn decode() -> Result<Self, TrayError> {
        Ok(Self {
            idle: decode(IDLE)?,
            ok: decode(OK)?,
            failed: decode(FAILED)?,
            alert: decode(ALERT)?,
        })
    }

    /// The pixmap for `kind`.
    pub fn get(&self, kind: IconKind) -> &Pixmap {
        match kind {
            IconKind::Idle => &self.idle,
            IconKind::Ok => &self.ok,
            IconKind::Failed => &self.failed,
            IconKind::Alert => &self.alert,
        }
    }
}

fn bad(reason: impl std::fmt::Display) -> TrayError {
    TrayError::Icon(reason.to_string())
}

/// A PNG (8-bit gray, gray+alpha, RGB or RGBA, palettes expanded) as ARGB32.
pub fn decode(bytes: &[u8]) -> Result<Pixmap, TrayError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| bad("the image is too large"))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(bad("palette not expanded")),
    };
    let width = usize::try_from(info.width).map_err(bad)?;
    let height = usize::try_from(info.height).map_err(bad)?;
    let mut argb = Vec::with_capacity(width * height * 4);
    for row in buf.chunks(info.line_size).take(height) {
        for px in row.chunks_exact(channels).take(width) {
            let (r, g, b, a) = match *px {
                [v] => (v, v, v, 255),
                [v, a] => (v, v, v, a),
                [r, g, b] => (r, g, b, 255),
                [r, g, b, a] => (r, g, b, a),
                _ => return Err(bad("unexpected pixel size")),
            };
            argb.extend_from_slice(&[a, r, g, b]);
        }
    }
    if argb.len() != width * height * 4 {
        return Err(bad("truncated image"));
    }
    Ok((
        i32::try_from(info.width).map_err(bad)?,
        i32::try_from(info.height).map_err(bad)?,
        argb,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_icon_decodes_to_a_64_pixel_square_that_is_not_blank() {
        let icons = Icons::decode().unwrap();
        for kind in [
            IconKind::Idle,
            IconKind::Ok,
            IconKind::Failed,
            IconKind::Alert,
        ] {
            let (w, h, data) = icons.get(kind);
            assert_eq!((*w, *h), (64, 64), "{kind:?}");
            assert_eq!(data.len(), 64 * 64 * 4, "{kind:?}");
            assert!(
                data.chunks_exact(4).any(|px| px[0] > 0),
                "{kind:?} is fully transparent"
            );
        }
        // The states look different.
        assert_ne!(icons.get(IconKind::Ok).2, icons.get(IconKind::Failed).2);
        assert_ne!(icons.get(IconKind::Ok).2, icons.get(IconKind::Alert).2);
    }

    #[test]
    fn gray_and_alpha_become_argb() {
        // The idle icon is 8-bit gray+alpha: its colour channels are equal.
        let (_, _, data) = decode(IDLE).unwrap();
        assert!(
            data.chunks_exact(4)
                .all(|px| px[1] == px[2] && px[2] == px[3])
        );
    }
}
