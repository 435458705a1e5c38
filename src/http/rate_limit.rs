//! Abuse limits per key (governor), answering `429` with `Retry-After`, and
//! the `RateLimit-*` headers on every response of a limited endpoint.
//!
//! The usual key is the client address ([`client_address`]): the TCP peer, or,
//! behind a trusted reverse proxy (`http.trusted_proxies`), the address the
//! proxy saw. Without that setting every citizen behind the proxy would
//! share the proxy's one allowance. An IPv6 client is limited by its /64
//! network: one household or host is given a whole /64 and could otherwise
//! take a new allowance with every address of it.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::{StateInformationMiddleware, StateSnapshot};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{NotUntil, Quota, RateLimiter};

use super::client_address::client_address;
use super::{ApiError, ErrorCode};

/// The scope whose every endpoint is limited per client address (the
/// sign-in and one-time-code endpoints); the OpenAPI document says so on
/// each of its answers.
pub const LIMITED_SCOPE: &str = "/v1/auth";

type KeyedLimiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// An allowance per minute for each key: a client address here, a client
/// id at the OAuth token endpoint.
pub struct RateLimit<K: Hash + Eq + Clone> {
    limiter: KeyedLimiter<K>,
    per_minute: u32,
    checks: AtomicU64,
}

/// The limit per client address.
pub type ClientRateLimit = RateLimit<IpAddr>;

/// Every this many checks, keys whose allowance is whole again are
/// forgotten: they would be limited exactly as a new one, and otherwise
/// every key that ever called would stay in memory.
const PRUNE_EVERY: u64 = 4096;

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn per_minute(per_minute: u32) -> RateLimit<K> {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        RateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute: n.get(),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K) -> Result<StateSnapshot, NotUntil<<DefaultClock as Clock>::Instant>> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        self.limiter.check_key(key)
    }

    /// Takes one request from `key`'s allowance; when it is spent, answers
    /// how long until the next one is allowed.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.check(key)
            .map(drop)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

impl RateLimit<IpAddr> {
    fn check_address(
        &self,
        address: IpAddr,
    ) -> Result<StateSnapshot, NotUntil<<DefaultClock as Clock>::Instant>> {
        self.check(&limited_unit(address))
    }

    /// Takes one request from the allowance of the request's client
    /// address; when it is spent, how long until the next.
    pub fn take_for(&self, req: &actix_web::HttpRequest) -> Result<(), Duration> {
        self.take(&limited_unit(client_address(req)))
    }

    /// For a handler that limits only some of what it does: refuses the
    /// request's client address when its allowance is spent.
    pub fn admit(&self, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
        self.take_for(req).map_err(|wait| {
            ApiError::new(ErrorCode::RateLimited).with_header(RETRY_AFTER, seconds(wait))
        })
    }
}

/// What one allowance covers: an IPv4 address, or an IPv6 /64 network.
fn limited_unit(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Whole seconds, rounded up, as `Retry-After` and `RateLimit-Reset` say them.
pub fn seconds(duration: Duration) -> HeaderValue {
    HeaderValue::from(duration.as_secs_f64().ceil() as u64)
}

pub async fn limit_by_client_address(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limits) = req.app_data::<web::Data<ClientRateLimit>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let address = client_address(req.request());
    let limit = HeaderValue::from(limits.per_minute);
    match limits.check_address(address) {
        Ok(snapshot) => {
            let mut response = next.call(req).await?;
            let headers = response.headers_mut();
            headers.insert(LIMIT, limit);
            headers.insert(
                REMAINING,
                HeaderValue::from(snapshot.remaining_burst_capacity()),
            );
            headers.insert(RESET, seconds(snapshot.quota().burst_size_replenished_in()));
            Ok(response.map_into_left_body())
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let error = ApiError::new(ErrorCode::RateLimited)
                .with_header(RETRY_AFTER, seconds(wait))
                .with_header(LIMIT, limit)
                .with_header(REMAINING, HeaderValue::from(0))
                .with_header(RESET, seconds(wait));
            // Answered here but as an error, so that the outer middleware
            // renders it in the caller's language like any other.
            let (request, _) = req.into_parts();
            Ok(ServiceResponse::from_err(error, request).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_of_64_bits_shares_one_allowance() {
        let limits = ClientRateLimit::per_minute(2);
        let host = |last: u16| IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, last]);
        assert!(limits.check_address(host(1)).is_ok());
        assert!(limits.check_address(host(2)).is_ok());
        assert!(
            limits.check_address(host(3)).is_err(),
            "another address, same /64"
        );
        let neighbour = IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]);
        assert!(
            limits.check_address(neighbour).is_ok(),
            "the next /64 is its own"
        );
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        assert!(limits.check_address(a).is_ok() && limits.check_address(a).is_ok());
        assert!(
            limits.check_address(b).is_ok(),
            "IPv4 addresses are each their own"
        );
    }

    #[test]
    fn addresses_whose_allowance_is_whole_again_are_forgotten() {
        // 60 000 a minute: one request's worth comes back in a millisecond.
        let limits = ClientRateLimit::per_minute(60_000);
        for n in 0..=255u8 {
            limits.check_address(IpAddr::from([10, 0, 0, n])).unwrap();
        }
        assert_eq!(limits.limiter.len(), 256);
        std::thread::sleep(Duration::from_millis(20));
        // The next check that completes a round of PRUNE_EVERY prunes.
        let done = limits.checks.load(Ordering::Relaxed);
        for _ in done..PRUNE_EVERY {
            limits.check_address(IpAddr::from([192, 0, 2, 1])).unwrap();
        }
        assert!(limits.limiter.len() <= 1, "{}", limits.limiter.len());
    }
}
