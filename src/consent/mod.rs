//! Citizens' consents to applications, and what applications fetch with
//! them (R-PH-15, R-PH-16, R-PH-18; docs/photos.md, "Consent and fetch"):
//! a consent is given on one link of the photos and counts while that link
//! stands and it is not revoked (`rules.rs`); the citizen grants, lists and
//! revokes (`grants.rs`, `citizen.rs`); an application fetches an image,
//! each call decided and logged in one transaction (`access.rs`,
//! `applications.rs`), and the citizen reads that log.
//!
//! This slice reads the photos and the applications; neither knows it.

pub mod access;
pub mod applications;
pub mod citizen;
pub mod grants;
pub mod rules;
pub mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    citizen::routes(cfg);
    applications::routes(cfg);
}
