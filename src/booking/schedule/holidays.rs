//! Greek public holidays.
//!
//! Services are closed on these dates unless their schedule explicitly lists
//! the date in `open_dates`, so this module is the single source of truth for
//! "is this a national holiday?".

use std::ops::RangeInclusive;

use chrono::{Datelike, Days, NaiveDate};

/// Years for which [`orthodox_easter`] is defined.
///
/// The Julian calendar runs 13 days behind the Gregorian one from 1 March 1900
/// until 28 February 2100; outside that window the offset differs, so rather
/// than return a silently wrong date we return `None`.
pub const EASTER_YEARS: RangeInclusive<i32> = 1900..=2099;

/// Date of Orthodox Easter Sunday (Gregorian calendar), or `None` outside
/// [`EASTER_YEARS`].
///
/// Uses Meeus' Julian algorithm, which yields the date in the Julian calendar,
/// and then adds the 13-day Julian→Gregorian offset. Orthodox Easter always
/// falls between Julian 22 March and 25 April, i.e. after the Julian leap day,
/// so the constant offset is exact for every year in the supported range.
pub fn orthodox_easter(year: i32) -> Option<NaiveDate> {
    if !EASTER_YEARS.contains(&year) {
        return None;
    }
    let a = year % 4;
    let b = year % 7;
    let c = year % 19;
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let month = u32::try_from((d + e + 114) / 31).ok()?;
    let day = u32::try_from((d + e + 114) % 31 + 1).ok()?;
    // `month`/`day` is a Julian calendar date; reading the same numbers as a
    // Gregorian date and shifting by 13 days converts it.
    NaiveDate::from_ymd_opt(year, month, day)?.checked_add_days(Days::new(13))
}

/// A Greek national public holiday.
///
/// Variants are declared in calendar order so that the derived `Ord` gives a
/// stable order when two holidays fall on the same date (see
/// [`public_holidays`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holiday {
    NewYearsDay,
    Epiphany,
    CleanMonday,
    IndependenceDay,
    GoodFriday,
    EasterMonday,
    LabourDay,
    WhitMonday,
    DormitionOfTheTheotokos,
    OchiDay,
    Christmas,
    SynaxisOfTheTheotokos,
}

impl Holiday {
    /// Official Greek name, as shown to citizens.
    pub fn name_el(self) -> &'static str {
        match self {
            Self::NewYearsDay => "Πρωτοχρονιά",
            Self::Epiphany => "Θεοφάνεια",
            Self::CleanMonday => "Καθαρά Δευτέρα",
            Self::IndependenceDay => "Ευαγγελισμός της Θεοτόκου / Εθνική Επέτειος",
            Self::GoodFriday => "Μεγάλη Παρασκευή",
            Self::EasterMonday => "Δευτέρα του Πάσχα",
            Self::LabourDay => "Πρωτομαγιά",
            Self::WhitMonday => "Αγίου Πνεύματος",
            Self::DormitionOfTheTheotokos => "Κοίμηση της Θεοτόκου",
            Self::OchiDay => "Επέτειος του «Όχι»",
            Self::Christmas => "Χριστούγεννα",
            Self::SynaxisOfTheTheotokos => "Σύναξη της Θεοτόκου",
        }
    }

    /// English name, for English-language clients and logs.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::NewYearsDay => "New Year's Day",
            Self::Epiphany => "Epiphany",
            Self::CleanMonday => "Clean Monday",
            Self::IndependenceDay => "Annunciation / Independence Day",
            Self::GoodFriday => "Good Friday",
            Self::EasterMonday => "Easter Monday",
            Self::LabourDay => "Labour Day",
            Self::WhitMonday => "Whit Monday",
            Self::DormitionOfTheTheotokos => "Dormition of the Theotokos",
            Self::OchiDay => "Ochi Day",
            Self::Christmas => "Christmas Day",
            Self::SynaxisOfTheTheotokos => "Synaxis of the Theotokos",
        }
    }
}

