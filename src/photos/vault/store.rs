//! The object store the settings name: a folder, or an S3-compatible
//! bucket. Either way the vault sees one `ObjectStore`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use secrecy::ExposeSecret;

use super::VaultError;
use crate::config::{StorageKind, StorageSettings};

/// How long S3 requests are retried. The library's default (ten retries
/// over up to three minutes) suits batch jobs; here a studio waits on the
/// upload, and `503 storage_unavailable` tells it to try again itself.
const S3_RETRIES: usize = 3;
const S3_RETRY_WINDOW: Duration = Duration::from_secs(10);

pub(super) fn open(
    settings: &StorageSettings,
    data_dir: &Path,
) -> Result<Arc<dyn ObjectStore>, VaultError> {
    match settings.kind {
        StorageKind::Local => {
            let path = settings.local_path(data_dir);
            std::fs::create_dir_all(&path).map_err(|source| VaultError::Folder {
                path: path.clone(),
                source,
            })?;
            let store = LocalFileSystem::new_with_prefix(&path)
                .map_err(VaultError::Setup)?
                // A row commits only after the photo's write returned; the
                // photo must then survive a crash as the row does.
                .with_fsync(true);
            Ok(Arc::new(store))
        }
        StorageKind::S3 => {
            let mut builder = AmazonS3Builder::new()
                .with_region(&settings.region)
                .with_client_options(ClientOptions::new().with_allow_http(settings.allow_http))
                .with_retry(RetryConfig {
                    max_retries: S3_RETRIES,
                    retry_timeout: S3_RETRY_WINDOW,
                    ..RetryConfig::default()
                });
            if let Some(bucket) = &settings.bucket {
                builder = builder.with_bucket_name(bucket.trim());
            }
            if let Some(endpoint) = &settings.endpoint {
                builder = builder.with_endpoint(endpoint.trim());
            }
            if let Some(id) = &settings.access_key_id {
                builder = builder.with_access_key_id(id);
            }
            if let Some(secret) = &settings.secret_access_key {
                builder = builder.with_secret_access_key(secret.expose_secret());
            }
            Ok(Arc::new(builder.build().map_err(VaultError::Setup)?))
        }
    }
}
