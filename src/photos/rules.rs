//! The time rules of a kodikarithmos, as pure functions of the clock
//! (docs/rules.md, R-PH-07 … R-PH-10): the operations decide with them, the
//! store states the same bounds in SQL, and unit tests hit them directly.

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Athens;

/// R-PH-08: a code never linked stops working two weeks after its creation.
pub const LINK_WINDOW: Duration = Duration::days(14);
/// R-PH-10: a code once linked may be linked again, by the AFM that first
/// linked it, until twelve months after its creation.
pub const RELINK_WINDOW: Months = Months::new(12);
/// R-PH-09: linked files are kept one year from the linking.
pub const LINKED_RETENTION: Months = Months::new(12);
/// R-PH-07: link and unlink operations of one AFM on one Athens day.
pub const DAILY_LIMIT: i32 = 5;

/// Until when a code can be linked: two weeks from its creation for a
/// first link, twelve calendar months (the day clamped to the month's end)
/// once an AFM has linked it.
pub fn link_deadline(created_at: DateTime<Utc>, ever_linked: bool) -> DateTime<Utc> {
    if ever_linked {
        add_months(created_at, RELINK_WINDOW)
    } else {
        created_at + LINK_WINDOW
    }
}

/// When linked files are deleted (R-PH-09).
pub fn delete_at(linked_at: DateTime<Utc>) -> DateTime<Utc> {
    add_months(linked_at, LINKED_RETENTION)
}

fn add_months(at: DateTime<Utc>, months: Months) -> DateTime<Utc> {
    // Instants this close to the end of time never come from the clock.
    at.checked_add_months(months)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The calendar day in Europe/Athens that `now` falls on: the day R-PH-07
/// counts in.
pub fn athens_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Athens).date_naive()
}

/// The next midnight in Athens, when the daily count starts again. Greek
/// clocks change at 03:00/04:00, so midnight always exists exactly once.
pub fn next_athens_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = athens_day(now)
        .succ_opt()
        .expect("the clock is not at the end of time");
    Athens
        .from_local_datetime(&tomorrow.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .expect("midnight exists in Athens")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn r_ph_08_first_link_within_two_weeks() {
        let created = utc("2027-03-01T10:00:00Z");
        assert_eq!(link_deadline(created, false), utc("2027-03-15T10:00:00Z"));
    }

    #[test]
    fn r_ph_10_relink_within_twelve_calendar_months() {
        assert_eq!(
            link_deadline(utc("2027-03-01T10:00:00Z"), true),
            utc("2028-03-01T10:00:00Z")
        );
        // 29 February has no twin a year on: the window ends on the 28th.
        assert_eq!(
            link_deadline(utc("2028-02-29T10:00:00Z"), true),
            utc("2029-02-28T10:00:00Z")
        );
    }

    #[test]
    fn r_ph_09_linked_files_kept_one_year() {
        assert_eq!(
            delete_at(utc("2027-06-30T21:30:00Z")),
            utc("2028-06-30T21:30:00Z")
        );
    }

    #[test]
    fn r_ph_07_the_day_is_athens_calendar_day() {
        // 22:30 UTC in winter is 00:30 the next day in Athens.
        assert_eq!(
            athens_day(utc("2027-01-10T22:30:00Z")),
            NaiveDate::from_ymd_opt(2027, 1, 11).unwrap()
        );
        assert_eq!(
            athens_day(utc("2027-07-10T20:59:59Z")),
            NaiveDate::from_ymd_opt(2027, 7, 10).unwrap()
        );
    }

    #[test]
    fn r_ph_07_the_count_restarts_at_athens_midnight_across_dst() {
        // Winter: midnight is 22:00 UTC.
        assert_eq!(
            next_athens_midnight(utc("2027-01-10T12:00:00Z")),
            utc("2027-01-10T22:00:00Z")
        );
        // Summer: 21:00 UTC.
        assert_eq!(
            next_athens_midnight(utc("2027-07-10T12:00:00Z")),
            utc("2027-07-10T21:00:00Z")
        );
        // The day the clocks go forward (28 March 2027, 03:00 → 04:00): the
        // day is 23 hours long, and the next midnight is in summer time.
        assert_eq!(
            next_athens_midnight(utc("2027-03-28T12:00:00Z")),
            utc("2027-03-28T21:00:00Z")
        );
        // The day they go back (31 October 2027): 25 hours long.
        assert_eq!(
            next_athens_midnight(utc("2027-10-31T12:00:00Z")),
            utc("2027-10-31T22:00:00Z")
        );
        // Just before midnight, the next one is seconds away.
        assert_eq!(
            next_athens_midnight(utc("2027-01-10T21:59:59Z")),
            utc("2027-01-10T22:00:00Z")
        );
    }
}
