//! Catalogue queries. Plain synchronous functions over [`DbConn`], run
//! inside [`Db::run`](crate::db::Db::run).

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::schema::{departments, municipalities, service_categories, service_documents};
use crate::db::{DbConn, on_backend, sql_text};
use crate::domain::ids::{DepartmentId, DocumentId, MunicipalityId, ServiceId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = municipalities)]
pub struct MunicipalityRow {
    pub id: MunicipalityId,
    pub name_el: String,
    pub name_en: String,
    pub contact_email: String,
    pub time_zone: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: DepartmentId,
    pub municipality_id: MunicipalityId,
    pub name_el: String,
    pub name_en: String,
    pub email: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_categories)]
pub struct ServiceRow {
    pub id: ServiceId,
    pub department_id: DepartmentId,
    pub name_el: String,
    pub name_en: String,
    pub description_el: String,
    pub description_en: String,
    pub duration_minutes: i32,
    pub serves_legal_entities: bool,
    pub created_at: NaiveDateTime,
}

/// Why a service needs a document: legal entities prove representation
/// (R-BK-04); some services need papers from everyone (R-BK-05).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum DocumentPurpose {
    LegalEntity,
    BeforeVisit,
}

impl DocumentPurpose {
    const ALL: [DocumentPurpose; 2] = [DocumentPurpose::LegalEntity, DocumentPurpose::BeforeVisit];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentPurpose::LegalEntity => "legal_entity",
            DocumentPurpose::BeforeVisit => "before_visit",
        }
    }
}

impl std::str::FromStr for DocumentPurpose {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DocumentPurpose::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("no such document purpose: {text}"))
    }
}

sql_text!(DocumentPurpose);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_documents)]
pub struct DocumentRow {
    pub id: DocumentId,
    pub service_id: ServiceId,
    pub purpose: DocumentPurpose,
    pub position: i32,
    pub name_el: String,
    pub name_en: String,
}

impl DocumentRow {
    /// A new document of `service`, `position`th among those it is listed
    /// with, named (Greek, English).
    pub fn new(
        service: &ServiceId,
        purpose: DocumentPurpose,
        position: usize,
        (name_el, name_en): (String, String),
    ) -> DocumentRow {
        DocumentRow {
            id: DocumentId::generate(),
            service_id: service.clone(),
            purpose,
            // At most 20 documents a purpose: the API refuses more.
            position: i32::try_from(position).unwrap_or(i32::MAX),
            name_el,
            name_en,
        }
    }
}

/// The keyset the catalogue lists sort by: Greek name, then id.
pub type NameKey<Id> = (String, Id);

pub fn list_municipalities(
    conn: &mut DbConn,
    after: Option<&NameKey<MunicipalityId>>,
    limit: u32,
) -> QueryResult<Vec<MunicipalityRow>> {
    use municipalities::dsl as m;
    let mut query = municipalities::table
        .select(MunicipalityRow::as_select())
        .order((m::name_el, m::id))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some((after_name, after_id)) = after {
        query = query.filter(
            m::name_el.gt(after_name.clone()).or(m::name_el
                .eq(after_name.clone())
                .and(m::id.gt(after_id.clone()))),
        );
    }
    query.load(conn)
}

pub fn municipality_exists(conn: &mut DbConn, municipality: &MunicipalityId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        municipalities::table.filter(municipalities::id.eq(municipality)),
    ))
    .get_result(conn)
}

/// A municipality's services with their departments, and their documents.
pub fn list_services(
    conn: &mut DbConn,
    municipality: &MunicipalityId,
    after: Option<&NameKey<ServiceId>>,
    limit: u32,
) -> QueryResult<Vec<(ServiceRow, DepartmentRow, Vec<DocumentRow>)>> {
    use service_categories::dsl as s;
    let mut query = service_categories::table
        .inner_join(departments::table)
        .filter(departments::municipality_id.eq(municipality))
        .select((ServiceRow::as_select(), DepartmentRow::as_select()))
        .order((s::name_el, s::id))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some((after_name, after_id)) = after {
        query = query.filter(
            s::name_el.gt(after_name.clone()).or(s::name_el
                .eq(after_name.clone())
                .and(s::id.gt(after_id.clone()))),
        );
    }
    let rows: Vec<(ServiceRow, DepartmentRow)> = query.load(conn)?;
    let ids: Vec<&ServiceId> = rows.iter().map(|(service, _)| &service.id).collect();
    let mut documents = documents_for(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(service, department)| {
            let (mine, rest) = documents
                .drain(..)
                .partition(|d| d.service_id == service.id);
            documents = rest;
            (service, department, mine)
        })
        .collect())
}

