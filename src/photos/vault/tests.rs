//! The vault against real stores: a folder in a temporary directory always,
//! and an S3-compatible server when `TEST_S3_ENDPOINT` names one (a moto
//! server, `.ci/run` starts one; the tests make their buckets with an
//! unsigned `PUT`, which moto accepts).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use tempfile::TempDir;

use super::*;
use crate::config::StorageKind;
use crate::crypto::OpenError;
use crate::http::{ApiError, ErrorCode, Lang};

/// JPEG's start-of-image marker and some text to look for in what is stored.
const PHOTO: &[u8] = b"\xFF\xD8\xFF\xE0 face of Eleni Papadopoulou, AFM 090000045";

fn ring(keys: &[(&str, u8)]) -> KeyRing {
    let configured: Vec<String> = keys
        .iter()
        .map(|(id, byte)| format!("{id}:{}", STANDARD.encode([*byte; 32])))
        .collect();
    KeyRing::parse(&configured.join(",")).unwrap()
}

/// A vault over a folder in a fresh temporary directory.
fn local_vault(keys: KeyRing) -> (Vault, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::from_settings(&StorageSettings::default(), dir.path(), keys).unwrap();
    (vault, dir)
}

/// The same store under another key ring: a restart after a rotation.
fn with_keys(vault: &Vault, keys: KeyRing) -> Vault {
    Vault {
        store: vault.store.clone(),
        keys,
    }
}

