//! Black-box HTTP tests: one binary, each test against its own real server
//! and database (see `helpers`).

mod administration;
mod auth;
mod booking_support;
mod catalogue;
mod consent_access_log;
mod consent_demo;
mod consent_fetch;
mod consent_grants;
mod consent_support;
mod desk;
mod errors;
mod helpers;
mod migrations;
mod notify;
mod oauth_apps;
mod oauth_introspection;
mod oauth_support;
mod oauth_token;
mod openapi;
mod operations;
mod photo_demo;
mod photo_linking;
mod photo_studios;
mod photo_support;
mod photo_uploads;
mod reminders;
mod reservations;
mod retention;
mod roles;
mod support;
mod trusted_proxies;
