//! `wire::frame` over arbitrary stream buffers, driven like the TCP/TLS reader: a frame
//! never claims more bytes than the buffer holds (nor more than a message may have), a
//! message is self-delimiting (framing its own bytes gives the same frame), reading the
//! stream in small chunks yields the same messages as reading it at once, and every
//! complete frame goes through `wire::prevalidate` as a stream message without a panic.
#![no_main]

use deskline_sip::wire::{self, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte seeds the read sizes; the rest is the stream.
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = drive(std::iter::once(stream));
    for message in &whole.messages {
        let _ = wire::prevalidate(message, true);
    }
    // Above MAX_MESSAGE_BYTES an unterminated header section is refused as soon as the
    // buffer grows past the limit, which depends on the read sizes; below it, it must not.
    if stream.len() <= wire::MAX_MESSAGE_BYTES {
        let chunked = drive(Chunks::new(stream, seed));
        assert_eq!(
            whole, chunked,
            "chunked reads frame differently (seed {seed})"
        );
    }
});

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// Complete messages, in order.
    messages: Vec<Vec<u8>>,
    /// Bytes consumed as CRLF keepalives (a split `\r\n\r\n` ping is two pongs).
    keepalive_bytes: usize,
    /// Why the stream was closed, if it was.
    broken: Option<&'static str>,
    /// Bytes left in the buffer, waiting for more (0 once broken: how much of the rest
    /// had arrived by then depends on the read sizes).
    left: usize,
}

/// The loop of the transport's stream reader, with its invariants checked at each step.
fn drive<'a>(reads: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Outcome {
        messages: Vec::new(),
        keepalive_bytes: 0,
        broken: None,
        left: 0,
    };
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match wire::frame(&buf) {
                Frame::Incomplete => break,
                Frame::Keepalive(n) => {
                    assert!(n == 2 || n == 4, "keepalive of {n} bytes");
                    assert!(n <= buf.len(), "keepalive of {n} bytes in {}", buf.len());
                    assert!(buf[..n].iter().all(|b| matches!(b, b'\r' | b'\n')));
                    out.keepalive_bytes += n;
                    buf.drain(..n);
                }
                Frame::Message(n) => {
                    assert!(n > 0, "an empty message");
                    assert!(n <= buf.len(), "a message of {n} bytes in {}", buf.len());
                    assert!(n <= wire::MAX_MESSAGE_BYTES, "a message of {n} bytes");
                    let message: Vec<u8> = buf.drain(..n).collect();
                    assert!(
                        message.windows(4).any(|w| w == b"\r\n\r\n"),
                        "a message without the end of its header section"
                    );
                    assert_eq!(
                        wire::frame(&message),
                        Frame::Message(n),
                        "a message that does not frame by itself"
                    );
                    out.messages.push(message);
                }
                Frame::Broken(why) => {
                    assert!(!why.is_empty());
                    out.broken = Some(why);
                    return out;
                }
            }
        }
    }
    out.left = buf.len();
    out
}

/// Splits a stream into reads of 1 to 64 bytes, sizes from a small xorshift generator.
struct Chunks<'a> {
    rest: &'a [u8],
    state: u32,
}

impl<'a> Chunks<'a> {
    fn new(stream: &'a [u8], seed: u8) -> Self {
        Self {
            rest: stream,
            state: 0x9E37_79B9 ^ u32::from(seed),
        }
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        let size = (self.state % 64) as usize + 1;
        let (chunk, rest) = self.rest.split_at(size.min(self.rest.len()));
        self.rest = rest;
        Some(chunk)
    }
}
