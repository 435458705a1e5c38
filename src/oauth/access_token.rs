//! Access tokens: JWTs in the RFC 9068 profile (`typ: at+jwt`), signed with
//! Ed25519 under a key named by `kid`. A token says who it was issued to and
//! for what; whether it still counts (not revoked, its client not disabled)
//! is the database's answer on every request (see [`super::principal`]).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::SigningKeys;
use super::scope::Scopes;
use crate::config::MAX_TOKEN_LIFETIME_SECS;
use crate::domain::ids::ClientId;

/// RFC 9068 §2.1: the media type of an access token, without `application/`.
const TYP: &str = "at+jwt";

/// Where tokens come from and whom they are for.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub lifetime: Duration,
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// For the client-credentials grant, the client itself.
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    /// A unique id, by which the token is revoked.
    pub jti: String,
    /// Space-separated, as RFC 6749 §3.3 writes scopes.
    pub scope: String,
}

/// A token issued: its text and what it says.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub claims: AccessClaims,
}

/// A token that was checked and holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub client_id: ClientId,
    pub scopes: Scopes,
    pub jti: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why a token was refused. Every reason is `invalid_token` to the caller
/// (RFC 6750 §3.1); the reason goes to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("not a JWT of ours: malformed, another type or algorithm, or an unknown key")]
    Malformed,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("issued by someone else")]
    WrongIssuer,
    #[error("issued for another audience")]
    WrongAudience,
    #[error("expired")]
    Expired,
    #[error("issued in the future, or for longer than tokens live")]
    BadLifetime,
}

/// Signs a token for `client_id` with `scopes`, valid from `now`.
pub fn issue(
    keys: &SigningKeys,
    settings: &TokenSettings,
    client_id: &ClientId,
    scopes: &Scopes,
    now: DateTime<Utc>,
) -> Issued {
    let (kid, key) = keys.signing();
    let header = Header {
        typ: Some(TYP.to_owned()),
        kid: Some(kid.to_owned()),
        ..Header::new(Algorithm::EdDSA)
    };
    let claims = AccessClaims {
        iss: settings.issuer.clone(),
        sub: client_id.to_string(),
        aud: settings.audience.clone(),
        client_id: client_id.to_string(),
        exp: (now + settings.lifetime).timestamp(),
        iat: now.timestamp(),
        jti: Uuid::new_v4().to_string(),
        scope: scopes.to_string(),
    };
    let token = jsonwebtoken::encode(&header, &claims, key)
        .expect("an Ed25519 key loaded at start signs any claims");
    Issued { token, claims }
}

