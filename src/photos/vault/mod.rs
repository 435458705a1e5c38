//! Sealed storage of photos (R-PH-19; `docs/photos.md`, "Sealed storage").
//!
//! Each photo is encrypted with AES-256-GCM under a data key of its own,
//! made for it from the OS CSPRNG; the data key is wrapped (sealed) by the
//! current key of the photo master key ring (`secrets.photo_keys`). The
//! store (a folder or an S3-compatible bucket) holds only the encrypted
//! photo, under a random object key; the caller keeps the wrapped key, the
//! master key's id and the object key in its row. Both the wrapped key and
//! the photo are bound to the object key by their associated data, so a
//! wrapped key or a photo moved to another object does not open there.
//!
//! Rotation: a new master key goes first in `secrets.photo_keys`; new
//! photos are sealed under it, older ones still open under the keys listed
//! after it, and [`Vault::rewrap`] moves an older photo's data key to the
//! new master key (the photo itself is not touched), after which the old
//! key can leave the ring.

use std::path::Path;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::StorageSettings;
use crate::crypto::{DataKey, KeyRing, KeySource, Sealed};

mod error;
mod object_key;
mod store;
#[cfg(test)]
mod tests;

pub use error::VaultError;
use object_key::{new_object_key, object_path};

/// The photo master keys; development keeps its key in
/// `<data_dir>/development-keys/photo.key`. A ring apart from the outbox's,
/// so that neither key opens what the other sealed.
pub const PHOTO_KEYS: KeySource = KeySource {
    setting: "secrets.photo_keys (CITIZEN_API_SECRETS__PHOTO_KEYS)",
    development_file: "photo.key",
};

/// Photos sealed into an object store.
pub struct Vault {
    store: Arc<dyn ObjectStore>,
    keys: KeyRing,
}

/// What the caller keeps of a stored photo, to read it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFile {
    /// Where the encrypted photo lies in the store: random, no personal data.
    pub object_key: String,
    /// The photo's data key, sealed under the master key `master_key_id`
    /// and bound to `object_key`.
    pub wrapped_key: Vec<u8>,
    /// Which master key wraps the data key: what a rotation looks for.
    pub master_key_id: String,
    /// The photo's size in bytes, before encryption.
    pub size: u64,
}

/// Which of the two sealed parts, for which object: the associated data.
#[derive(Clone, Copy)]
enum Part {
    DataKey,
    Photo,
}

impl Part {
    fn associated_data(self, object_key: &str) -> Vec<u8> {
        let part = match self {
            Part::DataKey => "data-key",
            Part::Photo => "photo",
        };
        format!("citizen-api photos {part} {object_key}").into_bytes()
    }
}

impl Vault {
    /// The store `settings` name (the local folder is made if missing),
    /// sealing under `keys`: [`KeyRing::load`] with [`PHOTO_KEYS`].
    pub fn from_settings(
        settings: &StorageSettings,
        data_dir: &Path,
        keys: KeyRing,
    ) -> Result<Vault, VaultError> {
        Ok(Vault {
            store: store::open(settings, data_dir)?,
            keys,
        })
    }

    /// Seals `plaintext` under a fresh data key and writes it under a new
    /// random object key. On failure nothing is left to clean up: the
    /// object is written whole or not at all (a local write goes through a
    /// temporary file; an S3 PUT is atomic).
    ///
    /// The encryption runs on the calling task: photos are a few megabytes,
    /// which AES-GCM gets through in milliseconds.
    pub async fn put(&self, plaintext: &[u8]) -> Result<SealedFile, VaultError> {
        let object_key = new_object_key();
        let path = object_path(&object_key)?;
        let data_key = DataKey::generate();
        let sealed_photo = data_key.encrypt(plaintext, &Part::Photo.associated_data(&object_key));
        let wrapped = data_key.wrap(&self.keys, &Part::DataKey.associated_data(&object_key));
        self.store
            .put(&path, PutPayload::from(sealed_photo))
            .await
            .map_err(VaultError::Unavailable)?;
        Ok(SealedFile {
            object_key,
            wrapped_key: wrapped.to_bytes(),
            master_key_id: wrapped.key_id().to_owned(),
            size: plaintext.len() as u64,
        })
    }

    /// The photo stored under `object_key`, opened with its wrapped key.
    pub async fn get(&self, object_key: &str, wrapped_key: &[u8]) -> Result<Vec<u8>, VaultError> {
        let path = object_path(object_key)?;
        // Before the store is asked: a key that does not open needs no
        // round trip.
        let data_key = DataKey::unwrap(
            &self.keys,
            &Sealed::from_bytes(wrapped_key)?,
            &Part::DataKey.associated_data(object_key),
        )?;
        let stored = match self.store.get(&path).await {
            Ok(found) => found.bytes().await.map_err(VaultError::Unavailable)?,
            Err(object_store::Error::NotFound { .. }) => return Err(VaultError::Missing),
            Err(other) => return Err(VaultError::Unavailable(other)),
        };
        Ok(data_key.decrypt(&stored, &Part::Photo.associated_data(object_key))?)
    }

    /// Deletes the photo; one that is already gone is not an error, so a
    /// deletion that was interrupted can simply be repeated.
    pub async fn delete(&self, object_key: &str) -> Result<(), VaultError> {
        match self.store.delete(&object_path(object_key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(VaultError::Unavailable(other)),
        }
    }

    /// Whether the store holds an object under `object_key` (for checks
    /// and tests; reading needs no such question first).
    pub async fn exists(&self, object_key: &str) -> Result<bool, VaultError> {
        match self.store.head(&object_path(object_key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(other) => Err(VaultError::Unavailable(other)),
        }
    }

    /// The data key wrapped again under the current master key, with that
    /// key's id, or `None` if it already is. The photo is not touched: the
    /// caller replaces the wrapped key and the key id in its row. It opens
    /// the wrapped key first, so one that does not open is an error, never
    /// passed on.
    pub fn rewrap(
        &self,
        object_key: &str,
        wrapped_key: &[u8],
    ) -> Result<Option<(Vec<u8>, String)>, VaultError> {
        object_path(object_key)?;
        let resealed = self.keys.reseal(
            &Sealed::from_bytes(wrapped_key)?,
            &Part::DataKey.associated_data(object_key),
        )?;
        Ok(resealed.map(|sealed| (sealed.to_bytes(), sealed.key_id().to_owned())))
    }

    /// The id of the master key new photos are sealed under.
    pub fn current_key_id(&self) -> &str {
        self.keys.current_key_id()
    }
}
