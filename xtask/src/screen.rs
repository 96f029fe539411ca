//! The virtual screen as `bench-app` sees it: one X connection (x11rb, in Rust) for the
//! whole run, on a thread of its own so that every question has a timeout. It finds an
//! app's top-level window by its title, grabs what the screen shows in the window's area,
//! and closes a window the way a window manager's close button does.
//!
//! A grab is one MIT-SHM `GetImage` of the root window into a segment of shared memory
//! (a file in `/dev/shm` that the server maps), so that timing an app's start takes as
//! little as possible of the machine the app starts on: the pixels do not cross the
//! socket. Without the extension (or `/dev/shm`), a plain `GetImage` does the same.

use anyhow::{Context, Result, anyhow, bail};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt as _;
use std::sync::mpsc;
use std::time::Duration;
use x11rb::connection::{Connection as _, RequestConnection as _};
use x11rb::errors::ReplyError;
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, ImageFormat, ImageOrder,
    MapState, Window,
};
use x11rb::rust_connection::RustConnection;

/// How long a question to the X server may take before the run gives up.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The pixels of a window's area of the screen: 32 bits a pixel, ZPixmap.
pub struct Grab {
    pub width: usize,
    pub height: usize,
    /// The server's image byte order: blue first in memory when true.
    pub lsb_first: bool,
    pub data: Vec<u8>,
}

enum Question {
    Find(String),
    Grab(Window),
    Close(Window),
}

enum Answer {
    Window(Option<Window>),
    Pixels(Option<Grab>),
    Closed,
}

/// The connection's thread, asked one question at a time. Dropped, it closes the channel:
/// the thread returns and the connection closes (nothing waits for it, in case the server
/// hangs).
pub struct Screen {
    questions: mpsc::Sender<Question>,
    answers: mpsc::Receiver<Result<Answer>>,
    shared_memory: bool,
}

