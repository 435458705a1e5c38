//! What can go wrong with a sealed photo, and what the caller is told.

use std::path::PathBuf;

use crate::crypto::OpenError;
use crate::http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// At start: the local folder cannot be made or opened.
    #[error("cannot make or open the photo folder {path} (storage.path): {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// At start: the store's settings are not usable.
    #[error("cannot set up the photo store (storage.*): {0}")]
    Setup(#[source] object_store::Error),
    /// The store could not be reached, or refused the request (no such
    /// bucket, no access, a full disk). Its own message is the source, for
    /// the log only.
    #[error("the photo store could not be reached or refused the request")]
    Unavailable(#[source] object_store::Error),
    /// No object under this key: the store lost it, or it was deleted.
    #[error("the photo store holds no object under this key")]
    Missing,
    /// Not a key this vault gives out; the store is not asked.
    #[error("not an object key of the photo store")]
    MalformedObjectKey,
    /// The wrapped key or the object does not open: its master key left
    /// the ring, or it was altered or moved to another object.
    #[error("the sealed photo does not open: {0}")]
    Sealed(#[from] OpenError),
}

impl From<VaultError> for ApiError {
    /// `503 storage_unavailable` for a store that can be tried again later;
    /// anything else is a fault of this service (`500`). The cause goes to
    /// the log, never to the caller.
    fn from(error: VaultError) -> ApiError {
        match error {
            VaultError::Unavailable(cause) => {
                tracing::error!(%cause, "the photo store could not be reached or refused the request");
                ApiError::storage_unavailable()
            }
            other => ApiError::internal(other),
        }
    }
}
