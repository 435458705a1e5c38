//! What integrators' libraries discover by themselves: the authorization
//! server's metadata (RFC 8414) and the keys that sign its tokens
//! (RFC 7517). Both are public and the same for everyone, so unlike the
//! rest of the API they may be cached, briefly: a new signing key is
//! published before it signs (docs/integrators.md, "Keys"), and a client
//! that meets an unknown `kid` fetches the keys again.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::OAuth;
use super::scope::Scope;

/// How long clients and caches may keep the metadata and the keys.
const PUBLIC_FOR_FIVE_MINUTES: &str = "public, max-age=300";

/// The authorization server's metadata (RFC 8414 §2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "issuer": "https://api.example.gr",
    "token_endpoint": "https://api.example.gr/oauth/token",
    "jwks_uri": "https://api.example.gr/oauth/jwks",
    "introspection_endpoint": "https://api.example.gr/oauth/introspect",
    "revocation_endpoint": "https://api.example.gr/oauth/revoke",
    "scopes_supported": ["photos:face", "photos:signature"],
    "response_types_supported": [],
    "grant_types_supported": ["client_credentials"],
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "service_documentation": "https://api.example.gr/swagger-ui/"
}))]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub scopes_supported: Vec<Scope>,
    /// Empty: there is no authorization endpoint, only the
    /// client-credentials grant.
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub service_documentation: String,
}

impl ServerMetadata {
    fn of(issuer: &str) -> ServerMetadata {
        let at = |path: &str| format!("{issuer}{path}");
        let methods = || {
            vec![
                "client_secret_basic".to_owned(),
                "client_secret_post".to_owned(),
            ]
        };
        ServerMetadata {
            issuer: issuer.to_owned(),
            token_endpoint: at("/oauth/token"),
            jwks_uri: at("/oauth/jwks"),
            introspection_endpoint: at("/oauth/introspect"),
            revocation_endpoint: at("/oauth/revoke"),
            scopes_supported: Scope::ALL.to_vec(),
            response_types_supported: Vec::new(),
            grant_types_supported: vec!["client_credentials".to_owned()],
            token_endpoint_auth_methods_supported: methods(),
            introspection_endpoint_auth_methods_supported: methods(),
            revocation_endpoint_auth_methods_supported: methods(),
            service_documentation: at("/swagger-ui/"),
        }
    }
}

/// The public keys of a JWK Set (RFC 7517 §5), for the document.
#[derive(ToSchema)]
#[allow(dead_code)] // Only its schema is used: the set is `jsonwebtoken`'s.
#[schema(example = json!({"keys": [{
    "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "2026-12", "use": "sig", "alg": "EdDSA"
}]}))]
pub struct JwkSetBody {
    /// Ed25519 public keys (`kty: OKP`), each named by its `kid`.
    keys: Vec<serde_json::Value>,
}

/// The authorization server's metadata (RFC 8414): its endpoints, grant,
/// scopes and client authentication methods.
#[utoipa::path(
    tag = "applications",
    responses(
        (status = 200, description = "The metadata; cacheable for five minutes.", body = ServerMetadata,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
    )
)]
#[get("/.well-known/oauth-authorization-server")]
pub async fn authorization_server(oauth: web::Data<OAuth>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(PUBLIC_FOR_FIVE_MINUTES),
        ))
        .json(ServerMetadata::of(&oauth.token_settings().issuer))
}

/// The public keys that sign access tokens (RFC 7517), by `kid`: the key
/// that signs now first, then any being retired while its tokens live.
#[utoipa::path(
    tag = "applications",
    responses(
        (status = 200, description = "The key set; cacheable for five minutes. A token naming a `kid` not in a cached set: fetch it again.",
            body = JwkSetBody, content_type = "application/jwk-set+json",
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
    )
)]
#[get("/oauth/jwks")]
pub async fn jwks(oauth: web::Data<OAuth>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static(PUBLIC_FOR_FIVE_MINUTES),
        ))
        .json(oauth.keys().jwks())
}
