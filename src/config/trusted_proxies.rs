//! The client's address, for everything that limits or counts per client:
//! the TCP peer, unless the peer is one of `http.trusted_proxies`.
//!
//! Behind a reverse proxy every request comes from the proxy, so keying on
//! the peer would put all citizens in one bucket. A trusted proxy's
//! `X-Forwarded-For` is read from the right: each entry there was appended by
//! the hop after it, so an entry is believed only while that hop is trusted.
//! The first address not trusted is the client; whatever lies to its left
//! the client wrote itself and is never read, so a forged leftmost entry
//! changes nothing. An entry that is not an address, where one is needed,
//! makes the whole header unreadable: the peer is the client then.
//!
//! Only `X-Forwarded-For` is read, not RFC 7239 `Forwarded`: it is what
//! nginx (`$proxy_add_x_forwarded_for`), HAProxy (`option forwardfor`) and
//! the cloud load balancers send. Reading both would be unsafe: a proxy that
//! writes one passes the client's copy of the other through untouched.
//! actix's `ConnectionInfo::realip_remote_addr` is not used for the same
//! reason, and because it believes the leftmost entry from anyone.
//!
//! Addresses are compared and answered in canonical form: an IPv4 client
//! on an IPv6 socket (`::ffff:10.0.0.1`) is `10.0.0.1`, and so is the same
//! form in the settings.

use std::net::{IpAddr, SocketAddr};

use ipnet::{IpNet, Ipv4Net};

/// The proxies whose `X-Forwarded-For` entries are believed. Empty (the
/// default) trusts nobody: the peer is always the client.
#[derive(Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads IP addresses (`127.0.0.1`, `::1`) and CIDR networks
    /// (`10.0.0.0/8`); on error, answers the first entry that is neither.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|entry| network(entry.trim()).ok_or_else(|| entry.clone()))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether an entry is wider than the widest private range of its
    /// family (10.0.0.0/8, fc00::/7), where operators run their proxies:
    /// such an entry takes in public addresses by the million, from any of
    /// which a client could name itself whatever it likes. `0.0.0.0/0` is
    /// the usual mistake; `0.0.0.0/1` is the same mistake by halves. Wider
    /// than /8 rather than only /0, since it takes 256 /8 entries to cover
    /// everything again, and nobody writes those by accident.
    pub fn trusts_too_widely(&self) -> bool {
        self.0.iter().any(|net| match net {
            IpNet::V4(net) => net.prefix_len() < 8,
            IpNet::V6(net) => net.prefix_len() < 7,
        })
    }

    fn trusts(&self, address: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(address))
    }

    /// The client of a request from `peer` that carried these
    /// `X-Forwarded-For` lines, in the order received (several lines form
    /// one list, as RFC 9110 5.3 says; HAProxy adds a line of its own).
    pub fn client_address(&self, peer: IpAddr, forwarded_for: &[impl AsRef<str>]) -> IpAddr {
        let peer = peer.to_canonical();
        let mut hops = forwarded_for
            .iter()
            .rev()
            .flat_map(|line| line.as_ref().rsplit(','));
        let mut client = peer;
        while self.trusts(&client) {
            match hops.next() {
                // Trusted all the way: the request began at one of ours.
                None => break,
                Some(hop) => match address(hop) {
                    Some(next) => client = next,
                    None => return peer,
                },
            }
        }
        client
    }
}

/// An entry of the setting.
fn network(entry: &str) -> Option<IpNet> {
    let net = match entry.parse::<IpAddr>() {
        Ok(address) => IpNet::from(address),
        Err(_) => entry.parse::<IpNet>().ok()?.trunc(),
    };
    Some(canonical(net))
}

/// IPv4-mapped IPv6 networks made IPv4, as the addresses they are matched
/// against are.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96)
                .expect("32 bits at most are left")
                .into(),
            None => net,
        },
        _ => net,
    }
}

