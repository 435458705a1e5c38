//! Slot generation from a [`Schedule`], correct across daylight-saving changes.
//!
//! Opening hours are wall-clock times in the service's time zone, but slots
//! are stored as UTC instants. The conversion rules:
//!
//! * a slot is offered only if both its local start and its local end exist on
//!   the wall clock, so that what citizens read ("09:00–09:20") is real; slots
//!   touching the spring-forward gap are dropped rather than silently shifted;
//! * an ambiguous local time (the hour repeated at fall-back) resolves to its
//!   earlier instant, so the repeated hour yields one slot, not two; a slot
//!   spanning the change is therefore longer in UTC than `duration_minutes`
//!   (and one spanning the gap shorter);
//! * slots never overlap in UTC: after sorting, any slot that starts before
//!   the previous kept slot ends is dropped. For a valid schedule the first two
//!   rules already guarantee this; the sweep makes it hold for any input.
//!
//! The output depends only on the arguments, so regenerating is idempotent
//! and the caller can upsert on `(service, starts_at)`.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::weekly::Schedule;

/// Most days one call generates (inclusive range), bounding the work per call.
pub const MAX_GENERATION_DAYS: u64 = 366;

/// One bookable slot as stored: `[starts_at, ends_at)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotTimes {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Slots of `duration_minutes` for every open date in `from..=to` (capped at
/// [`MAX_GENERATION_DAYS`] days from `from`), sorted by `starts_at`, without
/// duplicates or overlaps. A zero duration or `to < from` yields no slots.
///
/// Within each opening range slots start at the range's `from` and follow
/// back-to-back on the wall clock while `start + duration <= to`.
pub fn generate(
    schedule: &Schedule,
    duration_minutes: u32,
    from: NaiveDate,
    to: NaiveDate,
    tz: Tz,
) -> Vec<SlotTimes> {
    if duration_minutes == 0 {
        return Vec::new();
    }
    let duration = TimeDelta::minutes(i64::from(duration_minutes));
    let last = from
        .checked_add_days(Days::new(MAX_GENERATION_DAYS - 1))
        .map_or(to, |cap| cap.min(to));

    let mut candidates = Vec::new();
    for date in from.iter_days().take_while(|date| *date <= last) {
        if !schedule.is_open_on(date) {
            continue;
        }
        for range in schedule.ranges_on(date.weekday()) {
            let close = date.and_time(range.to);
            let mut start = date.and_time(range.from);
            while let Some(end) = start
                .checked_add_signed(duration)
                .filter(|end| *end <= close)
            {
                if let (Some(starts_at), Some(ends_at)) = (to_utc(start, tz), to_utc(end, tz)) {
                    candidates.push(SlotTimes { starts_at, ends_at });
                }
                start = end;
            }
        }
    }

    candidates.sort_unstable();
    let mut slots: Vec<SlotTimes> = Vec::with_capacity(candidates.len());
    for slot in candidates {
        if slots
            .last()
            .is_none_or(|prev| slot.starts_at >= prev.ends_at)
        {
            slots.push(slot);
        }
    }
    slots
}

