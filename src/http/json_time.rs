//! Timestamps in JSON answers: RFC 3339, exactly as chrono writes them, but
//! handed to the serializer as one string.
//!
//! chrono's own `Serialize` gives serde_json a `Display` (`collect_str`),
//! and chrono writes a timestamp one character at a time, so each of its
//! 25 characters went through serde_json's string escaper as a fragment of
//! its own. A page of 50 slots spent about 7 % of the whole machine's time
//! there under load (perf, `docs/benchmarks.md`). Formatting into a string
//! first, then writing it once, gives the same text.
//!
//! Use on answer fields: `#[serde(serialize_with = "json_time::rfc3339")]`,
//! or `json_time::optional_rfc3339` for an `Option`.

use std::fmt::Display;

use chrono::{DateTime, SecondsFormat, TimeZone};
use serde::Serializer;

/// The text chrono's `Serialize` writes: fractions only when there are
/// any, `Z` for UTC.
fn text<Tz: TimeZone>(time: &DateTime<Tz>) -> String
where
    Tz::Offset: Display,
{
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn rfc3339<Tz, S>(time: &DateTime<Tz>, serializer: S) -> Result<S::Ok, S::Error>
where
    Tz: TimeZone,
    Tz::Offset: Display,
    S: Serializer,
{
    serializer.serialize_str(&text(time))
}

pub fn optional_rfc3339<Tz, S>(
    time: &Option<DateTime<Tz>>,
    serializer: S,
) -> Result<S::Ok, S::Error>
where
    Tz: TimeZone,
    Tz::Offset: Display,
    S: Serializer,
{
    match time {
        Some(time) => serializer.serialize_some(&text(time)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Utc};
    use proptest::prelude::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Fast {
        #[serde(serialize_with = "super::rfc3339")]
        zoned: chrono::DateTime<FixedOffset>,
        #[serde(serialize_with = "super::rfc3339")]
        utc: chrono::DateTime<Utc>,
        #[serde(serialize_with = "super::optional_rfc3339")]
        some: Option<chrono::DateTime<Utc>>,
        #[serde(serialize_with = "super::optional_rfc3339")]
        none: Option<chrono::DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        zoned: chrono::DateTime<FixedOffset>,
        utc: chrono::DateTime<Utc>,
        some: Option<chrono::DateTime<Utc>>,
        none: Option<chrono::DateTime<Utc>>,
    }

    proptest! {
        /// Whatever the instant, the offset and the fraction of a second,
        /// the answer's text is byte for byte what chrono would have written.
        #[test]
        fn writes_what_chrono_writes(
            seconds in -2_000_000_000i64..8_000_000_000,
            nanos in prop_oneof![Just(0u32), Just(500_000_000), 0u32..1_000_000_000],
            offset_minutes in -14 * 60i32..=14 * 60,
        ) {
            let utc = chrono::DateTime::from_timestamp(seconds, nanos).unwrap();
            let zoned = utc.with_timezone(&FixedOffset::east_opt(offset_minutes * 60).unwrap());
            let fast = serde_json::to_string(&Fast { zoned, utc, some: Some(utc), none: None }).unwrap();
            let chrono = serde_json::to_string(&Chrono { zoned, utc, some: Some(utc), none: None }).unwrap();
            prop_assert_eq!(fast, chrono);
        }
    }
}
