//! The mobile a citizen has certified in the National Registry of
//! Communication (ΕΜΕπ), where one-time codes are sent (R-PH-02). In
//! production an HTTP service; in development and demos, a table.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::{ContactRegistryKind, ContactRegistrySettings};
use crate::db::schema::contact_registry;
use crate::db::{Db, DbConn};
use crate::domain::{Afm, Phone};
use crate::http::{ApiError, ErrorCode};

pub enum ContactRegistry {
    Database,
    Http {
        client: reqwest::Client,
        base_url: String,
        token: Option<SecretString>,
    },
}

/// The registry's answer to `GET {url}/{afm}`; `404` means no certified mobile.
#[derive(Deserialize)]
struct RegistryAnswer {
    mobile: String,
}

impl ContactRegistry {
    pub fn new(settings: &ContactRegistrySettings) -> anyhow::Result<ContactRegistry> {
        Ok(match settings.kind {
            ContactRegistryKind::Database => ContactRegistry::Database,
            ContactRegistryKind::Http => ContactRegistry::Http {
                client: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_millis(settings.timeout_ms))
                    .build()?,
                base_url: settings.url.clone().ok_or_else(|| {
                    anyhow::anyhow!("auth.contact_registry.url is required for kind http")
                })?,
                token: settings.token.clone(),
            },
        })
    }

    pub async fn certified_mobile(&self, db: &Db, afm: &Afm) -> Result<Option<Phone>, ApiError> {
        match self {
            ContactRegistry::Database => {
                let afm = afm.clone();
                db.run(move |conn| Ok(stored_mobile(conn, &afm)?)).await
            }
            ContactRegistry::Http {
                client,
                base_url,
                token,
            } => {
                let unavailable = |why: String| {
                    tracing::warn!(%why, "contact registry lookup failed");
                    ApiError::new(ErrorCode::ContactRegistryUnavailable)
                };
                let mut request = client.get(format!("{}/{}", base_url.trim_end_matches('/'), afm));
                if let Some(token) = token {
                    request = request.bearer_auth(token.expose_secret());
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| unavailable(e.to_string()))?;
                match response.status().as_u16() {
                    404 => Ok(None),
                    200 => {
                        let answer: RegistryAnswer = response
                            .json()
                            .await
                            .map_err(|e| unavailable(e.to_string()))?;
                        Phone::parse(&answer.mobile).map(Some).map_err(|_| {
                            unavailable("the registry answered an invalid mobile".into())
                        })
                    }
                    status => Err(unavailable(format!("status {status}"))),
                }
            }
        }
    }
}

fn stored_mobile(conn: &mut DbConn, afm: &Afm) -> QueryResult<Option<Phone>> {
    let mobile: Option<String> = contact_registry::table
        .find(afm.as_str())
        .select(contact_registry::mobile)
        .first(conn)
        .optional()?;
    Ok(mobile.and_then(|m| Phone::parse(&m).ok()))
}

/// Sets the mobile in the development registry (demo data, `/dev` route).
pub fn store_mobile(
    conn: &mut DbConn,
    afm: &Afm,
    mobile: &Phone,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let values = (
        contact_registry::afm.eq(afm.as_str()),
        contact_registry::mobile.eq(mobile.as_str()),
        contact_registry::updated_at.eq(now),
    );
    let update = (
        contact_registry::mobile.eq(mobile.as_str()),
        contact_registry::updated_at.eq(now),
    );
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(contact_registry::table)
            .values(values)
            .on_conflict(contact_registry::afm)
            .do_update()
            .set(update)
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(contact_registry::table)
            .values(values)
            .on_conflict(contact_registry::afm)
            .do_update()
            .set(update)
            .execute(c)?,
    };
    Ok(())
}
