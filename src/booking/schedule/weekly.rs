//! A service's opening schedule as admins send it (JSON), and its validation.
//!
//! Validation collects *all* problems instead of stopping at the first, so an
//! admin form can highlight every bad field at once; each error carries the
//! JSON path of the field and a stable code the front end can key on.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

use super::holidays::holiday_on;

/// Most opening ranges a schedule may have (7 days × a few ranges each is
/// plenty; the cap bounds validation and slot-generation work).
pub const MAX_RANGES: usize = 50;
/// Most entries in `closed_dates` or `open_dates` (one per day of a leap year).
pub const MAX_DATES: usize = 366;
/// Opening times must be multiples of this many minutes.
pub const GRID_MINUTES: u32 = 5;

const SEATS_PER_SLOT: (u32, u32) = (1, 100);
/// Up to one week of notice.
const MIN_NOTICE_MINUTES: (u32, u32) = (0, 10_080);
const MAX_ADVANCE_DAYS: (u32, u32) = (1, 365);

/// Weekly opening hours and booking limits of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Several ranges per weekday are allowed (e.g. 09:00–13:00, 17:00–20:00).
    #[schema(max_items = 50)]
    pub weekly_hours: Vec<OpeningRange>,
    /// Citizens that can book the same slot (1..=100).
    #[serde(deserialize_with = "crate::http::whole_number")]
    #[schema(minimum = 1, maximum = 100, example = 2)]
    pub seats_per_slot: u32,
    /// How long before a slot starts booking closes (0..=10080).
    #[serde(deserialize_with = "crate::http::whole_number")]
    #[schema(minimum = 0, maximum = 10080, example = 120)]
    pub min_notice_minutes: u32,
    /// How far ahead slots are offered (1..=365).
    #[serde(deserialize_with = "crate::http::whole_number")]
    #[schema(minimum = 1, maximum = 365, example = 60)]
    pub max_advance_days: u32,
    /// Extra closures on top of the public holidays.
    #[serde(default)]
    #[schema(max_items = 366, example = json!(["2026-12-24"]))]
    pub closed_dates: Vec<NaiveDate>,
    /// Public holidays on which the service is nevertheless open.
    #[serde(default)]
    #[schema(max_items = 366, example = json!([]))]
    pub open_dates: Vec<NaiveDate>,
}

/// One opening range on a weekday, in local wall-clock time. `to` is
/// exclusive: the last slot must end by then. Ranges cannot cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningRange {
    /// `"monday"` … `"sunday"`.
    #[serde(with = "weekday_lowercase")]
    #[schema(value_type = String, pattern = "^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$", example = "monday")]
    pub weekday: Weekday,
    /// `"HH:MM"`.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][05]$", example = "09:00")]
    pub from: NaiveTime,
    /// `"HH:MM"`.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][05]$", example = "13:00")]
    pub to: NaiveTime,
}

