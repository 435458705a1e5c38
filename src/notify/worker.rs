//! The delivery worker: a task inside the service that claims due messages,
//! delivers them outside any transaction, and records the outcome. Several
//! instances may run against one database: claims are leases that the
//! others skip. Delivery is at least once: a crash after sending and before
//! recording sends the message again when its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use super::sealing::{self, Field, UnsealError};
use super::store::{self, ClaimedRow, Retry};
use super::{Channel, OutboundMessage, Transport, Transports};
use crate::clock::SharedClock;
use crate::config::NotifySettings;
use crate::db::{Db, DbConn, DbError};
use crate::ops::background::{Background, Round};
use crate::ops::{DeliveryOutcome, Metrics};

/// Longest `last_error` kept; gateways can answer with whole pages.
const MAX_ERROR_CHARS: usize = 500;

/// Delivers the outbox: [`OutboxWorker::deliver_due`] is one round, and
/// [`OutboxWorker::start`] runs rounds in the background. Cloning shares
/// one worker.
#[derive(Clone)]
pub struct OutboxWorker(Arc<Worker>);

struct Worker {
    db: Db,
    clock: SharedClock,
    transports: Transports,
    settings: NotifySettings,
    metrics: Arc<Metrics>,
}

/// What one round did with the messages it claimed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub sent: usize,
    /// Failed; another attempt follows after a backoff.
    pub retrying: usize,
    /// Failed for the last time, or could not be opened: now `dead`.
    pub given_up: usize,
    /// Past their `expires_at`: dropped, not sent.
    pub expired: usize,
    /// Handled, but the outcome could not be written down (or the row
    /// names no known channel); the lease runs out and it is tried again.
    pub unrecorded: usize,
}

/// How one claimed message ended.
enum Ended {
    Sent,
    Retrying,
    GivenUp,
    Expired,
}

impl OutboxWorker {
    pub fn new(
        db: Db,
        clock: SharedClock,
        transports: Transports,
        settings: NotifySettings,
        metrics: Arc<Metrics>,
    ) -> OutboxWorker {
        OutboxWorker(Arc::new(Worker {
            db,
            clock,
            transports,
            settings,
            metrics,
        }))
    }

    /// Starts rounds on the current tokio runtime, every `poll_interval`;
    /// a full batch suggests more are due, so the next round follows at
    /// once.
    pub fn start(&self) -> Background {
        let worker = self.clone();
        let batch_size = self.0.settings.batch_size as usize;
        Background::start(
            "outbox_worker",
            self.0.settings.poll_interval(),
            self.0.metrics.clone(),
            move || {
                let worker = worker.clone();
                async move {
                    match worker.deliver_due().await {
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox worker cannot claim messages");
                            Round::Failed
                        }
                        // The database took the claim but not an outcome:
                        // back off.
                        Ok(round) if round.unrecorded > 0 => Round::Failed,
                        Ok(round) if round.claimed >= batch_size => Round::More,
                        Ok(_) => Round::Idle,
                    }
                }
            },
        )
    }

    /// One round: claims up to a batch of due messages and delivers them.
    /// Tests call it to deliver exactly when they choose.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, DbError> {
        let worker = &self.0;
        let now = worker.clock.now();
        let lease_until = now
            + chrono::Duration::from_std(worker.settings.lease()).unwrap_or(chrono::Duration::MAX);
        let limit = worker.settings.batch_size;
        let claimed = worker
            .db
            .run(move |conn| store::claim_due(conn, now, lease_until, limit).map_err(DbError::from))
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len(),
            ..DeliveryRound::default()
        };
        for (row, attachments) in claimed {
            match worker.deliver(row, attachments).await {
                Err(Unrecorded) => round.unrecorded += 1,
                Ok(Ended::Sent) => round.sent += 1,
                Ok(Ended::Retrying) => round.retrying += 1,
                Ok(Ended::GivenUp) => round.given_up += 1,
                Ok(Ended::Expired) => round.expired += 1,
            }
        }
        Ok(round)
    }
}

/// The outcome of a delivery could not be written down (already logged).
struct Unrecorded;

