//! Prometheus metrics: requests by route template and status, latency, the
//! state of the database pool and the outbox's backlog; for the operators
//! only ([`MetricsReader`]).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use super::metrics_access::MetricsReader;
use crate::clock::SharedClock;
use crate::db::Db;
use crate::openapi::problems::MetricsUnauthenticated;

/// The prefix of every metric's name.
pub const NAMESPACE: &str = "citizen_api";

/// Series that a slice reads afresh at each scrape (the outbox's backlog).
/// The composition root registers them, so that this module knows no slice.
pub type Scrape = fn(Db, DateTime<Utc>) -> LocalBoxFuture<'static, Vec<MetricFamily>>;

/// Every [`Scrape`] the server runs on `/metrics`.
#[derive(Clone, Default)]
pub struct Scrapes(pub Vec<Scrape>);

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    outbox_deliveries: IntCounterVec,
    background_last_success: IntGaugeVec,
    background_failures: IntCounterVec,
}

/// What became of one attempt to deliver an outbox message.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome {
    Sent,
    /// Failed; another attempt follows.
    Failed,
    /// Failed for the last time: the message is dead.
    GivenUp,
    /// Not delivered within its lifetime: dropped, never sent.
    Expired,
}

impl DeliveryOutcome {
    fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::GivenUp => "given_up",
            DeliveryOutcome::Expired => "expired",
        }
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some(NAMESPACE.into()), None).expect("static prefix is valid");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer, by method and route template.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("static metric definition");
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections by state (max, open, idle).",
            ),
            &["state"],
        )
        .expect("static metric definition");
        // A counter, not a count of the table's sent rows: that read the
        // whole table at every scrape. Each instance counts its own worker's
        // attempts; Prometheus sums the instances.
        let outbox_deliveries = IntCounterVec::new(
            Opts::new(
                "outbox_deliveries_total",
                "Outbox delivery attempts by this instance, by channel and outcome (sent, failed, given_up, expired).",
            ),
            &["channel", "outcome"],
        )
        .expect("static metric definition");
        // The retention passes anonymize what R-BK-07 says may not be kept:
        // a pass failing for days must be something to alert on
        // (`time() - last_success > 3 * interval`), not a log line.
        let background_last_success = IntGaugeVec::new(
            Opts::new(
                "background_last_success_timestamp_seconds",
                "When a round of the task last did its work, as Unix time; absent until one has.",
            ),
            &["task"],
        )
        .expect("static metric definition");
        let background_failures = IntCounterVec::new(
            Opts::new(
                "background_failures_total",
                "Rounds of the task that could not do their work (the log says why).",
            ),
            &["task"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(outbox_deliveries.clone()),
            Box::new(background_last_success.clone()),
            Box::new(background_failures.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            outbox_deliveries,
            background_last_success,
            background_failures,
        }
    }

    /// Wall-clock time, not the application's clock: Prometheus compares
    /// it with its own `time()`.
    pub fn background_round(&self, task: &'static str, succeeded: bool) {
        if succeeded {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| {
                    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
                });
            self.background_last_success
                .with_label_values(&[task])
                .set(now);
        } else {
            self.background_failures.with_label_values(&[task]).inc();
        }
    }

    pub fn outbox_delivery(&self, channel: &'static str, outcome: DeliveryOutcome) {
        self.outbox_deliveries
            .with_label_values(&[channel, outcome.label()])
            .inc();
    }

    /// `route` is the matched template (`/v1/municipalities/{municipality_id}/services`),
    /// never the raw path, so ids do not multiply the series.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The registry's metrics and `scraped`, those read for this scrape.
    fn render(&self, db: &Db, scraped: Vec<MetricFamily>) -> String {
        let state = db.state();
        for (label, value) in [
            ("max", state.max_size),
            ("open", state.open),
            ("idle", state.idle),
        ] {
            self.pool.with_label_values(&[label]).set(i64::from(value));
        }
        let mut families = self.registry.gather();
        families.extend(scraped);
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut buffer)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Prometheus text exposition format.
///
/// With `ops.metrics_token` configured (production requires it), only for
/// `Authorization: Bearer <token>`.
#[utoipa::path(
    tag = "operations",
    security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Metrics in the Prometheus text format.", body = String, content_type = "text/plain"),
        (status = 401, response = MetricsUnauthenticated),
    )
)]
#[get("/metrics")]
async fn metrics(
    _reader: MetricsReader,
    metrics: web::Data<Metrics>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
    scrapes: web::Data<Scrapes>,
) -> HttpResponse {
    let now = clock.now();
    let mut scraped = Vec::new();
    for scrape in &scrapes.0 {
        scraped.extend(scrape(db.get_ref().clone(), now).await);
    }
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(metrics.render(&db, scraped))
}
