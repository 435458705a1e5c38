//! Everything that exists only in development: the demo data, the TAXISnet
//! stand-in, and the `/dev/*` endpoints (the development outbox and contact
//! registry). Only the composition root mounts it, only in the development
//! profile, and outside the OpenAPI document, which describes the production
//! API. Production refuses every setting that would turn it on.

mod contact_registry;
pub mod demo;
pub mod demo_apps;
pub mod demo_photos;
#[doc(hidden)]
pub mod fixtures;
#[doc(hidden)]
pub use crate::photos::images::fixtures as images;
mod outbox;
mod taxisnet;

use actix_web::web;

use crate::config::{Profile, Settings};
pub use taxisnet::DevelopmentProvider;

/// Where the TAXISnet stand-in serves, under this service.
pub const TAXISNET_PATH: &str = "/dev/taxisnet/oauth2server";

/// The TAXISnet stand-in is mounted only where both the profile and the
/// setting allow it; production refuses the setting at start.
pub fn taxisnet_enabled(settings: &Settings) -> bool {
    settings.profile == Profile::Development && settings.auth.development_provider
}

/// The `/dev/*` routes; the TAXISnet stand-in only when `provider` is given.
pub fn routes(cfg: &mut web::ServiceConfig, provider: Option<web::Data<DevelopmentProvider>>) {
    outbox::routes(cfg);
    contact_registry::routes(cfg);
    if let Some(provider) = provider {
        cfg.service(web::scope(TAXISNET_PATH).configure(|cfg| taxisnet::routes(cfg, provider)));
    }
}
