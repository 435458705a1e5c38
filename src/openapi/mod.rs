//! The passes over the generated OpenAPI document that add what handlers'
//! annotations cannot say (every operation's standard problem responses,
//! the headers middleware adds), and the problem responses that handlers
//! name in their annotations. It imports nothing of this crate, so every
//! layer may use it.

pub mod headers;
pub mod problems;
mod walk;

pub use headers::{Middleware, document_headers};
pub use problems::document_errors;
