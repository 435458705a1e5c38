//! Encryption at rest: AES-256-GCM under a ring of master keys.
//!
//! Each master key has a short id. New values are sealed under the current
//! key; older keys stay in the ring so that what they sealed still opens,
//! which is how a key is rotated: add the new one as current, keep the old
//! one until nothing sealed under it is left. The sealed form carries the
//! key id and a random 96-bit nonce from the OS CSPRNG; the associated data
//! (what the value is, and of which row) is authenticated but not stored,
//! so a sealed value copied onto another row does not open there.
//!
//! Envelope encryption ([`DataKey`]) builds on the same calls: a random
//! data key per value encrypts the bulk, the ring seals the data key, and
//! the sealed data key is kept beside the bulk. Rotating the master key
//! then re-seals the small data keys ([`KeyRing::reseal`]), never the bulk.
//!
//! A platform module: it depends on no slice of the application.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

mod envelope;

pub use envelope::DataKey;

/// The first byte of every sealed value, so that a later format can be
/// told apart from this one.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;
const MAX_KEY_ID_LEN: usize = 16;
/// The id of the key development makes for itself.
const DEVELOPMENT_KEY_ID: &str = "dev";

/// Where one key ring's keys come from. Each ring has its own, so that a
/// key of one never opens what the other sealed.
#[derive(Debug, Clone, Copy)]
pub struct KeySource {
    /// The setting that configures the keys, as errors name it:
    /// `secrets.encryption_keys (CITIZEN_API_SECRETS__ENCRYPTION_KEYS)`.
    pub setting: &'static str,
    /// The file under `<data_dir>/development-keys/` that keeps the key
    /// development makes when the setting is unset.
    pub development_file: &'static str,
}

/// A value sealed by a [`KeyRing`]: which key, the nonce, and the
/// ciphertext with its authentication tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    key_id: String,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl Sealed {
    /// The id of the key that sealed it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The stored form: format byte, key id length and key id, nonce,
    /// ciphertext.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes =
            Vec::with_capacity(2 + self.key_id.len() + NONCE_LEN + self.ciphertext.len());
        bytes.push(FORMAT_V1);
        // Key ids are at most MAX_KEY_ID_LEN bytes (checked on load).
        bytes.push(self.key_id.len() as u8);
        bytes.extend_from_slice(self.key_id.as_bytes());
        bytes.extend_from_slice(&self.nonce);
        bytes.extend_from_slice(&self.ciphertext);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Sealed, OpenError> {
        let [FORMAT_V1, id_len, rest @ ..] = bytes else {
            return Err(OpenError::Malformed);
        };
        let id_len = usize::from(*id_len);
        if rest.len() < id_len + NONCE_LEN {
            return Err(OpenError::Malformed);
        }
        let (key_id, rest) = rest.split_at(id_len);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        Ok(Sealed {
            key_id: String::from_utf8(key_id.to_vec()).map_err(|_| OpenError::Malformed)?,
            nonce: nonce.try_into().map_err(|_| OpenError::Malformed)?,
            ciphertext: ciphertext.to_vec(),
        })
    }
}

/// Why a sealed value did not open. None of them says anything about the
/// plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed value is not in a known format")]
    Malformed,
    #[error("the sealed value names key {0:?}, which the key ring does not hold")]
    UnknownKey(String),
    /// The ciphertext, the nonce or the associated data differ from what
    /// was sealed (or the key with that id is another key).
    #[error("the sealed value does not authenticate")]
    Tampered,
}

/// Why configured keys were refused; never shows a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be comma-separated ID:BASE64 pairs, the current key first, each key 32 bytes \
     and each id 1 to 16 letters, digits, '-' or '_', no id twice: {0}"
)]
pub struct MalformedKeys(&'static str);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a source: the message already says it, and would twice.
    #[error("{setting} {problem}")]
    Invalid {
        setting: &'static str,
        problem: MalformedKeys,
    },
    #[error(transparent)]
    DevelopmentKey(#[from] DevelopmentKeyError),
}

#[derive(Clone)]
struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
    /// SHA-256 of the key, to tell two rings apart without keeping the key
    /// bytes twice.
    fingerprint: [u8; 32],
}

/// Master keys by id; the first seals, all of them open.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<MasterKey>,
}

