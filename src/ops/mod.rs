//! Operations endpoints at the root (`/healthz`, `/readyz`, `/metrics`) and
//! the middleware that gives every request an id, a log line and metrics.

pub mod allocator;
pub mod background;
mod health;
mod metrics;
mod metrics_access;
mod observe;

pub use metrics::{DeliveryOutcome, Metrics, NAMESPACE, Scrape, Scrapes};
pub use metrics_access::MetricsAccess;
pub use observe::observe;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics);
}
