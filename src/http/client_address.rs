//! The client's address, for everything that limits or counts per client:
//! the TCP peer, unless the peer is one of `http.trusted_proxies` (how the
//! `X-Forwarded-For` walk believes proxies is told in
//! [`crate::config::TrustedProxies`]).

use std::borrow::Cow;
use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::X_FORWARDED_FOR;
use actix_web::web;

use crate::config::TrustedProxies;

/// The client address of `req`, by the app's [`TrustedProxies`] (none when
/// the app has none). A request without a peer address (a Unix socket, a
/// test request) counts as `0.0.0.0`: with no peer, no proxy can be trusted.
pub fn client_address(req: &HttpRequest) -> IpAddr {
    let Some(peer) = req.peer_addr() else {
        return IpAddr::from([0, 0, 0, 0]);
    };
    let Some(trusted) = req.app_data::<web::Data<TrustedProxies>>() else {
        return peer.ip().to_canonical();
    };
    // A line that is not UTF-8 spoils only its own entries, and only if
    // the walk reaches them.
    let lines: Vec<Cow<str>> = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .map(|line| String::from_utf8_lossy(line.as_bytes()))
        .collect();
    trusted.client_address(peer.ip(), &lines)
}
