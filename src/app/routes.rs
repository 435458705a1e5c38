//! The route list: every route of the API, in one place.

use crate::{auth, booking, consent, oauth, ops, photos};

/// Every route of the API; the OpenAPI document is generated from the same
/// registration.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    ops::routes(cfg);
    auth::routes(cfg);
    booking::routes(cfg);
    photos::routes(cfg);
    oauth::routes(cfg);
    consent::routes(cfg);
}
