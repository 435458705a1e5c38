//! The Ed25519 keys that sign access tokens, by key id (`kid`): the first
//! signs, every one listed verifies and is published at `/oauth/jwks`, so
//! that a key being retired still verifies the tokens it signed until they
//! expire (docs/integrators.md, "Keys").

use std::path::Path;

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::SecretString;

use crate::crypto::{KeyEntry, KeyError, KeySource, load_keys};

/// Where the signing keys come from, and the development key's file.
pub const SOURCE: KeySource = KeySource {
    setting: "secrets.token_signing_keys (CITIZEN_API_SECRETS__TOKEN_SIGNING_KEYS)",
    development_file: "token-signing.key",
};

/// The PKCS #8 v1 prefix of an Ed25519 private key (RFC 8410 §7): the
/// DER of `PrivateKeyInfo { version 0, id-Ed25519, OCTET STRING { seed } }`
/// up to the 32 seed bytes, which is the form `jsonwebtoken` takes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public: Jwk,
}

/// The signing key first, then the keys that only verify.
pub struct SigningKeys {
    keys: Vec<SigningKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("{setting}: key {kid:?} is not a usable Ed25519 seed")]
    Unusable { setting: &'static str, kid: String },
}

impl SigningKeys {
    /// The configured keys, or in development one made once under
    /// `<data_dir>/development-keys/`.
    pub fn load(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<SigningKeys, SigningKeyError> {
        let keys = load_keys(configured, data_dir, &SOURCE)?
            .into_iter()
            .map(SigningKey::from_seed)
            .collect::<Result<_, _>>()?;
        Ok(SigningKeys { keys })
    }

    /// The key new tokens are signed with, and its id.
    pub fn signing(&self) -> (&str, &EncodingKey) {
        // `load_keys` gives at least one key.
        let key = &self.keys[0];
        (&key.kid, &key.encoding)
    }

    /// The key a token names by `kid`, if it is one of ours.
    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys
            .iter()
            .find(|key| key.kid == kid)
            .map(|key| &key.decoding)
    }

    /// The public keys, as `/oauth/jwks` publishes them (RFC 7517).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(|key| key.public.clone()).collect(),
        }
    }
}

impl SigningKey {
    fn from_seed(entry: KeyEntry) -> Result<SigningKey, SigningKeyError> {
        let unusable = || SigningKeyError::Unusable {
            setting: SOURCE.setting,
            kid: entry.id.clone(),
        };
        let mut der = secrecy::zeroize::Zeroizing::new(PKCS8_ED25519_PREFIX.to_vec());
        der.extend_from_slice(&entry.bytes);
        let encoding = EncodingKey::from_ed_der(&der);
        let mut public =
            Jwk::from_encoding_key(&encoding, Algorithm::EdDSA).map_err(|_| unusable())?;
        public.common.key_id = Some(entry.id.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        public.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        let decoding = DecodingKey::from_jwk(&public).map_err(|_| unusable())?;
        Ok(SigningKey {
            kid: entry.id,
            encoding,
            decoding,
            public,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1, test 1: a known seed and the public key it gives.
    const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    const PUBLIC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn the_published_key_is_the_seed_s_public_key() {
        let keys = SigningKeys::load(
            Some(&format!("k1:{SEED}").into()),
            Path::new("/nonexistent"),
        )
        .unwrap();
        let jwks = serde_json::to_value(keys.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["x"], PUBLIC_X);
        assert_eq!(key["kid"], "k1");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
    }

    #[test]
    fn every_listed_key_verifies_and_the_first_signs() {
        let other = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [7u8; 32]);
        let configured = format!("new:{other},old:{SEED}");
        let keys = SigningKeys::load(Some(&configured.into()), Path::new("/nonexistent")).unwrap();
        assert_eq!(keys.signing().0, "new");
        assert!(keys.verifying("old").is_some());
        assert!(keys.verifying("gone").is_none());
        assert_eq!(keys.jwks().keys.len(), 2);
    }
}