/// The same keys under the same ids, in the same order.
impl PartialEq for KeyRing {
    fn eq(&self, other: &KeyRing) -> bool {
        let ids = |ring: &KeyRing| -> Vec<(String, [u8; 32])> {
            ring.keys
                .iter()
                .map(|k| (k.id.clone(), k.fingerprint))
                .collect()
        };
        ids(self) == ids(other)
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// The configured keys, or in development one made once and kept in
    /// `<data_dir>/development-keys/<source.development_file>`, so that what
    /// was sealed before a restart still opens.
    pub fn load(
        configured: Option<&SecretString>,
        data_dir: &Path,
        source: &KeySource,
    ) -> Result<KeyRing, KeyError> {
        Ok(KeyRing::from_entries(load_keys(
            configured, data_dir, source,
        )?))
    }

    /// `ID:BASE64[,ID:BASE64…]`, the current key first.
    pub fn parse(configured: &str) -> Result<KeyRing, MalformedKeys> {
        parse_keys(configured).map(KeyRing::from_entries)
    }

    fn from_entries(entries: Vec<KeyEntry>) -> KeyRing {
        let keys = entries
            .into_iter()
            .map(|entry| MasterKey {
                cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(entry.bytes.as_slice())),
                fingerprint: Sha256::digest(entry.bytes.as_slice()).into(),
                id: entry.id,
            })
            .collect();
        KeyRing { keys }
    }

    /// The id of the key new values are sealed under.
    pub fn current_key_id(&self) -> &str {
        &self.current().id
    }

    fn current(&self) -> &MasterKey {
        // `parse` makes at least one key: `split` yields at least one entry.
        &self.keys[0]
    }

    /// Seals `plaintext` under the current key. `associated_data` says what
    /// the value is and where it belongs; opening needs the same.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Sealed {
        let key = self.current();
        let (nonce, ciphertext) = encrypt(&key.cipher, plaintext, associated_data);
        Sealed {
            key_id: key.id.clone(),
            nonce,
            ciphertext,
        }
    }

    pub fn open(&self, sealed: &Sealed, associated_data: &[u8]) -> Result<Vec<u8>, OpenError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| OpenError::UnknownKey(sealed.key_id.clone()))?;
        decrypt(
            &key.cipher,
            &sealed.nonce,
            &sealed.ciphertext,
            associated_data,
        )
    }

    /// `sealed` sealed again under the current key, or `None` when it
    /// already is: the step of a rotation that moves what an older key
    /// sealed to the new one, so the older key can then leave the ring.
    /// It opens first, so a value that does not authenticate is refused
    /// rather than passed on.
    pub fn reseal(
        &self,
        sealed: &Sealed,
        associated_data: &[u8],
    ) -> Result<Option<Sealed>, OpenError> {
        let plaintext = Zeroizing::new(self.open(sealed, associated_data)?);
        if sealed.key_id == self.current_key_id() {
            return Ok(None);
        }
        Ok(Some(self.seal(&plaintext, associated_data)))
    }
}

/// AES-256-GCM under a random 96-bit nonce from the OS CSPRNG.
fn encrypt(
    cipher: &Aes256Gcm,
    plaintext: &[u8],
    associated_data: &[u8],
) -> ([u8; NONCE_LEN], Vec<u8>) {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the OS random source works");
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: associated_data,
            },
        )
        // AES-GCM fails only past 64 GiB of plaintext.
        .expect("the plaintext fits AES-GCM's limit");
    (nonce, ciphertext)
}

fn decrypt(
    cipher: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    ciphertext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, OpenError> {
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: associated_data,
            },
        )
        .map_err(|_| OpenError::Tampered)
}

/// One configured key: its id and its 32 bytes, wiped when dropped.
pub struct KeyEntry {
    pub id: String,
    pub bytes: Zeroizing<Vec<u8>>,
}

/// The keys of one setting in the `ID:BASE64[,ID:BASE64…]` form (the
/// current key first), or in development one key made once and kept in
/// `<data_dir>/development-keys/<source.development_file>`. Key rings and
/// the access-token signing keys (Ed25519 seeds) share the form.
pub fn load_keys(
    configured: Option<&SecretString>,
    data_dir: &Path,
    source: &KeySource,
) -> Result<Vec<KeyEntry>, KeyError> {
    let parsed = match configured {
        Some(keys) => parse_keys(keys.expose_secret()),
        None => {
            let key = development_key(data_dir, source.development_file)?;
            parse_keys(&format!("{DEVELOPMENT_KEY_ID}:{}", key.trim()))
        }
    };
    parsed.map_err(|problem| KeyError::Invalid {
        setting: source.setting,
        problem,
    })
}

