//! Gives every request an id (the caller's `X-Request-Id` when it is sane),
//! a tracing span, one log line and its metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use super::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller's id is kept if it is 1 to 128 visible ASCII characters, so it
/// can be logged and echoed safely; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            (1..=128).contains(&v.len()) && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                .expect("a UUID is a valid header value")
        })
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    // A method outside the standard ones would be a label of its own, and
    // any client can send one.
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    };
    // The path itself is not logged: some hold an AFM
    // (`/v1/departments/{id}/staff/{afm}`), and logs are out of the
    // retention pass's reach. The line below names the route's pattern.
    let span = tracing::info_span!(
        "request",
        request_id = %id.to_str().unwrap_or_default(),
        %method,
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics.observe(method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(
        || tracing::info!(status, %route, elapsed_ms = elapsed.as_millis() as u64, "answered"),
    );
    response.headers_mut().insert(REQUEST_ID, id);
    Ok(response)
}
