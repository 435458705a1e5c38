//! Client secrets: 256 random bits, shown once, kept only as an Argon2id
//! hash. A secret is a random token, not a password, so a fast hash would
//! already resist guessing; Argon2id is used all the same, with the OWASP
//! parameters (19 MiB, two passes), so that a stolen table is worthless
//! even for a secret that leaked its first characters, and its cost is
//! why the checks are bounded ([`super::OAuth::secret_matches`]).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::random_token;

/// A new secret: 256 bits from the OS CSPRNG, base64url.
pub fn generate() -> SecretString {
    SecretString::from(random_token())
}

/// The PHC string that is stored: `$argon2id$v=19$m=19456,t=2,p=1$…`.
pub fn hash(secret: &SecretString) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.expose_secret().as_bytes(), &salt)
        .expect("Argon2 with its default parameters hashes any input")
        .to_string()
}

/// The hash an unknown client's secret is checked against, so that its
/// refusal costs what a known client's does: of a secret nobody was ever
/// shown, made once per process, on first use (on the blocking pool, where
/// checks run).
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash(&generate()));
    &DUMMY
}

/// Whether `candidate` is the secret `stored` is the hash of; a stored
/// value that is not a PHC string matches nothing.
pub fn matches(candidate: &SecretString, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(candidate.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_hash_only() {
        let secret = generate();
        assert_eq!(secret.expose_secret().len(), 43, "256 bits in base64url");
        let stored = hash(&secret);
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains(secret.expose_secret()));
        assert!(matches(&secret, &stored));
        assert!(!matches(&generate(), &stored));
        assert!(!matches(&secret, "not a hash"));
        assert!(!matches(&secret, dummy_hash()));
    }
}
