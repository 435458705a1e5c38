//! `GET /v1/municipalities` and, for each, its services and departments:
//! public, no login (R-BK-02).

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{
    self, DepartmentRow, DocumentPurpose, DocumentRow, MunicipalityRow, NameKey, ServiceRow,
};
use crate::db::{Db, DbConn};
use crate::domain::Text;
use crate::domain::ids::{DepartmentId, MunicipalityId, ServiceId};
use crate::http::{ApiError, Page, PageExample, PageParams, parse_path_id};
use crate::openapi::problems::{NotFound, ValidationFailed};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_municipalities)
        .service(list_services)
        .service(list_departments);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Municipality {
    pub id: MunicipalityId,
    pub name: Text,
    /// Where citizens write to the municipality.
    #[schema(example = "info@kalamata.example")]
    pub contact_email: String,
    /// IANA zone in which its slot times are shown.
    #[schema(example = "Europe/Athens")]
    pub time_zone: String,
}

impl PageExample for Municipality {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a01",
            "name": {"el": "Δήμος Καλαμάτας", "en": "Municipality of Kalamata"},
            "contact_email": "info@kalamata.example",
            "time_zone": "Europe/Athens",
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!(["Δήμος Καλαμάτας", "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a01"])
    }
}

/// The department (unit) that serves a service's appointments (R-BK-08).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Department {
    pub id: DepartmentId,
    pub name: Text,
    /// Where legal entities send their authorization documents (R-BK-04).
    #[schema(example = "pronoia@kalamata.example")]
    pub email: String,
}

impl PageExample for Department {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02",
            "name": {"el": "Κοινωνική Πρόνοια", "en": "Social Welfare"},
            "email": "pronoia@kalamata.example",
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!(["Κοινωνική Πρόνοια", "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02"])
    }
}

/// A thematic service category that citizens book (R-BK-02).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: ServiceId,
    pub name: Text,
    pub description: Text,
    pub department: Department,
    /// Length of one appointment.
    #[schema(example = 20)]
    pub duration_minutes: i32,
    /// Whether a representative may book for a company or association.
    #[schema(example = false)]
    pub serves_legal_entities: bool,
    /// What a legal entity's representative must e-mail to the department
    /// before the visit (R-BK-04).
    pub legal_entity_documents: Vec<Text>,
    /// What every citizen must send or bring (R-BK-05).
    pub required_documents: Vec<Text>,
}

impl PageExample for Service {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a03",
            "name": {"el": "Επίδομα Στέγασης", "en": "Housing Allowance"},
            "description": {
                "el": "Αιτήσεις και δικαιολογητικά.",
                "en": "Applications and supporting documents.",
            },
            "department": {
                "id": "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02",
                "name": {"el": "Κοινωνική Πρόνοια", "en": "Social Welfare"},
                "email": "pronoia@kalamata.example",
            },
            "duration_minutes": 20,
            "serves_legal_entities": false,
            "legal_entity_documents": [],
            "required_documents": [
                {"el": "Αστυνομική ταυτότητα ή διαβατήριο", "en": "Identity card or passport"},
                {"el": "Μισθωτήριο συμβόλαιο", "en": "Lease agreement"},
            ],
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!(["Επίδομα Στέγασης", "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a03"])
    }
}

