//! The delivery worker: a task inside the service that claims due messages,
//! delivers them outside any transaction, and records the outcome. Several
//! instances may run against one database: claims are leases that the
//! others skip. Delivery is at least once: a crash after sending and before
//! recording sends the message again when its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use super::store::{self, ClaimedRow, Retry};
use super::{Channel, OutboundMessage, Transport, Transports};
use crate::clock::SharedClock;
use crate::config::NotifySettings;
use crate::db::{Db, DbError};
use crate::ops::background::{Background, Round};
use crate::ops::{DeliveryOutcome, Metrics};

/// Longest `last_error` kept; gateways can answer with whole pages.
const MAX_ERROR_CHARS: usize = 500;

struct Worker {
    db: Db,
    clock: SharedClock,
    transports: Transports,
    settings: NotifySettings,
    metrics: Arc<Metrics>,
}

/// Starts the worker on the current tokio runtime; a full batch suggests
/// more are due, so the next round follows at once.
pub fn start(
    db: Db,
    clock: SharedClock,
    transports: Transports,
    settings: NotifySettings,
    metrics: Arc<Metrics>,
) -> Background {
    let interval = settings.poll_interval();
    let worker = Arc::new(Worker {
        db,
        clock,
        transports,
        settings,
        metrics: metrics.clone(),
    });
    Background::start("outbox_worker", interval, metrics, move || {
        let worker = worker.clone();
        async move { worker.round().await }
    })
}

impl Worker {
    /// Claims one batch and delivers it; a full batch suggests more are due.
    async fn round(&self) -> Round {
        let now = self.clock.now();
        let lease_until = now
            + chrono::Duration::from_std(self.settings.lease()).unwrap_or(chrono::Duration::MAX);
        let limit = self.settings.batch_size;
        let claimed = match self
            .db
            .run(move |conn| store::claim_due(conn, now, lease_until, limit).map_err(DbError::from))
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "outbox worker cannot claim messages");
                return Round::Failed;
            }
        };
        let full = claimed.len() >= limit as usize;
        let mut all_recorded = true;
        for (row, attachments) in claimed {
            all_recorded &= self.deliver(row, attachments).await;
        }
        match (all_recorded, full) {
            // The database took the claim but not an outcome: back off.
            (false, _) => Round::Failed,
            (true, true) => Round::More,
            (true, false) => Round::Idle,
        }
    }

    /// Delivers one message and records the outcome; false when the
    /// outcome could not be recorded.
    async fn deliver(&self, row: ClaimedRow, attachments: Vec<super::Attachment>) -> bool {
        let Some(channel) = Channel::parse(&row.channel) else {
            tracing::error!(message_id = %row.id, channel = %row.channel, "unknown outbox channel");
            return true;
        };
        let message = OutboundMessage {
            id: row.id,
            channel,
            to: row.recipient,
            subject: row.subject,
            body: row.body,
            attachments,
        };
        let transport = self.transports.for_channel(channel);
        let outcome = transport.send(&message).await;
        let now = self.clock.now();
        let id = message.id.clone();
        // Every delivery attempt counts, the successful one included.
        let attempts = row.attempts.saturating_add(1);
        let recorded = match outcome {
            Ok(()) => {
                self.metrics
                    .outbox_delivery(channel.as_str(), DeliveryOutcome::Sent);
                let name = transport.name();
                self.db
                    .run(move |conn| {
                        store::mark_sent(conn, &id, attempts, name, now).map_err(DbError::from)
                    })
                    .await
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
                self.db
                    .run(move |conn| {
                        store::mark_failed(conn, &id, attempts, retry, &error)
                            .map_err(DbError::from)
                    })
                    .await
            }
        };
        if let Err(e) = &recorded {
            // The lease runs out and the message is delivered again: at
            // least once, as promised.
            tracing::warn!(message_id = %message.id, error = %e, "cannot record an outbox delivery");
        }
        recorded.is_ok()
    }

    fn max_attempts(&self) -> i32 {
        i32::try_from(self.settings.max_attempts).unwrap_or(i32::MAX)
    }
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
