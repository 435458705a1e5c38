//! Moving what older photo master keys sealed to the current one, the
//! fourth step of a rotation (docs/photos.md, "Rotating the photo master
//! key"): each file's wrapped data key, and each sealed kodikarithmos. The
//! photos themselves are not touched. Safe to run while the service
//! serves, and again: each row is updated only if it still holds what was
//! read.

use diesel::prelude::*;
use serde::Serialize;

use super::codes;
use super::store::{self, FileRow};
use super::{CodeKeys, Vault};
use crate::db::DbConn;
use crate::db::schema::{photo_files, photo_submissions};
use crate::http::ApiError;

const BATCH: i64 = 200;

/// How many of each were sealed again.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rewrapped {
    pub data_keys: u64,
    pub codes: u64,
}

/// Re-wraps every data key and re-seals every code that an older master
/// key sealed.
pub fn rewrap(conn: &mut DbConn, vault: &Vault, keys: &CodeKeys) -> Result<Rewrapped, ApiError> {
    let mut done = Rewrapped::default();
    let current = vault.current_key_id().to_owned();
    loop {
        let stale: Vec<FileRow> = photo_files::table
            .filter(photo_files::master_key_id.ne(&current))
            .limit(BATCH)
            .select(FileRow::as_select())
            .load(conn)?;
        if stale.is_empty() {
            break;
        }
        for file in stale {
            let (wrapped, key_id) = vault
                .rewrap(&file.object_key, &file.wrapped_key)?
                // Already under the current key: only its label was stale.
                .unwrap_or_else(|| (file.wrapped_key.clone(), current.clone()));
            diesel::update(
                photo_files::table
                    .find((&file.submission_id, file.kind))
                    .filter(photo_files::wrapped_key.eq(&file.wrapped_key)),
            )
            .set((
                photo_files::wrapped_key.eq(wrapped),
                photo_files::master_key_id.eq(key_id),
            ))
            .execute(conn)?;
            done.data_keys += 1;
        }
    }
    let mut after = None;
    loop {
        let page = store::sealed_codes_after(conn, after.as_ref(), BATCH)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (id, sealed) in page {
            if let Some(resealed) = codes::reseal_code(&keys.ring, &id, &sealed)? {
                diesel::update(
                    photo_submissions::table
                        .find(&id)
                        .filter(photo_submissions::code_sealed.eq(&sealed)),
                )
                .set(photo_submissions::code_sealed.eq(resealed))
                .execute(conn)?;
                done.codes += 1;
            }
        }
    }
    Ok(done)
}
