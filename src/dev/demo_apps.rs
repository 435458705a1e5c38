//! The demo applications, registered with fixed development credentials
//! that the start banner prints (README, "Applications and consent"), and
//! a demo citizen whose photos are linked and authorized for the Ministry
//! of Transport, so that on a fresh `cargo run` Transport's token fetches
//! them at once. Each part is seeded once: restarts add nothing.

use chrono::{DateTime, NaiveDateTime, Utc};
use secrecy::SecretString;

use super::demo::CONSENTING_CITIZEN;
use super::demo_photos;
use crate::consent::{grants, store as consents};
use crate::db::{Db, DbConn, write_transaction};
use crate::domain::Afm;
use crate::domain::ids::AppId;
use crate::http::ApiError;
use crate::oauth::client_secret;
use crate::oauth::store::{self, AppRow, SecretRow};
use crate::oauth::{AppPurpose, Scope, Scopes};
use crate::photos::Photos;
use crate::photos::store::{self as photo_store, StudioRow};

/// A demo application and its development-only credentials.
pub struct DemoApp {
    pub id: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub name: &'static str,
    pub organization: &'static str,
    pub purpose: AppPurpose,
    pub scopes: &'static [Scope],
}

/// The Ministry of Transport, for driving licences: the face and the
/// signature (R-PH-18).
pub const TRANSPORT: DemoApp = DemoApp {
    id: "01936f0e-0000-7000-8000-00000000a001",
    client_id: "01936f0e-0000-7000-8000-00000000c001",
    client_secret: "development-only-transport-secret-R7kq2Vx9",
    name: "Υπουργείο Υποδομών και Μεταφορών",
    organization: "Υπουργείο Υποδομών και Μεταφορών",
    purpose: AppPurpose::DrivingLicences,
    scopes: &[Scope::PhotosFace, Scope::PhotosSignature],
};

/// The Hellenic Police, for identity cards and passports: the face only.
pub const POLICE: DemoApp = DemoApp {
    id: "01936f0e-0000-7000-8000-00000000a002",
    client_id: "01936f0e-0000-7000-8000-00000000c002",
    client_secret: "development-only-police-secret-M3wd8Tz5",
    name: "Ελληνική Αστυνομία",
    organization: "Ελληνική Αστυνομία",
    purpose: AppPurpose::IdentityDocuments,
    scopes: &[Scope::PhotosFace],
};

pub const DEMO_APPS: [&DemoApp; 2] = [&TRANSPORT, &POLICE];

impl DemoApp {
    pub fn app_id(&self) -> AppId {
        self.id.parse().expect("demo app ids are UUIDs")
    }

    fn row(&self, now: NaiveDateTime) -> AppRow {
        AppRow {
            id: self.app_id(),
            client_id: self.client_id.parse().expect("demo client ids are UUIDs"),
            name: self.name.to_owned(),
            organization: self.organization.to_owned(),
            purpose: self.purpose,
            scopes: self.scopes.iter().copied().collect::<Scopes>().to_string(),
            created_at: now,
            disabled_at: None,
        }
    }
}

/// Registers an application and its client secret, stored as a platform
/// admin's registration stores them: the secret only as its Argon2id hash.
pub fn register_app(
    conn: &mut DbConn,
    app: &AppRow,
    secret: &SecretString,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    store::insert_app(conn, app)?;
    store::insert_secret(
        conn,
        &SecretRow {
            id: uuid::Uuid::now_v7().to_string(),
            app_id: app.id.clone(),
            secret_hash: client_secret::hash(secret),
            created_at: now,
            retires_at: None,
        },
    )
}

/// Seeds the applications not registered yet, then the consenting
/// citizen's photos and consent unless they have linked photos or ever
/// consented (so that a revocation or an unlink in the demo stays so).
pub async fn seed(
    photos: &Photos,
    db: &Db,
    studio: &StudioRow,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let citizen = Afm::parse(CONSENTING_CITIZEN)?;
    let who = citizen.clone();
    let wanted = db
        .run(move |conn| {
            write_transaction(conn, |tx| {
                for demo in DEMO_APPS {
                    if store::app(tx, &demo.app_id())?.is_none() {
                        let secret = SecretString::from(demo.client_secret);
                        register_app(tx, &demo.row(now.naive_utc()), &secret, now.naive_utc())?;
                    }
                }
                let linked = photo_store::linked_to(tx, &who)?.is_some();
                Ok::<_, ApiError>(!linked && !consents::ever_consented(tx, &who)?)
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("the demo applications: {e}"))?;
    if !wanted {
        return Ok(());
    }
    let submission = demo_photos::upload(photos, db, studio, &citizen, now).await?;
    db.run(move |conn| {
        write_transaction(conn, |tx| {
            let at = now.naive_utc();
            photo_store::link(tx, &submission, &citizen, at)?
                .map_err(|refused| ApiError::internal(format!("{refused:?}")))?;
            grants::grant(tx, &citizen, &TRANSPORT.app_id(), at).map(drop)
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("the demo consent: {e}"))?;
    tracing::info!("demo applications and the consenting citizen seeded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ClientId;

    #[test]
    fn the_demo_apps_are_registered_within_their_purpose_r_ph_18() {
        for demo in DEMO_APPS {
            assert!(demo.scopes.iter().all(|scope| demo.purpose.allows(*scope)));
            assert!(demo.client_id.parse::<ClientId>().is_ok());
            let row = demo.row(NaiveDateTime::default());
            assert_eq!(
                Scopes::parse(&row.scopes).unwrap().iter().count(),
                demo.scopes.len()
            );
        }
    }
}