impl Worker {
    /// Delivers one message, unless it expired, and records the outcome.
    async fn deliver(
        &self,
        row: ClaimedRow,
        attachments: Vec<super::Attachment>,
    ) -> Result<Ended, Unrecorded> {
        let Some(channel) = Channel::parse(&row.channel) else {
            tracing::error!(message_id = %row.id, channel = %row.channel, "unknown outbox channel");
            return Err(Unrecorded);
        };
        let now = self.clock.now();
        let id = row.id.clone();
        if row.expires_at.is_some_and(|at| at.and_utc() <= now) {
            self.metrics
                .outbox_delivery(channel.as_str(), DeliveryOutcome::Expired);
            return self
                .record(&row.id, move |conn| store::mark_expired(conn, &id))
                .await
                .map(|()| Ended::Expired);
        }
        // Every delivery attempt counts, the successful one included.
        let attempts = row.attempts.saturating_add(1);
        let (subject, body) = match open_text(&row) {
            Ok(text) => text,
            // A key taken out of the ring too early, or a row altered:
            // trying again cannot help.
            Err(e) => {
                let error = format!("cannot open the sealed text: {e}");
                tracing::error!(message_id = %row.id, error = %error, "outbox message given up");
                self.metrics
                    .outbox_delivery(channel.as_str(), DeliveryOutcome::GivenUp);
                return self
                    .record(&row.id, move |conn| {
                        store::mark_failed(conn, &id, attempts, Retry::GiveUp, &error)
                    })
                    .await
                    .map(|()| Ended::GivenUp);
            }
        };
        let message = OutboundMessage {
            id: row.id,
            channel,
            to: row.recipient,
            subject,
            body,
            attachments,
        };
        let transport = self.transports.for_channel(channel);
        let outcome = transport.send(&message).await;
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                self.metrics
                    .outbox_delivery(channel.as_str(), DeliveryOutcome::Sent);
                let name = transport.name();
                self.record(&message.id, move |conn| {
                    store::mark_sent(conn, &id, attempts, name, now)
                })
                .await
                .map(|()| Ended::Sent)
            }
            Err(error) => {
                let error = truncate(&error.0, MAX_ERROR_CHARS);
                let retry = if attempts >= self.max_attempts() {
                    tracing::error!(
                        message_id = %message.id,
                        channel = channel.as_str(),
                        attempts,
                        error = %error,
                        "outbox message given up after its last attempt"
                    );
                    self.metrics
                        .outbox_delivery(channel.as_str(), DeliveryOutcome::GivenUp);
                    Retry::GiveUp
                } else {
                    self.metrics
                        .outbox_delivery(channel.as_str(), DeliveryOutcome::Failed);
                    let delay = backoff(
                        attempts,
                        Duration::from_millis(self.settings.backoff_base_ms),
                        Duration::from_millis(self.settings.backoff_cap_ms),
                        fastrand::f64(),
                    );
                    tracing::warn!(
                        message_id = %message.id,
                        attempts,
                        retry_in_ms = delay.as_millis() as u64,
                        error = %error,
                        "outbox delivery failed; will retry"
                    );
                    Retry::At(
                        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
                    )
                };
                self.record(&message.id, move |conn| {
                    store::mark_failed(conn, &id, attempts, retry, &error)
                })
                .await
                .map(|()| match retry {
                    Retry::At(_) => Ended::Retrying,
                    Retry::GiveUp => Ended::GivenUp,
                })
            }
        }
    }

    /// Writes an outcome down. When that fails the lease runs out and the
    /// message is delivered again: at least once, as promised.
    async fn record(
        &self,
        message_id: &str,
        write: impl FnOnce(&mut DbConn) -> diesel::QueryResult<()> + Clone + Send + 'static,
    ) -> Result<(), Unrecorded> {
        self.db
            .run(move |conn| write(conn).map_err(DbError::from))
            .await
            .map_err(|e| {
                tracing::warn!(message_id, error = %e, "cannot record an outbox delivery");
                Unrecorded
            })
    }

    fn max_attempts(&self) -> i32 {
        i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX)
    }
}

/// The subject and body of a claimed message, opened.
fn open_text(row: &ClaimedRow) -> Result<(String, String), UnsealError> {
    Ok((
        sealing::open(Field::Subject, &row.id, row.subject.as_deref())?,
        sealing::open(Field::Body, &row.id, row.body.as_deref())?,
    ))
}

/// The longest wait before retry `attempt` (1 = the first retry): the base
/// doubled for every earlier attempt, never more than the cap.
pub fn backoff_ceiling(attempt: i32, base: Duration, cap: Duration) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    2u32.checked_pow(doublings)
        .map_or(cap, |factor| base.saturating_mul(factor))
        .min(cap)
}

/// "Full jitter": a uniformly random wait up to the ceiling, so that
/// messages that failed together (a gateway outage) do not all retry at the
/// same instant. `unit` is a random number in [0, 1).
pub fn backoff(attempt: i32, base: Duration, cap: Duration, unit: f64) -> Duration {
    backoff_ceiling(attempt, base, cap).mul_f64(unit.clamp(0.0, 1.0))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(100);
    const CAP: Duration = Duration::from_secs(10);

    #[test]
    fn the_backoff_ceiling_doubles_and_stops_at_the_cap() {
        let ceilings: Vec<u128> = (1..=9)
            .map(|attempt| backoff_ceiling(attempt, BASE, CAP).as_millis())
            .collect();
        assert_eq!(
            ceilings,
            [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]
        );
        assert_eq!(backoff_ceiling(1_000, BASE, CAP), CAP);
        assert_eq!(backoff_ceiling(i32::MAX, BASE, CAP), CAP);
    }

    #[test]
    fn the_jittered_wait_stays_between_zero_and_the_ceiling() {
        for attempt in 1..20 {
            let ceiling = backoff_ceiling(attempt, BASE, CAP);
            assert_eq!(backoff(attempt, BASE, CAP, 0.0), Duration::ZERO);
            assert!(backoff(attempt, BASE, CAP, 0.999) <= ceiling);
            assert_eq!(backoff(attempt, BASE, CAP, 0.5), ceiling / 2);
        }
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("σφάλμα", 3), "σφά…");
        assert_eq!(truncate("ok", 3), "ok");
    }
}
