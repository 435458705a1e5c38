//! R-BK-05: where a service asks for documents (to bring, or for a legal
//! entity's representative to send first), the citizen is told which ones
//! by e-mail in reasonable time before the visit. The confirmation lists
//! them at booking; for appointments booked well ahead this pass e-mails
//! them again `lead_hours` before the start, when there is still time to
//! gather them. A reservation confirmed inside that lead has just been
//! told, and gets no reminder; a service that asks for nothing sends none,
//! since R-BK-06 names no other use of the e-mail address.

use std::sync::Arc;
use std::time::Duration as Pause;

use chrono::{DateTime, Duration, Utc};

use super::messages::{BookingMessage, ReservationLink, queue_reminder};
use super::store;
use crate::clock::SharedClock;
use crate::config::ReminderSettings;
use crate::db::{Db, DbConn, write_transaction};
use crate::domain::ids::ReservationId;
use crate::http::ApiError;
use crate::ops::Metrics;
use crate::ops::background::{Background, Round};

/// Reservations claimed per query; each is then handled in a transaction
/// of its own, so one failure costs one reminder, not the batch.
const BATCH: i64 = 200;

/// Handles every confirmed reservation starting within `lead` of `now`
/// that no pass has handled; answers how many reminders it queued. Each
/// reservation is claimed by a conditional UPDATE in the transaction that
/// queues its reminder, so passes running at once (several instances)
/// never send one twice.
pub fn run(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lead: Duration,
    link: &ReservationLink,
) -> Result<usize, ApiError> {
    let mut sent = 0;
    loop {
        let due = store::due_for_reminder(conn, now.naive_utc(), (now + lead).naive_utc(), BATCH)?;
        // Those confirmed inside the lead need nothing: one statement marks
        // them all, instead of a transaction each.
        let (ahead, late): (Vec<_>, Vec<_>) =
            due.iter().partition(|c| c.created_at + lead <= c.starts_at);
        let late: Vec<&ReservationId> = late.iter().map(|c| &c.id).collect();
        store::claim_reminders(conn, &late, now.naive_utc())?;
        for candidate in ahead {
            let queued = write_transaction(conn, |tx| -> Result<bool, ApiError> {
                if store::claim_reminders(tx, &[&candidate.id], now.naive_utc())? == 0 {
                    return Ok(false);
                }
                let Some(row) = store::find(tx, &candidate.id)? else {
                    return Ok(false);
                };
                let context = store::service_context(tx, &row.service_id)?;
                let message = BookingMessage::load(tx, &row, &context, link)?;
                queue_reminder(tx, &message, now)
            })?;
            sent += usize::from(queued);
        }
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(sent);
        }
    }
}

/// The server's own passes: one shortly after start, then one every
/// `interval_secs`.
pub fn start(
    db: Db,
    clock: SharedClock,
    link: ReservationLink,
    settings: &ReminderSettings,
    metrics: Arc<Metrics>,
) -> Background {
    let pause = Pause::from_secs(settings.interval_secs.max(1));
    let lead = Duration::hours(i64::from(settings.lead_hours));
    Background::start("reminders", pause, metrics, move || {
        let (db, clock, link) = (db.clone(), clock.clone(), link.clone());
        async move {
            let now = clock.now();
            match db.run(move |conn| run(conn, now, lead, &link)).await {
                Ok(sent) => {
                    if sent > 0 {
                        tracing::info!(sent, "documents reminders queued");
                    }
                    Round::Idle
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reminder pass failed; next one as usual");
                    Round::Failed
                }
            }
        }
    })
}
