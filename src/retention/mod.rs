//! Retention: what the service keeps, and for how long (R-BK-07; API.md →
//! Data protection).
//!
//! One pass ([`run`]) anonymizes reservations six months after their start
//! and purges what has served its purpose: ended sessions (absolute end or
//! idle) with their one-time codes, sign-ins never finished, one-time-code throttles, idempotency records, and
//! delivered or abandoned outbox messages. The server runs a pass on a
//! schedule ([`schedule::start`]); operators run one with `citizen-api
//! retention run [--now RFC3339]`.
//!
//! Every step is a set-based statement that checks its own condition again
//! on the rows it changes, so passes may overlap, on one instance or on
//! several, without counting or changing a row twice.

pub mod schedule;
mod store;

use chrono::{DateTime, Duration, Months, NaiveDateTime, Utc};
use serde::Serialize;

use crate::db::DbConn;

/// R-BK-07: booking data is kept as entered for six months from the
/// appointment's start.
pub const RESERVATION_MONTHS: u32 = 6;
/// API.md promises replays for at least 24 hours; a day more spares a
/// client retrying across the boundary, and the records hold the answers,
/// personal data included, so not much longer.
pub const IDEMPOTENCY_KEPT: Duration = Duration::hours(48);
/// Delivered, abandoned and expired messages stay a month for support questions
/// ("I never got the e-mail"); they hold addresses and names.
pub const OUTBOX_KEPT: Duration = Duration::days(30);
/// A throttle row limits codes per hour; a day after its last code it
/// limits nothing.
pub const OTP_THROTTLE_KEPT: Duration = Duration::days(1);

/// What one pass did, row counts per step.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub reservations_anonymized: usize,
    pub sessions_purged: usize,
    pub login_states_purged: usize,
    pub otp_throttles_purged: usize,
    pub idempotency_records_purged: usize,
    pub outbox_messages_purged: usize,
}

/// Reservations that started at or before this instant are anonymized at
/// `now`: six calendar months back, in UTC (the earlier day when the month
/// is shorter, as chrono counts).
pub fn anonymize_before(now: DateTime<Utc>) -> NaiveDateTime {
    let now = now.naive_utc();
    now.checked_sub_months(Months::new(RESERVATION_MONTHS))
        .unwrap_or(NaiveDateTime::MIN)
}

/// One pass at `now`; sessions idle for `session_idle` have ended.
pub fn run(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    session_idle: Duration,
) -> diesel::QueryResult<Report> {
    let at = now.naive_utc();
    Ok(Report {
        reservations_anonymized: store::anonymize_reservations(conn, anonymize_before(now), at)?,
        sessions_purged: store::purge_ended_sessions(conn, at, at - session_idle)?,
        login_states_purged: store::purge_expired_login_states(conn, at)?,
        otp_throttles_purged: store::purge_otp_throttles(conn, at - OTP_THROTTLE_KEPT)?,
        idempotency_records_purged: store::purge_idempotency_records(conn, at - IDEMPOTENCY_KEPT)?,
        outbox_messages_purged: store::purge_finished_messages(conn, at - OUTBOX_KEPT)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn r_bk_07_six_calendar_months_back_from_now() {
        assert_eq!(
            anonymize_before(utc(2026, 12, 1, 9)),
            utc(2026, 6, 1, 9).naive_utc()
        );
        // Across the year's turn.
        assert_eq!(
            anonymize_before(utc(2027, 3, 15, 0)),
            utc(2026, 9, 15, 0).naive_utc()
        );
        // 31 August back to a 30-day month: its last day.
        assert_eq!(
            anonymize_before(utc(2026, 8, 31, 12)),
            utc(2026, 2, 28, 12).naive_utc()
        );
    }
}
