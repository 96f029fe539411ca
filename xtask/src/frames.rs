//! What `bench-app` keeps of a grab of the screen: its size, its number of distinct
//! colours (for the first paint) and a hash per 16×16-pixel block (to tell two screens
//! apart), computed on every second pixel of every second row.

use crate::screen::Grab;
use std::time::Duration;

/// The side of the blocks whose hashes tell two grabs apart.
const BLOCK: usize = 16;

/// A grab reduced to what the timing needs.
pub struct Frame {
    /// When the grab returned, since the launch.
    pub t: Duration,
    pub width: usize,
    pub height: usize,
    pub colours: usize,
    blocks: Vec<u64>,
}

impl Frame {
    /// The share of blocks that differ (1 for another size).
    pub fn difference(&self, other: &Frame) -> f64 {
        if self.width != other.width || self.height != other.height || self.blocks.is_empty() {
            return 1.0;
        }
        let changed = self
            .blocks
            .iter()
            .zip(&other.blocks)
            .filter(|(a, b)| a != b)
            .count();
        changed as f64 / self.blocks.len() as f64
    }
}

/// Reduces grabs to frames; counts colours with a reusable bit set over the 2^24 RGB values.
pub struct Analyser {
    seen: Vec<u64>,
}

impl Analyser {
    pub fn new() -> Self {
        Self {
            seen: vec![0; (1 << 24) / 64],
        }
    }

    /// Reduces a grab, sampling every second pixel of every second row (a quarter of the
    /// work, done while the app under test starts beside it); colours are counted only with
    /// `count_colours`.
    pub fn frame(&mut self, grab: &Grab, t: Duration, count_colours: bool) -> Frame {
        let (w, h) = (grab.width, grab.height);
        let bw = w.div_ceil(BLOCK);
        let mut blocks = vec![0xcbf2_9ce4_8422_2325_u64; bw * h.div_ceil(BLOCK)];
        let mut colours = 0;
        if count_colours {
            self.seen.fill(0);
        }
        let (r, g, b) = if grab.lsb_first { (2, 1, 0) } else { (1, 2, 3) };
        for (y, row) in grab.data.chunks_exact(w * 4).enumerate().step_by(2) {
            let base = (y / BLOCK) * bw;
            for (bx, run) in row.chunks(BLOCK * 4).enumerate() {
                let mut hash = blocks[base + bx];
                // Two pixels a chunk: the first is sampled.
                for px in run.chunks_exact(8) {
                    let rgb = u32::from(px[r]) << 16 | u32::from(px[g]) << 8 | u32::from(px[b]);
                    if count_colours {
                        let (word, bit) = ((rgb >> 6) as usize, 1u64 << (rgb & 63));
                        if self.seen[word] & bit == 0 {
                            self.seen[word] |= bit;
                            colours += 1;
                        }
                    }
                    hash = (hash ^ u64::from(rgb)).wrapping_mul(0x0100_0000_01b3);
                }
                blocks[base + bx] = hash;
            }
        }
        Frame {
            t,
            width: w,
            height: h,
            colours,
            blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `width`×`height` grab of one colour (server byte order LSB first: B, G, R, X).
    fn plain(width: usize, height: usize, rgb: [u8; 3]) -> Grab {
        let [r, g, b] = rgb;
        Grab {
            width,
            height,
            lsb_first: true,
            data: [b, g, r, 0].repeat(width * height),
        }
    }

    fn set(grab: &mut Grab, x: usize, y: usize, rgb: [u8; 3]) {
        let i = (y * grab.width + x) * 4;
        let [r, g, b] = rgb;
        grab.data[i..i + 3].copy_from_slice(&[b, g, r]);
    }

    #[test]
    fn counts_the_distinct_colours_of_the_sampled_pixels() {
        let mut analyser = Analyser::new();
        let mut grab = plain(64, 48, [255, 255, 255]);
        assert_eq!(analyser.frame(&grab, Duration::ZERO, true).colours, 1);
        // Sampled: even columns of even rows. Two new colours there, one elsewhere.
        set(&mut grab, 2, 4, [1, 2, 3]);
        set(&mut grab, 10, 20, [200, 0, 0]);
        set(&mut grab, 3, 4, [9, 9, 9]);
        set(&mut grab, 2, 5, [8, 8, 8]);
        assert_eq!(analyser.frame(&grab, Duration::ZERO, true).colours, 3);
        // Counting starts afresh for each frame, and only when asked.
        let white = plain(64, 48, [255, 255, 255]);
        assert_eq!(analyser.frame(&white, Duration::ZERO, true).colours, 1);
        assert_eq!(analyser.frame(&grab, Duration::ZERO, false).colours, 0);
    }

    #[test]
    fn reads_either_byte_order() {
        let mut analyser = Analyser::new();
        let lsb = plain(32, 32, [10, 20, 30]);
        let msb = Grab {
            lsb_first: false,
            data: [0, 10, 20, 30].repeat(32 * 32),
            ..plain(32, 32, [0, 0, 0])
        };
        let (a, b) = (
            analyser.frame(&lsb, Duration::ZERO, true),
            analyser.frame(&msb, Duration::ZERO, true),
        );
        assert_eq!(a.difference(&b), 0.0, "the same colour in both orders");
    }

    #[test]
    fn tells_how_much_of_the_screen_changed() {
        let mut analyser = Analyser::new();
        // 64×48: 4×3 blocks of 16×16.
        let before = plain(64, 48, [0, 0, 0]);
        let mut after = plain(64, 48, [0, 0, 0]);
        let a = analyser.frame(&before, Duration::ZERO, false);
        assert_eq!(
            a.difference(&analyser.frame(&after, Duration::ZERO, false)),
            0.0
        );
        // One sampled pixel in the last block.
        set(&mut after, 62, 46, [0, 0, 1]);
        let b = analyser.frame(&after, Duration::ZERO, false);
        assert!((a.difference(&b) - 1.0 / 12.0).abs() < 1e-9);
        // Another size is another screen.
        let c = analyser.frame(&plain(64, 32, [0, 0, 0]), Duration::ZERO, false);
        assert_eq!(a.difference(&c), 1.0);
    }
}
