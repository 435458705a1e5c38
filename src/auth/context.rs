//! What the authentication handlers and extractors share at run time.

use super::contact_registry::ContactRegistry;
use super::secrets::HmacKey;
use super::taxisnet::{Endpoints, Taxisnet};
use crate::clock::SharedClock;
use crate::config::AuthSettings;

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

impl AuthContext {
    /// Resolves the TAXISnet endpoints: the configured GSIS ones, else
    /// those under `fallback_provider` (a URL whose `/oauth/authorize`,
    /// `/oauth/token` and `/userinfo` speak the GSIS protocol). Production
    /// requires the configured ones, so the fallback serves development.
    pub fn new(
        settings: &AuthSettings,
        base_url: &str,
        fallback_provider: &str,
        cookie_secure_by_default: bool,
        hmac: HmacKey,
        clock: SharedClock,
    ) -> anyhow::Result<AuthContext> {
        let base = base_url.trim_end_matches('/');
        let endpoint =
            |configured: &Option<String>, fallback: String| configured.clone().unwrap_or(fallback);
        let taxisnet = &settings.taxisnet;
        let endpoints = Endpoints {
            authorize: endpoint(
                &taxisnet.authorize_url,
                format!("{fallback_provider}/oauth/authorize"),
            ),
            token: endpoint(
                &taxisnet.token_url,
                format!("{fallback_provider}/oauth/token"),
            ),
            userinfo: endpoint(
                &taxisnet.userinfo_url,
                format!("{fallback_provider}/userinfo?format=xml"),
            ),
            redirect: format!("{base}/v1/auth/callback"),
        };
        Ok(AuthContext {
            base_url: base.to_owned(),
            settings: settings.clone(),
            cookie_secure: settings.cookie_secure.unwrap_or(cookie_secure_by_default),
            hmac,
            taxisnet: Taxisnet::new(taxisnet, &endpoints)?,
            contact_registry: ContactRegistry::new(&settings.contact_registry)?,
            clock,
        })
    }
}