impl Schedule {
    /// Checks every rule and returns all violations in a deterministic order
    /// (ranges, then numeric fields, then the date lists).
    ///
    /// When a list is over its size cap only `too_many` is reported for it:
    /// the per-entry checks are skipped so that an oversized payload cannot
    /// make validation expensive, and the cap is the actionable error anyway.
    pub fn validate(&self) -> Result<(), Vec<ScheduleError>> {
        let mut errors = Vec::new();
        self.validate_ranges(&mut errors);
        for (field, value, (min, max)) in [
            ("seats_per_slot", self.seats_per_slot, SEATS_PER_SLOT),
            (
                "min_notice_minutes",
                self.min_notice_minutes,
                MIN_NOTICE_MINUTES,
            ),
            ("max_advance_days", self.max_advance_days, MAX_ADVANCE_DAYS),
        ] {
            if !(min..=max).contains(&value) {
                errors.push(ScheduleError::new(
                    field.to_owned(),
                    ScheduleErrorKind::OutOfRange { min, max },
                ));
            }
        }
        let closed_ok = check_dates("closed_dates", &self.closed_dates, &mut errors);
        let open_ok = check_dates("open_dates", &self.open_dates, &mut errors);
        if open_ok {
            let closed: HashSet<_> = if closed_ok {
                self.closed_dates.iter().collect()
            } else {
                HashSet::new()
            };
            let mut seen = HashSet::new();
            for (i, date) in self.open_dates.iter().enumerate() {
                if !seen.insert(date) {
                    continue; // already reported as duplicate_date
                }
                let field = format!("open_dates[{i}]");
                if closed.contains(date) {
                    let kind = ScheduleErrorKind::ClosedAndOpen { date: *date };
                    errors.push(ScheduleError::new(field.clone(), kind));
                }
                if holiday_on(*date).is_none() {
                    let kind = ScheduleErrorKind::NotAHoliday { date: *date };
                    errors.push(ScheduleError::new(field, kind));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validate_ranges(&self, errors: &mut Vec<ScheduleError>) {
        if self.weekly_hours.len() > MAX_RANGES {
            let kind = ScheduleErrorKind::TooMany { max: MAX_RANGES };
            errors.push(ScheduleError::new("weekly_hours".to_owned(), kind));
            return;
        }
        for (i, range) in self.weekly_hours.iter().enumerate() {
            for (name, time) in [("from", range.from), ("to", range.to)] {
                if !on_grid(time) {
                    let field = format!("weekly_hours[{i}].{name}");
                    errors.push(ScheduleError::new(field, ScheduleErrorKind::OffGrid));
                }
            }
            if range.from >= range.to {
                let field = format!("weekly_hours[{i}].to");
                errors.push(ScheduleError::new(field, ScheduleErrorKind::RangeEmpty));
                continue; // an empty range cannot overlap; don't pile on errors
            }
            let overlapping = self.weekly_hours[..i].iter().position(|earlier| {
                earlier.weekday == range.weekday
                    && earlier.from < earlier.to
                    && earlier.from < range.to
                    && range.from < earlier.to
            });
            if let Some(j) = overlapping {
                let kind = ScheduleErrorKind::RangesOverlap {
                    other: format!("weekly_hours[{j}]"),
                };
                errors.push(ScheduleError::new(format!("weekly_hours[{i}]"), kind));
            }
        }
    }

    /// Opening ranges of `weekday`, in the order the admin listed them.
    pub fn ranges_on(&self, weekday: Weekday) -> impl Iterator<Item = &OpeningRange> {
        self.weekly_hours
            .iter()
            .filter(move |range| range.weekday == weekday)
    }

    /// Whether the service accepts bookings on `date`.
    ///
    /// Extra closures win over everything; a public holiday is open only when
    /// listed in `open_dates`; and an open day still needs opening hours for
    /// its weekday, so that `is_open_on` agrees with slot generation.
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        if self.closed_dates.contains(&date) {
            return false;
        }
        if holiday_on(date).is_some() && !self.open_dates.contains(&date) {
            return false;
        }
        self.ranges_on(date.weekday()).next().is_some()
    }
}

fn on_grid(time: NaiveTime) -> bool {
    time.minute().is_multiple_of(GRID_MINUTES) && time.second() == 0 && time.nanosecond() == 0
}

/// Size cap and duplicate check shared by both date lists. Returns whether
/// the list was small enough for its entries to be checked further.
fn check_dates(list: &str, dates: &[NaiveDate], errors: &mut Vec<ScheduleError>) -> bool {
    if dates.len() > MAX_DATES {
        let kind = ScheduleErrorKind::TooMany { max: MAX_DATES };
        errors.push(ScheduleError::new(list.to_owned(), kind));
        return false;
    }
    let mut seen = HashSet::new();
    for (i, date) in dates.iter().enumerate() {
        if !seen.insert(date) {
            let kind = ScheduleErrorKind::DuplicateDate { date: *date };
            errors.push(ScheduleError::new(format!("{list}[{i}]"), kind));
        }
    }
    true
}

/// A validation failure on one field of a [`Schedule`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {kind}")]
pub struct ScheduleError {
    /// JSON path of the offending field, e.g. `weekly_hours[2].to`.
    pub field: String,
    pub kind: ScheduleErrorKind,
}

impl ScheduleError {
    fn new(field: String, kind: ScheduleErrorKind) -> Self {
        Self { field, kind }
    }

    /// Stable snake_case code for clients; never change an existing one.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn message_en(&self) -> String {
        self.kind.to_string()
    }

    pub fn message_el(&self) -> String {
        self.kind.message_el()
    }
}

/// What is wrong; the `Display` impl is the English message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleErrorKind {
    #[error("The closing time must be after the opening time.")]
    RangeEmpty,
    #[error("Overlaps with {other} on the same weekday.")]
    RangesOverlap { other: String },
    #[error("Must be between {min} and {max}.")]
    OutOfRange { min: u32, max: u32 },
    #[error("The date {date} is listed more than once.")]
    DuplicateDate { date: NaiveDate },
    #[error("The date {date} is both closed and open.")]
    ClosedAndOpen { date: NaiveDate },
    #[error("The date {date} is not a public holiday; only holidays can be opened explicitly.")]
    NotAHoliday { date: NaiveDate },
    #[error("At most {max} entries are allowed.")]
    TooMany { max: usize },
    #[error("Times must be on a 5-minute boundary, e.g. 09:05.")]
    OffGrid,
}

impl ScheduleErrorKind {
    pub fn code(&self) -> &'static str {
        match self {
            Self::RangeEmpty => "range_empty",
            Self::RangesOverlap { .. } => "ranges_overlap",
            Self::OutOfRange { .. } => "out_of_range",
            Self::DuplicateDate { .. } => "duplicate_date",
            Self::ClosedAndOpen { .. } => "closed_and_open",
            Self::NotAHoliday { .. } => "not_a_holiday",
            Self::TooMany { .. } => "too_many",
            Self::OffGrid => "off_grid",
        }
    }

