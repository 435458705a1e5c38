//! The demo photo studio, owned by the demo photographer, and on first
//! start an upload of the demo citizen's photos, made the way a studio's
//! would be (checked, sealed, its code sent by SMS), so that a newcomer
//! finds the code in the development outbox and walks preview, link and
//! download from Swagger UI (README, "Photos").

use chrono::{DateTime, Utc};

use super::demo::{CITIZEN, DEMO_PEOPLE, PHOTOGRAPHER};
use super::images::{face_jpeg, signature_png};
use crate::auth::roles::{self, Change, ScopedRole};
use crate::db::{Db, write_transaction};
use crate::domain::ids::StudioId;
use crate::domain::{Afm, Phone};
use crate::photos::store::{self, StudioRow};
use crate::photos::submissions::{self, Contacts, Draft};
use crate::photos::{ImageKind, Photos};

const STUDIO_NAME: &str = "Φωτογραφείο Φως";
const STUDIO_AFM: &str = "800123456";

/// Seeds the studio and the upload, once: nothing when a studio exists.
pub async fn seed(photos: &Photos, db: &Db, now: DateTime<Utc>) -> anyhow::Result<()> {
    let photographer = Afm::parse(PHOTOGRAPHER)?;
    let studio = StudioRow {
        id: StudioId::generate(),
        name: STUDIO_NAME.to_owned(),
        business_afm: Afm::parse(STUDIO_AFM)?,
        owner_afm: photographer.clone(),
        created_at: now.naive_utc(),
    };
    let row = studio.clone();
    let created = db
        .run(move |conn| {
            write_transaction(conn, |tx| {
                if !store::insert_studio(tx, &row)? {
                    return Ok(false);
                }
                let owner = ScopedRole::Photographer(row.id.clone());
                let target = (&row.owner_afm, &owner);
                roles::change(tx, Change::Grant, target, ("demo", "demo"), now.naive_utc())?;
                Ok::<_, crate::http::ApiError>(true)
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("the demo studio: {e}"))?;
    if !created {
        return Ok(());
    }
    let mobile = DEMO_PEOPLE
        .iter()
        .find(|p| p.afm == CITIZEN)
        .and_then(|p| p.mobile)
        .expect("the demo citizen has a mobile");
    let check = |kind, bytes: Vec<u8>| photos.images.check(kind, None, bytes.into());
    let demo = |e: crate::http::ApiError| anyhow::anyhow!("the demo upload: {e}");
    let draft = Draft {
        studio: studio.id,
        studio_name: studio.name,
        uploaded_by: photographer,
        contacts: Contacts {
            mobile: Some(Phone::parse(mobile)?),
            email: None,
        },
        face: check(ImageKind::Face, face_jpeg(600, 800))
            .await
            .map_err(demo)?,
        signature: check(ImageKind::Signature, signature_png(600, 200))
            .await
            .map_err(demo)?,
    };
    submissions::submit(photos, db, draft, now)
        .await
        .map_err(demo)?;
    tracing::info!("demo photo studio and upload seeded");
    Ok(())
}
