//! ID photos with consent, up to a citizen holding linked photos
//! (docs/photos.md): studios and who may upload for them, uploads checked
//! and sealed, the kodikarithmos and its whole life, the citizen's
//! preview, link, unlink and download.

pub mod archive;
pub mod citizen;
pub mod codes;
pub mod images;
pub mod linking;
pub mod qr;
pub mod rotation;
pub mod rules;
pub mod served;
pub mod store;
pub mod studios;
pub mod submissions;
mod upload_form;
pub mod vault;

use actix_web::HttpRequest;

pub use images::{ImageChecker, ImageKind};
pub use vault::Vault;

use crate::auth::HmacKey;
use crate::config::PhotoSettings;
use crate::crypto::KeyRing;
use crate::http::ApiError;
use crate::http::rate_limit::ClientRateLimit;

/// The keys that keep a kodikarithmos (see [`codes`]).
#[derive(Clone)]
pub struct CodeKeys {
    /// Keys the hash a code is found by.
    pub hash: HmacKey,
    /// Seals a code for its QR code and the archive.
    pub ring: KeyRing,
}

/// What the photo handlers share: the blob vault, the image checks, the
/// keys that keep codes, and the throttle on tries per client address.
pub struct Photos {
    pub vault: Vault,
    pub images: ImageChecker,
    code_keys: CodeKeys,
    settings: PhotoSettings,
    address_limit: ClientRateLimit,
}

impl Photos {
    pub fn new(
        vault: Vault,
        images: ImageChecker,
        code_keys: CodeKeys,
        settings: PhotoSettings,
    ) -> Photos {
        let address_limit = ClientRateLimit::per_minute(settings.code_tries_per_minute_per_address);
        Photos {
            vault,
            images,
            code_keys,
            settings,
            address_limit,
        }
    }

    /// The code keys, for work on the blocking pool.
    pub fn code_keys(&self) -> CodeKeys {
        self.code_keys.clone()
    }

    /// The ring that seals codes, to open one without cloning the keys.
    pub fn code_ring(&self) -> &KeyRing {
        &self.code_keys.ring
    }

    /// Refuses a client address that tried too many codes this minute.
    pub fn admit(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.address_limit.admit(req)
    }

    /// One stored image's bytes, opened from the vault.
    pub async fn read(&self, file: &store::FileRow) -> Result<Vec<u8>, ApiError> {
        Ok(self.vault.get(&file.object_key, &file.wrapped_key).await?)
    }

    pub fn tries_per_hour(&self) -> i32 {
        i32::try_from(self.settings.code_tries_per_hour).unwrap_or(i32::MAX)
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    studios::routes(cfg);
    submissions::routes(cfg);
    citizen::routes(cfg);
}
