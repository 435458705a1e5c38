//! The passes over the generated OpenAPI document that add what handlers'
//! annotations cannot say (every operation's standard problem responses,
//! the headers middleware adds), and the problem responses that handlers
//! name in their annotations. Its examples are the server's own problems
//! (`crate::http`), and what it must know of the middleware above it is
//! handed in by the composition root.

pub mod binary;
pub mod headers;
pub mod problems;
mod tidy;
mod walk;

pub use headers::{Middleware, document_headers};
pub use problems::document_errors;
pub use tidy::{drop_unused_components, mark_public_operations};
