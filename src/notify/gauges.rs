//! The outbox's backlog on `/metrics`, read from the database at each
//! scrape, so that a transport that is down (SMTP, the SMS gateway) shows:
//! pending messages pile up and the oldest of them grows old.
//!
//! When the database does not answer (down, or no connection free within
//! the pool's acquire timeout), the scrape still succeeds, with the HTTP
//! and pool metrics, which are what an operator needs most then, and
//! `outbox_up 0` in place of the backlog series. Failing the scrape would
//! hide those metrics as well (Prometheus marks the whole target down), and
//! zeros or the last counts would read as "nothing is waiting".

use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, IntGaugeVec, Opts};

use super::store::{self, Backlog};
use crate::db::{Db, DbError};
use crate::ops::NAMESPACE;

/// The outbox's series for one scrape of `/metrics` (an [`crate::ops::Scrape`]).
pub fn scrape(db: Db, now: DateTime<Utc>) -> LocalBoxFuture<'static, Vec<MetricFamily>> {
    Box::pin(async move { families(read(&db).await.as_ref(), now) })
}

/// The backlog, or `None` when the database did not answer.
async fn read(db: &Db) -> Option<Backlog> {
    match db
        .run(|conn| store::backlog(conn).map_err(DbError::from))
        .await
    {
        Ok(backlog) => Some(backlog),
        Err(error) => {
            tracing::warn!(%error, "metrics go without the outbox: the database did not answer");
            None
        }
    }
}

/// The outbox's gauges for one scrape, made afresh each time so that no
/// series outlives the reading it came from.
fn families(backlog: Option<&Backlog>, now: DateTime<Utc>) -> Vec<MetricFamily> {
    let up = IntGauge::with_opts(opts(
        "outbox_up",
        "1 when this scrape read the outbox, 0 when the database did not answer.",
    ))
    .expect("static metric definition");
    up.set(i64::from(backlog.is_some()));
    let mut families = up.collect();
    let Some(backlog) = backlog else {
        return families;
    };
    let messages = IntGaugeVec::new(
        opts(
            "outbox_messages",
            "Outbox messages not delivered, by status: pending (still to be delivered), dead (given up), expired (dropped unsent after their lifetime).",
        ),
        &["status"],
    )
    .expect("static metric definition");
    for (status, count) in backlog.by_status {
        messages.with_label_values(&[status]).set(count);
    }
    let oldest = IntGauge::with_opts(opts(
        "outbox_oldest_pending_seconds",
        "Seconds since the oldest message still to be delivered was queued; 0 when none is.",
    ))
    .expect("static metric definition");
    oldest.set(
        backlog
            .oldest_pending
            .map_or(0, |queued| (now - queued.and_utc()).num_seconds().max(0)),
    );
    families.extend(messages.collect());
    families.extend(oldest.collect());
    families
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(NAMESPACE)
}