async fn stored_bytes(vault: &Vault, object_key: &str) -> Vec<u8> {
    let path = StorePath::from(object_key);
    vault
        .store
        .get(&path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

// The behaviours, each run against every store below.

async fn a_photo_comes_back_as_it_was_put(vault: Vault) {
    let sealed = vault.put(PHOTO).await.unwrap();
    assert_eq!(sealed.size, PHOTO.len() as u64);
    assert_eq!(sealed.master_key_id, vault.current_key_id());
    assert_eq!(
        vault
            .get(&sealed.object_key, &sealed.wrapped_key)
            .await
            .unwrap(),
        PHOTO
    );
    let empty = vault.put(b"").await.unwrap();
    assert_eq!(
        vault
            .get(&empty.object_key, &empty.wrapped_key)
            .await
            .unwrap(),
        b""
    );
}

async fn the_store_holds_only_ciphertext(vault: Vault) {
    let sealed = vault.put(PHOTO).await.unwrap();
    let stored = stored_bytes(&vault, &sealed.object_key).await;
    // A few more bytes than the photo: format, nonce, tag.
    assert!(stored.len() > PHOTO.len());
    for needle in [&PHOTO[..4], b"Papadopoulou", b"090000045"] {
        assert!(
            !stored.windows(needle.len()).any(|w| w == needle),
            "{needle:?} is stored in clear"
        );
    }
    assert!(!sealed.object_key.contains("090000045"));
}

async fn nothing_opens_under_another_objects_key(vault: Vault) {
    let first = vault.put(PHOTO).await.unwrap();
    let second = vault.put(b"another photo").await.unwrap();
    // Another object's wrapped key.
    assert!(matches!(
        vault.get(&first.object_key, &second.wrapped_key).await,
        Err(VaultError::Sealed(OpenError::Tampered))
    ));
    // Another object's photo, copied over this one's.
    let moved = stored_bytes(&vault, &second.object_key).await;
    vault
        .store
        .put(
            &StorePath::from(first.object_key.as_str()),
            PutPayload::from(moved),
        )
        .await
        .unwrap();
    assert!(matches!(
        vault.get(&first.object_key, &first.wrapped_key).await,
        Err(VaultError::Sealed(OpenError::Tampered))
    ));
    // A wrapped key cut short.
    assert!(matches!(
        vault
            .get(
                &second.object_key,
                &second.wrapped_key[..second.wrapped_key.len() - 1]
            )
            .await,
        Err(VaultError::Sealed(OpenError::Tampered))
    ));
}

async fn a_deleted_photo_is_gone_and_deleting_again_is_fine(vault: Vault) {
    let sealed = vault.put(PHOTO).await.unwrap();
    assert!(vault.exists(&sealed.object_key).await.unwrap());
    vault.delete(&sealed.object_key).await.unwrap();
    assert!(!vault.exists(&sealed.object_key).await.unwrap());
    assert!(matches!(
        vault.get(&sealed.object_key, &sealed.wrapped_key).await,
        Err(VaultError::Missing)
    ));
    vault.delete(&sealed.object_key).await.unwrap();
}

// A folder in a temporary directory.

#[tokio::test]
async fn r_ph_19_local_a_photo_comes_back_as_it_was_put() {
    let (vault, _dir) = local_vault(ring(&[("a", 1)]));
    a_photo_comes_back_as_it_was_put(vault).await;
}

#[tokio::test]
async fn r_ph_19_local_the_store_holds_only_ciphertext() {
    let (vault, _dir) = local_vault(ring(&[("a", 1)]));
    the_store_holds_only_ciphertext(vault).await;
}

#[tokio::test]
async fn r_ph_19_local_nothing_opens_under_another_objects_key() {
    let (vault, _dir) = local_vault(ring(&[("a", 1)]));
    nothing_opens_under_another_objects_key(vault).await;
}

#[tokio::test]
async fn local_a_deleted_photo_is_gone_and_deleting_again_is_fine() {
    let (vault, _dir) = local_vault(ring(&[("a", 1)]));
    a_deleted_photo_is_gone_and_deleting_again_is_fine(vault).await;
}

#[tokio::test]
async fn the_local_store_is_made_under_the_data_dir_by_default() {
    let (vault, dir) = local_vault(ring(&[("a", 1)]));
    let sealed = vault.put(PHOTO).await.unwrap();
    assert!(dir.path().join("photos").join(&sealed.object_key).is_file());
}

#[tokio::test]
async fn r_ph_19_a_rotated_master_key_takes_over_old_photos_by_rewrapping() {
    let (before, _dir) = local_vault(ring(&[("a", 1)]));
    let sealed = before.put(PHOTO).await.unwrap();
    assert_eq!(sealed.master_key_id, "a");

    // The new key first; the old one still listed.
    let rotated = with_keys(&before, ring(&[("b", 2), ("a", 1)]));
    assert_eq!(rotated.current_key_id(), "b");
    assert_eq!(
        rotated
            .get(&sealed.object_key, &sealed.wrapped_key)
            .await
            .unwrap(),
        PHOTO
    );
    assert_eq!(rotated.put(PHOTO).await.unwrap().master_key_id, "b");
    let stored = stored_bytes(&rotated, &sealed.object_key).await;

    let (rewrapped, key_id) = rotated
        .rewrap(&sealed.object_key, &sealed.wrapped_key)
        .unwrap()
        .unwrap();
    assert_eq!(key_id, "b");
    assert_eq!(
        rotated.rewrap(&sealed.object_key, &rewrapped).unwrap(),
        None
    );
    // Only the wrapped key changed, not the stored photo.
    assert_eq!(stored_bytes(&rotated, &sealed.object_key).await, stored);

    // The old key gone: the rewrapped photo opens, the old wrapped key not.
    let after = with_keys(&before, ring(&[("b", 2)]));
    assert_eq!(
        after.get(&sealed.object_key, &rewrapped).await.unwrap(),
        PHOTO
    );
    assert!(matches!(
        after.get(&sealed.object_key, &sealed.wrapped_key).await,
        Err(VaultError::Sealed(OpenError::UnknownKey(id))) if id == "a"
    ));
}

#[tokio::test]
async fn a_wrapped_key_does_not_rewrap_onto_another_object() {
    let (before, _dir) = local_vault(ring(&[("a", 1)]));
    let first = before.put(PHOTO).await.unwrap();
    let second = before.put(PHOTO).await.unwrap();
    let rotated = with_keys(&before, ring(&[("b", 2), ("a", 1)]));
    assert!(matches!(
        rotated.rewrap(&first.object_key, &second.wrapped_key),
        Err(VaultError::Sealed(OpenError::Tampered))
    ));
}

#[tokio::test]
async fn object_keys_the_vault_did_not_give_out_are_refused_before_the_store() {
    let (vault, dir) = local_vault(ring(&[("a", 1)]));
    std::fs::write(dir.path().join("outside"), b"not a photo").unwrap();
    let sealed = vault.put(PHOTO).await.unwrap();
    for bad in ["../outside", "photos/../../outside", "", "ab/cd"] {
        assert!(matches!(
            vault.get(bad, &sealed.wrapped_key).await,
            Err(VaultError::MalformedObjectKey)
        ));
        assert!(matches!(
            vault.delete(bad).await,
            Err(VaultError::MalformedObjectKey)
        ));
        assert!(matches!(
            vault.exists(bad).await,
            Err(VaultError::MalformedObjectKey)
        ));
        assert!(matches!(
            vault.rewrap(bad, &sealed.wrapped_key),
            Err(VaultError::MalformedObjectKey)
        ));
    }
    assert!(dir.path().join("outside").exists());
}

#[tokio::test]
async fn a_folder_that_refuses_the_write_fails_cleanly_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder's subfolders would go: every write fails,
    // whoever runs the test (root ignores permissions).
    let blocked = dir.path().join("store");
    std::fs::create_dir(&blocked).unwrap();
    let settings = StorageSettings {
        path: Some(blocked.clone()),
        ..StorageSettings::default()
    };
    let vault = Vault::from_settings(&settings, dir.path(), ring(&[("a", 1)])).unwrap();
    for prefix in 0..=255u8 {
        std::fs::write(blocked.join(format!("{prefix:02x}")), b"").unwrap();
    }
    let err = vault.put(PHOTO).await.unwrap_err();
    assert!(matches!(err, VaultError::Unavailable(_)), "{err:?}");
    let left: Vec<_> = std::fs::read_dir(&blocked)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 256, "{left:?}");

    let api = ApiError::from(err);
    assert_eq!(api.code(), ErrorCode::StorageUnavailable);
    let problem = api.problem(Lang::En);
    assert_eq!(problem.status, 503);
    assert_eq!(
        problem.detail,
        ErrorCode::StorageUnavailable.default_detail().get(Lang::En)
    );
}

