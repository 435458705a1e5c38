//! What every endpoint shares: problem+json errors, the language of error
//! texts, extractor error handling, the 404/405 fallback, pagination, and
//! the client's address behind reverse proxies.

pub mod client_address;
mod cors;
mod error;
mod extractors;
mod fallback;
pub mod header_docs;
pub mod idempotency;
mod json_body;
pub mod json_time;
mod language;
mod pagination;
pub mod problem_docs;
pub mod rate_limit;
mod validation;

pub use cors::{cors, is_origin};
pub use error::{ApiError, ErrorCode, FieldError, FieldProblem, Problem, Text, render_problems};
pub use extractors::{extractor_configs, parse_optional_json, parse_path_id};
pub use fallback::{RouteTable, no_route};
pub use json_body::{JsonBody, whole_number};
pub use language::Lang;
pub use pagination::{Cursor, Page, PageExample, PageParams, PageRequest};
pub use validation::{Description, DocumentTitle, Name, Note, Validation};