/// Fixed-date holidays as (month, day).
const FIXED: [(u32, u32, Holiday); 8] = [
    (1, 1, Holiday::NewYearsDay),
    (1, 6, Holiday::Epiphany),
    (3, 25, Holiday::IndependenceDay),
    // Known simplification: when 1 May falls in Holy Week or on Easter Monday
    // the state moves Labour Day by decree each year. We list 1 May as is.
    (5, 1, Holiday::LabourDay),
    (8, 15, Holiday::DormitionOfTheTheotokos),
    (10, 28, Holiday::OchiDay),
    (12, 25, Holiday::Christmas),
    (12, 26, Holiday::SynaxisOfTheTheotokos),
];

/// Movable holidays as an offset in days from Orthodox Easter Sunday.
const MOVABLE: [(i64, Holiday); 4] = [
    (-48, Holiday::CleanMonday),
    (-2, Holiday::GoodFriday),
    (1, Holiday::EasterMonday),
    (50, Holiday::WhitMonday),
];

/// All national public holidays of `year`, sorted by date (then by calendar
/// order of the holiday when two coincide, e.g. Labour Day on Easter Monday).
///
/// Outside [`EASTER_YEARS`] only the fixed-date holidays are returned, because
/// the movable ones cannot be computed there; bookings are limited to at most
/// a year ahead, so this never matters in practice.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, Holiday)> {
    let fixed = FIXED.iter().filter_map(|&(month, day, holiday)| {
        NaiveDate::from_ymd_opt(year, month, day).map(|date| (date, holiday))
    });
    let movable = orthodox_easter(year).into_iter().flat_map(|easter| {
        MOVABLE.iter().filter_map(move |&(offset, holiday)| {
            easter
                .checked_add_signed(chrono::TimeDelta::days(offset))
                .map(|date| (date, holiday))
        })
    });
    let mut all: Vec<_> = fixed.chain(movable).collect();
    all.sort_unstable();
    all
}

