//! Outbox texts are sealed at rest: a one-time code, or anything else a
//! message says, never sits in `outbox_messages` in clear. [`enqueue`]
//! seals the subject and the body; the worker opens them to deliver, and
//! the row keeps neither once the message is sent, dead or expired.
//!
//! The key ring is the process's, set once at start by
//! [`use_key_ring`]: `enqueue` is called deep inside the transactions of
//! every slice that sends messages, and threading a key through all of
//! them would spread the outbox's concern over each of their signatures.
//!
//! [`enqueue`]: super::enqueue

use std::sync::OnceLock;

use crate::crypto::{KeyRing, KeySource, OpenError, Sealed};

/// The outbox's master keys; development keeps its key in
/// `<data_dir>/development-keys/encryption.key`.
pub const KEY_SOURCE: KeySource = KeySource {
    setting: "secrets.encryption_keys (CITIZEN_API_SECRETS__ENCRYPTION_KEYS)",
    development_file: "encryption.key",
};

static KEY_RING: OnceLock<KeyRing> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(
        "this process already seals outbox messages under other keys; \
         every application in one process must use the same secrets.encryption_keys"
    )]
    Conflict,
    #[error("no key ring to seal outbox messages: Application::build sets it")]
    Missing,
}

/// Makes `ring` the one the outbox seals and opens with. A second call
/// with the same keys is a no-op (tests start many applications in one
/// process); with other keys it fails, since messages sealed under one
/// ring would not open under the other.
pub fn use_key_ring(ring: KeyRing) -> Result<(), KeyRingError> {
    let mut offered = Some(ring);
    let installed = KEY_RING.get_or_init(|| offered.take().expect("taken once, here"));
    match offered {
        Some(ring) if ring != *installed => Err(KeyRingError::Conflict),
        _ => Ok(()),
    }
}

fn key_ring() -> Result<&'static KeyRing, KeyRingError> {
    KEY_RING.get().ok_or(KeyRingError::Missing)
}

/// The sealed texts of a message.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Subject,
    Body,
}

impl Field {
    /// The associated data: which text of which message, so that a sealed
    /// text moved to another row or field does not open there.
    fn associated_data(self, message_id: &str) -> Vec<u8> {
        let field = match self {
            Field::Subject => "subject",
            Field::Body => "body",
        };
        format!("outbox_messages.{field}:{message_id}").into_bytes()
    }
}

pub(super) fn seal(field: Field, message_id: &str, text: &str) -> Result<Vec<u8>, KeyRingError> {
    let sealed = key_ring()?.seal(text.as_bytes(), &field.associated_data(message_id));
    Ok(sealed.to_bytes())
}

#[derive(Debug, thiserror::Error)]
pub enum UnsealError {
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
    #[error("the {0:?} of this outbox message is no longer kept")]
    Cleared(Field),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("the opened text is not UTF-8")]
    NotText,
}

pub fn open(field: Field, message_id: &str, stored: Option<&[u8]>) -> Result<String, UnsealError> {
    let stored = stored.ok_or(UnsealError::Cleared(field))?;
    let sealed = Sealed::from_bytes(stored)?;
    let text = key_ring()?.open(&sealed, &field.associated_data(message_id))?;
    String::from_utf8(text).map_err(|_| UnsealError::NotText)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn ring(byte: u8) -> KeyRing {
        KeyRing::parse(&format!("k:{}", STANDARD.encode([byte; 32]))).unwrap()
    }

    /// The only test in this binary that sets the process's key ring.
    #[test]
    fn the_process_keeps_one_key_ring_and_a_text_opens_only_where_it_was_sealed() {
        use_key_ring(ring(1)).unwrap();
        use_key_ring(ring(1)).unwrap();
        assert!(matches!(use_key_ring(ring(2)), Err(KeyRingError::Conflict)));

        let sealed = seal(Field::Body, "m1", "482913").unwrap();
        assert_eq!(open(Field::Body, "m1", Some(&sealed)).unwrap(), "482913");
        let tampered = |result| matches!(result, Err(UnsealError::Open(OpenError::Tampered)));
        assert!(tampered(open(Field::Body, "m2", Some(&sealed))));
        assert!(tampered(open(Field::Subject, "m1", Some(&sealed))));
        assert!(matches!(
            open(Field::Body, "m1", None),
            Err(UnsealError::Cleared(Field::Body))
        ));
    }
}
