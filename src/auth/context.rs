//! What the authentication handlers and extractors share at run time.

use std::net::SocketAddr;

use super::contact_registry::ContactRegistry;
use super::secrets::HmacKey;
use super::taxisnet::{Endpoints, Taxisnet};
use crate::clock::SharedClock;
use crate::config::AuthSettings;
use crate::config::{Profile, Settings};

pub struct AuthContext {
    /// Where citizens reach this service, without a trailing slash.
    pub base_url: String,
    pub settings: AuthSettings,
    pub cookie_secure: bool,
    pub hmac: HmacKey,
    pub taxisnet: Taxisnet,
    pub contact_registry: ContactRegistry,
    pub clock: SharedClock,
}

/// Where the development provider lives under this service.
pub const DEVELOPMENT_PROVIDER_PATH: &str = "/dev/taxisnet/oauth2server";

impl AuthContext {
    /// Resolves the endpoints: the configured GSIS ones, or, with the
    /// development provider, this service's own `/dev/taxisnet` at `address`.
    pub fn new(
        settings: &Settings,
        address: SocketAddr,
        clock: SharedClock,
    ) -> anyhow::Result<AuthContext> {
        let auth = &settings.auth;
        let base = auth
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let base = base.trim_end_matches('/');
        let provider = format!("{base}{DEVELOPMENT_PROVIDER_PATH}");
        let endpoint = |configured: &Option<String>, development: String| {
            configured.clone().unwrap_or(development)
        };
        let endpoints = Endpoints {
            authorize: endpoint(
                &auth.taxisnet.authorize_url,
                format!("{provider}/oauth/authorize"),
            ),
            token: endpoint(&auth.taxisnet.token_url, format!("{provider}/oauth/token")),
            userinfo: endpoint(
                &auth.taxisnet.userinfo_url,
                format!("{provider}/userinfo?format=xml"),
            ),
            redirect: format!("{base}/v1/auth/callback"),
        };
        Ok(AuthContext {
            base_url: base.to_owned(),
            settings: auth.clone(),
            cookie_secure: auth
                .cookie_secure
                .unwrap_or(settings.profile != Profile::Development),
            hmac: HmacKey::load(settings.secrets.hmac_key.as_ref(), &settings.data_dir)?,
            taxisnet: Taxisnet::new(&auth.taxisnet, &endpoints)?,
            contact_registry: ContactRegistry::new(&auth.contact_registry)?,
            clock,
        })
    }

    /// The development provider is mounted only where both the profile and
    /// the setting allow it; production refuses the setting at start.
    pub fn development_provider_enabled(settings: &Settings) -> bool {
        settings.profile == Profile::Development && settings.auth.development_provider
    }
}
