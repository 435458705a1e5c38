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
use crate::domain::ids::{StudioId, SubmissionId};
use crate::domain::{Afm, Phone};
use crate::photos::store::{self, StudioRow};
use crate::photos::submissions::{self, Contacts, Draft};
use crate::photos::{ImageKind, Photos};

const STUDIO_NAME: &str = "Φωτογραφείο Φως";
const STUDIO_AFM: &str = "800123456";

/// Seeds the studio and, when it is new, the demo citizen's upload;
/// answers the studio, new or found.
pub async fn seed(photos: &Photos, db: &Db, now: DateTime<Utc>) -> anyhow::Result<StudioRow> {
    let photographer = Afm::parse(PHOTOGRAPHER)?;
    let studio = StudioRow {
        id: StudioId::generate(),
        name: STUDIO_NAME.to_owned(),
        business_afm: Afm::parse(STUDIO_AFM)?,
        owner_afm: photographer,
        created_at: now.naive_utc(),
    };
    let row = studio.clone();
    let (studio, created) = db
        .run(move |conn| {
            write_transaction(conn, |tx| {
                if !store::insert_studio(tx, &row)? {
                    let found =
                        store::studio_of_business(tx, &row.business_afm)?.ok_or_else(|| {
                            crate::http::ApiError::internal("the demo studio vanished")
                        })?;
                    return Ok((found, false));
                }
                let owner = ScopedRole::Photographer(row.id.clone());
                let target = (&row.owner_afm, &owner);
                roles::change(tx, Change::Grant, target, ("demo", "demo"), now.naive_utc())?;
                Ok::<_, crate::http::ApiError>((row, true))
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("the demo studio: {e}"))?;
    if created {
        upload(photos, db, &studio, &Afm::parse(CITIZEN)?, now).await?;
        tracing::info!("demo photo studio and upload seeded");
    }
    Ok(studio)
}

/// Uploads a face photo and a signature for the demo person `afm` as the
/// studio would, the code sent to their certified mobile; answers the
/// submission.
pub async fn upload(
    photos: &Photos,
    db: &Db,
    studio: &StudioRow,
    afm: &Afm,
    now: DateTime<Utc>,
) -> anyhow::Result<SubmissionId> {
    let mobile = DEMO_PEOPLE
        .iter()
        .find(|p| p.afm == afm.as_str())
        .and_then(|p| p.mobile)
        .expect("the demo people with photos have a mobile");
    let check = |kind, bytes: Vec<u8>| photos.images.check(kind, None, bytes.into());
    let demo = |e: crate::http::ApiError| anyhow::anyhow!("the demo upload: {e}");
    let draft = Draft {
        studio: studio.id.clone(),
        studio_name: studio.name.clone(),
        uploaded_by: studio.owner_afm.clone(),
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
    let submitted = submissions::submit(photos, db, draft, now)
        .await
        .map_err(demo)?;
    Ok(submitted.id)
}
