//! The TAXISnet (GSIS) OAuth2 authorization-code login, through the `oauth2`
//! crate: the authorize URL with state and PKCE, the code exchange, and the
//! XML userinfo. The development provider speaks the same protocol, so this
//! is the code path tests exercise.

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;

use super::userinfo::{TaxisnetUser, UserinfoError, parse_userinfo};
use crate::config::{ClientAuth, TaxisnetSettings};

type GsisClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The userinfo answer is a few hundred bytes; anything near this is hostile.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

pub struct Taxisnet {
    client: GsisClient,
    http: reqwest::Client,
    userinfo_url: reqwest::Url,
    scope: String,
}

/// Resolved endpoint URLs (configured, or the development provider's).
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub redirect: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The provider refused the code (expired, replayed, wrong client).
    #[error("the identity provider refused the code: {0}")]
    Refused(String),
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider failed: {0}")]
    Provider(String),
    #[error(transparent)]
    Userinfo(#[from] UserinfoError),
}

/// The start of a login: where to send the browser, and what to remember.
pub struct LoginStart {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
}

impl Taxisnet {
    pub fn new(settings: &TaxisnetSettings, endpoints: &Endpoints) -> anyhow::Result<Taxisnet> {
        let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::new(endpoints.authorize.clone())?)
            .set_token_uri(TokenUrl::new(endpoints.token.clone())?)
            .set_redirect_uri(RedirectUrl::new(endpoints.redirect.clone())?)
            .set_auth_type(match settings.client_auth {
                ClientAuth::Basic => AuthType::BasicAuth,
                ClientAuth::RequestBody => AuthType::RequestBody,
            });
        if let Some(secret) = &settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        // No redirects: a token endpoint that redirects could be steered at
        // internal addresses (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(settings.timeout_ms))
            .build()?;
        Ok(Taxisnet {
            client,
            http,
            userinfo_url: reqwest::Url::parse(&endpoints.userinfo)?,
            scope: settings.scope.clone(),
        })
    }

    pub fn start(&self) -> LoginStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(|| CsrfToken::new(super::secrets::random_token()))
            .add_scope(Scope::new(self.scope.clone()))
            .set_pkce_challenge(challenge)
            .url();
        LoginStart {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// Exchanges the code and reads who signed in.
    pub async fn finish(
        &self,
        code: String,
        pkce_verifier: String,
    ) -> Result<TaxisnetUser, LoginError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(refusal) => {
                    LoginError::Refused(refusal.error().to_string())
                }
                other => LoginError::Provider(format!("token endpoint: {other}")),
            })?;
        let body = self.userinfo(token.access_token().secret()).await?;
        Ok(parse_userinfo(&body)?)
    }

    async fn userinfo(&self, access_token: &str) -> Result<Vec<u8>, LoginError> {
        let failed = |what: String| LoginError::Provider(format!("userinfo endpoint: {what}"));
        let mut response = self
            .http
            .get(self.userinfo_url.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_USERINFO_BYTES as u64)
        {
            return Err(failed("answer too large".into()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if body.len() + chunk.len() > MAX_USERINFO_BYTES {
                return Err(failed("answer too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
