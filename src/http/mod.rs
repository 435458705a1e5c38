//! What every endpoint shares: problem+json errors, the language of error
//! texts, extractor error handling, the 404/405 fallback, pagination, and
//! the client's address behind reverse proxies.

mod bearer;
pub mod client_address;
mod cors;
mod error;
mod extractors;
mod fallback;
mod json_body;
pub mod json_time;
mod language;
mod pagination;
pub mod rate_limit;
mod validation;

/// The request header that makes a create safe to retry; the idempotency
/// module keeps the first answer. Here because CORS must let browsers send it.
pub const IDEMPOTENCY_KEY: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("idempotency-key");

pub use crate::domain::Text;
pub use bearer::{bearer_token, unauthenticated};
pub use cors::cors;
pub use error::{
    ApiError, ErrorCode, FieldError, FieldProblem, Problem, ProtocolError, render_problems,
};
pub use extractors::{extractor_configs, parse_optional_json, parse_path_afm, parse_path_id};
pub use fallback::{RouteTable, no_route};
pub use json_body::{JsonBody, whole_number};
pub use language::Lang;
pub use pagination::{Cursor, Page, PageExample, PageParams, PageRequest};
pub use validation::{Description, DocumentTitle, Name, Note, Validation};