/// `ID:BASE64[,ID:BASE64…]`: at least one entry, ids unique.
pub fn parse_keys(configured: &str) -> Result<Vec<KeyEntry>, MalformedKeys> {
    let mut keys: Vec<KeyEntry> = Vec::new();
    for entry in configured.split(',').map(str::trim) {
        let (id, encoded) = entry
            .split_once(':')
            .ok_or(MalformedKeys("an entry has no ID: before its key"))?;
        let valid_id = (1..=MAX_KEY_ID_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_id {
            return Err(MalformedKeys("a key id is malformed"));
        }
        if keys.iter().any(|k| k.id == id) {
            return Err(MalformedKeys("a key id appears twice"));
        }
        let bytes = STANDARD
            .decode(encoded.trim())
            .ok()
            .filter(|bytes| bytes.len() == KEY_LEN)
            .map(Zeroizing::new)
            .ok_or(MalformedKeys("a key is not base64 of 32 bytes"))?;
        keys.push(KeyEntry {
            id: id.to_owned(),
            bytes,
        });
    }
    Ok(keys)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot keep the development key in {path}: {source}")]
pub struct DevelopmentKeyError {
    path: String,
    source: std::io::Error,
}

/// A development key, base64 of 32 random bytes: the one kept in
/// `<data_dir>/development-keys/<file_name>`, made on first use. Not
/// secret (it sits next to the data); production configures its keys.
pub fn development_key(data_dir: &Path, file_name: &str) -> Result<String, DevelopmentKeyError> {
    let dir = data_dir.join("development-keys");
    let path = dir.join(file_name);
    let io = |source| DevelopmentKeyError {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing);
    }
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut bytes = [0u8; KEY_LEN];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let key = STANDARD.encode(bytes);
    std::fs::write(&path, &key).map_err(io)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; KEY_LEN])
    }

    fn ring(entries: &[(&str, u8)]) -> KeyRing {
        let configured: Vec<String> = entries
            .iter()
            .map(|(id, byte)| format!("{id}:{}", key(*byte)))
            .collect();
        KeyRing::parse(&configured.join(",")).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_associated_data_only() {
        let keys = ring(&[("k1", 1)]);
        let sealed = keys.seal(b"482913", b"outbox body 1");
        assert_eq!(sealed.key_id(), "k1");
        assert!(!sealed.to_bytes().windows(6).any(|w| w == b"482913"));
        assert_eq!(keys.open(&sealed, b"outbox body 1").unwrap(), b"482913");
        assert_eq!(
            keys.open(&sealed, b"outbox body 2"),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn the_same_plaintext_seals_differently_each_time() {
        let keys = ring(&[("k1", 1)]);
        assert_ne!(keys.seal(b"same", b""), keys.seal(b"same", b""));
    }

    #[test]
    fn a_value_sealed_before_a_rotation_opens_under_the_older_key() {
        let before = ring(&[("k1", 1)]);
        let sealed = Sealed::from_bytes(&before.seal(b"482913", b"ad").to_bytes()).unwrap();
        let after = ring(&[("k2", 2), ("k1", 1)]);
        assert_eq!(after.current_key_id(), "k2");
        assert_eq!(after.open(&sealed, b"ad").unwrap(), b"482913");
        assert_eq!(after.seal(b"new", b"ad").key_id(), "k2");
    }

    #[test]
    fn tampering_with_any_part_of_a_sealed_value_fails_to_open() {
        let keys = ring(&[("k1", 1)]);
        let bytes = keys.seal(b"482913", b"ad").to_bytes();
        // Past the format byte and the key id: the nonce, ciphertext, tag.
        for at in 4..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[at] ^= 0x01;
            let sealed = Sealed::from_bytes(&tampered).unwrap();
            assert_eq!(keys.open(&sealed, b"ad"), Err(OpenError::Tampered), "{at}");
        }
        let truncated = Sealed::from_bytes(&bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(keys.open(&truncated, b"ad"), Err(OpenError::Tampered));
    }

    #[test]
    fn a_key_id_the_ring_does_not_hold_fails_cleanly() {
        let sealed = ring(&[("old", 1)]).seal(b"482913", b"ad");
        let keys = ring(&[("new", 2)]);
        assert_eq!(
            keys.open(&sealed, b"ad"),
            Err(OpenError::UnknownKey("old".into()))
        );
        // Another key under the same id authenticates nothing.
        let impostor = ring(&[("old", 3)]);
        assert_eq!(impostor.open(&sealed, b"ad"), Err(OpenError::Tampered));
    }

    #[test]
    fn rings_are_equal_when_their_keys_and_ids_are() {
        assert_eq!(ring(&[("k1", 1), ("k0", 0)]), ring(&[("k1", 1), ("k0", 0)]));
        assert_ne!(ring(&[("k1", 1)]), ring(&[("k1", 2)]));
        assert_ne!(ring(&[("k1", 1)]), ring(&[("k2", 1)]));
        assert_ne!(ring(&[("k1", 1), ("k0", 0)]), ring(&[("k0", 0), ("k1", 1)]));
    }

    #[test]
    fn malformed_sealed_values_are_refused() {
        for bytes in [&[][..], &[FORMAT_V1], &[2, 1, b'k'], &[FORMAT_V1, 5, b'k']] {
            assert_eq!(Sealed::from_bytes(bytes), Err(OpenError::Malformed));
        }
    }

    #[test]
    fn bad_key_configurations_are_refused() {
        let good = key(1);
        for bad in [
            String::new(),
            good.clone(),
            format!(":{good}"),
            format!("k1:{}", STANDARD.encode([1u8; 16])),
            "k1:not base64".to_owned(),
            format!("k1:{good},k1:{}", key(2)),
            format!("a key:{good}"),
            format!("{}:{good}", "k".repeat(17)),
        ] {
            assert!(KeyRing::parse(&bad).is_err(), "{bad}");
        }
        assert!(KeyRing::parse(&format!(" k1:{good} , k-2_b:{} ", key(2))).is_ok());
    }

    const SOURCE: KeySource = KeySource {
        setting: "secrets.test_keys (CITIZEN_API_SECRETS__TEST_KEYS)",
        development_file: "test.key",
    };

    #[test]
    fn development_keeps_one_key_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = KeyRing::load(None, dir.path(), &SOURCE)
            .unwrap()
            .seal(b"x", b"");
        let again = KeyRing::load(None, dir.path(), &SOURCE).unwrap();
        assert_eq!(again.current_key_id(), DEVELOPMENT_KEY_ID);
        assert_eq!(again.open(&sealed, b"").unwrap(), b"x");
        assert!(
            dir.path()
                .join("development-keys")
                .join(SOURCE.development_file)
                .exists()
        );
    }

    #[test]
    fn each_source_keeps_its_own_development_key() {
        let dir = tempfile::tempdir().unwrap();
        let other = KeySource {
            development_file: "other.key",
            ..SOURCE
        };
        let sealed = KeyRing::load(None, dir.path(), &SOURCE)
            .unwrap()
            .seal(b"x", b"");
        let other_ring = KeyRing::load(None, dir.path(), &other).unwrap();
        assert_eq!(other_ring.open(&sealed, b""), Err(OpenError::Tampered));
    }

    #[test]
    fn a_refused_configuration_names_its_setting_and_not_the_key() {
        let configured = SecretString::from(format!("k1:{}", STANDARD.encode([1u8; 16])));
        let dir = tempfile::tempdir().unwrap();
        let err = KeyRing::load(Some(&configured), dir.path(), &SOURCE)
            .unwrap_err()
            .to_string();
        assert!(err.contains("CITIZEN_API_SECRETS__TEST_KEYS"), "{err}");
        assert!(!err.contains(&STANDARD.encode([1u8; 16])), "{err}");
    }

    #[test]
    fn resealing_moves_a_value_to_the_current_key_once() {
        let sealed = ring(&[("old", 1)]).seal(b"data key", b"ad");
        let rotated = ring(&[("new", 2), ("old", 1)]);
        let moved = rotated.reseal(&sealed, b"ad").unwrap().unwrap();
        assert_eq!(moved.key_id(), "new");
        assert_eq!(rotated.reseal(&moved, b"ad"), Ok(None));
        assert_eq!(
            ring(&[("new", 2)]).open(&moved, b"ad").unwrap(),
            b"data key"
        );
        // Another value's associated data does not open, so is not moved.
        assert_eq!(rotated.reseal(&sealed, b"other"), Err(OpenError::Tampered));
    }
}