/// Local wall-clock time to UTC: `None` in a spring-forward gap, the earlier
/// instant when the time is ambiguous.
fn to_utc(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|instant| instant.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::super::{holidays::holiday_on, weekly::OpeningRange};
    use super::*;
    use chrono::{NaiveTime, Weekday};
    use chrono_tz::Europe::Athens;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid RFC 3339 instant")
    }

    fn schedule(weekly_hours: Vec<OpeningRange>) -> Schedule {
        Schedule {
            weekly_hours,
            seats_per_slot: 1,
            min_notice_minutes: 0,
            max_advance_days: 365,
            closed_dates: Vec::new(),
            open_dates: Vec::new(),
        }
    }

    /// Monday to Friday, 09:00–13:00.
    fn office() -> Schedule {
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        schedule(
            weekdays
                .into_iter()
                .map(|weekday| OpeningRange {
                    weekday,
                    from: t(9, 0),
                    to: t(13, 0),
                })
                .collect(),
        )
    }

    fn one_day(schedule: &Schedule, duration: u32, date: NaiveDate) -> Vec<SlotTimes> {
        generate(schedule, duration, date, date, Athens)
    }

    /// Asserts 12 back-to-back 20-minute slots starting at `first`.
    fn assert_twelve_from(slots: &[SlotTimes], first: &str) {
        let step = TimeDelta::minutes(20);
        let expected: Vec<_> = (0..12)
            .map(|i| {
                let starts_at = utc(first) + step * i;
                SlotTimes {
                    starts_at,
                    ends_at: starts_at + step,
                }
            })
            .collect();
        assert_eq!(slots, expected);
    }

    #[test]
    fn winter_tuesday_is_utc_plus_two() {
        // 2026-01-13 is a Tuesday; Athens is on EET (+02:00): 09:00 → 07:00Z.
        let slots = one_day(&office(), 20, ymd(2026, 1, 13));
        assert_twelve_from(&slots, "2026-01-13T07:00:00Z");
        assert_eq!(slots[11].ends_at, utc("2026-01-13T11:00:00Z"));
    }

    #[test]
    fn summer_tuesday_is_utc_plus_three() {
        // 2026-07-14 is a Tuesday; Athens is on EEST (+03:00): 09:00 → 06:00Z.
        assert_twelve_from(
            &one_day(&office(), 20, ymd(2026, 7, 14)),
            "2026-07-14T06:00:00Z",
        );
    }

    #[test]
    fn public_holiday_is_closed_unless_opened() {
        let good_friday = ymd(2026, 4, 10);
        assert!(one_day(&office(), 20, good_friday).is_empty());
        let mut opened = office();
        opened.open_dates.push(good_friday);
        assert_twelve_from(&one_day(&opened, 20, good_friday), "2026-04-10T06:00:00Z");
    }

    #[test]
    fn closed_date_has_no_slots() {
        let mut closed = office();
        closed.closed_dates.push(ymd(2026, 1, 13));
        assert!(one_day(&closed, 20, ymd(2026, 1, 13)).is_empty());
        assert_eq!(one_day(&closed, 20, ymd(2026, 1, 14)).len(), 12);
    }

    #[test]
    fn degenerate_inputs_yield_nothing() {
        assert!(one_day(&office(), 0, ymd(2026, 1, 13)).is_empty());
        assert!(generate(&office(), 20, ymd(2026, 1, 14), ymd(2026, 1, 13), Athens).is_empty());
        // Longer than any range.
        assert!(one_day(&office(), 245, ymd(2026, 1, 13)).is_empty());
    }

    #[test]
    fn range_is_capped_at_366_days() {
        let every_day = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|weekday| OpeningRange {
            weekday,
            from: t(9, 0),
            to: t(9, 5),
        })
        .collect();
        let from = ymd(2026, 1, 2);
        let slots = generate(&schedule(every_day), 5, from, ymd(2030, 1, 1), Athens);
        let last_day = slots
            .last()
            .map(|slot| slot.starts_at.with_timezone(&Athens).date_naive());
        // 2026-01-02 + 365 days; 2027-01-02 is a Saturday and not a holiday.
        assert_eq!(last_day, Some(ymd(2027, 1, 2)));
    }

    #[test]
    fn overlapping_ranges_never_produce_overlapping_slots() {
        // Invalid (validate() rejects it), but generate must still be safe.
        let overlapping = schedule(vec![
            OpeningRange {
                weekday: Weekday::Tue,
                from: t(9, 0),
                to: t(10, 0),
            },
            OpeningRange {
                weekday: Weekday::Tue,
                from: t(9, 10),
                to: t(10, 10),
            },
            OpeningRange {
                weekday: Weekday::Tue,
                from: t(9, 0),
                to: t(10, 0),
            },
        ]);
        let starts: Vec<_> = one_day(&overlapping, 30, ymd(2026, 1, 13))
            .iter()
            .map(|slot| slot.starts_at)
            .collect();
        // Candidates 09:00, 09:10, 09:30, 09:40 (local, ×2 for the duplicate
        // range); 09:10 and 09:40 start before the previous slot ends.
        assert_eq!(
            starts,
            [utc("2026-01-13T07:00:00Z"), utc("2026-01-13T07:30:00Z")]
        );
    }

    fn sunday_early_hours() -> Schedule {
        schedule(vec![OpeningRange {
            weekday: Weekday::Sun,
            from: t(2, 0),
            to: t(6, 0),
        }])
    }

    fn slot(starts_at: &str, ends_at: &str) -> SlotTimes {
        SlotTimes {
            starts_at: utc(starts_at),
            ends_at: utc(ends_at),
        }
    }

    #[test]
    fn spring_forward_skips_slots_touching_the_gap() {
        // 2026-03-29 (last Sunday of March): at 01:00Z Athens jumps from
        // 03:00 EET (+02:00) to 04:00 EEST (+03:00); local 03:00–03:59 does
        // not exist. Wall-clock candidates in 02:00–06:00, 60 min:
        //   02:00–03:00  start 02:00 EET = 00:00Z, end 03:00 missing → skipped
        //   03:00–04:00  start missing                               → skipped
        //   04:00–05:00  04:00 EEST = 01:00Z .. 05:00 EEST = 02:00Z
        //   05:00–06:00  05:00 EEST = 02:00Z .. 06:00 EEST = 03:00Z
        assert_eq!(
            one_day(&sunday_early_hours(), 60, ymd(2026, 3, 29)),
            [
                slot("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"),
                slot("2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z"),
            ]
        );
    }

    #[test]
    fn fall_back_yields_one_slot_for_the_repeated_hour() {
        // 2026-10-25 (last Sunday of October): at 01:00Z Athens goes back from
        // 04:00 EEST (+03:00) to 03:00 EET (+02:00); local 03:00–03:59 happens
        // twice (00:00Z–00:59Z and 01:00Z–01:59Z). Candidates, 60 min:
        //   02:00–03:00  02:00 EEST = 23:00Z (previous day) .. 03:00 → earlier
        //                instant, 03:00 EEST = 00:00Z
        //   03:00–04:00  03:00 → 00:00Z .. 04:00 exists only as EET = 02:00Z:
        //                one slot of 120 real minutes covering the repeat
        //   04:00–05:00  04:00 EET = 02:00Z .. 05:00 EET = 03:00Z
        //   05:00–06:00  05:00 EET = 03:00Z .. 06:00 EET = 04:00Z
        assert_eq!(
            one_day(&sunday_early_hours(), 60, ymd(2026, 10, 25)),
            [
                slot("2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z"),
                slot("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"),
                slot("2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"),
                slot("2026-10-25T03:00:00Z", "2026-10-25T04:00:00Z"),
            ]
        );
    }

    // ---- property tests around the DST changes -------------------------

    const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The EU changes clocks on the last Sunday of March and of October.
    fn last_sunday(year: i32, month: u32) -> NaiveDate {
        let last = ymd(year, month, 31);
        last - Days::new(u64::from(last.weekday().num_days_from_sunday()))
    }

    /// Pairs sorted distinct 5-minute grid indices into disjoint ranges.
    fn ranges_from(weekday: Weekday, bounds: &[u32]) -> Vec<OpeningRange> {
        let time = |index: u32| t(index * 5 / 60, index * 5 % 60);
        bounds
            .chunks_exact(2)
            .map(|pair| OpeningRange {
                weekday,
                from: time(pair[0]),
                to: time(pair[1]),
            })
            .collect()
    }

    /// Per weekday, up to three disjoint ranges whose bounds come from
    /// `indices` (5-minute grid indices, 0 = 00:00, 287 = 23:55).
    fn weekly(indices: std::ops::Range<u32>) -> impl Strategy<Value = Vec<OpeningRange>> {
        proptest::collection::vec(proptest::collection::btree_set(indices, 0..=6), 7).prop_map(
            |days| {
                WEEK.iter()
                    .zip(days)
                    .flat_map(|(weekday, set)| {
                        ranges_from(*weekday, &set.into_iter().collect::<Vec<_>>())
                    })
                    .collect()
            },
        )
    }

    /// Ranges that stay clear of local 03:00–04:59, where DST changes bite.
    fn weekly_away_from_dst() -> impl Strategy<Value = Vec<OpeningRange>> {
        (weekly(0..36), weekly(60..288)).prop_map(|(night, day)| [night, day].concat())
    }

    fn duration() -> impl Strategy<Value = u32> {
        (1u32..=24).prop_map(|steps| steps * 5)
    }

    /// A DST-change Sunday in 2020..2035.
    fn dst_sunday() -> impl Strategy<Value = NaiveDate> {
        (2020i32..2035, prop_oneof![Just(3u32), Just(10u32)])
            .prop_map(|(year, month)| last_sunday(year, month))
    }

    proptest! {
        /// (a) strictly increasing and non-overlapping in UTC; (b) each slot
        /// lies, in Athens wall-clock time, inside a range of its weekday on
        /// an open date; its UTC length is the duration unless it spans a
        /// DST change; (d) deterministic.
        #[test]
        fn slots_are_ordered_within_ranges_and_deterministic(
            hours in weekly(0..288),
            duration in duration(),
            sunday in dst_sunday(),
        ) {
            let schedule = schedule(hours);
            prop_assert!(schedule.validate().is_ok());
            let (from, to) = (sunday - Days::new(7), sunday + Days::new(3));
            let slots = generate(&schedule, duration, from, to, Athens);

            for pair in slots.windows(2) {
                prop_assert!(pair[0].ends_at <= pair[1].starts_at, "{:?}", pair);
            }
            for slot in &slots {
                prop_assert!(slot.starts_at < slot.ends_at);
                let start = slot.starts_at.with_timezone(&Athens);
                let end = slot.ends_at.with_timezone(&Athens);
                let date = start.date_naive();
                prop_assert_eq!(date, end.date_naive());
                prop_assert!(from <= date && date <= to && schedule.is_open_on(date));
                prop_assert!(
                    schedule.ranges_on(date.weekday()).any(|range| {
                        range.from <= start.time() && end.time() <= range.to
                    }),
                    "{:?} outside the ranges of {}", slot, date
                );
                let same_offset = start.offset() == end.offset();
                let exact = slot.ends_at - slot.starts_at == TimeDelta::minutes(duration.into());
                prop_assert!(exact || !same_offset, "{:?} has the wrong length", slot);
            }
            prop_assert_eq!(&slots, &generate(&schedule, duration, from, to, Athens));
        }

        /// (c) away from 03:00–04:59 a DST change shifts, doubles or loses no
        /// slot: the DST Sunday has as many slots as the Sunday before, each
        /// exactly `duration` long in UTC.
        #[test]
        fn dst_sunday_matches_previous_sunday_away_from_the_change(
            hours in weekly_away_from_dst(),
            duration in duration(),
            sunday in dst_sunday(),
        ) {
            let mut schedule = schedule(hours);
            // 25 March or 28 October can be the DST Sunday; open it so the
            // comparison is about DST, not holidays.
            if holiday_on(sunday).is_some() {
                schedule.open_dates.push(sunday);
            }
            prop_assert!(schedule.validate().is_ok());
            let week_before = sunday - Days::new(7);
            let on_dst_day = one_day(&schedule, duration, sunday);
            prop_assert_eq!(on_dst_day.len(), one_day(&schedule, duration, week_before).len());
            for slot in &on_dst_day {
                prop_assert_eq!(slot.ends_at - slot.starts_at, TimeDelta::minutes(duration.into()));
            }
        }
    }
}
