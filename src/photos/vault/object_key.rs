//! Object keys: where a sealed photo lies in the store. 122 random bits,
//! never derived from the citizen, the studio or the time.

use object_store::path::Path;
use uuid::Uuid;

use super::VaultError;

/// A new key, `<two hex digits>/<random UUID>`: the prefix (the UUID's
/// first two digits) spreads the local store's files over 256 folders
/// instead of one that grows without end.
pub(super) fn new_object_key() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    format!("{}/{id}", &id[..2])
}

/// The store's path of `object_key` when it has the form
/// [`new_object_key`] gives, and an error otherwise: a key that came from
/// anywhere else (an altered row) then names no other file of the store,
/// and no file outside it.
pub(super) fn object_path(object_key: &str) -> Result<Path, VaultError> {
    let well_formed = object_key.split_once('/').is_some_and(|(prefix, id)| {
        Uuid::try_parse(id).is_ok_and(|uuid| {
            uuid.get_version_num() == 4 && uuid.to_string() == id && id.get(..2) == Some(prefix)
        })
    });
    if !well_formed {
        return Err(VaultError::MalformedObjectKey);
    }
    Ok(Path::from(object_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_random_and_have_the_form_they_are_read_in() {
        let (a, b) = (new_object_key(), new_object_key());
        assert_ne!(a, b);
        assert_eq!(object_path(&a).unwrap().as_ref(), a);
    }

    #[test]
    fn keys_of_any_other_form_are_refused() {
        let good = new_object_key();
        let id = &good[3..];
        for bad in [
            String::new(),
            id.to_owned(),
            format!("zz/{id}"),
            format!("{}/{}", &good[..2], id.to_uppercase()),
            format!("{good}/more"),
            format!("../{id}"),
            "00/00000000-0000-0000-0000-000000000000".to_owned(),
            "../../etc/passwd".to_owned(),
        ] {
            assert!(
                matches!(object_path(&bad), Err(VaultError::MalformedObjectKey)),
                "{bad}"
            );
        }
    }
}
