//! Data arranged straight in the database, for the API tests and the
//! benchmark alike (`benches/reservations.rs`), so that both build the
//! catalogue, the slots and the citizens the same way. Not used by the
//! service itself.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::contact_registry::store_mobile;
use crate::auth::roles::{self, Change, ScopedRole};
use crate::auth::{SessionRow, insert_session, random_token, sha256_hex};
use crate::booking::catalogue::store::{
    DepartmentRow, DocumentPurpose, DocumentRow, MunicipalityRow, ServiceRow, insert_department,
    insert_municipality, insert_service,
};
use crate::booking::schedule::store::{ScheduleRow, insert_slots, save_schedule};
use crate::db::DbConn;
use crate::db::schema::{service_categories, service_documents, slots};
use crate::domain::ids::{DepartmentId, MunicipalityId, ServiceId, SessionId, SlotId};
use crate::domain::{Afm, Phone};

/// A municipality with one department and its services.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub municipality: MunicipalityId,
    pub department: DepartmentId,
    pub services: Vec<ServiceId>,
}

/// A municipality named `name` (in the Athens zone) with one department
/// and `services` services, none for legal entities and without documents.
pub fn catalogue(conn: &mut DbConn, name: &str, services: usize) -> QueryResult<Catalogue> {
    let now = Utc::now().naive_utc();
    let catalogue = Catalogue {
        municipality: MunicipalityId::generate(),
        department: DepartmentId::generate(),
        services: (0..services).map(|_| ServiceId::generate()).collect(),
    };
    insert_municipality(
        conn,
        &MunicipalityRow {
            id: catalogue.municipality.clone(),
            name_el: format!("Δήμος {name}"),
            name_en: format!("Municipality of {name}"),
            contact_email: "info@example.gr".into(),
            time_zone: "Europe/Athens".into(),
            created_at: now,
        },
    )?;
    insert_department(
        conn,
        &DepartmentRow {
            id: catalogue.department.clone(),
            municipality_id: catalogue.municipality.clone(),
            name_el: "Δημοτολόγιο".into(),
            name_en: "Registry".into(),
            email: "registry@example.gr".into(),
            created_at: now,
        },
    )?;
    for (n, service) in catalogue.services.iter().enumerate() {
        insert_plain_service(conn, service, &catalogue.department, n)?;
    }
    Ok(catalogue)
}

/// Another service of `department`, "Service {n}" ("Υπηρεσία {n}"),
/// without documents.
pub fn service(conn: &mut DbConn, department: &DepartmentId, n: usize) -> QueryResult<ServiceId> {
    let service = ServiceId::generate();
    insert_plain_service(conn, &service, department, n)?;
    Ok(service)
}

fn insert_plain_service(
    conn: &mut DbConn,
    service: &ServiceId,
    department: &DepartmentId,
    n: usize,
) -> QueryResult<()> {
    let row = ServiceRow {
        id: service.clone(),
        department_id: department.clone(),
        name_el: format!("Υπηρεσία {n}"),
        name_en: format!("Service {n}"),
        description_el: String::new(),
        description_en: String::new(),
        duration_minutes: 20,
        serves_legal_entities: false,
        created_at: Utc::now().naive_utc(),
    };
    insert_service(conn, &row, &[])
}

/// Another department of `municipality`, named `name_en` (and, in Greek,
/// "Τμήμα {name_en}"), without services.
pub fn department(
    conn: &mut DbConn,
    municipality: &MunicipalityId,
    name_en: &str,
) -> QueryResult<DepartmentId> {
    let id = DepartmentId::generate();
    insert_department(
        conn,
        &DepartmentRow {
            id: id.clone(),
            municipality_id: municipality.clone(),
            name_el: format!("Τμήμα {name_en}"),
            name_en: name_en.into(),
            email: "department@example.gr".into(),
            created_at: Utc::now().naive_utc(),
        },
    )?;
    Ok(id)
}

