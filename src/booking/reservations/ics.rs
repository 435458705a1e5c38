//! The appointment as iCalendar (RFC 5545), for the confirmation e-mail and
//! `GET /v1/reservations/{id}/calendar.ics`. The `icalendar` crate does the
//! escaping and line folding the RFC asks for.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// RFC 5546: PUBLISH puts the appointment in the calendar (or updates the
/// entry with its UID), CANCEL takes it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Publish,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Cancel => "CANCEL",
        }
    }

    /// The content type of the file as an e-mail attachment: RFC 5545
    /// 3.7.2 wants the calendar's METHOD repeated there.
    pub fn content_type(self) -> String {
        format!("text/calendar; charset=utf-8; method={}", self.as_str())
    }
}

pub struct Appointment<'a> {
    pub method: Method,
    pub id: &'a str,
    /// RFC 5545 3.8.7.4: greater in each revision of the same appointment.
    pub sequence: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub stamp: DateTime<Utc>,
}

pub fn calendar(appointment: &Appointment<'_>) -> String {
    let mut event = Event::new();
    if appointment.method == Method::Cancel {
        event.status(EventStatus::Cancelled);
    }
    let event = event
        .uid(&format!("{}@citizen-api", appointment.id))
        .sequence(appointment.sequence)
        .timestamp(appointment.stamp)
        .starts(appointment.starts_at)
        .ends(appointment.ends_at)
        .summary(appointment.summary)
        .location(appointment.location)
        .description(appointment.description)
        .done();
    Calendar::new()
        .append_property(Property::new("METHOD", appointment.method.as_str()))
        .name("citizen-api")
        .push(event)
        .done()
        .to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Reservation r1, 07:00-08:00 UTC on 1 December 2026.
    fn r1(method: Method, sequence: u32, summary: &str, description: &str) -> String {
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        calendar(&Appointment {
            method,
            id: "r1",
            sequence,
            starts_at: at(7),
            ends_at: at(8),
            summary,
            location: "Δήμος Καλαμάτας",
            description,
            stamp: at(6),
        })
    }

    #[test]
    fn an_appointment_is_a_calendar_event_in_utc() {
        let summary = "Επίδομα Στέγασης; Κοινωνική Πρόνοια, Καλαμάτα";
        let text = r1(Method::Publish, 7, summary, "line one\nline two");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("\r\nMETHOD:PUBLISH\r\n"));
        assert!(text.contains("UID:r1@citizen-api\r\n"));
        assert!(text.contains("SEQUENCE:7\r\n"));
        assert!(text.contains("DTSTART:20261201T070000Z\r\n"));
        assert!(text.contains("DTEND:20261201T080000Z\r\n"));
        // Lines are folded at 75 octets (RFC 5545 3.1); unfolded, the
        // text is escaped as the RFC asks.
        assert!(text.split("\r\n").all(|line| line.len() <= 75));
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(r"SUMMARY:Επίδομα Στέγασης\; Κοινωνική Πρόνοια\, Καλαμάτα"));
        assert!(unfolded.contains(r"line one\nline two"));
        assert!(text.trim_end().ends_with("END:VCALENDAR"));
    }

    #[test]
    fn a_cancelled_appointment_is_a_cancel_of_the_same_event() {
        let text = r1(
            Method::Cancel,
            2,
            "Επίδομα Στέγασης",
            "https://example.gr/r/1",
        );
        for line in [
            "METHOD:CANCEL",
            "STATUS:CANCELLED",
            "UID:r1@citizen-api",
            "SEQUENCE:2",
        ] {
            assert!(text.contains(&format!("{line}\r\n")), "{line} in {text}");
        }
        assert_eq!(
            Method::Cancel.content_type(),
            "text/calendar; charset=utf-8; method=CANCEL"
        );
    }
}
