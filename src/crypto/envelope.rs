//! Envelope encryption: a value under a random key of its own, that key
//! sealed (wrapped) by a [`KeyRing`]. Bulky values are encrypted once;
//! rotating the master key re-seals only their 32-byte data keys.

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes256Gcm, Key};
use secrecy::zeroize::Zeroizing;

use super::{FORMAT_V1, KEY_LEN, KeyRing, NONCE_LEN, OpenError, Sealed, decrypt, encrypt};

/// A random AES-256-GCM key for one value.
pub struct DataKey {
    /// Kept to be wrapped; wiped when dropped.
    bytes: Zeroizing<[u8; KEY_LEN]>,
    cipher: Aes256Gcm,
}

impl DataKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> DataKey {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut_slice()).expect("the OS random source works");
        DataKey::from_bytes(bytes)
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> DataKey {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes.as_slice()));
        DataKey { bytes, cipher }
    }

    /// The key sealed under the ring's current key. The associated data
    /// should name the value the key belongs to, so that a wrapped key
    /// moved to another value does not open there.
    pub fn wrap(&self, ring: &KeyRing, associated_data: &[u8]) -> Sealed {
        ring.seal(self.bytes.as_slice(), associated_data)
    }

    pub fn unwrap(
        ring: &KeyRing,
        wrapped: &Sealed,
        associated_data: &[u8],
    ) -> Result<DataKey, OpenError> {
        let opened = Zeroizing::new(ring.open(wrapped, associated_data)?);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        if opened.len() != KEY_LEN {
            return Err(OpenError::Malformed);
        }
        bytes.copy_from_slice(&opened);
        Ok(DataKey::from_bytes(bytes))
    }

    /// The stored form: format byte, nonce, ciphertext with its tag.
    pub fn encrypt(&self, plaintext: &[u8], associated_data: &[u8]) -> Vec<u8> {
        let (nonce, ciphertext) = encrypt(&self.cipher, plaintext, associated_data);
        let mut bytes = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        bytes.push(FORMAT_V1);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        bytes
    }

    pub fn decrypt(&self, stored: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, OpenError> {
        let [FORMAT_V1, rest @ ..] = stored else {
            return Err(OpenError::Malformed);
        };
        let (nonce, ciphertext) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(OpenError::Malformed)?;
        decrypt(&self.cipher, nonce, ciphertext, associated_data)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn ring(id: &str, byte: u8) -> KeyRing {
        KeyRing::parse(&format!("{id}:{}", STANDARD.encode([byte; KEY_LEN]))).unwrap()
    }

    #[test]
    fn a_value_opens_with_its_unwrapped_key_and_associated_data_only() {
        let ring = ring("k1", 1);
        let key = DataKey::generate();
        let stored = key.encrypt(b"face.jpg bytes", b"blob 1");
        let wrapped = Sealed::from_bytes(&key.wrap(&ring, b"key 1").to_bytes()).unwrap();

        let again = DataKey::unwrap(&ring, &wrapped, b"key 1").unwrap();
        assert_eq!(
            again.decrypt(&stored, b"blob 1").unwrap(),
            b"face.jpg bytes"
        );
        assert_eq!(again.decrypt(&stored, b"blob 2"), Err(OpenError::Tampered));
        assert!(DataKey::unwrap(&ring, &wrapped, b"key 2").is_err());
        assert_eq!(
            DataKey::generate().decrypt(&stored, b"blob 1"),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn malformed_or_truncated_values_are_refused() {
        let key = DataKey::generate();
        let stored = key.encrypt(b"x", b"");
        for bad in [
            &[][..],
            &[2],
            &stored[..NONCE_LEN],
            &[&[2u8][..], &stored[1..]].concat(),
        ] {
            assert_eq!(key.decrypt(bad, b""), Err(OpenError::Malformed));
        }
        assert_eq!(
            key.decrypt(&stored[..stored.len() - 1], b""),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn a_sealed_value_that_is_not_a_key_does_not_unwrap() {
        let ring = ring("k1", 1);
        let not_a_key = ring.seal(b"short", b"ad");
        assert!(matches!(
            DataKey::unwrap(&ring, &not_a_key, b"ad"),
            Err(OpenError::Malformed)
        ));
    }
}
