//! Third-party applications as platform admins register them, each with
//! its OAuth client: registration, secret rotation, disabling (each
//! audited), and the public list citizens choose from when they consent.
//!
//! A client secret is shown once, in the answer that made it, and kept
//! only as its Argon2id hash. These operations therefore take no
//! `Idempotency-Key`: the kept answers (`crate::idempotency`) are stored
//! unsealed, and a replay without the secret would be no answer at all.
//! A registration retried after its answer was lost meets the first
//! (`409 already_exists`: one enabled application per name), and the
//! admin takes a secret with `rotate-secret`, which needs no kept answer:
//! a second rotation only adds a secret.
//!
//! The Argon2 hash is made on the blocking pool, between two checkouts:
//! the first makes sure the caller is a platform admin (so that no one
//! else can spend a hash), the second writes; no connection waits on the
//! hash.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::OAuth;
use super::client_secret;
use super::scope::{AppPurpose, Scope, Scopes};
use super::store::{self, AppRow, SecretRow};
use crate::audit::{self, Actor};
use crate::auth::roles::Role;
use crate::auth::{Caller, PlatformAdmin};
use crate::db::{Db, DbConn, write_transaction};
use crate::domain::ids::{AppId, ClientId};
use crate::http::{ApiError, ErrorCode, JsonBody, Text, Validation, parse_path_id};
use crate::openapi::problems::{
    AlreadyExists, AppDisabled, Forbidden, NotFound, Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_apps)
        .service(register_app)
        .service(rotate_secret)
        .service(disable_app);
}

/// An application to register, and what it may read: `scopes`, each
/// allowed by its `purpose` (R-PH-18: `photos:signature` only for
/// `driving_licences`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Άδειες οδήγησης",
    "organization": "Υπουργείο Υποδομών και Μεταφορών",
    "purpose": "driving_licences",
    "scopes": ["photos:face", "photos:signature"]
}))]
pub struct NewApp {
    #[schema(value_type = crate::http::Name, inline)]
    pub name: String,
    #[schema(value_type = crate::http::Name, inline)]
    pub organization: String,
    #[schema(value_type = AppPurpose)]
    pub purpose: String,
    #[schema(value_type = Vec<Scope>, min_items = 1)]
    pub scopes: Vec<String>,
}

/// An application as everyone may see it: the citizens' list to consent
/// from, and what it may read.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AppListing {
    pub id: AppId,
    #[schema(example = "Άδειες οδήγησης")]
    pub name: String,
    #[schema(example = "Υπουργείο Υποδομών και Μεταφορών")]
    pub organization: String,
    pub purpose: AppPurpose,
    /// The images it may read, with the citizen's consent.
    #[schema(example = json!(["photos:face", "photos:signature"]))]
    pub scopes: Vec<Scope>,
}

/// The enabled applications, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Apps {
    pub items: Vec<AppListing>,
}

/// A registered application with its client's credentials: the secret is
/// shown here once and never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisteredApp {
    pub app_id: AppId,
    pub client_id: ClientId,
    /// Keep it secret; only its hash is stored.
    #[schema(example = "q1U7c0e3m2kQ2Qd3b2b0Hk9Xh2x4Jp0cS4Ww1nKZt8E")]
    pub client_secret: String,
    #[schema(example = "Άδειες οδήγησης")]
    pub name: String,
    #[schema(example = "Υπουργείο Υποδομών και Μεταφορών")]
    pub organization: String,
    pub purpose: AppPurpose,
    #[schema(example = json!(["photos:face", "photos:signature"]))]
    pub scopes: Vec<Scope>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-02T08:45:00Z")]
    pub created_at: DateTime<Utc>,
}

/// A new client secret, shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedSecret {
    pub app_id: AppId,
    pub client_id: ClientId,
    #[schema(example = "Wq0pX4n2Jc8t5LrB7yVd1eHk3Ms9Gf6Az2Qu8Ni0Oo4")]
    pub client_secret: String,
    /// Until when the secrets before this one still authenticate
    /// (`oauth.secret_overlap_secs` from now).
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-03T08:45:00Z")]
    pub previous_secrets_retire_at: DateTime<Utc>,
}

fn scope_list(scopes: &Scopes) -> Vec<Scope> {
    scopes.iter().collect()
}

impl From<AppRow> for AppListing {
    fn from(row: AppRow) -> AppListing {
        AppListing {
            scopes: Scopes::parse(&row.scopes)
                .map(|scopes| scope_list(&scopes))
                .unwrap_or_default(),
            id: row.id,
            name: row.name,
            organization: row.organization,
            purpose: row.purpose,
        }
    }
}

/// The registration, checked: what to store but the secret.
struct Registration {
    name: String,
    organization: String,
    purpose: AppPurpose,
    scopes: Scopes,
}