/// The holiday on `date`, if any. When two holidays coincide the first in
/// calendar order of [`Holiday`] is returned.
pub fn holiday_on(date: NaiveDate) -> Option<Holiday> {
    public_holidays(date.year())
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, holiday)| holiday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Asserts Easter and the four movable holidays of `year`. Expected dates
    /// were cross-checked against python-dateutil's `EASTER_ORTHODOX`.
    fn assert_movable(year: i32, easter: NaiveDate, expected: [NaiveDate; 4]) {
        assert_eq!(orthodox_easter(year), Some(easter), "Easter {year}");
        let holidays = public_holidays(year);
        let kinds = [
            Holiday::CleanMonday,
            Holiday::GoodFriday,
            Holiday::EasterMonday,
            Holiday::WhitMonday,
        ];
        for (kind, date) in kinds.into_iter().zip(expected) {
            assert!(
                holidays.contains(&(date, kind)),
                "{kind:?} {year} expected on {date}, got {holidays:?}"
            );
            assert_eq!(holiday_on(date), Some(kind));
        }
    }

    #[test]
    fn easter_2020() {
        let e = ymd(2020, 4, 19);
        let m = [
            ymd(2020, 3, 2),
            ymd(2020, 4, 17),
            ymd(2020, 4, 20),
            ymd(2020, 6, 8),
        ];
        assert_movable(2020, e, m);
    }

    #[test]
    fn easter_2021() {
        let e = ymd(2021, 5, 2);
        let m = [
            ymd(2021, 3, 15),
            ymd(2021, 4, 30),
            ymd(2021, 5, 3),
            ymd(2021, 6, 21),
        ];
        assert_movable(2021, e, m);
    }

    #[test]
    fn easter_2022() {
        let e = ymd(2022, 4, 24);
        let m = [
            ymd(2022, 3, 7),
            ymd(2022, 4, 22),
            ymd(2022, 4, 25),
            ymd(2022, 6, 13),
        ];
        assert_movable(2022, e, m);
    }

    #[test]
    fn easter_2023() {
        let e = ymd(2023, 4, 16);
        let m = [
            ymd(2023, 2, 27),
            ymd(2023, 4, 14),
            ymd(2023, 4, 17),
            ymd(2023, 6, 5),
        ];
        assert_movable(2023, e, m);
    }

    #[test]
    fn easter_2024() {
        let e = ymd(2024, 5, 5);
        let m = [
            ymd(2024, 3, 18),
            ymd(2024, 5, 3),
            ymd(2024, 5, 6),
            ymd(2024, 6, 24),
        ];
        assert_movable(2024, e, m);
    }

    #[test]
    fn easter_2025() {
        let e = ymd(2025, 4, 20);
        let m = [
            ymd(2025, 3, 3),
            ymd(2025, 4, 18),
            ymd(2025, 4, 21),
            ymd(2025, 6, 9),
        ];
        assert_movable(2025, e, m);
    }

    #[test]
    fn easter_2026() {
        let e = ymd(2026, 4, 12);
        let m = [
            ymd(2026, 2, 23),
            ymd(2026, 4, 10),
            ymd(2026, 4, 13),
            ymd(2026, 6, 1),
        ];
        assert_movable(2026, e, m);
    }

    #[test]
    fn easter_2027() {
        let e = ymd(2027, 5, 2);
        let m = [
            ymd(2027, 3, 15),
            ymd(2027, 4, 30),
            ymd(2027, 5, 3),
            ymd(2027, 6, 21),
        ];
        assert_movable(2027, e, m);
    }

    #[test]
    fn easter_is_always_a_sunday_in_range() {
        for year in EASTER_YEARS {
            let easter = orthodox_easter(year).expect("supported year");
            assert_eq!(easter.weekday(), chrono::Weekday::Sun, "{year}");
            // Gregorian bounds of Orthodox Easter in 1900..=2099.
            assert!(
                easter >= ymd(year, 4, 4) && easter <= ymd(year, 5, 8),
                "{easter}"
            );
        }
    }

    #[test]
    fn easter_outside_supported_range_is_none() {
        assert_eq!(orthodox_easter(1899), None);
        assert_eq!(orthodox_easter(2100), None);
        // Only the fixed holidays remain there.
        assert_eq!(public_holidays(2100).len(), FIXED.len());
    }

    #[test]
    fn fixed_holidays() {
        let year = 2026;
        let expected = [
            (ymd(year, 1, 1), Holiday::NewYearsDay, "Πρωτοχρονιά"),
            (ymd(year, 1, 6), Holiday::Epiphany, "Θεοφάνεια"),
            (
                ymd(year, 3, 25),
                Holiday::IndependenceDay,
                "Ευαγγελισμός της Θεοτόκου / Εθνική Επέτειος",
            ),
            (ymd(year, 5, 1), Holiday::LabourDay, "Πρωτομαγιά"),
            (
                ymd(year, 8, 15),
                Holiday::DormitionOfTheTheotokos,
                "Κοίμηση της Θεοτόκου",
            ),
            (ymd(year, 10, 28), Holiday::OchiDay, "Επέτειος του «Όχι»"),
            (ymd(year, 12, 25), Holiday::Christmas, "Χριστούγεννα"),
            (
                ymd(year, 12, 26),
                Holiday::SynaxisOfTheTheotokos,
                "Σύναξη της Θεοτόκου",
            ),
        ];
        for (date, holiday, name_el) in expected {
            assert_eq!(holiday_on(date), Some(holiday), "{date}");
            assert_eq!(holiday.name_el(), name_el);
            assert!(!holiday.name_en().is_empty());
        }
        assert_eq!(public_holidays(year).len(), FIXED.len() + MOVABLE.len());
        assert_eq!(holiday_on(ymd(year, 1, 2)), None);
    }

    #[test]
    fn list_is_sorted_by_date() {
        let list = public_holidays(2026);
        assert!(list.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn coinciding_holidays_are_both_listed() {
        // Labour Day is not moved (known simplification), so in a year whose
        // Easter is 30 April both holidays are listed on 1 May.
        let year = EASTER_YEARS
            .clone()
            .find(|&y| orthodox_easter(y) == Some(ymd(y, 4, 30)))
            .expect("some year has Easter on 30 April");
        let may_first = ymd(year, 5, 1);
        let on_day: Vec<_> = public_holidays(year)
            .into_iter()
            .filter(|(d, _)| *d == may_first)
            .map(|(_, h)| h)
            .collect();
        assert_eq!(on_day, [Holiday::EasterMonday, Holiday::LabourDay]);
        assert_eq!(holiday_on(may_first), Some(Holiday::EasterMonday));
    }
}
