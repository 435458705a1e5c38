//! Keyset pagination: `?limit=&cursor=` in, `{"items", "next_cursor"}` out.
//! The cursor is the sort key of the last item returned, opaque to callers,
//! so pages stay stable while rows are added.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, FieldError, Text};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// The query parameters of every list endpoint. Taken as text and parsed
/// here, so that a bad value is reported against its own name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return: 1 to 200, default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page, as it came; omit for the first
    /// page. Any other value is refused (`422 invalid_cursor`).
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A validated page request whose cursor decoded to the sort key `K`.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: u32,
    pub after: Option<K>,
}

impl PageParams {
    pub fn parse<K: DeserializeOwned>(&self) -> Result<PageRequest<K>, ApiError> {
        let mut errors = Vec::new();
        let limit = match self.limit.as_deref().map(str::parse::<u32>) {
            None => DEFAULT_LIMIT,
            Some(Ok(limit)) if (1..=MAX_LIMIT).contains(&limit) => limit,
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    Text::new(
                        format!("Το limit πρέπει να είναι ακέραιος από 1 έως {MAX_LIMIT}."),
                        format!("limit must be a whole number from 1 to {MAX_LIMIT}."),
                    ),
                ));
                DEFAULT_LIMIT
            }
        };
        let after = match self.cursor.as_deref().map(Cursor::decode) {
            None => None,
            Some(Some(key)) => Some(key),
            Some(None) => {
                errors.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    Text::new(
                        "Ο cursor δεν είναι έγκυρος· χρησιμοποιήστε το next_cursor της προηγούμενης σελίδας.",
                        "The cursor is not valid; pass the next_cursor of the previous page.",
                    ),
                ));
                None
            }
        };
        if errors.is_empty() {
            Ok(PageRequest { limit, after })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// Opaque cursor: the sort key as base64url-encoded JSON.
pub struct Cursor;

impl Cursor {
    pub fn encode<K: Serialize>(key: &K) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("sort keys serialize"))
    }

    fn decode<K: DeserializeOwned>(cursor: &str) -> Option<K> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What a page of `T` shows as its example in the OpenAPI document. Each
/// `Page<T>` is a schema of its own (`Page_Slot`, `Page_Reservation`, …), so
/// each shows items of its own kind.
pub trait PageExample {
    /// One item, as the API shows it.
    fn item() -> serde_json::Value;
    /// That item's sort key, which the page's `next_cursor` encodes.
    fn key() -> serde_json::Value;
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(bound = "T: ToSchema + PageExample", example = Self::example)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: PageExample> Page<T> {
    /// The documented example: one item and the cursor after it.
    fn example() -> serde_json::Value {
        serde_json::json!({
            "items": [T::item()],
            "next_cursor": Cursor::encode(&T::key()),
        })
    }
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra
    /// row only tells that there is more.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|last| Cursor::encode(&key(last))))
            .flatten();
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ErrorCode;

    fn params(limit: Option<&str>, cursor: Option<&str>) -> PageParams {
        PageParams {
            limit: limit.map(Into::into),
            cursor: cursor.map(Into::into),
        }
    }

    #[test]
    fn defaults_and_bounds() {
        let request: PageRequest<String> = params(None, None).parse().unwrap();
        assert_eq!((request.limit, request.after), (50, None));
        for ok in ["1", "200"] {
            assert!(params(Some(ok), None).parse::<String>().is_ok());
        }
        for bad in ["0", "201", "-1", "ten", ""] {
            let err = params(Some(bad), None).parse::<String>().unwrap_err();
            assert_eq!(err.code(), ErrorCode::ValidationFailed, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = ("Δήμος".to_owned(), "0190".to_owned());
        let cursor = Cursor::encode(&key);
        let request: PageRequest<(String, String)> = params(None, Some(&cursor)).parse().unwrap();
        assert_eq!(request.after, Some(key));
        for bad in ["!!", "e30", "bm90IGpzb24"] {
            assert!(
                params(None, Some(bad)).parse::<(String, String)>().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_page_with_more_rows_has_a_cursor_to_its_last_item() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(Cursor::encode(&2)));
        assert_eq!(Page::from_rows(vec![1, 2], 2, |n| *n).next_cursor, None);
    }
}
