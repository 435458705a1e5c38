//! Growing the catalogue: platform admins add municipalities; a
//! municipality's administrators add its departments and service
//! categories (R-BK-09). Creation honours `Idempotency-Key`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, put, web};
use chrono::NaiveDateTime;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::routes::{
    Department, Municipality, Service, department_view, municipality_view, service_view,
};
use super::store::{
    self, DepartmentRow, DocumentPurpose, DocumentRow, MunicipalityRow, ServiceRow,
};
use crate::auth::{Caller, MunicipalityAdmin, PlatformAdmin};
use crate::clock::SharedClock;
use crate::db::Db;
use crate::domain::Email;
use crate::domain::ids::{DepartmentId, MunicipalityId, ServiceId};
use crate::http::{
    ApiError, Description, DocumentTitle, ErrorCode, JsonBody, Name, Text, Validation,
    parse_path_id,
};
use crate::idempotency::{Answer, Idempotent, run_once_in};
use crate::openapi::problems::{
    AlreadyExists, CreateRefused, Forbidden, NotFound, Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_municipality)
        .service(create_department)
        .service(replace_department)
        .service(create_service)
        .service(replace_service);
}

/// A name already taken is a conflict, not a failure.
fn unique<T>(result: diesel::QueryResult<T>) -> Result<T, ApiError> {
    result.map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::new(ErrorCode::AlreadyExists)
        }
        other => other.into(),
    })
}

fn names(v: &mut Validation, el: &str, en: &str) -> (String, String) {
    (v.text("name_el", el, 2, 200), v.text("name_en", en, 2, 200))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name_el": "Δήμος Τρίπολης",
    "name_en": "Municipality of Tripoli",
    "contact_email": "info@tripoli.example"
}))]
pub struct NewMunicipality {
    #[schema(value_type = Name, inline)]
    pub name_el: String,
    #[schema(value_type = Name, inline)]
    pub name_en: String,
    #[schema(value_type = Email, inline)]
    pub contact_email: String,
}

/// Adds a municipality (platform admins).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = NewMunicipality,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, description = "Created.", body = Municipality),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = AlreadyExists),
        (status = 422, response = CreateRefused),
    )
)]
#[post("/v1/municipalities")]
async fn create_municipality(
    caller: Caller<PlatformAdmin>,
    request: Idempotent<NewMunicipality>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let Idempotent { body, once } = request;
    let mut v = Validation::default();
    let (name_el, name_en) = names(&mut v, &body.name_el, &body.name_en);
    let email = v.check("contact_email", Email::parse(&body.contact_email));
    let now = clock.now().naive_utc();
    let row = v.finish().map(|()| MunicipalityRow {
        id: MunicipalityId::generate(),
        name_el,
        name_en,
        contact_email: email.expect("checked").to_string(),
        time_zone: "Europe/Athens".into(),
        created_at: now,
    });
    db.run(move |conn| {
        let PlatformAdmin(admin) = caller.resolve(conn)?;
        let row = row?;
        run_once_in(
            conn,
            admin.afm.to_string(),
            once,
            StatusCode::CREATED,
            now,
            |tx| {
                unique(store::insert_municipality(tx, &row))?;
                Ok(municipality_view(row))
            },
        )
    })
    .await
    .map(Answer::into_response)
}

/// A department's names, and the `email` where citizens send documents
/// before their visit (R-BK-04, R-BK-05).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name_el": "Κοινωνική Πρόνοια",
    "name_en": "Social Welfare",
    "email": "pronoia@tripoli.example"
}))]
pub struct NewDepartment {
    #[schema(value_type = Name, inline)]
    pub name_el: String,
    #[schema(value_type = Name, inline)]
    pub name_en: String,
    // Described on the struct: a description here would wrap the inlined
    // schema in a one-armed `oneOf`.
    #[schema(value_type = Email, inline)]
    pub email: String,
}

/// Adds a department to a municipality (its administrators).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("municipality_id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header)),
    request_body = NewDepartment,
    responses(
        (status = 201, description = "Created.", body = Department),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = AlreadyExists),
        (status = 422, response = CreateRefused),
    )
)]
#[post("/v1/municipalities/{municipality_id}/departments")]
async fn create_department(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    request: Idempotent<NewDepartment>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let municipality = parse_path_id::<MunicipalityId>(&path, "municipality_id");
    let Idempotent { body, once } = request;
    let fields = department_fields(&body);
    let now = clock.now().naive_utc();
    db.run(move |conn| {
        let admin = caller.resolve(conn)?;
        let municipality = municipality?;
        admin.require(&municipality)?;
        let (name_el, name_en, email) = fields?;
        let row = DepartmentRow {
            id: DepartmentId::generate(),
            municipality_id: municipality,
            name_el,
            name_en,
            email,
            created_at: now,
        };
        run_once_in(
            conn,
            admin.session.afm.to_string(),
            once,
            StatusCode::CREATED,
            now,
            |tx| {
                unique(store::insert_department(tx, &row))?;
                Ok(department_view(row))
            },
        )
    })
    .await
    .map(Answer::into_response)
}