/// One `X-Forwarded-For` entry: an address, which some load balancers
/// write with a port (`203.0.113.7:41234`, `[2001:db8::7]:41234`).
fn address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim_matches([' ', '\t']);
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipnet::Ipv6Net;
    use proptest::prelude::*;

    fn trusting(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        TrustedProxies::parse(&entries).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "10.0.0.1";
    const CITIZEN: &str = "203.0.113.7";

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client_address(ip(PROXY), &[CITIZEN]), ip(PROXY));
    }

    #[test]
    fn a_trusted_peer_names_the_client() {
        let proxies = trusting(&["10.0.0.0/8"]);
        assert_eq!(proxies.client_address(ip(PROXY), &[CITIZEN]), ip(CITIZEN));
    }

    #[test]
    fn an_untrusted_peer_names_nobody() {
        let proxies = trusting(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_address(ip("198.51.100.1"), &[CITIZEN]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn what_the_client_wrote_left_of_its_own_address_is_not_read() {
        let proxies = trusting(&["10.0.0.0/8"]);
        let forged = format!("192.0.2.66, not an address, {CITIZEN}");
        assert_eq!(proxies.client_address(ip(PROXY), &[forged]), ip(CITIZEN));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        let proxies = trusting(&["10.0.0.0/8", "172.16.5.4"]);
        let line = format!("192.0.2.66, {CITIZEN}, 172.16.5.4, 10.9.9.9");
        assert_eq!(proxies.client_address(ip(PROXY), &[line]), ip(CITIZEN));
    }

    #[test]
    fn several_lines_form_one_list_in_the_order_received() {
        let proxies = trusting(&["10.0.0.0/8"]);
        // HAProxy adds its own line after the client's.
        let lines = ["192.0.2.66".to_string(), format!("{CITIZEN}, 10.0.0.2")];
        assert_eq!(proxies.client_address(ip(PROXY), &lines), ip(CITIZEN));
    }

    #[test]
    fn a_request_that_began_inside_the_trusted_networks_is_its_first_hop() {
        let proxies = trusting(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client_address(ip(PROXY), &["10.2.2.2, 10.0.0.3"]),
            ip("10.2.2.2")
        );
    }

    #[test]
    fn a_missing_or_unreadable_header_leaves_the_peer() {
        let proxies = trusting(&["10.0.0.0/8"]);
        let none: [&str; 0] = [];
        assert_eq!(proxies.client_address(ip(PROXY), &none), ip(PROXY));
        for garbage in ["", "unknown", "203.0.113.7, ", "203.0.113.7,,10.0.0.2"] {
            assert_eq!(
                proxies.client_address(ip(PROXY), &[garbage]),
                ip(PROXY),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn entries_with_a_port_are_read() {
        let proxies = trusting(&["10.0.0.0/8"]);
        for (entry, client) in [
            ("203.0.113.7:41234", CITIZEN),
            ("[2001:db8::7]:41234", "2001:db8::7"),
            (" 2001:db8::7\t", "2001:db8::7"),
        ] {
            assert_eq!(
                proxies.client_address(ip(PROXY), &[entry]),
                ip(client),
                "{entry}"
            );
        }
    }

    #[test]
    fn ipv4_clients_on_an_ipv6_socket_are_matched_and_answered_as_ipv4() {
        for setting in ["10.0.0.0/8", "::ffff:10.0.0.0/104", "::ffff:10.0.0.1"] {
            let proxies = trusting(&[setting]);
            assert_eq!(
                proxies.client_address(ip("::ffff:10.0.0.1"), &["::ffff:203.0.113.7"]),
                ip(CITIZEN),
                "{setting}"
            );
        }
    }

    #[test]
    fn the_setting_takes_addresses_and_networks_and_names_a_bad_entry() {
        let entries = ["127.0.0.1", "::1", "10.0.0.0/8", "10.1.2.3/16", "fd00::/8"];
        let proxies = trusting(&entries);
        assert!(proxies.trusts(&ip("10.1.200.200")));
        assert!(!proxies.trusts(&ip("127.0.0.2")));
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.*", ""] {
            let entries = vec!["127.0.0.1".to_string(), bad.to_string()];
            assert_eq!(TrustedProxies::parse(&entries).unwrap_err(), bad);
        }
    }

    #[test]
    fn a_network_wider_than_the_private_ranges_is_trusting_too_widely() {
        for too_wide in [
            "0.0.0.0/0",
            "::/0",
            "::ffff:0.0.0.0/96",
            "0.0.0.0/1",
            "128.0.0.0/1",
            "8.0.0.0/7",
            "2000::/3",
            "fc00::/6",
        ] {
            let proxies = trusting(&["127.0.0.1", too_wide]);
            assert!(proxies.trusts_too_widely(), "{too_wide}");
        }
        let private = [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
            "::1",
        ];
        assert!(!trusting(&private).trusts_too_widely());
    }

    fn any_address() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    /// Networks that, in turn, the proxies sit in: some of IPv4, some of
    /// IPv6, of any size but "everyone".
    fn any_networks() -> impl Strategy<Value = Vec<IpNet>> {
        let v4 = (any::<[u8; 4]>(), 1u8..=32)
            .prop_map(|(a, len)| IpNet::from(Ipv4Net::new(a.into(), len).unwrap().trunc()));
        let v6 = (any::<[u8; 16]>(), 1u8..=128)
            .prop_map(|(a, len)| IpNet::from(Ipv6Net::new(a.into(), len).unwrap().trunc()));
        proptest::collection::vec(prop_oneof![v4, v6].prop_map(canonical), 1..4)
    }

    proptest! {
        /// Behind any chain of trusted proxies, the client's own address is
        /// the answer, whatever the client wrote before it.
        #[test]
        fn a_client_cannot_choose_its_address(
            networks in any_networks(),
            client in any_address(),
            forged in ".*",
            hops in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
        ) {
            let proxies = TrustedProxies(networks.clone());
            prop_assume!(!proxies.trusts(&client.to_canonical()));
            // Each hop is the first address of one of the trusted networks.
            let mut chain: Vec<IpAddr> =
                hops.iter().map(|h| h.get(&networks).network()).collect();
            let peer = chain.pop().unwrap();
            let mut line = format!("{forged},{client}");
            for hop in chain {
                line.push_str(&format!(", {hop}"));
            }
            prop_assert_eq!(
                proxies.client_address(peer, &[line]),
                client.to_canonical()
            );
        }

        /// With nobody trusted the header is never read.
        #[test]
        fn without_trusted_proxies_the_header_is_ignored(
            peer in any_address(),
            lines in proptest::collection::vec(".*", 0..3),
        ) {
            prop_assert_eq!(
                TrustedProxies::default().client_address(peer, &lines),
                peer.to_canonical()
            );
        }
    }
}
