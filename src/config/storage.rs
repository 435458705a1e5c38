//! Where sealed photos are kept (`CITIZEN_API_STORAGE__…`): a folder on
//! this machine, or an S3-compatible bucket. What is stored there is
//! already encrypted (`docs/photos.md`, "Sealed storage"), so the choice is
//! about durability and sharing between instances, not secrecy.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use url::{Host, Url};

use super::{ConfigError, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under `storage.path`: one machine, or a shared mount.
    Local,
    /// An S3-compatible bucket (the government cloud's object storage,
    /// MinIO, Ceph, AWS), reached over HTTPS.
    S3,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    pub kind: StorageKind,
    /// `local`: the folder; unset, `<data_dir>/photos`. Made at start when
    /// it does not exist.
    pub path: Option<PathBuf>,
    /// `s3`: the bucket, which must exist; the service creates none.
    pub bucket: Option<String>,
    /// `s3`: the service's base URL (`https://s3.gcloud.example`), with
    /// path-style requests (`<endpoint>/<bucket>/<object>`). Unset: AWS's
    /// own endpoint for `region`.
    pub endpoint: Option<String>,
    /// `s3`: the region requests are signed for; S3-compatible services
    /// usually accept any, often `us-east-1`.
    pub region: String,
    /// `s3`: the access key's id; required with `secret_access_key`.
    pub access_key_id: Option<String>,
    /// `s3`: the access key's secret; never shown.
    pub secret_access_key: Option<SecretString>,
    /// `s3`: accept an `http://` endpoint. For a test server on this
    /// machine; the production profile refuses it for any other host.
    pub allow_http: bool,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            kind: StorageKind::Local,
            path: None,
            bucket: None,
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
        }
    }
}

impl StorageSettings {
    /// The folder of the `local` store.
    pub fn local_path(&self, data_dir: &Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| data_dir.join("photos"))
    }

    /// The endpoint, parsed; `None` when unset.
    pub fn endpoint_url(&self) -> Result<Option<Url>, ConfigError> {
        let Some(raw) = &self.endpoint else {
            return Ok(None);
        };
        let url = Url::parse(raw.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| ConfigError::Unacceptable {
                setting: "storage.endpoint (CITIZEN_API_STORAGE__ENDPOINT)",
                problem: raw.clone(),
                expected: "an http(s) base URL such as https://s3.gcloud.example",
            })?;
        Ok(Some(url))
    }

    /// Whether requests would leave this machine in clear text: an
    /// `http://` endpoint whose host is not a loopback address.
    pub fn sends_in_clear(&self) -> Result<bool, ConfigError> {
        let Some(url) = self.endpoint_url()? else {
            return Ok(false);
        };
        let loopback = match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        };
        Ok(self.kind == StorageKind::S3 && url.scheme() == "http" && !loopback)
    }
}