/// Checks a token's type, key, signature, issuer, audience and lifetime
/// against `now` (the service's clock, not the system's, so that tests can
/// move it). Revocation is not its business.
pub fn verify(
    keys: &SigningKeys,
    settings: &TokenSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Verified, TokenRefusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRefusal::Malformed)?;
    let typ_ok = header.typ.as_deref().is_some_and(|typ| {
        typ.eq_ignore_ascii_case(TYP) || typ.eq_ignore_ascii_case("application/at+jwt")
    });
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| keys.verifying(kid))
        .filter(|_| typ_ok && header.alg == Algorithm::EdDSA)
        .ok_or(TokenRefusal::Malformed)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // The lifetime is checked below against the service's clock.
    validation.validate_exp = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub", "jti"]);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::InvalidSignature => TokenRefusal::BadSignature,
                ErrorKind::InvalidIssuer => TokenRefusal::WrongIssuer,
                ErrorKind::InvalidAudience => TokenRefusal::WrongAudience,
                _ => TokenRefusal::Malformed,
            }
        })?
        .claims;
    let now = now.timestamp();
    if claims.exp <= now {
        return Err(TokenRefusal::Expired);
    }
    // A minute of slack for the clocks of several instances.
    if claims.iat > now + 60 || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_SECS {
        return Err(TokenRefusal::BadLifetime);
    }
    let client_id = claims
        .client_id
        .parse()
        .map_err(|_| TokenRefusal::Malformed)?;
    let scopes = Scopes::parse(&claims.scope).map_err(|_| TokenRefusal::Malformed)?;
    Ok(Verified {
        client_id,
        scopes,
        jti: claims.jti,
        issued_at: DateTime::from_timestamp(claims.iat, 0).ok_or(TokenRefusal::Malformed)?,
        expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or(TokenRefusal::Malformed)?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    use super::*;
    use crate::oauth::scope::Scope;

    fn ring(entries: &[(&str, u8)]) -> SigningKeys {
        let configured: Vec<String> = entries
            .iter()
            .map(|(kid, byte)| format!("{kid}:{}", STANDARD.encode([*byte; 32])))
            .collect();
        SigningKeys::load(
            Some(&configured.join(",").into()),
            Path::new("/nonexistent"),
        )
        .unwrap()
    }

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "https://api.example".into(),
            audience: "https://api.example/v1/citizens".into(),
            lifetime: Duration::seconds(300),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-12-02T10:00:00Z".parse().unwrap()
    }

    fn token_for(keys: &SigningKeys, settings: &TokenSettings) -> (Issued, ClientId) {
        let client = ClientId::generate();
        let scopes: Scopes = [Scope::PhotosFace].into_iter().collect();
        (issue(keys, settings, &client, &scopes, now()), client)
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_says_what_it_was_issued_for() {
        let (keys, settings) = (ring(&[("k1", 1)]), settings());
        let (issued, client) = token_for(&keys, &settings);
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let verified = verify(&keys, &settings, &issued.token, now()).unwrap();
        assert_eq!(verified.client_id, client);
        assert_eq!(verified.scopes.to_string(), "photos:face");
        assert_eq!(verified.jti, issued.claims.jti);
        let last = now() + Duration::seconds(299);
        assert!(verify(&keys, &settings, &issued.token, last).is_ok());
        let end = now() + Duration::seconds(300);
        assert_eq!(
            verify(&keys, &settings, &issued.token, end),
            Err(TokenRefusal::Expired)
        );
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let (keys, settings) = (ring(&[("k1", 1)]), settings());
        let (issued, _) = token_for(&keys, &settings);
        let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
        let mut claims = issued.claims.clone();
        claims.scope = "photos:face photos:signature".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            verify(&keys, &settings, &parts.join("."), now()),
            Err(TokenRefusal::BadSignature)
        );
    }

    #[test]
    fn another_audience_issuer_or_key_is_refused() {
        let (keys, settings) = (ring(&[("k1", 1)]), settings());
        let (issued, _) = token_for(&keys, &settings);
        let elsewhere = TokenSettings {
            audience: "https://other.example".into(),
            ..settings.clone()
        };
        assert_eq!(
            verify(&keys, &elsewhere, &issued.token, now()),
            Err(TokenRefusal::WrongAudience)
        );
        let other_issuer = TokenSettings {
            issuer: "https://other.example".into(),
            ..settings.clone()
        };
        assert_eq!(
            verify(&keys, &other_issuer, &issued.token, now()),
            Err(TokenRefusal::WrongIssuer)
        );
        // Signed by a key under an id we hold for another key.
        let impostor = ring(&[("k1", 9)]);
        let (forged, _) = token_for(&impostor, &settings);
        assert_eq!(
            verify(&keys, &settings, &forged.token, now()),
            Err(TokenRefusal::BadSignature)
        );
        // Signed by a key we do not hold at all.
        let stranger = ring(&[("k9", 9)]);
        let (foreign, _) = token_for(&stranger, &settings);
        assert_eq!(
            verify(&keys, &settings, &foreign.token, now()),
            Err(TokenRefusal::Malformed)
        );
    }

    #[test]
    fn a_token_signed_before_a_rotation_verifies_under_the_retiring_key() {
        let settings = settings();
        let before = ring(&[("old", 1)]);
        let (issued, _) = token_for(&before, &settings);
        let after = ring(&[("new", 2), ("old", 1)]);
        assert!(verify(&after, &settings, &issued.token, now()).is_ok());
        assert_eq!(after.signing().0, "new");
        let retired = ring(&[("new", 2)]);
        assert_eq!(
            verify(&retired, &settings, &issued.token, now()),
            Err(TokenRefusal::Malformed)
        );
    }

    #[test]
    fn a_token_of_another_type_or_lifetime_is_refused() {
        let (keys, settings) = (ring(&[("k1", 1)]), settings());
        let long = TokenSettings {
            lifetime: Duration::seconds(MAX_TOKEN_LIFETIME_SECS + 1),
            ..settings.clone()
        };
        let (issued, _) = token_for(&keys, &long);
        assert_eq!(
            verify(&keys, &settings, &issued.token, now()),
            Err(TokenRefusal::BadLifetime)
        );
        let (_, key) = keys.signing();
        let plain = Header {
            kid: Some("k1".into()),
            ..Header::new(Algorithm::EdDSA)
        };
        let (issued, _) = token_for(&keys, &settings);
        let untyped = jsonwebtoken::encode(&plain, &issued.claims, key).unwrap();
        assert_eq!(
            verify(&keys, &settings, &untyped, now()),
            Err(TokenRefusal::Malformed)
        );
    }
}