fn registration(body: NewApp) -> Result<Registration, ApiError> {
    let mut v = Validation::default();
    let name = v.text("name", &body.name, 2, 200);
    let organization = v.text("organization", &body.organization, 2, 200);
    let purpose = body.purpose.parse::<AppPurpose>().ok();
    if purpose.is_none() {
        v.fail(
            "purpose",
            "unknown_purpose",
            Text::new(
                "Σκοπός: driving_licences ή identity_documents.",
                "The purpose is driving_licences or identity_documents.",
            ),
        );
    }
    let mut scopes = Vec::new();
    for text in &body.scopes {
        match text.parse::<Scope>() {
            Err(_) => v.fail(
                "scopes",
                "unknown_scope",
                Text::new(
                    "Εύρη: photos:face, photos:signature.",
                    "The scopes are photos:face and photos:signature.",
                ),
            ),
            Ok(scope) if purpose.is_some_and(|purpose| !purpose.allows(scope)) => v.fail(
                "scopes",
                "scope_not_allowed_for_purpose",
                // R-PH-18.
                Text::new(
                    "Η υπογραφή δίνεται μόνο σε εφαρμογές αδειών οδήγησης.",
                    "The signature is given only to driving-licence applications.",
                ),
            ),
            Ok(scope) => scopes.push(scope),
        }
    }
    if body.scopes.is_empty() {
        v.fail(
            "scopes",
            "required",
            Text::new("Τουλάχιστον ένα εύρος.", "At least one scope."),
        );
    }
    v.finish()?;
    Ok(Registration {
        name,
        organization,
        purpose: purpose.expect("checked"),
        scopes: scopes.into_iter().collect(),
    })
}

fn admin_actor(admin: &PlatformAdmin) -> Actor<'_> {
    Actor {
        afm: admin.0.afm.as_str(),
        role: Role::PlatformAdmin.as_str(),
        scope_id: "",
    }
}

fn secret_row(app: &AppId, hash: String, now: NaiveDateTime) -> SecretRow {
    SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        app_id: app.clone(),
        secret_hash: hash,
        created_at: now,
        retires_at: None,
    }
}

/// A new secret and its hash, made off the async executor.
async fn new_secret(oauth: &OAuth) -> Result<(SecretString, String), ApiError> {
    let secret = client_secret::generate();
    let hash = oauth.hash_secret(secret.clone()).await?;
    Ok((secret, hash))
}

/// The registered applications that are not disabled, for citizens to
/// choose from when they consent (R-PH-15). Public: it holds no personal
/// data, only which ministry systems exist and what each may read, which
/// a citizen must see before signing in to consent. Not paginated: a
/// handful of ministry systems, all of them in one drop-down.
#[utoipa::path(
    tag = "applications",
    responses((status = 200, description = "The enabled applications, by name.", body = Apps))
)]
#[get("/v1/apps")]
async fn list_apps(db: web::Data<Db>) -> Result<web::Json<Apps>, ApiError> {
    let rows = db
        .run(|conn| store::enabled_apps(conn).map_err(ApiError::from))
        .await?;
    Ok(web::Json(Apps {
        items: rows.into_iter().map(AppListing::from).collect(),
    }))
}

/// Registers an application and its OAuth client (platform admins); the
/// client secret is in this answer only. No `Idempotency-Key`: a retry
/// meets the first registration (`409`), and `rotate-secret` gives a
/// secret again.
#[utoipa::path(
    tag = "applications",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = NewApp,
    responses(
        (status = 201, description = "Registered; the only time the secret is shown.", body = RegisteredApp),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = AlreadyExists),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/apps")]