    /// Greek message; dates use the Greek day/month/year order.
    pub fn message_el(&self) -> String {
        let el_date = |date: &NaiveDate| date.format("%d/%m/%Y").to_string();
        match self {
            Self::RangeEmpty => "Η ώρα λήξης πρέπει να είναι μετά την ώρα έναρξης.".to_owned(),
            Self::RangesOverlap { other } => {
                format!("Επικαλύπτεται με το {other} την ίδια ημέρα της εβδομάδας.")
            }
            Self::OutOfRange { min, max } => format!("Πρέπει να είναι από {min} έως {max}."),
            Self::DuplicateDate { date } => format!(
                "Η ημερομηνία {} εμφανίζεται περισσότερες από μία φορές.",
                el_date(date)
            ),
            Self::ClosedAndOpen { date } => format!(
                "Η ημερομηνία {} έχει δηλωθεί ταυτόχρονα κλειστή και ανοιχτή.",
                el_date(date)
            ),
            Self::NotAHoliday { date } => format!(
                "Η ημερομηνία {} δεν είναι επίσημη αργία· μόνο αργίες μπορούν να δηλωθούν ανοιχτές.",
                el_date(date)
            ),
            Self::TooMany { max } => format!("Επιτρέπονται έως {max} εγγραφές."),
            Self::OffGrid => {
                "Οι ώρες πρέπει να είναι πολλαπλάσια των 5 λεπτών, π.χ. 09:05.".to_owned()
            }
        }
    }
}

/// Serde for [`Weekday`] as lower-case English names. chrono's own impl
/// writes `"Mon"`; the admin API contract is `"monday"`.
mod weekday_lowercase {
    use chrono::Weekday;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    const NAMES: [(Weekday, &str); 7] = [
        (Weekday::Mon, "monday"),
        (Weekday::Tue, "tuesday"),
        (Weekday::Wed, "wednesday"),
        (Weekday::Thu, "thursday"),
        (Weekday::Fri, "friday"),
        (Weekday::Sat, "saturday"),
        (Weekday::Sun, "sunday"),
    ];

    pub(super) fn name(weekday: Weekday) -> &'static str {
        NAMES[weekday.num_days_from_monday() as usize].1
    }

    pub fn serialize<S: Serializer>(weekday: &Weekday, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(name(*weekday))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Weekday, D::Error> {
        let text = String::deserialize(deserializer)?;
        NAMES
            .iter()
            .find(|(_, name)| *name == text)
            .map(|(weekday, _)| *weekday)
            .ok_or_else(|| {
                D::Error::custom(format!("expected a weekday like \"monday\", got {text:?}"))
            })
    }
}