#[tokio::test]
async fn development_keeps_its_photo_key_apart_from_the_outbox_key() {
    let dir = tempfile::tempdir().unwrap();
    let photo = KeyRing::load(None, dir.path(), &PHOTO_KEYS).unwrap();
    let outbox = KeyRing::load(None, dir.path(), &crate::notify::KEY_SOURCE).unwrap();
    assert_ne!(photo, outbox);
    assert!(
        dir.path()
            .join("development-keys")
            .join("photo.key")
            .is_file()
    );
}

// An S3-compatible server, when TEST_S3_ENDPOINT names one.

/// Settings for a new bucket on the test server, made for the test; `None`
/// (and a line saying so) when no server is configured.
async fn s3_bucket(test: &str) -> Option<StorageSettings> {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        eprintln!("skipped {test}: TEST_S3_ENDPOINT is not set (see .ci/run)");
        return None;
    };
    let settings = s3_settings(
        &endpoint,
        &format!("vault-{}", uuid::Uuid::now_v7().simple()),
    );
    let response = reqwest::Client::new()
        .put(bucket_url(&settings))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{response:?}");
    Some(settings)
}

fn s3_settings(endpoint: &str, bucket: &str) -> StorageSettings {
    StorageSettings {
        kind: StorageKind::S3,
        bucket: Some(bucket.to_owned()),
        endpoint: Some(endpoint.trim_end_matches('/').to_owned()),
        // moto takes any credentials.
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        allow_http: true,
        ..StorageSettings::default()
    }
}

fn bucket_url(settings: &StorageSettings) -> String {
    let endpoint = settings.endpoint.as_deref().unwrap();
    format!("{endpoint}/{}", settings.bucket.as_deref().unwrap())
}

async fn s3_vault(test: &str) -> Option<Vault> {
    let settings = s3_bucket(test).await?;
    let dir = tempfile::tempdir().unwrap();
    Some(Vault::from_settings(&settings, dir.path(), ring(&[("a", 1)])).unwrap())
}

#[tokio::test]
async fn r_ph_19_s3_a_photo_comes_back_as_it_was_put() {
    if let Some(vault) = s3_vault("r_ph_19_s3_a_photo_comes_back_as_it_was_put").await {
        a_photo_comes_back_as_it_was_put(vault).await;
    }
}

#[tokio::test]
async fn r_ph_19_s3_the_store_holds_only_ciphertext() {
    if let Some(vault) = s3_vault("r_ph_19_s3_the_store_holds_only_ciphertext").await {
        the_store_holds_only_ciphertext(vault).await;
    }
}

#[tokio::test]
async fn r_ph_19_s3_nothing_opens_under_another_objects_key() {
    if let Some(vault) = s3_vault("r_ph_19_s3_nothing_opens_under_another_objects_key").await {
        nothing_opens_under_another_objects_key(vault).await;
    }
}

#[tokio::test]
async fn s3_a_deleted_photo_is_gone_and_deleting_again_is_fine() {
    if let Some(vault) = s3_vault("s3_a_deleted_photo_is_gone_and_deleting_again_is_fine").await {
        a_deleted_photo_is_gone_and_deleting_again_is_fine(vault).await;
    }
}

#[tokio::test]
async fn s3_a_bucket_that_refuses_the_write_fails_cleanly_and_leaves_nothing() {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        eprintln!("skipped s3_a_bucket_that_refuses_the_write: TEST_S3_ENDPOINT is not set");
        return;
    };
    // A bucket that does not exist (yet).
    let settings = s3_settings(
        &endpoint,
        &format!("missing-{}", uuid::Uuid::now_v7().simple()),
    );
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::from_settings(&settings, dir.path(), ring(&[("a", 1)])).unwrap();
    let err = vault.put(PHOTO).await.unwrap_err();
    assert!(matches!(err, VaultError::Unavailable(_)), "{err:?}");
    let problem = ApiError::from(err).problem(Lang::En);
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (503, "storage_unavailable")
    );
    assert_eq!(
        problem.detail,
        ErrorCode::StorageUnavailable.default_detail().get(Lang::En)
    );

    // Made now, the bucket holds nothing of the failed write.
    let client = reqwest::Client::new();
    let url = bucket_url(&settings);
    assert!(client.put(&url).send().await.unwrap().status().is_success());
    let listing = client
        .get(format!("{url}?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("<KeyCount>0</KeyCount>"), "{listing}");
}

#[tokio::test]
async fn s3_a_server_that_cannot_be_reached_fails_cleanly() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = s3_settings(&format!("http://127.0.0.1:{port}"), "photos");
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::from_settings(&settings, dir.path(), ring(&[("a", 1)])).unwrap();
    assert!(matches!(
        vault.put(PHOTO).await,
        Err(VaultError::Unavailable(_))
    ));
    assert!(matches!(
        vault
            .exists("00/00000000-0000-4000-8000-000000000000")
            .await,
        Err(VaultError::Unavailable(_))
    ));
}
