//! Abuse limits per client address (governor), answering `429` with
//! `Retry-After`, and the `RateLimit-*` headers on every response of a
//! limited endpoint.
//!
//! The key is the TCP peer address: `X-Forwarded-For` is not trusted, since
//! any client can write it. Behind a proxy, limit at the proxy as well.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::{ApiError, ErrorCode};

type KeyedLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

pub struct ClientRateLimit {
    limiter: KeyedLimiter,
    per_minute: u32,
}

impl ClientRateLimit {
    pub fn per_minute(per_minute: u32) -> ClientRateLimit {
        let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        ClientRateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute: n.get(),
        }
    }
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn seconds(duration: Duration) -> HeaderValue {
    HeaderValue::from(duration.as_secs_f64().ceil() as u64)
}

pub async fn limit_by_client_address(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limits) = req.app_data::<web::Data<ClientRateLimit>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let address = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let limit = HeaderValue::from(limits.per_minute);
    match limits.limiter.check_key(&address) {
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