pub fn insert_municipality(conn: &mut DbConn, row: &MunicipalityRow) -> QueryResult<()> {
    diesel::insert_into(municipalities::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_department(conn: &mut DbConn, row: &DepartmentRow) -> QueryResult<()> {
    diesel::insert_into(departments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn insert_service(
    conn: &mut DbConn,
    row: &ServiceRow,
    documents: &[DocumentRow],
) -> QueryResult<()> {
    diesel::insert_into(service_categories::table)
        .values(row)
        .execute(conn)?;
    insert_documents(conn, documents)
}

fn insert_documents(conn: &mut DbConn, documents: &[DocumentRow]) -> QueryResult<()> {
    for document in documents {
        diesel::insert_into(service_documents::table)
            .values(document)
            .execute(conn)?;
    }
    Ok(())
}

pub fn service(conn: &mut DbConn, id: &ServiceId) -> QueryResult<ServiceRow> {
    service_categories::table
        .find(id)
        .select(ServiceRow::as_select())
        .first(conn)
}

/// Gives an existing service `row`'s names, description, duration and
/// legal-entity flag, and `documents` in place of its documents.
pub fn replace_service(
    conn: &mut DbConn,
    row: &ServiceRow,
    documents: &[DocumentRow],
) -> QueryResult<()> {
    use service_categories::dsl as s;
    diesel::update(service_categories::table.find(&row.id))
        .set((
            s::name_el.eq(&row.name_el),
            s::name_en.eq(&row.name_en),
            s::description_el.eq(&row.description_el),
            s::description_en.eq(&row.description_en),
            s::duration_minutes.eq(row.duration_minutes),
            s::serves_legal_entities.eq(row.serves_legal_entities),
        ))
        .execute(conn)?;
    diesel::delete(service_documents::table.filter(service_documents::service_id.eq(&row.id)))
        .execute(conn)?;
    insert_documents(conn, documents)
}

/// Gives an existing department `row`'s names and e-mail.
pub fn update_department(conn: &mut DbConn, row: &DepartmentRow) -> QueryResult<()> {
    use departments::dsl as d;
    diesel::update(departments::table.find(&row.id))
        .set((
            d::name_el.eq(&row.name_el),
            d::name_en.eq(&row.name_en),
            d::email.eq(&row.email),
        ))
        .execute(conn)
        .map(drop)
}

pub fn count_municipalities(conn: &mut DbConn) -> QueryResult<i64> {
    municipalities::table.count().get_result(conn)
}

/// A municipality's departments by Greek name, from after `after`; one
/// more than `limit`, for the next page's cursor.
pub fn list_departments(
    conn: &mut DbConn,
    municipality: &MunicipalityId,
    after: Option<&NameKey<DepartmentId>>,
    limit: u32,
) -> QueryResult<Vec<DepartmentRow>> {
    use departments::dsl as d;
    let mut query = departments::table
        .filter(d::municipality_id.eq(municipality))
        .select(DepartmentRow::as_select())
        .order((d::name_el, d::id))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some((after_name, after_id)) = after {
        query = query.filter(
            d::name_el.gt(after_name.clone()).or(d::name_el
                .eq(after_name.clone())
                .and(d::id.gt(after_id.clone()))),
        );
    }
    query.load(conn)
}

/// The municipality a department belongs to, if the department exists.
pub fn department_municipality(
    conn: &mut DbConn,
    department: &DepartmentId,
) -> QueryResult<Option<MunicipalityId>> {
    departments::table
        .find(department)
        .select(departments::municipality_id)
        .first(conn)
        .optional()
}

/// The documents of these services, by purpose and position.
pub fn documents_for(
    conn: &mut DbConn,
    service_ids: &[&ServiceId],
) -> QueryResult<Vec<DocumentRow>> {
    on_backend!(conn, |c| service_documents::table
        .filter(service_documents::service_id.eq_any(service_ids))
        .order((service_documents::purpose, service_documents::position))
        .select(DocumentRow::as_select())
        .load(c))
}

pub fn duration_minutes(conn: &mut DbConn, service: &ServiceId) -> QueryResult<u32> {
    let minutes: i32 = service_categories::table
        .find(service)
        .select(service_categories::duration_minutes)
        .first(conn)?;
    Ok(u32::try_from(minutes).unwrap_or_default())
}

pub fn department(conn: &mut DbConn, id: &DepartmentId) -> QueryResult<DepartmentRow> {
    departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(conn)
}

/// A municipality's zone as stored. Every municipality is created in
/// Europe/Athens; a name chrono-tz cannot read falls back to it rather
/// than failing every request that shows a time.
pub fn time_zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Athens)
}

/// The zone a department's municipality shows its times in, if the department exists.
pub fn department_time_zone(
    conn: &mut DbConn,
    department: &DepartmentId,
) -> QueryResult<Option<Tz>> {
    departments::table
        .inner_join(municipalities::table)
        .filter(departments::id.eq(department))
        .select(municipalities::time_zone)
        .first::<String>(conn)
        .optional()
        .map(|name| name.as_deref().map(time_zone))
}

/// The zone a municipality shows its times in, if it exists.
pub fn municipality_time_zone(
    conn: &mut DbConn,
    municipality: &MunicipalityId,
) -> QueryResult<Option<Tz>> {
    municipalities::table
        .find(municipality)
        .select(municipalities::time_zone)
        .first::<String>(conn)
        .optional()
        .map(|name| name.as_deref().map(time_zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_purposes_round_trip() {
        for purpose in DocumentPurpose::ALL {
            assert_eq!(purpose.as_str().parse::<DocumentPurpose>(), Ok(purpose));
        }
        assert!("visit".parse::<DocumentPurpose>().is_err());
    }
}
