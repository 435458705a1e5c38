//! The messages a reservation sends, queued in the transaction that changes
//! it: the confirmation with its `.ics` when it is booked or moved
//! (R-BK-06 a, b; R-BK-04, R-BK-05), the documents reminder, and the notice
//! when it is cancelled, by the citizen or by the municipality withdrawing
//! its slot, with a `.ics` that takes it out of the calendar. Each is in the
//! language the citizen booked in, names included.

use chrono::{DateTime, Utc};

use super::ics::{Appointment, Method, calendar};
use super::store::{ReservationRow, ReservationStatus, ServiceContext};
use super::view::{local, zone};
use diesel::QueryResult;

use crate::booking::catalogue::document_texts;
use crate::booking::catalogue::store::documents_for;
use crate::db::DbConn;
use crate::domain::Text;
use crate::domain::ids::ReservationId;
use crate::http::{ApiError, Lang};
use crate::notify::{self, Attachment, Cancelled, Channel, Confirmation, NewMessage, Template};

/// Where a citizen opens a reservation: the municipal frontend's page when
/// one is configured (`CITIZEN_API_NOTIFY__RESERVATION_LINK`, with `{id}`
/// for the reservation's id), else this API's own resource.
#[derive(Debug, Clone)]
pub struct ReservationLink(String);

impl ReservationLink {
    pub fn new(configured: Option<&str>, api_base: &str) -> anyhow::Result<ReservationLink> {
        match configured {
            Some(template) if !template.contains("{id}") => anyhow::bail!(
                "CITIZEN_API_NOTIFY__RESERVATION_LINK must contain {{id}}, got {template}"
            ),
            Some(template) => Ok(ReservationLink(template.to_owned())),
            None => Ok(ReservationLink(format!(
                "{api_base}/v1/reservations/{{id}}"
            ))),
        }
    }

    pub fn to(&self, reservation_id: &ReservationId) -> String {
        self.0.replace("{id}", reservation_id.as_str())
    }
}

/// The service, department and municipality as a message names them.
struct Names {
    service: String,
    department: String,
    municipality: String,
    /// The appointment's start in the municipality's zone.
    when: String,
}

impl Names {
    fn of(row: &ReservationRow, context: &ServiceContext, language: Lang) -> Names {
        let pick = |el: &str, en: &str| match language {
            Lang::El => el.to_owned(),
            Lang::En => en.to_owned(),
        };
        Names {
            service: pick(&context.service_el, &context.service_en),
            department: pick(&context.department_el, &context.department_en),
            municipality: pick(&context.municipality_el, &context.municipality_en),
            when: local(row.starts_at, zone(context))
                .format("%d/%m/%Y %H:%M")
                .to_string(),
        }
    }
}

/// A cancelled reservation's calendar file takes the entry out; any
/// other's puts it in, or updates it.
fn method_of(row: &ReservationRow) -> Method {
    if row.status == ReservationStatus::Cancelled {
        Method::Cancel
    } else {
        Method::Publish
    }
}

/// The appointment as iCalendar. Its SEQUENCE is the reservation's
/// revision, so that a calendar replaces the entry a moved appointment's
/// earlier file made, and a cancellation's file removes it.
pub fn appointment_calendar(
    row: &ReservationRow,
    summary: &str,
    location: &str,
    link: &str,
    stamp: DateTime<Utc>,
) -> String {
    calendar(&Appointment {
        method: method_of(row),
        id: row.id.as_str(),
        sequence: u32::try_from(row.revision).unwrap_or(0),
        starts_at: row.starts_at.and_utc(),
        ends_at: row.ends_at.and_utc(),
        summary,
        location,
        description: link,
        stamp,
    })
}

/// A reservation's service documents: (what a legal entity's
/// representative sends first, what every visitor brings).
pub type Documents = (Vec<Text>, Vec<Text>);

/// What a confirmation or a reminder is about: the reservation, its
/// service, the documents to bring or send, and where to see it.
pub struct BookingMessage<'a> {
    pub row: &'a ReservationRow,
    pub context: &'a ServiceContext,
    pub documents: Documents,
    pub link: &'a ReservationLink,
}

impl<'a> BookingMessage<'a> {
    /// Loads the service's documents as they are now.
    pub fn load(
        conn: &mut DbConn,
        row: &'a ReservationRow,
        context: &'a ServiceContext,
        link: &'a ReservationLink,
    ) -> QueryResult<BookingMessage<'a>> {
        let documents = document_texts(documents_for(conn, &[&row.service_id])?);
        Ok(BookingMessage {
            row,
            context,
            documents,
            link,
        })
    }
}

