//! `Idempotency-Key` on create requests: the same key from the same caller
//! to the same place (method, route template and path parameters) with the
//! same body answers the first response again; with another body,
//! `422 idempotency_key_reused`. Sent to another place (another
//! municipality's departments, say), the same key is another request.
//!
//! The key is inserted first thing in the very transaction that does the
//! work, and the response stored before it commits. A concurrent request
//! with the same key therefore waits on the key's row (PostgreSQL) or the
//! write lock (SQLite), finds it taken once the first commits, and replays
//! the stored answer.
//!
//! The work runs inside a savepoint. When it ends in an answer about the
//! request itself (`404`, `409`, `422`: no such slot, the slot is full,
//! ...), its writes are rolled back to the savepoint and the error is kept
//! under the key instead, so a repeat gets that answer again, as docs/api.md
//! promises of "the first response". Failures that say nothing about the
//! request (`401`/`403` for the credential as it was, `5xx`) roll the key
//! back with everything else, so a retry runs again.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Text as SqlText;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_records;
use crate::db::{Db, DbConn, fixed_update};
pub use crate::http::IDEMPOTENCY_KEY;
use crate::http::{ApiError, ErrorCode, FieldError, JsonBody, Text};

const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A validated key: 1 to 255 visible ASCII characters.
#[derive(Clone)]
struct IdempotencyKey(String);

impl IdempotencyKey {
    fn from_headers(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
            return Ok(None);
        };
        let bytes = value.as_bytes();
        if (1..=255).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic) {
            Ok(Some(IdempotencyKey(
                String::from_utf8_lossy(bytes).into_owned(),
            )))
        } else {
            Err(ApiError::validation(vec![FieldError::new(
                "Idempotency-Key",
                "invalid_format",
                Text::new(
                    "Το Idempotency-Key έχει 1 έως 255 ορατούς χαρακτήρες ASCII.",
                    "Idempotency-Key is 1 to 255 visible ASCII characters.",
                ),
            )]))
        }
    }
}

/// What a request is, for telling "the same request again" from "another
/// request under a used key".
fn request_hash(request: &impl Serialize) -> String {
    let canonical = serde_json::to_vec(request).expect("request types serialize");
    hex::encode(Sha256::digest(canonical))
}

/// Where a request went: its method, route template and path parameters.
/// Hashed, so that however long the path, the key's row fits its index.
fn request_scope(req: &HttpRequest) -> String {
    let template = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let parameters: Vec<(&str, &str)> = req.match_info().iter().collect();
    request_hash(&(req.method().as_str(), template, parameters))
}

/// A create request's key, if it has one, where it went and what its body
/// was.
#[derive(Clone)]
pub struct Once {
    key: Option<IdempotencyKey>,
    scope: String,
    request_hash: String,
}

/// A create request's JSON body with its [`Once`]: handlers that honour
/// `Idempotency-Key` take this instead of [`JsonBody`] and hand `once`
/// to [`run_once`] or [`run_once_in`]. A malformed key is refused before
/// the body is read.
pub struct Idempotent<T> {
    pub body: T,
    pub once: Once,
}

impl<T: DeserializeOwned + Serialize + 'static> FromRequest for Idempotent<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Idempotent<T>, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = IdempotencyKey::from_headers(req.headers());
        let scope = request_scope(req);
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move {
            let key = key?;
            let body = body.await?.into_inner();
            let request_hash = request_hash(&body);
            Ok(Idempotent {
                body,
                once: Once {
                    key,
                    scope,
                    request_hash,
                },
            })
        })
    }
}

enum Outcome {
    Done(String),
    /// The work refused the request; the refusal is kept under the key.
    Refused(ApiError),
    Duplicate,
    Failed(ApiError),
}

/// Whether an answer with `status` is kept under the key and replayed:
/// successes, and refusals that answer the request itself.
pub fn is_kept(status: StatusCode) -> bool {
    status.is_success() || matches!(status.as_u16(), 404 | 409 | 410 | 422)
}

impl From<DieselError> for Outcome {
    fn from(error: DieselError) -> Outcome {
        Outcome::Failed(error.into())
    }
}

impl From<ApiError> for Outcome {
    fn from(error: ApiError) -> Outcome {
        Outcome::Failed(error)
    }
}

