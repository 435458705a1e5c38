//! The statements of a retention pass. Those over tables that grow with
//! use change rows in batches of 1000, each batch its own short statement,
//! so that a first pass over years of rows neither holds locks for long nor
//! keeps SQLite's one writer from bookings. Each repeats its condition
//! outside the batch's subquery: that is what PostgreSQL checks again on a
//! row another pass changed meanwhile, so no row is counted twice.

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;
use diesel::sql_types::{Text, Timestamp};

use super::DueStarts;
use crate::db::{DbConn, fixed_update};
use crate::notify::store::{STATUS_DEAD, STATUS_EXPIRED, STATUS_SENT};

const BATCH: usize = 1000;

/// Runs `batch` until it changes fewer rows than a full batch; answers the
/// rows changed in all.
fn in_batches(mut batch: impl FnMut() -> diesel::QueryResult<usize>) -> diesel::QueryResult<usize> {
    let mut total = 0;
    loop {
        let changed = batch()?;
        total += changed;
        if changed < BATCH {
            return Ok(total);
        }
    }
}

/// R-BK-07: removes name, e-mail, phone, special requirements, AFM,
/// legal-entity data and the free-text cancel reason (which may name
/// anyone) from reservations that started in `due`; keeps municipality,
/// department, service, slot time, status and timestamps, which the
/// statistics count.
pub fn anonymize_reservations(
    conn: &mut DbConn,
    due: &DueStarts,
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let mut total = in_batches(|| {
        AnonymizeReservations {
            now: &now,
            started_by: &due.through,
        }
        .execute(conn)
    })?;
    for (from, to) in &due.windows {
        total += in_batches(|| {
            AnonymizeReservationsBetween {
                now: &now,
                from,
                to,
            }
            .execute(conn)
        })?;
    }
    Ok(total)
}

/// The anonymizing statement, for a batch of reservations whose start
/// matches the condition that follows.
macro_rules! anonymize_where_starts {
    ($condition:literal) => {
        concat!(
            "UPDATE reservations SET citizen_afm = NULL, full_name = NULL, email = NULL, \
               phone = NULL, special_requirements = NULL, legal_entity_name = NULL, \
               legal_entity_afm = NULL, cancel_reason = NULL, upcoming_key = NULL, \
               anonymized_at = ? \
             WHERE anonymized_at IS NULL AND id IN (SELECT id FROM reservations \
               WHERE anonymized_at IS NULL AND starts_at ",
            $condition,
            " ORDER BY starts_at LIMIT 1000)"
        )
    };
}

fixed_update! {
    AnonymizeReservations { now: NaiveDateTime as Timestamp, started_by: NaiveDateTime as Timestamp }
    = anonymize_where_starts!("<= ?")
}

fixed_update! {
    AnonymizeReservationsBetween {
        now: NaiveDateTime as Timestamp, from: NaiveDateTime as Timestamp, to: NaiveDateTime as Timestamp,
    }
    = anonymize_where_starts!("BETWEEN ? AND ?")
}

/// Sessions that ended, at their absolute end or idle since `idle_since`
/// (the very rule that refuses them: `auth::store::live_session`), with
/// their one-time codes (`ON DELETE CASCADE`). A session holds the
/// caller's AFM and name, so it goes as soon as it can no longer be used.
pub fn purge_ended_sessions(
    conn: &mut DbConn,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    in_batches(|| {
        PurgeEndedSessions {
            now: &now,
            idle_since: &idle_since,
            now_again: &now,
            idle_since_again: &idle_since,
        }
        .execute(conn)
    })
}

fixed_update! {
    PurgeEndedSessions {
        now: NaiveDateTime as Timestamp, idle_since: NaiveDateTime as Timestamp,
        now_again: NaiveDateTime as Timestamp, idle_since_again: NaiveDateTime as Timestamp,
    }
    = "DELETE FROM sessions WHERE (expires_at <= ? OR last_seen_at <= ?) AND id IN \
         (SELECT id FROM sessions WHERE expires_at <= ? OR last_seen_at <= ? LIMIT 1000)"
}

/// Sign-ins started and never finished, once their `state` has expired
/// (ten minutes): nothing can use them any more.
pub fn purge_expired_login_states(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    in_batches(|| {
        PurgeExpiredLoginStates {
            now: &now,
            again: &now,
        }
        .execute(conn)
    })
}

fixed_update! {
    PurgeExpiredLoginStates { now: NaiveDateTime as Timestamp, again: NaiveDateTime as Timestamp }
    = "DELETE FROM login_states WHERE expires_at <= ? AND state_hash IN \
         (SELECT state_hash FROM login_states WHERE expires_at <= ? LIMIT 1000)"
}

pub fn purge_otp_throttles(
    conn: &mut DbConn,
    last_sent_by: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    PurgeOtpThrottles {
        last_sent_by: &last_sent_by,
    }
    .execute(conn)
}

fixed_update! {
    PurgeOtpThrottles { last_sent_by: NaiveDateTime as Timestamp }
    = "DELETE FROM otp_throttle WHERE last_sent_at <= ?"
}

pub fn purge_idempotency_records(
    conn: &mut DbConn,
    created_by: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    in_batches(|| {
        PurgeIdempotencyRecords {
            created_by: &created_by,
            again: &created_by,
        }
        .execute(conn)
    })
}

fixed_update! {
    PurgeIdempotencyRecords { created_by: NaiveDateTime as Timestamp, again: NaiveDateTime as Timestamp }
    = "DELETE FROM idempotency_records WHERE created_at <= ? AND (caller, scope, key) IN \
         (SELECT caller, scope, key FROM idempotency_records WHERE created_at <= ? LIMIT 1000)"
}

/// Delivered, abandoned and expired messages, with their attachments (`ON DELETE
/// CASCADE`); pending ones are never touched, however old.
pub fn purge_finished_messages(
    conn: &mut DbConn,
    created_by: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    in_batches(|| {
        PurgeFinishedMessages {
            sent: STATUS_SENT,
            dead: STATUS_DEAD,
            expired: STATUS_EXPIRED,
            sent_again: STATUS_SENT,
            dead_again: STATUS_DEAD,
            expired_again: STATUS_EXPIRED,
            created_by: &created_by,
        }
        .execute(conn)
    })
}

fixed_update! {
    PurgeFinishedMessages {
        sent: str as Text, dead: str as Text, expired: str as Text,
        sent_again: str as Text, dead_again: str as Text, expired_again: str as Text,
        created_by: NaiveDateTime as Timestamp,
    }
    = "DELETE FROM outbox_messages WHERE status IN (?, ?, ?) AND id IN \
         (SELECT id FROM outbox_messages WHERE status IN (?, ?, ?) \
          AND created_at <= ? LIMIT 1000)"
}