async fn register_app(
    caller: Caller<PlatformAdmin>,
    body: JsonBody<NewApp>,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let checked = registration(body.0);
    let admin = caller.clone();
    db.run(move |conn| admin.resolve(conn).map(drop)).await?;
    let checked = checked?;
    let (secret, hash) = new_secret(&oauth).await?;
    let now = oauth.clock().now().naive_utc();
    let row = AppRow {
        id: AppId::generate(),
        client_id: ClientId::generate(),
        name: checked.name,
        organization: checked.organization,
        purpose: checked.purpose,
        scopes: checked.scopes.to_string(),
        created_at: now,
        disabled_at: None,
    };
    let stored = row.clone();
    db.run(move |conn| {
        let admin = caller.resolve(conn)?;
        write_transaction(conn, |tx| {
            if !store::insert_app(tx, &stored)? {
                return Err(ApiError::new(ErrorCode::AlreadyExists));
            }
            store::insert_secret(tx, &secret_row(&stored.id, hash, now))?;
            audit::record(
                tx,
                &admin_actor(&admin),
                "app.register",
                ("app", stored.id.as_str()),
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(
        HttpResponse::build(StatusCode::CREATED).json(RegisteredApp {
            app_id: row.id,
            client_id: row.client_id,
            client_secret: secret.expose_secret().to_owned(),
            name: row.name,
            organization: row.organization,
            purpose: row.purpose,
            scopes: scope_list(&checked.scopes),
            created_at: now.and_utc(),
        }),
    )
}

/// The application `id`, if there is one and it is not disabled.
fn enabled_app(conn: &mut DbConn, id: &AppId) -> Result<AppRow, ApiError> {
    let app = store::app(conn, id)?.ok_or_else(ApiError::not_found)?;
    if app.disabled_at.is_some() {
        return Err(ApiError::new(ErrorCode::AppDisabled));
    }
    Ok(app)
}

/// Gives the application a new client secret (platform admins), shown in
/// this answer only; the secrets before it still authenticate for
/// `oauth.secret_overlap_secs`, so that the application's instances can
/// take the new one up without a gap.
#[utoipa::path(
    tag = "applications",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("app_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The new secret; the only time it is shown.", body = RotatedSecret),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = AppDisabled),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/apps/{app_id}/rotate-secret")]
async fn rotate_secret(
    caller: Caller<PlatformAdmin>,
    path: web::Path<String>,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<web::Json<RotatedSecret>, ApiError> {
    let id = parse_path_id::<AppId>(&path, "app_id");
    let admin = caller.clone();
    let looked_up = id.clone();
    db.run(move |conn| {
        admin.resolve(conn)?;
        enabled_app(conn, &looked_up?).map(drop)
    })
    .await?;
    let id = id?;
    let (secret, hash) = new_secret(&oauth).await?;
    let now = oauth.clock().now().naive_utc();
    let retire_at = now + oauth.secret_overlap();
    let app = db
        .run(move |conn| {
            let admin = caller.resolve(conn)?;
            write_transaction(conn, |tx| {
                let app = enabled_app(tx, &id)?;
                store::retire_secrets(tx, &app.id, retire_at)?;
                store::insert_secret(tx, &secret_row(&app.id, hash, now))?;
                audit::record(
                    tx,
                    &admin_actor(&admin),
                    "app.rotate_secret",
                    ("app", app.id.as_str()),
                    now,
                )?;
                Ok::<_, ApiError>(app)
            })
        })
        .await?;
    Ok(web::Json(RotatedSecret {
        app_id: app.id,
        client_id: app.client_id,
        client_secret: secret.expose_secret().to_owned(),
        previous_secrets_retire_at: retire_at.and_utc(),
    }))
}

/// Disables the application (platform admins), for good: it leaves the
/// citizens' list, its client no longer gets tokens, and the tokens it
/// holds stop counting on the next request. Disabling it again changes
/// nothing.
#[utoipa::path(
    tag = "applications",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("app_id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Disabled."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[post("/v1/apps/{app_id}/disable")]
async fn disable_app(
    caller: Caller<PlatformAdmin>,
    path: web::Path<String>,
    oauth: web::Data<OAuth>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_path_id::<AppId>(&path, "app_id");
    let now = oauth.clock().now().naive_utc();
    db.run(move |conn| {
        let admin = caller.resolve(conn)?;
        let id = id.clone()?;
        write_transaction(conn, |tx| {
            store::app(tx, &id)?.ok_or_else(ApiError::not_found)?;
            if store::disable(tx, &id, now)? {
                audit::record(
                    tx,
                    &admin_actor(&admin),
                    "app.disable",
                    ("app", id.as_str()),
                    now,
                )?;
            }
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_app(purpose: &str, scopes: &[&str]) -> NewApp {
        NewApp {
            name: "Άδειες οδήγησης".into(),
            organization: "Υπουργείο Μεταφορών".into(),
            purpose: purpose.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn refusals(body: NewApp) -> Vec<(String, String)> {
        let error = registration(body).err().expect("refused");
        error
            .problem(crate::http::Lang::En)
            .errors
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn the_signature_is_registered_only_for_driving_licences_r_ph_18() {
        let both = ["photos:face", "photos:signature"];
        assert!(registration(new_app("driving_licences", &both)).is_ok());
        assert_eq!(
            refusals(new_app("identity_documents", &both)),
            [(
                "scopes".to_owned(),
                "scope_not_allowed_for_purpose".to_owned()
            )]
        );
        assert!(registration(new_app("identity_documents", &["photos:face"])).is_ok());
    }

    #[test]
    fn every_invalid_field_is_named() {
        let codes = refusals(new_app("passports", &[]));
        assert_eq!(
            codes,
            [
                ("purpose".to_owned(), "unknown_purpose".to_owned()),
                ("scopes".to_owned(), "required".to_owned())
            ]
        );
        assert_eq!(
            refusals(new_app("driving_licences", &["openid"])),
            [("scopes".to_owned(), "unknown_scope".to_owned())]
        );
    }
}
