//! Retention: what the service keeps, and for how long (R-BK-07; docs/api.md →
//! Retention).
//!
//! One pass ([`run`]) anonymizes reservations six months after their start
//! and purges what has served its purpose: ended sessions (absolute end or
//! idle) with their one-time codes, sign-ins never finished, one-time-code throttles, idempotency records,
//! delivered or abandoned outbox messages, and the revocations of access
//! tokens that have expired anyway. The server runs a pass on a
//! schedule ([`schedule::start`]); operators run one with `citizen-api
//! retention run [--now RFC3339]`.
//!
//! Every step is a set-based statement that checks its own condition again
//! on the rows it changes, so passes may overlap, on one instance or on
//! several, without counting or changing a row twice.

pub mod schedule;
mod store;

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;

use crate::db::DbConn;
use crate::oauth;

/// R-BK-07: booking data is kept as entered for six months from the
/// appointment's start.
pub const RESERVATION_MONTHS: u32 = 6;
/// docs/api.md promises replays for at least 24 hours; a day more spares a
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
    pub revoked_tokens_purged: usize,
}

/// R-BK-07: when a reservation starting at `start` is anonymized: six
/// calendar months later, on the month's last day when it is shorter
/// (31 March → 30 September, 31 August → 28 or 29 February).
///
/// Months are counted in UTC, on the stored instant, not in the
/// municipality's local time: one rule for every municipality (each has
/// its own `time_zone`) keeps the pass set-based over all reservations at
/// once (see [`due_starts`]), and UTC has no
/// clock changes, so no start lands in a skipped or repeated local hour.
/// Against counting on Athens' wall clock, the moment differs by at most
/// the hour the clocks change by (and by a day only for starts between
/// midnight and 03:00 local time, when no office has slots).
pub fn anonymized_from(start: NaiveDateTime) -> NaiveDateTime {
    start
        .checked_add_months(Months::new(RESERVATION_MONTHS))
        .unwrap_or(NaiveDateTime::MAX)
}

/// The starts whose six months have ended at some `now`
/// ([`anonymized_from`] at or before it): every start up to `through`,
/// and on the days in `windows`, those up to `now`'s time of day.
///
/// Not just an initial segment, because clamping keeps the time of day:
/// on 28 February 2027 at 00:00, 29 August 2026 at 00:00 is due (its six
/// months end at that very instant) but 28 August at 10:00 is not (28
/// February at 10:00). So the starts on the days after the first whose
/// six months end on `now`'s day (up to three, when `now` is the last day
/// of a month shorter than the one six back) are a window each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueStarts {
    pub through: NaiveDateTime,
    pub windows: Vec<(NaiveDateTime, NaiveDateTime)>,
}

impl DueStarts {
    pub fn contains(&self, start: NaiveDateTime) -> bool {
        start <= self.through
            || self
                .windows
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&start))
    }
}

/// The reservations to anonymize at `now`, as ranges of their start.
///
/// Counting six months back from `now` is not that at month ends: on
/// 30 September it gives 30 March, yet 31 March is due too; on 31 August
/// it gives 28 February at `now`'s time, yet all of 28 February was due on
/// 28 August.
pub fn due_starts(now: DateTime<Utc>) -> DueStarts {
    let now = now.naive_utc();
    let Some(back) = now.checked_sub_months(Months::new(RESERVATION_MONTHS)) else {
        return DueStarts {
            through: NaiveDateTime::MIN,
            windows: Vec::new(),
        };
    };
    let due_on = |day: NaiveDate| anonymized_from(day.and_time(NaiveTime::MIN)).date();
    // The clamped day back is the first whose six months may end on
    // `now`'s day; those that do follow it, then the first that ends later.
    let mut day = back.date();
    let mut ending_today = Vec::new();
    loop {
        if due_on(day) == now.date() {
            ending_today.push(day);
        }
        match day.succ_opt() {
            Some(next) if due_on(next) <= now.date() => day = next,
            _ => break,
        }
    }
    match ending_today.split_first() {
        Some((first, others)) => DueStarts {
            through: first.and_time(now.time()),
            windows: others
                .iter()
                .map(|day| (day.and_time(NaiveTime::MIN), day.and_time(now.time())))
                .collect(),
        },
        // Its six months ended on an earlier day: every start of it is due.
        None => DueStarts {
            through: day
                .and_time(NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).expect("a time")),
            windows: Vec::new(),
        },
    }
}