/// A department's names and e-mail, checked.
fn department_fields(body: &NewDepartment) -> Result<(String, String, String), ApiError> {
    let mut v = Validation::default();
    let (name_el, name_en) = names(&mut v, &body.name_el, &body.name_en);
    let email = v.check("email", Email::parse(&body.email));
    v.finish()?;
    Ok((name_el, name_en, email.expect("checked").to_string()))
}

/// Renames a department or changes its e-mail (its municipality's
/// administrators). Services and reservations stay with it.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid)),
    request_body = NewDepartment,
    responses(
        (status = 200, description = "The department as it is now.", body = Department),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = AlreadyExists),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/departments/{department_id}")]
async fn replace_department(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    body: JsonBody<NewDepartment>,
    db: web::Data<Db>,
) -> Result<web::Json<Department>, ApiError> {
    let department = parse_path_id::<DepartmentId>(&path, "department_id");
    let fields = department_fields(&body.into_inner());
    let department = db
        .run(move |conn| {
            let admin = caller.resolve(conn)?;
            let department = department?;
            crate::db::write_transaction(conn, |tx| -> Result<_, ApiError> {
                let current = store::department(tx, &department)?;
                admin.require(&current.municipality_id)?;
                let (name_el, name_en, email) = fields?;
                let row = DepartmentRow {
                    name_el,
                    name_en,
                    email,
                    ..current
                };
                unique(store::update_department(tx, &row))?;
                Ok(department_view(row))
            })
        })
        .await?;
    Ok(web::Json(department))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name_el": "Επίδομα Στέγασης",
    "name_en": "Housing Allowance",
    "description_el": "Αιτήσεις και δικαιολογητικά.",
    "description_en": "Applications and supporting documents.",
    "duration_minutes": 20,
    "serves_legal_entities": false,
    "legal_entity_documents": [],
    "required_documents": [{"el": "Εκκαθαριστικό εφορίας", "en": "Tax assessment notice"}]
}))]
pub struct NewService {
    #[schema(value_type = Name, inline)]
    pub name_el: String,
    #[schema(value_type = Name, inline)]
    pub name_en: String,
    #[serde(default)]
    #[schema(value_type = Description, inline)]
    pub description_el: String,
    #[serde(default)]
    #[schema(value_type = Description, inline)]
    pub description_en: String,
    /// Length of one appointment, 5 to 480 minutes in steps of 5.
    #[serde(deserialize_with = "crate::http::whole_number")]
    #[schema(minimum = 5, maximum = 480, multiple_of = 5, example = 20)]
    pub duration_minutes: i32,
    /// Whether representatives may book for companies and associations (R-BK-04).
    #[serde(default)]
    #[schema(example = false)]
    pub serves_legal_entities: bool,
    /// What representatives of legal entities must e-mail first (R-BK-04);
    /// only for a service that serves them.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub legal_entity_documents: Vec<NewDocument>,
    /// What every visitor must send or bring (R-BK-05).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub required_documents: Vec<NewDocument>,
}

/// A document's title in Greek and English.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"el": "Καταστατικό του νομικού προσώπου", "en": "Articles of association"}))]
pub struct NewDocument {
    #[schema(value_type = DocumentTitle, inline)]
    pub el: String,
    #[schema(value_type = DocumentTitle, inline)]
    pub en: String,
}

/// A service's definition, checked: what creating it sets and replacing
/// it changes.
#[derive(Clone)]
struct ServiceDefinition {
    name_el: String,
    name_en: String,
    description_el: String,
    description_en: String,
    duration_minutes: i32,
    serves_legal_entities: bool,
    /// (Greek, English, purpose), in order.
    documents: Vec<(String, String, DocumentPurpose)>,
}