impl Screen {
    /// Connects to `display` (such as `:377`).
    pub fn connect(display: &str) -> Result<Self> {
        let x = X::connect(display)?;
        let shared_memory = x.shared.is_some();
        let (questions, asked) = mpsc::channel::<Question>();
        let (answer, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("bench-app X".into())
            .spawn(move || {
                for question in asked {
                    let reply = match question {
                        Question::Find(title) => x.find(&title).map(Answer::Window),
                        Question::Grab(window) => x.grab(window).map(Answer::Pixels),
                        Question::Close(window) => x.close(window).map(|()| Answer::Closed),
                    };
                    if answer.send(reply).is_err() {
                        return;
                    }
                }
            })
            .context("start the thread of the X connection")?;
        Ok(Self {
            questions,
            answers,
            shared_memory,
        })
    }

    /// Whether grabs go through shared memory (else through the socket).
    pub fn shared_memory(&self) -> bool {
        self.shared_memory
    }

    fn ask(&mut self, question: Question, what: &str) -> Result<Answer> {
        self.questions
            .send(question)
            .map_err(|_| anyhow!("the X connection's thread ended"))?;
        match self.answers.recv_timeout(ANSWER_TIMEOUT) {
            Ok(answer) => answer.with_context(|| format!("X: {what}")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!("the X server did not answer ({what}) in {ANSWER_TIMEOUT:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("the X connection's thread ended ({what})")
            }
        }
    }

    /// The largest viewable top-level window titled `title`.
    pub fn find(&mut self, title: &str) -> Result<Option<Window>> {
        match self.ask(Question::Find(title.to_owned()), "find a window")? {
            Answer::Window(w) => Ok(w),
            _ => bail!("the X connection's thread answered another question"),
        }
    }

    /// What the screen shows in the window's area; `None` once the window is gone.
    pub fn grab(&mut self, window: Window) -> Result<Option<Grab>> {
        match self.ask(Question::Grab(window), "grab a window")? {
            Answer::Pixels(g) => Ok(g),
            _ => bail!("the X connection's thread answered another question"),
        }
    }

    /// Sends `WM_DELETE_WINDOW`, as a window manager does for the close button.
    pub fn close(&mut self, window: Window) -> Result<()> {
        match self.ask(Question::Close(window), "close a window")? {
            Answer::Closed => Ok(()),
            _ => bail!("the X connection's thread answered another question"),
        }
    }
}

/// The connection and what it learnt when it was made.
struct X {
    conn: RustConnection,
    root: Window,
    screen_width: i32,
    screen_height: i32,
    lsb_first: bool,
    net_wm_name: Atom,
    utf8_string: Atom,
    wm_protocols: Atom,
    wm_delete_window: Atom,
    /// The shared segment grabs go through, when the server has MIT-SHM 1.2.
    shared: Option<Segment>,
}

/// A segment of shared memory the size of the screen, attached to the server.
struct Segment {
    id: shm::Seg,
    file: File,
}

/// A reply, or `None` when the server refused the request (a window that went away
/// meanwhile); a broken connection is an error.
fn unless_gone<T>(reply: Result<T, ReplyError>) -> Result<Option<T>> {
    match reply {
        Ok(v) => Ok(Some(v)),
        Err(ReplyError::X11Error(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl X {
    fn connect(display: &str) -> Result<Self> {
        let (conn, screen_num) = x11rb::connect(Some(display))
            .with_context(|| format!("connect to the X server on {display}"))?;
        let setup = conn.setup();
        let screen = setup
            .roots
            .get(screen_num)
            .with_context(|| format!("{display} has no screen {screen_num}"))?;
        let (root, screen_width, screen_height) = (
            screen.root,
            i32::from(screen.width_in_pixels),
            i32::from(screen.height_in_pixels),
        );
        let lsb_first = setup.image_byte_order == ImageOrder::LSB_FIRST;
        let atom =
            |name: &[u8]| -> Result<Atom> { Ok(conn.intern_atom(false, name)?.reply()?.atom) };
        let (net_wm_name, utf8_string, wm_protocols, wm_delete_window) = (
            atom(b"_NET_WM_NAME")?,
            atom(b"UTF8_STRING")?,
            atom(b"WM_PROTOCOLS")?,
            atom(b"WM_DELETE_WINDOW")?,
        );
        let shared = match attach_segment(&conn, screen_width * screen_height * 4) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("bench-app: grabs go through the X socket ({e:#})");
                None
            }
        };
        Ok(Self {
            conn,
            root,
            screen_width,
            screen_height,
            lsb_first,
            net_wm_name,
            utf8_string,
            wm_protocols,
            wm_delete_window,
            shared,
        })
    }

    fn viewable(&self, window: Window) -> Result<bool> {
        Ok(
            unless_gone(self.conn.get_window_attributes(window)?.reply())?
                .is_some_and(|a| a.map_state == MapState::VIEWABLE),
        )
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME` (Latin-1); `None` once the window is gone.
    fn title(&self, window: Window) -> Result<Option<String>> {
        let Some(p) = unless_gone(
            self.conn
                .get_property(false, window, self.net_wm_name, self.utf8_string, 0, 1024)?
                .reply(),
        )?
        else {
            return Ok(None);
        };
        if !p.value.is_empty() {
            return Ok(Some(String::from_utf8_lossy(&p.value).into_owned()));
        }
        let p = unless_gone(
            self.conn
                .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 1024)?
                .reply(),
        )?;
        Ok(p.map(|p| p.value.iter().map(|&b| char::from(b)).collect()))
    }

    fn find(&self, title: &str) -> Result<Option<Window>> {
        let children = self.conn.query_tree(self.root)?.reply()?.children;
        let mut best: Option<(Window, u32)> = None;
        for w in children {
            if !self.viewable(w)? || self.title(w)?.as_deref() != Some(title) {
                continue;
            }
            let Some(g) = unless_gone(self.conn.get_geometry(w)?.reply())? else {
                continue;
            };
            let area = u32::from(g.width) * u32::from(g.height);
            if best.is_none_or(|(_, a)| area > a) {
                best = Some((w, area));
            }
        }
        Ok(best.map(|(w, _)| w))
    }

    fn grab(&self, window: Window) -> Result<Option<Grab>> {
        // Three questions in one round trip.
        let attributes = self.conn.get_window_attributes(window)?;
        let geometry = self.conn.get_geometry(window)?;
        let origin = self.conn.translate_coordinates(window, self.root, 0, 0)?;
        let (Some(attributes), Some(g), Some(at)) = (
            unless_gone(attributes.reply())?,
            unless_gone(geometry.reply())?,
            unless_gone(origin.reply())?,
        ) else {
            return Ok(None);
        };
        if attributes.map_state != MapState::VIEWABLE {
            return Ok(None);
        }
        let (x0, y0) = (i32::from(at.dst_x).max(0), i32::from(at.dst_y).max(0));
        let x1 = (i32::from(at.dst_x) + i32::from(g.width)).min(self.screen_width);
        let y1 = (i32::from(at.dst_y) + i32::from(g.height)).min(self.screen_height);
        if x1 <= x0 || y1 <= y0 {
            return Ok(None);
        }
        // Within the screen's size, so each fits in 16 bits.
        let coord = |v: i32| i16::try_from(v).context("a coordinate beyond 16 bits");
        let size = |v: i32| u16::try_from(v).context("a size beyond 16 bits");
        let (x, y, w, h) = (coord(x0)?, coord(y0)?, size(x1 - x0)?, size(y1 - y0)?);
        let (width, height) = (usize::from(w), usize::from(h));
        let (depth, data) = match &self.shared {
            Some(segment) => {
                let Some(image) = unless_gone(
                    self.conn
                        .shm_get_image(
                            self.root,
                            x,
                            y,
                            w,
                            h,
                            u32::MAX,
                            ImageFormat::Z_PIXMAP.into(),
                            segment.id,
                            0,
                        )?
                        .reply(),
                )?
                else {
                    return Ok(None);
                };
                let mut data = vec![0; usize::try_from(image.size)?];
                segment
                    .file
                    .read_exact_at(&mut data, 0)
                    .context("read the shared segment")?;
                (image.depth, data)
            }
            None => {
                let Some(image) = unless_gone(
                    self.conn
                        .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, u32::MAX)?
                        .reply(),
                )?
                else {
                    return Ok(None);
                };
                (image.depth, image.data)
            }
        };
        if data.len() != width * height * 4 {
            bail!(
                "unsupported grab: {width}×{height}, depth {depth}, {} bytes (32 bits a pixel expected)",
                data.len()
            );
        }
        Ok(Some(Grab {
            width,
            height,
            lsb_first: self.lsb_first,
            data,
        }))
    }

    fn close(&self, window: Window) -> Result<()> {
        let event = ClientMessageEvent::new(
            32,
            window,
            self.wm_protocols,
            [self.wm_delete_window, x11rb::CURRENT_TIME, 0, 0, 0],
        );
        self.conn
            .send_event(false, window, EventMask::NO_EVENT, event)?
            .check()?;
        Ok(())
    }
}

/// A file of `len` bytes in `/dev/shm`, unnamed, attached to the server as a segment
/// (MIT-SHM 1.2 passes its descriptor over the socket).
fn attach_segment(conn: &RustConnection, len: i32) -> Result<Segment> {
    if conn
        .extension_information(shm::X11_EXTENSION_NAME)?
        .is_none()
    {
        bail!("the server has no MIT-SHM");
    }
    let version = conn.shm_query_version()?.reply()?;
    if (version.major_version, version.minor_version) < (1, 2) {
        bail!(
            "the server's MIT-SHM is {}.{}, passing a descriptor needs 1.2",
            version.major_version,
            version.minor_version
        );
    }
    let file = tempfile::tempfile_in("/dev/shm").context("a file in /dev/shm")?;
    file.set_len(u64::try_from(len)?)
        .context("size the file in /dev/shm")?;
    let id = conn.generate_id()?;
    let fd = OwnedFd::from(file.try_clone().context("duplicate the descriptor")?);
    conn.shm_attach_fd(id, fd, false)?
        .check()
        .context("attach the segment")?;
    Ok(Segment { id, file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::Xvfb;
    use std::time::Instant;
    use x11rb::COPY_DEPTH_FROM_PARENT;
    use x11rb::protocol::Event;
    use x11rb::protocol::xproto::{CreateWindowAux, PropMode, WindowClass};
    use x11rb::wrapper::ConnectionExt as _;

    const TITLE: &str = "bench-app test ✓";
    /// The window's colour, 0xRRGGBB.
    const COLOUR: u32 = 0x12_34_56;

    /// On a real Xvfb started with `extra`: a client of the test's own maps a 200×100
    /// window of one colour; the screen finds it by its title (and nothing by another),
    /// grabs exactly its pixels, sees it gone when unmapped or destroyed, and closes it
    /// with the `WM_DELETE_WINDOW` message its client receives.
    fn finds_grabs_and_closes(extra: &[&str], through_shared_memory: bool) -> Result<()> {
        let log = tempfile::NamedTempFile::new()?;
        let xvfb = Xvfb::start(log.path(), extra)?;
        let (client, n) = x11rb::connect(Some(&xvfb.display))?;
        let root = client.setup().roots[n].root;
        let atom =
            |name: &[u8]| -> Result<Atom> { Ok(client.intern_atom(false, name)?.reply()?.atom) };
        let (net_wm_name, utf8, wm_protocols, wm_delete) = (
            atom(b"_NET_WM_NAME")?,
            atom(b"UTF8_STRING")?,
            atom(b"WM_PROTOCOLS")?,
            atom(b"WM_DELETE_WINDOW")?,
        );
        let window = client.generate_id()?;
        client.create_window(
            COPY_DEPTH_FROM_PARENT,
            window,
            root,
            30,
            40,
            200,
            100,
            0,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &CreateWindowAux::new().background_pixel(COLOUR),
        )?;
        client.change_property8(
            PropMode::REPLACE,
            window,
            net_wm_name,
            utf8,
            TITLE.as_bytes(),
        )?;
        client.change_property32(
            PropMode::REPLACE,
            window,
            wm_protocols,
            AtomEnum::ATOM,
            &[wm_delete],
        )?;
        client.map_window(window)?;
        client.flush()?;

        let mut screen = Screen::connect(&xvfb.display)?;
        assert_eq!(screen.shared_memory(), through_shared_memory);
        let deadline = Instant::now() + Duration::from_secs(5);
        let found = loop {
            if let Some(w) = screen.find(TITLE)? {
                break w;
            }
            assert!(Instant::now() < deadline, "the window was never found");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(found, window);
        assert_eq!(screen.find("another title")?, None);

        let grab = screen
            .grab(window)?
            .context("a grab of the mapped window")?;
        assert_eq!((grab.width, grab.height), (200, 100));
        let (r, g, b) = if grab.lsb_first { (2, 1, 0) } else { (1, 2, 3) };
        let wrong = grab
            .data
            .chunks_exact(4)
            .filter(|px| {
                (u32::from(px[r]) << 16 | u32::from(px[g]) << 8 | u32::from(px[b])) != COLOUR
            })
            .count();
        assert_eq!(wrong, 0, "pixels of another colour than the window's");

        // Closing: the window's client is asked to delete it, as by a close button.
        screen.close(window)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match client.poll_for_event()? {
                Some(Event::ClientMessage(m)) if m.window == window && m.type_ == wm_protocols => {
                    assert_eq!(m.data.as_data32()[0], wm_delete);
                    break;
                }
                Some(_) => {}
                None => {
                    assert!(Instant::now() < deadline, "no WM_DELETE_WINDOW arrived");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }

        // Unmapped, then destroyed: gone, not an error.
        client.unmap_window(window)?;
        client.sync()?;
        assert!(screen.grab(window)?.is_none());
        assert_eq!(screen.find(TITLE)?, None);
        client.destroy_window(window)?;
        client.sync()?;
        assert!(screen.grab(window)?.is_none());
        Ok(())
    }

    #[test]
    fn finds_grabs_and_closes_a_window_through_shared_memory() -> Result<()> {
        finds_grabs_and_closes(&[], true)
    }

    #[test]
    fn does_the_same_through_the_socket_without_mit_shm() -> Result<()> {
        finds_grabs_and_closes(&["-extension", "MIT-SHM"], false)
    }
}