/// One pass at `now`; sessions idle for `session_idle` have ended.
pub fn run(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    session_idle: Duration,
) -> diesel::QueryResult<Report> {
    let at = now.naive_utc();
    Ok(Report {
        reservations_anonymized: store::anonymize_reservations(conn, &due_starts(now), at)?,
        sessions_purged: store::purge_ended_sessions(conn, at, at - session_idle)?,
        login_states_purged: store::purge_expired_login_states(conn, at)?,
        otp_throttles_purged: store::purge_otp_throttles(conn, at - OTP_THROTTLE_KEPT)?,
        idempotency_records_purged: store::purge_idempotency_records(conn, at - IDEMPOTENCY_KEPT)?,
        outbox_messages_purged: store::purge_finished_messages(conn, at - OUTBOX_KEPT)?,
        revoked_tokens_purged: oauth::store::purge_expired_revocations(conn, at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, TimeZone};

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn r_bk_07_six_calendar_months_back_from_now() {
        let through = |now| {
            let due = due_starts(now);
            assert_eq!(due.windows, []);
            due.through
        };
        assert_eq!(through(utc(2026, 12, 1, 9)), utc(2026, 6, 1, 9).naive_utc());
        // Across the year's turn.
        assert_eq!(
            through(utc(2027, 3, 15, 0)),
            utc(2026, 9, 15, 0).naive_utc()
        );
    }

    /// Defect (issue 12): a reservation starting on 31 March was anonymized
    /// a day after 30 September, its six months' end, because the cut-off
    /// counted six months back from `now` (30 September → 30 March).
    #[test]
    fn r_bk_07_month_ends_are_anonymized_at_six_months_clamped_to_the_month() {
        let cases = [
            ((2027, 3, 31), (2027, 9, 30)),
            ((2027, 8, 31), (2028, 2, 29)),
            ((2028, 8, 31), (2029, 2, 28)),
            ((2027, 4, 30), (2027, 10, 30)),
            ((2027, 12, 31), (2028, 6, 30)),
            ((2028, 2, 29), (2028, 8, 29)),
        ];
        for ((y, m, d), (due_y, due_m, due_d)) in cases {
            let start = utc(y, m, d, 10).naive_utc();
            let due = utc(due_y, due_m, due_d, 10);
            assert_eq!(anonymized_from(start), due.naive_utc(), "{start}");
            assert!(due_starts(due).contains(start), "{start} is due at {due}");
            let before = due - Duration::seconds(1);
            assert!(
                !due_starts(before).contains(start),
                "{start} is kept at {before}"
            );
        }
        // On 31 August every start of 28 February is due (its six months
        // ended on 28 August), though none is due on 31 August itself.
        assert_eq!(
            due_starts(utc(2026, 8, 31, 12)),
            DueStarts {
                through: NaiveDate::from_ymd_opt(2026, 2, 28)
                    .unwrap()
                    .and_hms_nano_opt(23, 59, 59, 999_999_999)
                    .unwrap(),
                windows: Vec::new(),
            }
        );
        // 28 February 2027 at 00:00 ends the six months of 28 August at
        // 00:00 and of 29, 30 and 31 August at 00:00, not of 28 August at
        // 10:00.
        let at_midnight = |d| utc(2026, 8, d, 0).naive_utc();
        let due = due_starts(utc(2027, 2, 28, 0));
        assert!(
            [28, 29, 30, 31]
                .map(at_midnight)
                .iter()
                .all(|s| due.contains(*s))
        );
        assert!(!due.contains(utc(2026, 8, 28, 10).naive_utc()));
    }

    /// The due starts against the rule itself, for every day of four years
    /// (a leap year among them) at the day's edges and around a time, and
    /// every start from 175 to 190 days before it.
    #[test]
    fn r_bk_07_a_pass_anonymizes_exactly_the_starts_six_months_old() {
        let times = [
            NaiveTime::MIN,
            NaiveTime::from_hms_opt(10, 29, 59).unwrap(),
            NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(10, 30, 1).unwrap(),
            NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
        ];
        let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        for today in first.iter_days().take_while(|d| d.year() < 2031) {
            for now in [times[0], times[2], times[4]].map(|t| today.and_time(t).and_utc()) {
                let due = due_starts(now);
                for back in 175..=190 {
                    for time in times {
                        let start = (today - Duration::days(back)).and_time(time);
                        assert_eq!(
                            due.contains(start),
                            anonymized_from(start) <= now.naive_utc(),
                            "start {start}, now {now}, {due:?}"
                        );
                    }
                }
            }
        }
    }
}
