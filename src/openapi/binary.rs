//! The schema of a response body of raw bytes (an image, a QR code, an
//! archive): a `Vec<u8>` body would be documented as an array of numbers,
//! which no client generator turns into a file.

use utoipa::ToSchema;

/// The file itself, as the response's media type says.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, example = "(the file)")]
#[allow(dead_code)] // Only its schema is used: handlers answer the bytes.
pub struct BinaryBody(Vec<u8>);
