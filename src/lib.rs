//! citizen-api: the public REST API for municipal appointments and ID photos
//! with consent. See `docs/architecture.md` for the map.

pub mod app;
pub mod audit;
pub mod auth;
pub mod booking;
pub mod clock;
pub mod config;
pub mod consent;
pub mod crypto;
pub mod db;
pub mod dev;
pub mod domain;
pub mod http;
pub mod idempotency;
pub mod notify;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod photos;
pub mod retention;
pub mod telemetry;

pub use app::Application;
pub use config::Settings;