/// Gives `service` a booking window (no notice, 60 days ahead) and a
/// 20-minute slot with `capacity` seats at each of `starts`; answers the
/// slots' ids in that order.
pub fn slots(
    conn: &mut DbConn,
    service: &ServiceId,
    starts: &[DateTime<Utc>],
    capacity: i32,
) -> QueryResult<Vec<SlotId>> {
    let now = Utc::now().naive_utc();
    save_schedule(
        conn,
        &ScheduleRow {
            service_id: service.clone(),
            weekly_hours: "[]".into(),
            seats_per_slot: capacity,
            min_notice_minutes: 0,
            max_advance_days: 60,
            closed_dates: "[]".into(),
            open_dates: "[]".into(),
            updated_at: now,
        },
    )?;
    let times: Vec<_> = starts
        .iter()
        .map(|start| (*start, *start + Duration::minutes(20)))
        .collect();
    insert_slots(conn, service, &times, capacity, now)?;
    let by_start: std::collections::HashMap<NaiveDateTime, SlotId> = slots::table
        .filter(slots::service_id.eq(service))
        .select((slots::starts_at, slots::id))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(starts
        .iter()
        .filter_map(|start| by_start.get(&start.naive_utc()).cloned())
        .collect())
}

/// A valid AFM for any number: eight digits and the check digit.
pub fn afm(n: u32) -> String {
    let digits = format!("{:08}", n % 100_000_000 + 10_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') << (8 - i))
        .sum();
    format!("{digits}{}", sum % 11 % 10)
}

/// A session for the citizen `afm`, as a sign-in leaves it, valid for a
/// day; answers its bearer token.
pub fn citizen_session(conn: &mut DbConn, afm: &str, now: DateTime<Utc>) -> QueryResult<String> {
    let token = random_token();
    insert_session(
        conn,
        &SessionRow {
            id: SessionId::generate(),
            token_hash: sha256_hex(&token),
            afm: afm.to_owned(),
            first_name: "ΜΑΡΙΑ".into(),
            last_name: "ΠΑΠΑΔΟΠΟΥΛΟΥ".into(),
            father_name: "ΓΕΩΡΓΙΟΣ".into(),
            created_at: now.naive_utc(),
            last_seen_at: now.naive_utc(),
            expires_at: (now + Duration::days(1)).naive_utc(),
            strong_at: None,
        },
    )?;
    Ok(token)
}

/// Documents (Greek and English names) `service` asks of every citizen
/// before the visit (R-BK-05), in this order.
pub fn required_documents(
    conn: &mut DbConn,
    service: &ServiceId,
    names: &[(&str, &str)],
) -> QueryResult<()> {
    add_documents(conn, service, DocumentPurpose::BeforeVisit, names)
}

/// Lets `service` be booked for legal entities, whose representatives
/// prove it with these documents (R-BK-04).
pub fn serve_legal_entities(
    conn: &mut DbConn,
    service: &ServiceId,
    names: &[(&str, &str)],
) -> QueryResult<()> {
    diesel::update(service_categories::table.find(service))
        .set(service_categories::serves_legal_entities.eq(true))
        .execute(conn)?;
    add_documents(conn, service, DocumentPurpose::LegalEntity, names)
}

fn add_documents(
    conn: &mut DbConn,
    service: &ServiceId,
    purpose: DocumentPurpose,
    names: &[(&str, &str)],
) -> QueryResult<()> {
    for (position, (el, en)) in names.iter().enumerate() {
        let names = ((*el).into(), (*en).into());
        diesel::insert_into(service_documents::table)
            .values(DocumentRow::new(service, purpose, position, names))
            .execute(conn)?;
    }
    Ok(())
}

/// Grants `held` to `afm`, with its row in the audit trail as the command
/// line's grant leaves it.
pub fn grant(
    conn: &mut DbConn,
    afm: &str,
    held: &ScopedRole,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let afm = Afm::parse(afm).expect("fixture AFMs are valid");
    roles::change(
        conn,
        Change::Grant,
        (&afm, held),
        ("fixtures", "cli"),
        now.naive_utc(),
    )?;
    Ok(())
}

/// Certifies `mobile` as `afm`'s in the contact registry (R-PH-02), as the
/// development registry answers it.
pub fn certified_mobile(
    conn: &mut DbConn,
    afm: &str,
    mobile: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let afm = Afm::parse(afm).expect("fixture AFMs are valid");
    let mobile = Phone::parse(mobile).expect("fixture mobiles are valid");
    store_mobile(conn, &afm, &mobile, now.naive_utc())
}