/// Serde for [`NaiveTime`] as exactly `"HH:MM"`. chrono's own impl writes
/// seconds; rejecting them keeps admin input on the minute grid by type.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    const FORMAT: &str = "%H:%M";

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&time.format(FORMAT))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveTime::parse_from_str(&text, FORMAT)
            .map_err(|_| D::Error::custom(format!("expected a time like \"09:00\", got {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{IntoDeserializer, value::Error as ValueError};

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn range(weekday: Weekday, from: NaiveTime, to: NaiveTime) -> OpeningRange {
        OpeningRange { weekday, from, to }
    }

    fn valid() -> Schedule {
        Schedule {
            weekly_hours: vec![
                range(Weekday::Mon, t(9, 0), t(13, 0)),
                range(Weekday::Mon, t(13, 0), t(15, 0)), // touching is fine
                range(Weekday::Tue, t(9, 0), t(13, 0)),
            ],
            seats_per_slot: 2,
            min_notice_minutes: 60,
            max_advance_days: 30,
            closed_dates: vec![ymd(2026, 1, 12)],
            open_dates: vec![ymd(2026, 4, 13)],
        }
    }

    fn codes(schedule: &Schedule) -> Vec<(String, &'static str)> {
        schedule
            .validate()
            .expect_err("schedule should be invalid")
            .iter()
            .map(|e| (e.field.clone(), e.code()))
            .collect()
    }

    fn pair(field: &str, code: &'static str) -> (String, &'static str) {
        (field.to_owned(), code)
    }

    #[test]
    fn valid_schedule_passes() {
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn empty_and_off_grid_ranges() {
        let mut s = valid();
        s.weekly_hours[2] = range(Weekday::Tue, t(13, 0), t(9, 0));
        s.weekly_hours.push(range(Weekday::Wed, t(9, 3), t(9, 3)));
        assert_eq!(
            codes(&s),
            [
                pair("weekly_hours[2].to", "range_empty"),
                pair("weekly_hours[3].from", "off_grid"),
                pair("weekly_hours[3].to", "off_grid"),
                pair("weekly_hours[3].to", "range_empty"),
            ]
        );
    }

    #[test]
    fn seconds_are_off_grid() {
        let mut s = valid();
        s.weekly_hours[2].to = NaiveTime::from_hms_opt(13, 0, 1).expect("valid");
        assert_eq!(codes(&s), [pair("weekly_hours[2].to", "off_grid")]);
    }

    #[test]
    fn overlapping_ranges_on_same_weekday() {
        let mut s = valid();
        s.weekly_hours.push(range(Weekday::Mon, t(12, 0), t(14, 0)));
        s.weekly_hours.push(range(Weekday::Tue, t(13, 0), t(14, 0))); // touches only
        let errors = s.validate().expect_err("overlap");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "weekly_hours[3]");
        assert_eq!(errors[0].code(), "ranges_overlap");
        assert_eq!(
            errors[0].kind,
            ScheduleErrorKind::RangesOverlap {
                other: "weekly_hours[0]".to_owned()
            }
        );
    }

    #[test]
    fn numeric_bounds() {
        let mut s = valid();
        s.seats_per_slot = 0;
        s.min_notice_minutes = 10_081;
        s.max_advance_days = 366;
        assert_eq!(
            codes(&s),
            [
                pair("seats_per_slot", "out_of_range"),
                pair("min_notice_minutes", "out_of_range"),
                pair("max_advance_days", "out_of_range"),
            ]
        );
        s.seats_per_slot = 100;
        s.min_notice_minutes = 10_080;
        s.max_advance_days = 365;
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn date_list_rules() {
        let mut s = valid();
        let good_friday = ymd(2026, 4, 10);
        s.closed_dates = vec![ymd(2026, 1, 12), ymd(2026, 1, 12), good_friday];
        s.open_dates = vec![good_friday, ymd(2026, 1, 13), ymd(2026, 1, 13)];
        assert_eq!(
            codes(&s),
            [
                pair("closed_dates[1]", "duplicate_date"),
                pair("open_dates[2]", "duplicate_date"),
                pair("open_dates[0]", "closed_and_open"),
                pair("open_dates[1]", "not_a_holiday"),
            ]
        );
    }

    #[test]
    fn too_many_entries() {
        let mut s = valid();
        s.weekly_hours = vec![range(Weekday::Mon, t(9, 0), t(9, 5)); MAX_RANGES + 1];
        s.closed_dates = (0..=MAX_DATES as u64)
            .map(|n| ymd(2026, 1, 1) + chrono::Days::new(n))
            .collect();
        assert_eq!(
            codes(&s),
            [
                pair("weekly_hours", "too_many"),
                pair("closed_dates", "too_many")
            ]
        );
    }

    #[test]
    fn messages_in_both_languages() {
        let error = ScheduleError::new(
            "open_dates[0]".to_owned(),
            ScheduleErrorKind::NotAHoliday {
                date: ymd(2026, 1, 13),
            },
        );
        assert!(error.message_en().contains("2026-01-13"));
        assert!(error.message_el().contains("13/01/2026"));
        assert!(error.to_string().starts_with("open_dates[0]: "));
        let kinds = [
            ScheduleErrorKind::RangeEmpty,
            ScheduleErrorKind::RangesOverlap {
                other: "weekly_hours[0]".to_owned(),
            },
            ScheduleErrorKind::OutOfRange { min: 1, max: 100 },
            ScheduleErrorKind::DuplicateDate {
                date: ymd(2026, 1, 1),
            },
            ScheduleErrorKind::ClosedAndOpen {
                date: ymd(2026, 1, 1),
            },
            ScheduleErrorKind::NotAHoliday {
                date: ymd(2026, 1, 1),
            },
            ScheduleErrorKind::TooMany { max: 50 },
            ScheduleErrorKind::OffGrid,
        ];
        let codes: HashSet<_> = kinds.iter().map(ScheduleErrorKind::code).collect();
        assert_eq!(codes.len(), kinds.len(), "codes are distinct");
        for kind in kinds {
            assert!(!kind.to_string().is_empty());
            assert!(!kind.message_el().is_empty());
        }
    }

    #[test]
    fn is_open_on_rules() {
        let s = valid();
        assert!(s.is_open_on(ymd(2026, 1, 19)), "ordinary Monday");
        assert!(!s.is_open_on(ymd(2026, 1, 14)), "Wednesday has no hours");
        assert!(!s.is_open_on(ymd(2026, 1, 12)), "Monday in closed_dates");
        assert!(!s.is_open_on(ymd(2026, 2, 23)), "Clean Monday, not opened");
        assert!(s.is_open_on(ymd(2026, 4, 13)), "Easter Monday, opened");
        let mut closed_too = s.clone();
        closed_too.closed_dates.push(ymd(2026, 4, 13));
        assert!(!closed_too.is_open_on(ymd(2026, 4, 13)), "closed wins");
        let mut opened_wednesday = s;
        opened_wednesday.open_dates.push(ymd(2026, 10, 28));
        assert!(
            !opened_wednesday.is_open_on(ymd(2026, 10, 28)),
            "opened holiday still needs hours on its weekday"
        );
    }

    fn range_from(fields: &[(&'static str, &'static str)]) -> Result<OpeningRange, ValueError> {
        let map = fields.iter().map(|&(k, v)| (k, v.into_deserializer()));
        OpeningRange::deserialize(serde::de::value::MapDeserializer::new(map))
    }

    #[test]
    fn opening_range_wire_format() {
        let parsed = range_from(&[("weekday", "monday"), ("from", "09:00"), ("to", "13:30")]);
        assert_eq!(parsed, Ok(range(Weekday::Mon, t(9, 0), t(13, 30))));
        for bad in [
            [("weekday", "Mon"), ("from", "09:00"), ("to", "13:00")],
            [("weekday", "Monday"), ("from", "09:00"), ("to", "13:00")],
            [("weekday", "monday"), ("from", "09:00:00"), ("to", "13:00")],
            [("weekday", "monday"), ("from", "9am"), ("to", "13:00")],
        ] {
            assert!(range_from(&bad).is_err(), "{bad:?}");
        }
        let unknown = [
            ("weekday", "monday"),
            ("from", "09:00"),
            ("to", "13:00"),
            ("x", "1"),
        ];
        assert!(range_from(&unknown).is_err(), "unknown fields are rejected");
        let names: Vec<_> = [Weekday::Mon, Weekday::Sun]
            .into_iter()
            .map(weekday_lowercase::name)
            .collect();
        assert_eq!(names, ["monday", "sunday"]);
    }
}