/// Municipalities that take bookings, by Greek name.
#[utoipa::path(
    tag = "catalogue",
    params(PageParams),
    responses(
        (status = 200, description = "A page of municipalities.", body = Page<Municipality>),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/municipalities")]
async fn list_municipalities(
    db: web::Data<Db>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Municipality>>, ApiError> {
    let request = page.parse::<NameKey<MunicipalityId>>()?;
    let rows = db
        .run(move |conn| {
            store::list_municipalities(conn, request.after.as_ref(), request.limit)
                .map_err(ApiError::from)
        })
        .await?;
    let items = rows.into_iter().map(municipality_view).collect();
    Ok(web::Json(Page::from_rows(
        items,
        request.limit,
        Named::name_key,
    )))
}

/// A municipality's thematic services, each with its department, duration
/// and the documents it requires.
#[utoipa::path(
    tag = "catalogue",
    params(
        ("municipality_id" = String, Path, format = Uuid, description = "The municipality's id."),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of services, by Greek name.", body = Page<Service>),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/municipalities/{municipality_id}/services")]
async fn list_services(
    db: web::Data<Db>,
    path: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Service>>, ApiError> {
    let page = municipality_page(&db, &path, &page, store::list_services, |row| {
        let (service, department, documents) = row;
        service_view(service, department, documents)
    })
    .await?;
    Ok(web::Json(page))
}

/// Reads a page of a municipality's rows: (municipality, after, limit).
type LoadPage<Row, Id> =
    fn(&mut DbConn, &MunicipalityId, Option<&NameKey<Id>>, u32) -> diesel::QueryResult<Vec<Row>>;

/// A page of what `load` reads of a municipality, by Greek name, each item
/// made by `view`; `404` for an unknown municipality.
async fn municipality_page<Row, Item>(
    db: &Db,
    path: &str,
    page: &PageParams,
    load: LoadPage<Row, Item::Id>,
    view: fn(Row) -> Item,
) -> Result<Page<Item>, ApiError>
where
    Row: Send + 'static,
    Item: Named,
{
    let municipality: MunicipalityId = parse_path_id(path, "municipality_id")?;
    let request = page.parse::<NameKey<Item::Id>>()?;
    let rows = db
        .run(move |conn| {
            if !store::municipality_exists(conn, &municipality)? {
                return Err(ApiError::not_found());
            }
            Ok(load(
                conn,
                &municipality,
                request.after.as_ref(),
                request.limit,
            )?)
        })
        .await?;
    let items = rows.into_iter().map(view).collect();
    Ok(Page::from_rows(items, request.limit, Named::name_key))
}

/// What a catalogue page is ordered by: the Greek name, then the id.
trait Named {
    type Id: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + 'static;

    fn name_key(&self) -> NameKey<Self::Id>;
}

impl Named for Municipality {
    type Id = MunicipalityId;

    fn name_key(&self) -> NameKey<MunicipalityId> {
        (self.name.el.to_string(), self.id.clone())
    }
}

impl Named for Service {
    type Id = ServiceId;

    fn name_key(&self) -> NameKey<ServiceId> {
        (self.name.el.to_string(), self.id.clone())
    }
}

impl Named for Department {
    type Id = DepartmentId;

    fn name_key(&self) -> NameKey<DepartmentId> {
        (self.name.el.to_string(), self.id.clone())
    }
}

/// A municipality's departments, by Greek name: who serves, and where to
/// write to them.
#[utoipa::path(
    tag = "catalogue",
    params(
        ("municipality_id" = String, Path, format = Uuid, description = "The municipality's id."),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of departments, by Greek name.", body = Page<Department>),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/municipalities/{municipality_id}/departments")]
async fn list_departments(
    db: web::Data<Db>,
    path: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<Department>>, ApiError> {
    let page =
        municipality_page(&db, &path, &page, store::list_departments, department_view).await?;
    Ok(web::Json(page))
}

pub(super) fn municipality_view(row: MunicipalityRow) -> Municipality {
    Municipality {
        id: row.id,
        name: Text::new(row.name_el, row.name_en),
        contact_email: row.contact_email,
        time_zone: row.time_zone,
    }
}

pub(super) fn department_view(row: DepartmentRow) -> Department {
    Department {
        id: row.id,
        name: Text::new(row.name_el, row.name_en),
        email: row.email,
    }
}

pub(super) fn service_view(
    service: ServiceRow,
    department: DepartmentRow,
    documents: Vec<DocumentRow>,
) -> Service {
    let (legal_entity, before_visit) = document_texts(documents);
    Service {
        id: service.id,
        name: Text::new(service.name_el, service.name_en),
        description: Text::new(service.description_el, service.description_en),
        department: department_view(department),
        duration_minutes: service.duration_minutes,
        serves_legal_entities: service.serves_legal_entities,
        legal_entity_documents: legal_entity,
        required_documents: before_visit,
    }
}

/// A service's documents as texts: (for legal entities, for every visitor).
pub fn document_texts(documents: Vec<DocumentRow>) -> (Vec<Text>, Vec<Text>) {
    let (legal_entity, before_visit): (Vec<_>, Vec<_>) = documents
        .into_iter()
        .partition(|d| d.purpose == DocumentPurpose::LegalEntity);
    let texts = |documents: Vec<DocumentRow>| {
        documents
            .into_iter()
            .map(|d| Text::new(d.name_el, d.name_en))
            .collect()
    };
    (texts(legal_entity), texts(before_visit))
}