impl ServiceDefinition {
    fn check(body: &NewService) -> Result<ServiceDefinition, ApiError> {
        let mut v = Validation::default();
        let (name_el, name_en) = names(&mut v, &body.name_el, &body.name_en);
        let description_el = v
            .free_text("description_el", Some(&body.description_el), 1000)
            .unwrap_or_default();
        let description_en = v
            .free_text("description_en", Some(&body.description_en), 1000)
            .unwrap_or_default();
        if !(5..=480).contains(&body.duration_minutes) || body.duration_minutes % 5 != 0 {
            v.fail(
                "duration_minutes",
                "out_of_range",
                Text::new(
                    "Από 5 έως 480 λεπτά, ανά 5.",
                    "From 5 to 480 minutes, in steps of 5.",
                ),
            );
        }
        if !body.serves_legal_entities && !body.legal_entity_documents.is_empty() {
            v.fail(
                "legal_entity_documents",
                "not_accepted",
                Text::new(
                    "Μόνο για υπηρεσίες που εξυπηρετούν νομικά πρόσωπα.",
                    "Only for services that serve legal entities.",
                ),
            );
        }
        let mut documents = |field: &'static str,
                             purpose: DocumentPurpose,
                             list: &[NewDocument]|
         -> Vec<(String, String, DocumentPurpose)> {
            if list.len() > 20 {
                v.fail(
                    field,
                    "too_many",
                    Text::new("Έως 20 έγγραφα.", "At most 20 documents."),
                );
            }
            list.iter()
                .map(|d| {
                    (
                        v.text(field, &d.el, 2, 300),
                        v.text(field, &d.en, 2, 300),
                        purpose,
                    )
                })
                .collect()
        };
        let mut all = documents(
            "legal_entity_documents",
            DocumentPurpose::LegalEntity,
            &body.legal_entity_documents,
        );
        all.extend(documents(
            "required_documents",
            DocumentPurpose::BeforeVisit,
            &body.required_documents,
        ));
        v.finish()?;
        Ok(ServiceDefinition {
            name_el,
            name_en,
            description_el,
            description_en,
            duration_minutes: body.duration_minutes,
            serves_legal_entities: body.serves_legal_entities,
            documents: all,
        })
    }

    /// The service `id` of `department_id`, created at `created_at`, as
    /// defined here, and its document rows.
    fn rows(
        self,
        id: ServiceId,
        department_id: DepartmentId,
        created_at: NaiveDateTime,
    ) -> (ServiceRow, Vec<DocumentRow>) {
        let documents = self
            .documents
            .into_iter()
            .enumerate()
            .map(|(position, (el, en, purpose))| DocumentRow::new(&id, purpose, position, (el, en)))
            .collect();
        let row = ServiceRow {
            id,
            department_id,
            name_el: self.name_el,
            name_en: self.name_en,
            description_el: self.description_el,
            description_en: self.description_en,
            duration_minutes: self.duration_minutes,
            serves_legal_entities: self.serves_legal_entities,
            created_at,
        };
        (row, documents)
    }
}

/// Adds a service category to a department (its municipality's administrators).
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("department_id" = String, Path, format = Uuid), ("Idempotency-Key" = Option<String>, Header)),
    request_body = NewService,
    responses(
        (status = 201, description = "Created.", body = Service),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = AlreadyExists),
        (status = 422, response = CreateRefused),
    )
)]
#[post("/v1/departments/{department_id}/services")]
async fn create_service(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    request: Idempotent<NewService>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<HttpResponse, ApiError> {
    let department = parse_path_id::<DepartmentId>(&path, "department_id");
    let Idempotent { body, once } = request;
    let now = clock.now().naive_utc();
    let definition = ServiceDefinition::check(&body);
    db.run(move |conn| {
        let admin = caller.resolve(conn)?;
        let department = department?;
        run_once_in(
            conn,
            admin.session.afm.to_string(),
            once,
            StatusCode::CREATED,
            now,
            |tx| {
                let municipality = store::department_municipality(tx, &department)?
                    .ok_or_else(ApiError::not_found)?;
                admin.require(&municipality)?;
                let (row, rows) = definition?.rows(ServiceId::generate(), department, now);
                unique(store::insert_service(tx, &row, &rows))?;
                let department = store::department(tx, &row.department_id)?;
                Ok(service_view(row, department, rows))
            },
        )
    })
    .await
    .map(Answer::into_response)
}

/// Replaces a service's definition: names, description, duration,
/// legal-entity flag and documents (its municipality's administrators).
/// Reservations already made keep their slots; a new duration shapes the
/// slots generated from now on, and `slots/generate` brings unbooked
/// future slots in line with it. Confirmations list the documents as they
/// are when sent.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("service_id" = String, Path, format = Uuid)),
    request_body = NewService,
    responses(
        (status = 200, description = "The service as it is now.", body = Service),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = AlreadyExists),
        (status = 422, response = ValidationFailed),
    )
)]
#[put("/v1/services/{service_id}")]
async fn replace_service(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    body: JsonBody<NewService>,
    db: web::Data<Db>,
) -> Result<web::Json<Service>, ApiError> {
    let service = parse_path_id::<ServiceId>(&path, "service_id");
    let definition = ServiceDefinition::check(&body.into_inner());
    let service = db
        .run(move |conn| {
            let admin = caller.resolve(conn)?;
            let service = service?;
            crate::db::write_transaction(conn, |tx| -> Result<_, ApiError> {
                let current = store::service(tx, &service)?;
                let municipality = store::department_municipality(tx, &current.department_id)?
                    .ok_or_else(|| ApiError::internal("a service's department is gone"))?;
                admin.require(&municipality)?;
                let (row, documents) =
                    definition?.rows(current.id, current.department_id, current.created_at);
                unique(store::replace_service(tx, &row, &documents))?;
                let department = store::department(tx, &row.department_id)?;
                Ok(service_view(row, department, documents))
            })
        })
        .await?;
    Ok(web::Json(service))
}