fixed_update! {
    /// The first answer, kept for the key's repeats.
    StoreAnswer {
        body: str as SqlText, caller: str as SqlText, scope: str as SqlText, key: str as SqlText,
    }
    = "UPDATE idempotency_records SET body = ? WHERE caller = ? AND scope = ? AND key = ?"
}

/// Runs `work` in one transaction, under `key` when there is one, and
/// answers `status` with its JSON.
pub async fn run_once<T, F>(
    db: &Db,
    caller: String,
    once: Once,
    status: StatusCode,
    now: NaiveDateTime,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Clone + Send + 'static,
{
    db.run(move |conn| run_once_in(conn, caller, once, status, now, work))
        .await
        .map(Answer::into_response)
}

/// An answer to send, first-time or replayed.
pub struct Answer {
    status: StatusCode,
    body: String,
    replayed: bool,
}

/// [`run_once`] on a connection the caller already holds, for handlers that
/// do more in the same checkout (e.g. look the session up first).
pub fn run_once_in<T, F>(
    conn: &mut DbConn,
    caller: String,
    Once {
        key,
        scope,
        request_hash,
    }: Once,
    status: StatusCode,
    now: NaiveDateTime,
    work: F,
) -> Result<Answer, ApiError>
where
    T: Serialize,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError>,
{
    let json = |done: T| serde_json::to_string(&done).map_err(ApiError::internal);
    let Some(IdempotencyKey(key)) = key else {
        let body = crate::db::write_transaction(conn, |tx| json(work(tx)?))?;
        return Ok(Answer {
            status,
            body,
            replayed: false,
        });
    };
    let result = crate::db::write_transaction(conn, |tx| -> Result<Outcome, Outcome> {
        let inserted = diesel::insert_into(idempotency_records::table)
            .values((
                idempotency_records::caller.eq(&caller),
                idempotency_records::scope.eq(&scope),
                idempotency_records::key.eq(&key),
                idempotency_records::request_hash.eq(&request_hash),
                idempotency_records::status.eq(i32::from(status.as_u16())),
                idempotency_records::body.eq(""),
                idempotency_records::created_at.eq(now),
            ))
            .execute(tx);
        match inserted {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(Outcome::Duplicate);
            }
            other => other?,
        };
        match tx.transaction(|savepoint| work(savepoint)) {
            Ok(done) => {
                let body = json(done)?;
                StoreAnswer {
                    body: &body,
                    caller: &caller,
                    scope: &scope,
                    key: &key,
                }
                .execute(tx)?;
                Ok(Outcome::Done(body))
            }
            Err(refusal) if is_kept(refusal.code().status()) => {
                diesel::update(idempotency_records::table.find((&caller, &scope, &key)))
                    .set((
                        idempotency_records::status.eq(i32::from(refusal.code().status().as_u16())),
                        idempotency_records::body.eq(refusal.to_kept()),
                    ))
                    .execute(tx)?;
                Ok(Outcome::Refused(refusal))
            }
            Err(failure) => Err(Outcome::Failed(failure)),
        }
    });
    let (status, body, replayed) = match result.unwrap_or_else(|o| o) {
        Outcome::Done(body) => (status, body, false),
        Outcome::Refused(error) | Outcome::Failed(error) => return Err(error),
        Outcome::Duplicate => {
            let (stored_hash, stored_status, body): (String, i32, String) =
                idempotency_records::table
                    .find((&caller, &scope, &key))
                    .select((
                        idempotency_records::request_hash,
                        idempotency_records::status,
                        idempotency_records::body,
                    ))
                    .first(conn)?;
            if stored_hash != request_hash {
                return Err(ApiError::new(ErrorCode::IdempotencyKeyReused));
            }
            let status = u16::try_from(stored_status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| ApiError::internal("a stored idempotent status is not a status"))?;
            if status.is_client_error() {
                let refusal = ApiError::from_kept(&body)
                    .ok_or_else(|| ApiError::internal("a kept idempotent refusal is unreadable"))?;
                return Err(refusal.with_header(REPLAYED, HeaderValue::from_static("true")));
            }
            (status, body, true)
        }
    };
    Ok(Answer {
        status,
        body,
        replayed,
    })
}

impl Answer {
    pub fn into_response(self) -> HttpResponse {
        let Answer {
            status,
            body,
            replayed,
        } = self;
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/json"));
        if replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.body(body)
    }
}
