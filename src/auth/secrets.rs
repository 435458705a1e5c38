//! Random secrets and how they are stored: only as hashes. Session tokens and
//! login states carry 256 bits, so a plain SHA-256 suffices; one-time codes
//! have six digits, so they are hashed with a server key (HMAC) that a
//! stolen database does not contain.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::crypto::{DevelopmentKeyError, development_key};

/// 256 bits from the operating system's CSPRNG, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Six decimal digits, uniformly drawn (rejection sampling avoids the
/// modulo bias of a plain `% 1_000_000`).
pub fn random_otp() -> String {
    const LIMIT: u32 = u32::MAX - u32::MAX % 1_000_000;
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        let n = u32::from_le_bytes(bytes);
        if n < LIMIT {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The server's key for keyed hashes.
#[derive(Clone)]
pub struct HmacKey(SecretString);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secrets.hmac_key (CITIZEN_API_SECRETS__HMAC_KEY) must be base64 of at least 32 bytes")]
    Invalid,
    #[error(transparent)]
    DevelopmentKey(#[from] DevelopmentKeyError),
}

impl HmacKey {
    /// The configured key, or in development one made once and kept in the
    /// data folder, so codes survive a restart.
    pub fn load(configured: Option<&SecretString>, data_dir: &Path) -> Result<HmacKey, KeyError> {
        let encoded = match configured {
            Some(key) => key.expose_secret().to_owned(),
            None => development_key(data_dir, "hmac.key")?,
        };
        match STANDARD.decode(encoded.trim()) {
            Ok(bytes) if bytes.len() >= 32 => {
                Ok(HmacKey(SecretString::from(encoded.trim().to_owned())))
            }
            _ => Err(KeyError::Invalid),
        }
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        let key = STANDARD
            .decode(self.0.expose_secret())
            .expect("validated when loaded");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        for part in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    pub fn sign(&self, parts: &[&str]) -> String {
        hex::encode(self.mac(parts).finalize().into_bytes())
    }

    /// Constant-time comparison with a stored signature.
    pub fn verify(&self, parts: &[&str], signature_hex: &str) -> bool {
        hex::decode(signature_hex)
            .is_ok_and(|expected| self.mac(parts).verify_slice(&expected).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn otps_are_six_digits() {
        for _ in 0..200 {
            let code = random_otp();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn signatures_verify_only_for_the_same_parts_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = HmacKey::load(None, dir.path()).unwrap();
        let again = HmacKey::load(None, dir.path()).unwrap();
        let signature = key.sign(&["session", "123456"]);
        assert!(again.verify(&["session", "123456"], &signature));
        assert!(!key.verify(&["session", "123457"], &signature));
        assert!(!key.verify(&["session1", "23456"], &signature));
        assert!(!key.verify(&["session", "123456"], "not hex"));
        let other = HmacKey::load(
            Some(&SecretString::from(STANDARD.encode([7u8; 32]))),
            dir.path(),
        )
        .unwrap();
        assert!(!other.verify(&["session", "123456"], &signature));
    }

    #[test]
    fn short_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        assert!(HmacKey::load(Some(&short), dir.path()).is_err());
    }
}
