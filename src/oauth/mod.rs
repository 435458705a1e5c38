//! The authorization server for third-party applications (ministry systems;
//! docs/integrators.md): applications registered by platform admins, client
//! secrets kept as Argon2id hashes, access tokens issued by the
//! client-credentials grant as RFC 9068 JWTs signed with Ed25519, and the
//! `AppCaller` that resource endpoints take.

pub mod access_token;
pub mod client_secret;
pub mod keys;
pub mod principal;
pub mod scope;
pub mod store;

use chrono::Duration;
use secrecy::SecretString;
use tokio::sync::Semaphore;

pub use access_token::TokenSettings;
pub use keys::SigningKeys;
pub use principal::{App, AppCaller};
pub use scope::{AppPurpose, Scope, Scopes};

use crate::clock::SharedClock;
use crate::config::OAuthSettings;
use crate::domain::ids::ClientId;
use crate::http::ApiError;
use access_token::{Issued, TokenRefusal, Verified};

/// What the authorization server's handlers share.
pub struct OAuth {
    keys: SigningKeys,
    tokens: TokenSettings,
    clock: SharedClock,
    secret_overlap: Duration,
    /// Argon2 checks at once: each takes ~20 ms of a core and 19 MiB.
    hashes: Semaphore,
}

impl OAuth {
    /// `base_url` is the service's public address: the issuer, unless
    /// `oauth.issuer` names another.
    pub fn new(
        settings: &OAuthSettings,
        base_url: &str,
        keys: SigningKeys,
        clock: SharedClock,
    ) -> OAuth {
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| base_url.to_owned())
            .trim_end_matches('/')
            .to_owned();
        let audience = settings
            .audience
            .clone()
            .unwrap_or_else(|| format!("{issuer}/v1/citizens"));
        OAuth {
            keys,
            tokens: TokenSettings {
                issuer,
                audience,
                lifetime: Duration::seconds(settings.token_lifetime_secs),
            },
            clock,
            secret_overlap: Duration::seconds(settings.secret_overlap_secs),
            hashes: Semaphore::new(settings.max_concurrent_hashes),
        }
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    pub fn token_settings(&self) -> &TokenSettings {
        &self.tokens
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// How long a secret still authenticates after a rotation.
    pub fn secret_overlap(&self) -> Duration {
        self.secret_overlap
    }

    /// A new access token for `client` with `scopes`, from now.
    pub fn issue(&self, client: &ClientId, scopes: &Scopes) -> Issued {
        access_token::issue(&self.keys, &self.tokens, client, scopes, self.clock.now())
    }

    /// Checks a token against the keys and the clock; not the database.
    pub fn verify(&self, token: &str) -> Result<Verified, TokenRefusal> {
        access_token::verify(&self.keys, &self.tokens, token, self.clock.now())
    }

    /// Whether `candidate` matches one of `stored` (Argon2id hashes), on
    /// the blocking pool and at most `oauth.max_concurrent_hashes` at once,
    /// so that a flood of token requests queues instead of taking every
    /// core.
    pub async fn secret_matches(
        &self,
        candidate: SecretString,
        stored: Vec<String>,
    ) -> Result<bool, ApiError> {
        let _permit = self
            .hashes
            .acquire()
            .await
            .expect("the semaphore is never closed");
        actix_web::web::block(move || {
            stored
                .iter()
                .any(|hash| client_secret::matches(&candidate, hash))
        })
        .await
        .map_err(ApiError::internal)
    }
}
