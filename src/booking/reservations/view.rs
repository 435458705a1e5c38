//! What the API shows of a reservation, and to whom: the citizen sees their
//! own; staff of the serving department see their department's (R-BK-08).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::store::ReservationStatus;
use super::store::{self, ReservationRow, ServiceContext};
use crate::booking::catalogue::document_texts;
use crate::booking::catalogue::store::{documents_for, time_zone};
use crate::db::DbConn;
use crate::domain::Text;
use crate::domain::ids::{DepartmentId, ReservationId, ServiceId, SlotId};
use crate::http::{ApiError, Page, PageExample};

/// The kinds of document that prove identity at the visit (R-BK-06 d).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "id_card")]
pub enum IdentityDocument {
    IdCard,
    Passport,
    DrivingLicence,
    ResidencePermit,
}

impl IdentityDocument {
    const ALL: [IdentityDocument; 4] = [
        IdentityDocument::IdCard,
        IdentityDocument::Passport,
        IdentityDocument::DrivingLicence,
        IdentityDocument::ResidencePermit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityDocument::IdCard => "id_card",
            IdentityDocument::Passport => "passport",
            IdentityDocument::DrivingLicence => "driving_licence",
            IdentityDocument::ResidencePermit => "residence_permit",
        }
    }

    fn parse(stored: &str) -> Option<IdentityDocument> {
        IdentityDocument::ALL
            .into_iter()
            .find(|d| d.as_str() == stored)
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SlotTimes {
    pub id: SlotId,
    /// In the municipality's zone (`+02:00` in winter, `+03:00` in summer).
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:00:00+02:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:20:00+02:00")]
    pub ends_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Named {
    #[schema(example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a01")]
    pub id: String,
    pub name: Text,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DepartmentContact {
    // Shown as it was before ids were typed, so the document stays as it is.
    #[schema(value_type = String, example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02")]
    pub id: DepartmentId,
    pub name: Text,
    /// Where to send documents before the visit (R-BK-04, R-BK-05).
    #[schema(example = "pronoia@kalamata.example")]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LegalEntity {
    #[schema(example = "Σύλλογος Φίλων του Δάσους")]
    pub name: String,
    #[schema(value_type = String, example = "094019245")]
    pub afm: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reservation {
    pub id: ReservationId,
    pub status: ReservationStatus,
    /// Personal data was removed after six months; only statistics remain (R-BK-07).
    #[schema(example = false)]
    pub anonymized: bool,
    pub slot: SlotTimes,
    pub service: Named,
    pub department: DepartmentContact,
    pub municipality: Named,
    #[schema(example = "Μαρία Παπαδοπούλου")]
    pub full_name: Option<String>,
    #[schema(example = "maria@example.gr")]
    pub email: Option<String>,
    #[schema(example = "+306912345678")]
    pub phone: Option<String>,
    #[schema(example = "Πρόσβαση με αναπηρικό αμαξίδιο")]
    pub special_requirements: Option<String>,
    /// Set when booked on behalf of a company or association (R-BK-04).
    pub legal_entity: Option<LegalEntity>,
    /// What the legal entity's representative must e-mail to the department first.
    pub legal_entity_documents: Vec<Text>,
    /// What every visitor must send or bring (R-BK-05).
    pub required_documents: Vec<Text>,
    /// The document checked at the visit (R-BK-06 d).
    pub identity_document: Option<IdentityDocument>,
    #[schema(example = "Δεν θα βρίσκομαι στην πόλη εκείνη την ημέρα.")]
    pub cancel_reason: Option<String>,
    #[serde(serialize_with = "crate::http::json_time::optional_rfc3339")]
    #[schema(example = "2026-12-01T06:55:00Z")]
    pub checked_in_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:15:00Z")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:15:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl PageExample for Reservation {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01938a6e-7c4f-7d2a-9b1e-3f5a8c2d4e6f",
            "status": "confirmed",
            "anonymized": false,
            "slot": {
                "id": "0193a1b2-0000-7000-8000-000000000001",
                "starts_at": "2026-12-01T09:00:00+02:00",
                "ends_at": "2026-12-01T09:20:00+02:00",
            },
            "service": {
                "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a03",
                "name": {"el": "Επίδομα Στέγασης", "en": "Housing Allowance"},
            },
            "department": {
                "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02",
                "name": {"el": "Κοινωνική Πρόνοια", "en": "Social Welfare"},
                "email": "pronoia@kalamata.example",
            },
            "municipality": {
                "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a01",
                "name": {"el": "Δήμος Καλαμάτας", "en": "Municipality of Kalamata"},
            },
            "full_name": "Μαρία Παπαδοπούλου",
            "email": "maria@example.gr",
            "phone": "+306912345678",
            "special_requirements": "Πρόσβαση με αναπηρικό αμαξίδιο",
            "legal_entity": null,
            "legal_entity_documents": [],
            "required_documents": [
                {"el": "Αστυνομική ταυτότητα ή διαβατήριο", "en": "Identity card or passport"},
                {"el": "Μισθωτήριο συμβόλαιο", "en": "Lease agreement"},
            ],
            "identity_document": null,
            "cancel_reason": null,
            "checked_in_at": null,
            "created_at": "2026-11-20T08:15:00Z",
            "updated_at": "2026-11-20T08:15:00Z",
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!([
            "2026-11-20T08:15:00",
            "01938a6e-7c4f-7d2a-9b1e-3f5a8c2d4e6f"
        ])
    }
}

pub fn zone(context: &ServiceContext) -> Tz {
    time_zone(&context.time_zone)
}

/// The UTC instant at which `date` begins in `zone` (the earlier one if
/// midnight repeats, the first existing instant if it is skipped).
pub fn local_midnight(date: chrono::NaiveDate, zone: Tz) -> NaiveDateTime {
    use chrono::TimeZone;
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    (0..=2)
        .find_map(|hours| {
            zone.from_local_datetime(&(midnight + chrono::Duration::hours(hours)))
                .earliest()
        })
        .map_or(midnight, |at| at.naive_utc())
}

pub fn local(at: NaiveDateTime, zone: Tz) -> DateTime<FixedOffset> {
    at.and_utc().with_timezone(&zone).fixed_offset()
}

/// A service's context and its documents (legal entity, every visitor).
type ServiceDetails = (ServiceContext, (Vec<Text>, Vec<Text>));

/// Builds views, loading each service's context and documents once.
#[derive(Default)]
pub struct Views {
    services: HashMap<ServiceId, ServiceDetails>,
}

impl Views {
    /// Views for one service whose context and documents are at hand.
    pub fn seeded(context: ServiceContext, documents: (Vec<Text>, Vec<Text>)) -> Views {
        let mut views = Views::default();
        views
            .services
            .insert(context.service_id.clone(), (context, documents));
        views
    }

    /// A page of views from up to `limit + 1` rows in keyset order.
    pub fn page(
        conn: &mut DbConn,
        rows: Vec<ReservationRow>,
        limit: u32,
        key: impl Fn(&ReservationRow) -> (NaiveDateTime, ReservationId),
    ) -> Result<Page<Reservation>, ApiError> {
        let page = Page::from_rows(rows, limit, key);
        let mut views = Views::default();
        let items = page
            .items
            .into_iter()
            .map(|row| views.view(conn, row))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    pub fn view(
        &mut self,
        conn: &mut DbConn,
        row: ReservationRow,
    ) -> Result<Reservation, ApiError> {
        if !self.services.contains_key(&row.service_id) {
            let context = store::service_context(conn, &row.service_id)?;
            let documents = document_texts(documents_for(conn, &[&row.service_id])?);
            self.services
                .insert(row.service_id.clone(), (context, documents));
        }
        let (context, (legal_entity_documents, required_documents)) =
            &self.services[&row.service_id];
        let zone = zone(context);
        let status = row.status;
        let identity_document = match row.identity_document.as_deref() {
            None => None,
            Some(stored) => Some(IdentityDocument::parse(stored).ok_or_else(|| {
                ApiError::internal(format!("unknown stored identity document {stored}"))
            })?),
        };
        let legal_entity = row
            .legal_entity_name
            .zip(row.legal_entity_afm)
            .map(|(name, afm)| LegalEntity { name, afm });
        let localized = |el: &str, en: &str| Text::new(el.to_owned(), en.to_owned());
        Ok(Reservation {
            id: row.id,
            status,
            anonymized: row.anonymized_at.is_some(),
            slot: SlotTimes {
                id: row.slot_id,
                starts_at: local(row.starts_at, zone),
                ends_at: local(row.ends_at, zone),
            },
            service: Named {
                id: context.service_id.to_string(),
                name: localized(&context.service_el, &context.service_en),
            },
            department: DepartmentContact {
                id: context.department_id.clone(),
                name: localized(&context.department_el, &context.department_en),
                email: context.department_email.clone(),
            },
            municipality: Named {
                id: context.municipality_id.to_string(),
                name: localized(&context.municipality_el, &context.municipality_en),
            },
            full_name: row.full_name,
            email: row.email,
            phone: row.phone,
            special_requirements: row.special_requirements,
            legal_entity_documents: if legal_entity.is_some() {
                legal_entity_documents.clone()
            } else {
                Vec::new()
            },
            legal_entity,
            required_documents: required_documents.clone(),
            identity_document,
            cancel_reason: row.cancel_reason,
            checked_in_at: row.checked_in_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}