impl Settings {
    /// The checks every profile makes; production adds
    /// [`StorageSettings::sends_in_clear`].
    pub(super) fn validate_storage(&self) -> Result<(), ConfigError> {
        let storage = &self.storage;
        if storage.kind != StorageKind::S3 {
            return Ok(());
        }
        if storage
            .bucket
            .as_deref()
            .is_none_or(|b| b.trim().is_empty())
        {
            return Err(ConfigError::Unacceptable {
                setting: "storage.bucket (CITIZEN_API_STORAGE__BUCKET)",
                problem: "it is unset".into(),
                expected: "the name of an existing bucket, with storage.kind = \"s3\"",
            });
        }
        if storage.access_key_id.is_none() || storage.secret_access_key.is_none() {
            return Err(ConfigError::Unacceptable {
                setting: "storage.access_key_id and storage.secret_access_key \
                          (CITIZEN_API_STORAGE__ACCESS_KEY_ID, __SECRET_ACCESS_KEY)",
                problem: "one or both are unset".into(),
                expected: "the access key the storage service issued, both parts",
            });
        }
        if let Some(url) = storage.endpoint_url()?
            && url.scheme() == "http"
            && !storage.allow_http
        {
            return Err(ConfigError::Unacceptable {
                setting: "storage.endpoint (CITIZEN_API_STORAGE__ENDPOINT)",
                problem: format!("{url} is plain http"),
                expected: "an https:// URL, or storage.allow_http = true for a test server",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
// figment's `Jail` fixes the closures' error type; its size is not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn s3(endpoint: &str) -> Settings {
        Settings {
            storage: StorageSettings {
                kind: StorageKind::S3,
                bucket: Some("photos".into()),
                endpoint: Some(endpoint.into()),
                access_key_id: Some("AKIDEXAMPLE".into()),
                secret_access_key: Some("wJalrXUtnFEMI".into()),
                ..StorageSettings::default()
            },
            ..Settings::default()
        }
    }

    type BreakIt = fn(&mut StorageSettings);

    #[test]
    fn local_storage_under_the_data_dir_is_the_default() {
        let settings = Settings::default();
        assert_eq!(settings.storage.kind, StorageKind::Local);
        assert_eq!(
            settings.storage.local_path(Path::new("var")),
            Path::new("var/photos")
        );
    }

    #[test]
    fn s3_settings_come_from_the_environment_and_the_secret_never_shows() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CITIZEN_API_STORAGE__KIND", "s3");
            jail.set_env("CITIZEN_API_STORAGE__BUCKET", "photos");
            jail.set_env("CITIZEN_API_STORAGE__ENDPOINT", "https://s3.gcloud.example");
            jail.set_env("CITIZEN_API_STORAGE__ACCESS_KEY_ID", "AKIDEXAMPLE");
            jail.set_env("CITIZEN_API_STORAGE__SECRET_ACCESS_KEY", "wJalrXUtnFEMI");
            let settings = Settings::load(None).unwrap();
            let storage = &settings.storage;
            assert_eq!(storage.kind, StorageKind::S3);
            assert_eq!(storage.bucket.as_deref(), Some("photos"));
            let secret = storage.secret_access_key.as_ref().unwrap();
            assert_eq!(secret.expose_secret(), "wJalrXUtnFEMI");
            assert!(!format!("{settings:?}").contains("wJalrXUtnFEMI"));
            Ok(())
        });
    }

    #[test]
    fn s3_needs_a_bucket_both_key_parts_and_a_usable_endpoint() {
        s3("https://s3.gcloud.example").validate().unwrap();
        let cases: [(BreakIt, &str); 5] = [
            (|s| s.bucket = None, "STORAGE__BUCKET"),
            (|s| s.secret_access_key = None, "STORAGE__ACCESS_KEY_ID"),
            (|s| s.access_key_id = None, "__SECRET_ACCESS_KEY"),
            (
                |s| s.endpoint = Some("s3.gcloud.example".into()),
                "STORAGE__ENDPOINT",
            ),
            (
                |s| s.endpoint = Some("http://127.0.0.1:9000".into()),
                "allow_http",
            ),
        ];
        for (break_it, setting) in cases {
            let mut settings = s3("https://s3.gcloud.example");
            break_it(&mut settings.storage);
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.contains(setting), "{setting}: {err}");
            assert!(!err.contains("wJalrXUtnFEMI"), "{err}");
        }
    }

    #[test]
    fn only_plain_http_to_another_machine_is_sent_in_clear() {
        let clear = |endpoint: &str| {
            let mut settings = s3(endpoint);
            settings.storage.allow_http = true;
            settings.validate().unwrap();
            settings.storage.sends_in_clear().unwrap()
        };
        assert!(clear("http://s3.gcloud.example"));
        assert!(clear("http://10.0.0.5:9000"));
        assert!(!clear("https://s3.gcloud.example"));
        assert!(!clear("http://127.0.0.1:9000"));
        assert!(!clear("http://[::1]:9000"));
        assert!(!clear("http://localhost:9000"));
    }
}
