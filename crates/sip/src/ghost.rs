//! Ghost-call protection: a request may ring the line only if it came through the flow
//! the line registered over (the registrar's or outbound proxy's address for UDP, our own
//! connection for TCP/TLS) and is addressed to the line's current random contact user.
//! Scanners that dial the contact address directly, or replay an old contact, are refused
//! without ringing.

use std::net::SocketAddr;

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A UDP datagram from this address.
    Datagram(SocketAddr),
    /// Our own TCP/TLS connection to the registrar/proxy.
    OwnConnection,
}

/// What the filter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Through the registered flow, to the current contact: process it.
    Accept,
    /// Not from the registrar/proxy: refuse (403) without ringing.
    Stranger,
    /// From the flow but to another user (an old or guessed contact): refuse (404).
    WrongUser,
}

/// Decides about one request.
///
/// `flow_peer` is the address the line registered through; `ruri_user` the
/// Request-URI's user part; `contact_user` the line's current contact user. An OPTIONS
/// without a user (a registrar's keepalive to our address) is accepted from the flow.
pub fn decide(
    source: Source,
    flow_peer: SocketAddr,
    ruri_user: Option<&str>,
    contact_user: &str,
    is_options: bool,
) -> Decision {
    let from_flow = match source {
        Source::OwnConnection => true,
        Source::Datagram(addr) => same_peer(addr, flow_peer),
    };
    if !from_flow {
        return Decision::Stranger;
    }
    match ruri_user {
        Some(user) if !contact_user.is_empty() && user == contact_user => Decision::Accept,
        None if is_options => Decision::Accept,
        _ => Decision::WrongUser,
    }
}

/// Address equality that treats IPv4-mapped IPv6 addresses as their IPv4 form.
fn same_peer(a: SocketAddr, b: SocketAddr) -> bool {
    let canon = |s: SocketAddr| (s.ip().to_canonical(), s.port());
    canon(a) == canon(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn decisions() {
        let peer = addr("127.0.0.1:5070");
        let user = "aB3dE5gH7jK9mN1p";
        assert_eq!(
            decide(Source::Datagram(peer), peer, Some(user), user, false),
            Decision::Accept
        );
        assert_eq!(
            decide(Source::OwnConnection, peer, Some(user), user, false),
            Decision::Accept
        );
        // Right user, wrong sender: a scanner that learned the contact.
        assert_eq!(
            decide(
                Source::Datagram(addr("127.0.0.1:5071")),
                peer,
                Some(user),
                user,
                false
            ),
            Decision::Stranger
        );
        assert_eq!(
            decide(
                Source::Datagram(addr("10.0.0.9:5070")),
                peer,
                Some(user),
                user,
                false
            ),
            Decision::Stranger
        );
        // From the registrar but to an old or guessed user.
        assert_eq!(
            decide(Source::Datagram(peer), peer, Some("alice"), user, false),
            Decision::WrongUser
        );
        assert_eq!(
            decide(Source::Datagram(peer), peer, None, user, false),
            Decision::WrongUser
        );
        assert_eq!(
            decide(Source::Datagram(peer), peer, Some(""), "", false),
            Decision::WrongUser
        );
        // Case matters: the contact user is compared exactly.
        assert_eq!(
            decide(
                Source::Datagram(peer),
                peer,
                Some(&user.to_lowercase()),
                user,
                false
            ),
            Decision::WrongUser
        );
        // Registrar keepalive OPTIONS to our bare address.
        assert_eq!(
            decide(Source::Datagram(peer), peer, None, user, true),
            Decision::Accept
        );
        assert_eq!(
            decide(Source::Datagram(addr("1.2.3.4:1")), peer, None, user, true),
            Decision::Stranger
        );
        // v4-mapped v6 is the same peer.
        assert_eq!(
            decide(
                Source::Datagram(addr("[::ffff:127.0.0.1]:5070")),
                peer,
                Some(user),
                user,
                false
            ),
            Decision::Accept
        );
    }
}