/// What a confirmation or a reminder says, in the language booked in.
fn details(message: &BookingMessage<'_>) -> (Lang, Box<Confirmation>) {
    let BookingMessage {
        row,
        context,
        documents: (legal_entity_documents, required_documents),
        link,
    } = message;
    let language = Lang::from_tag(&row.language);
    let texts = |documents: &Vec<Text>| {
        documents
            .iter()
            .map(|d| d.get(language).to_owned())
            .collect()
    };
    let names = Names::of(row, context, language);
    let details = Confirmation {
        service: names.service,
        department: names.department,
        municipality: names.municipality,
        when: names.when,
        full_name: row.full_name.clone().unwrap_or_default(),
        link: link.to(&row.id),
        department_email: context.department_email.clone(),
        required_documents: texts(required_documents),
        legal_entity: row.legal_entity_name.clone(),
        // Only a representative has anything to send.
        legal_entity_documents: if row.legal_entity_name.is_some() {
            texts(legal_entity_documents)
        } else {
            Vec::new()
        },
    };
    (language, Box::new(details))
}

/// The confirmation, with the link, the documents to bring or send, and
/// the `.ics`, for a booking or a move.
pub fn queue_confirmation(
    conn: &mut DbConn,
    message: &BookingMessage<'_>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let row = message.row;
    let (language, details) = details(message);
    let location = format!("{}, {}", details.department, details.municipality);
    let calendar = calendar_file(row, &details.service, &location, &details.link, now);
    let to = row.email.clone().unwrap_or_default();
    let template = Template::ReservationConfirmed(details);
    email(conn, to, language, template, vec![calendar], now)
}

/// The appointment's calendar file, as an e-mail attachment.
fn calendar_file(
    row: &ReservationRow,
    summary: &str,
    location: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Attachment {
    Attachment {
        filename: "appointment.ics".into(),
        content_type: method_of(row).content_type(),
        content: appointment_calendar(row, summary, location, link, now).into_bytes(),
    }
}

fn email(
    conn: &mut DbConn,
    to: String,
    language: Lang,
    template: Template,
    attachments: Vec<Attachment>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let message = NewMessage {
        channel: Channel::Email,
        to,
        language,
        template,
        attachments,
    };
    notify::enqueue(conn, &message, now)?;
    Ok(())
}

/// R-BK-05: the documents to bring or send, again, when the service asks
/// for any. Answers whether there was anything to say.
pub fn queue_reminder(
    conn: &mut DbConn,
    message: &BookingMessage<'_>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let (language, details) = details(message);
    let Some(to) = message.row.email.clone() else {
        return Ok(false);
    };
    if details.required_documents.is_empty() && details.legal_entity_documents.is_empty() {
        return Ok(false);
    }
    let template = Template::ReservationReminder(details);
    email(conn, to, language, template, Vec::new(), now)?;
    Ok(true)
}

/// Who cancelled a reservation, which decides what the notice says.
#[derive(Debug, Clone, Copy)]
pub enum CancelledBy {
    /// The municipality withdrew the slot.
    Service,
    /// The citizen asked.
    Citizen,
}

/// Tells the citizen the reservation `row` (as the cancellation left it)
/// is cancelled, with a calendar file that takes it out of their calendar.
pub fn queue_cancellation_notice(
    conn: &mut DbConn,
    row: &ReservationRow,
    context: &ServiceContext,
    link: &ReservationLink,
    by: CancelledBy,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(to) = row.email.clone() else {
        return Ok(());
    };
    let language = Lang::from_tag(&row.language);
    let names = Names::of(row, context, language);
    let location = format!("{}, {}", names.department, names.municipality);
    let calendar = calendar_file(row, &names.service, &location, &link.to(&row.id), now);
    let cancelled = Cancelled {
        service: names.service,
        department: names.department,
        municipality: names.municipality,
        when: names.when,
    };
    let template = match by {
        CancelledBy::Service => Template::ReservationCancelled(cancelled),
        CancelledBy::Citizen => Template::ReservationCancelledOnRequest(cancelled),
    };
    email(conn, to, language, template, vec![calendar], now)
}

#[cfg(test)]
mod tests {
    use super::ReservationLink;
    use crate::domain::ids::ReservationId;

    #[test]
    fn a_reservation_link_is_the_configured_page_or_this_apis_resource() {
        let id: ReservationId = "01938a6e-7c4f-7d2a-9b1e-3f5a8c2d4e6f".parse().unwrap();
        let page =
            ReservationLink::new(Some("https://mydimos.example/r/{id}?from=mail"), "x").unwrap();
        assert_eq!(
            page.to(&id),
            format!("https://mydimos.example/r/{id}?from=mail")
        );
        let api = ReservationLink::new(None, "http://127.0.0.1:8080").unwrap();
        assert_eq!(
            api.to(&id),
            format!("http://127.0.0.1:8080/v1/reservations/{id}")
        );
        assert!(ReservationLink::new(Some("https://mydimos.example/r/"), "x").is_err());
    }
}
