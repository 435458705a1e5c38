//! How a kodikarithmos is kept: a keyed hash to find its submission by,
//! and the code sealed under the photo master key, bound to its
//! submission, to print it again in the QR code and the archive (R-PH-14).
//! Never in clear (docs/photos.md, "The kodikarithmos at rest").

use crate::auth::HmacKey;
use crate::crypto::{KeyRing, Sealed};
use crate::domain::Kodikarithmos;
use crate::domain::ids::SubmissionId;
use crate::http::ApiError;

/// The keyed hash a submission is found by.
pub fn code_hash(key: &HmacKey, code: &Kodikarithmos) -> String {
    key.sign(&["kodikarithmos", code.canonical()])
}

fn associated_data(id: &SubmissionId) -> Vec<u8> {
    format!("kodikarithmos:{id}").into_bytes()
}

pub fn seal_code(ring: &KeyRing, id: &SubmissionId, code: &Kodikarithmos) -> Vec<u8> {
    ring.seal(code.canonical().as_bytes(), &associated_data(id))
        .to_bytes()
}

/// The code sealed for `id`; a value that does not open (another row's,
/// or a key no longer in the ring) is an internal error.
pub fn open_code(
    ring: &KeyRing,
    id: &SubmissionId,
    sealed: &[u8],
) -> Result<Kodikarithmos, ApiError> {
    let sealed = Sealed::from_bytes(sealed).map_err(ApiError::internal)?;
    let plain = ring
        .open(&sealed, &associated_data(id))
        .map_err(ApiError::internal)?;
    let text = String::from_utf8(plain).map_err(ApiError::internal)?;
    Kodikarithmos::parse(&text).map_err(ApiError::internal)
}

/// The code sealed again under the current key, or `None` when it already
/// is (a rotation's step, see `rotation`).
pub fn reseal_code(
    ring: &KeyRing,
    id: &SubmissionId,
    sealed: &[u8],
) -> Result<Option<Vec<u8>>, ApiError> {
    let sealed = Sealed::from_bytes(sealed).map_err(ApiError::internal)?;
    let resealed = ring
        .reseal(&sealed, &associated_data(id))
        .map_err(ApiError::internal)?;
    Ok(resealed.map(|sealed| sealed.to_bytes()))
}
