//! CPU cost of the INVITE hot path, without the network: pre-validation (our scanner and
//! rsip's parser), the ghost decision, the caller's identity and building 100 + 180.
//! `cargo bench -p deskline-sip --bench hot_path`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use deskline_sip::caller;
use deskline_sip::ghost::{self, Source};
use deskline_sip::wire::{self, Verdict};
use std::hint::black_box;

const INVITE: &str = "INVITE sip:aB3dE5gH7jK9mN1p@127.0.0.1:40000;transport=udp SIP/2.0\r\n\
Record-Route: <sip:127.0.0.1:5070;lr>\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2f3.1;rport\r\n\
Via: SIP/2.0/UDP 127.0.0.1:6000;received=127.0.0.1;rport=6000;branch=z9hG4bK-1-1-inv\r\n\
From: \"Bench 1\" <sip:+15550001@127.0.0.1:6000>;tag=1-1\r\n\
To: <sip:alice@127.0.0.1:5070>\r\n\
Call-ID: 1-12345@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:caller@127.0.0.1:6000>\r\n\
Max-Forwards: 69\r\n\
P-Asserted-Identity: \"Front Desk\" <sip:+15550001@example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 129\r\n\r\n\
v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn hot_path(c: &mut Criterion) {
    let peer = "127.0.0.1:5070".parse().unwrap();
    c.bench_function("prevalidate INVITE", |b| {
        b.iter(|| black_box(wire::prevalidate(black_box(INVITE.as_bytes()), false)))
    });
    c.bench_function("INVITE to 100 + 180 bytes", |b| {
        b.iter(|| {
            let Verdict::Request(req) = wire::prevalidate(INVITE.as_bytes(), false) else {
                panic!("refused")
            };
            let d = ghost::decide(
                Source::Datagram(peer),
                peer,
                req.ruri_user(),
                "aB3dE5gH7jK9mN1p",
                false,
            );
            let who = caller::caller(req.header_values("P-Asserted-Identity"), &req.from);
            let trying = req.base.build(100, "Trying", None, &[]);
            let ringing = req.base.build(180, "Ringing", Some("totag12345"), &[]);
            black_box((d, who, trying, ringing))
        })
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
