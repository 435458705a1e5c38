//! The authorization server for third-party applications (ministry systems;
//! docs/integrators.md): applications registered by platform admins, client
//! secrets kept as Argon2id hashes, access tokens issued by the
//! client-credentials grant as RFC 9068 JWTs signed with Ed25519, the
//! endpoints around them (metadata, JWKS, introspection, revocation), and
//! the `AppCaller` that resource endpoints take.

pub mod access_token;
pub mod apps;
pub mod client_auth;
pub mod client_secret;
pub mod error;
pub mod form;
pub mod grant_types;
pub mod introspection;
pub mod keys;
pub mod metadata;
pub mod principal;
pub mod responses;
pub mod revocation;
pub mod scope;
pub mod store;

use actix_web::HttpRequest;
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
use crate::http::rate_limit::{ClientRateLimit, RateLimit};
use crate::http::{ApiError, ProtocolError};
use access_token::{Issued, TokenRefusal, Verified};

/// The OAuth endpoints whose every answer, errors included, RFC 6749's
/// form rules (`{"error","error_description"}`): the OpenAPI document
/// gives them no problem+json responses.
pub const PROTOCOL_PATHS: [&str; 3] = ["/oauth/token", "/oauth/introspect", "/oauth/revoke"];

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    apps::routes(cfg);
    cfg.service(grant_types::token)
        .service(introspection::introspect)
        .service(revocation::revoke)
        .service(metadata::authorization_server)
        .service(metadata::jwks);
}

/// What the authorization server's handlers share.
pub struct OAuth {
    keys: SigningKeys,
    tokens: TokenSettings,
    clock: SharedClock,
    secret_overlap: Duration,
    /// Argon2 checks at once: each takes ~20 ms of a core and 19 MiB.
    hashes: Semaphore,
    /// Requests that authenticate a client, per client id and per client
    /// address, before any Argon2 check is spent on them.
    client_limit: RateLimit<ClientId>,
    address_limit: ClientRateLimit,
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
            client_limit: RateLimit::per_minute(settings.token_requests_per_minute_per_client),
            address_limit: ClientRateLimit::per_minute(
                settings.token_requests_per_minute_per_address,
            ),
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

    /// Counts a client-authenticating request against its client
    /// address's allowance and, when the id is well-formed, its client
    /// id's; `429` once either is spent.
    pub fn admit(&self, req: &HttpRequest, client: Option<&ClientId>) -> Result<(), ProtocolError> {
        self.address_limit
            .take_for(req)
            .and_then(|()| client.map_or(Ok(()), |client| self.client_limit.take(client)))
            .map_err(error::too_many_requests)
    }

    /// Whether `candidate` matches one of `stored` (Argon2id hashes), on
    /// the blocking pool and at most `oauth.max_concurrent_hashes` at once,
    /// so that a flood of token requests queues instead of taking every
    /// core. With nothing stored (an unknown client), the candidate is
    /// checked against a dummy hash all the same, so that the answer takes
    /// as long as for a known client.
    pub async fn secret_matches(
        &self,
        candidate: SecretString,
        stored: Vec<String>,
    ) -> Result<bool, ApiError> {
        self.hashing(move || {
            if stored.is_empty() {
                client_secret::matches(&candidate, client_secret::dummy_hash());
                return false;
            }
            stored
                .iter()
                .any(|hash| client_secret::matches(&candidate, hash))
        })
        .await
    }

    /// The Argon2id hash of a new secret, made as [`OAuth::secret_matches`]
    /// checks one: on the blocking pool, within the bound.
    pub async fn hash_secret(&self, secret: SecretString) -> Result<String, ApiError> {
        self.hashing(move || client_secret::hash(&secret)).await
    }

    async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self
            .hashes
            .acquire()
            .await
            .expect("the semaphore is never closed");
        actix_web::web::block(work)
            .await
            .map_err(ApiError::internal)
    }
}
