//! JSON request bodies whose errors name the field. actix's `web::Json`
//! reports any value of the wrong type, or a missing field, against the
//! whole body; a form cannot show that next to the right input.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::{ApiError, ErrorCode, FieldError, Text};

/// A JSON body read like `web::Json<T>` (the same content type check, size
/// limit and `400 malformed_json`), then deserialized with the path of the
/// first value that does not fit: `422` with `legal_entity.afm` as the
/// field, not `body`.
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<JsonBody<T>, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Checked for syntax only, not turned into a tree.
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?;
            Ok(JsonBody(deserialize(raw.get().as_bytes())?))
        })
    }
}

/// Deserializes a JSON text; a value of the wrong shape is a `422` naming
/// its field, malformed JSON a `400`.
pub fn deserialize<T: DeserializeOwned>(json: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(shape_error)?;
    reader.end().map_err(malformed)?;
    Ok(value)
}

pub(super) fn malformed(error: serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::MalformedJson).with_detail(Text::new(
        format!("Το σώμα δεν είναι έγκυρο JSON: {error}"),
        format!("The body is not valid JSON: {error}"),
    ))
}

fn shape_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let error = error.into_inner();
    if !error.is_data() {
        return malformed(error);
    }
    let message = error.to_string();
    let within = |name: &str| match path.as_str() {
        "." => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    // serde words a missing field `missing field `name``, with the path at
    // the object that lacks it.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| within(name));
    // serde reads a struct from an array too, so a body that is an array
    // fails at `[0]`: the body itself has the wrong shape.
    let (field, code) = match missing {
        Some(field) => (field, "missing"),
        None if path == "." || path.starts_with('[') => ("body".to_owned(), "invalid_shape"),
        None => (path, "invalid_shape"),
    };
    ApiError::validation(vec![FieldError::new(
        field,
        code,
        Text::new(format!("Μη αναμενόμενη τιμή: {message}"), message),
    )])
}

/// For `#[serde(deserialize_with)]` on an integer field: also takes a whole
/// number written with a fraction (`20.0`). JSON Schema counts it as an
/// integer, so a client that follows the document may send it; refusing it
/// would refuse a request the document allows.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::Deserialize;
    use serde::de::{Error, Unexpected};
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = match (number.as_i64(), number.as_f64()) {
        (Some(whole), _) => Some(whole),
        // Within ±2^53 every whole f64 is exact, and the cast cannot saturate.
        (None, Some(float)) if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 => {
            Some(float as i64)
        }
        _ => None,
    };
    whole
        .and_then(|whole| T::try_from(whole).ok())
        .ok_or_else(|| {
            D::Error::invalid_value(
                Unexpected::Other(&number.to_string()),
                &"a whole number in range",
            )
        })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // read by serde only
    struct Entity {
        name: String,
        afm: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        phone: String,
        verified: bool,
        entity: Option<Entity>,
        documents: Vec<Entity>,
    }

    fn field_and_code(json: &str) -> (String, String) {
        let problem = deserialize::<Body>(json.as_bytes())
            .unwrap_err()
            .problem(crate::http::Lang::En);
        let field = &problem.errors[0];
        (field.field.clone(), field.code.clone())
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(
            field_and_code(r#"{"verified":true,"documents":[]}"#),
            pair("phone", "missing")
        );
        assert_eq!(
            field_and_code(r#"{"phone":"1","verified":true,"entity":{"name":"x"},"documents":[]}"#),
            pair("entity.afm", "missing")
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_with_its_path() {
        assert_eq!(
            field_and_code(r#"{"phone":"1","verified":"yes","documents":[]}"#),
            pair("verified", "invalid_shape")
        );
        assert_eq!(
            field_and_code(
                r#"{"phone":"1","verified":true,"documents":[{"name":"a","afm":"b"},{"name":2,"afm":"b"}]}"#
            ),
            pair("documents[1].name", "invalid_shape")
        );
        for body in ["[1]", "\"x\""] {
            assert_eq!(
                field_and_code(body),
                pair("body", "invalid_shape"),
                "{body}"
            );
        }
    }

    #[test]
    fn malformed_json_and_trailing_text_are_not_field_errors() {
        for json in [
            r#"{"phone":"#,
            r#"{"phone":"1","verified":true,"documents":[]} x"#,
        ] {
            let error = deserialize::<Body>(json.as_bytes()).unwrap_err();
            assert_eq!(error.code(), ErrorCode::MalformedJson, "{json}");
        }
    }
}
