//! Municipal appointments (R-BK-*): the catalogue of municipalities,
//! departments and service categories that citizens book.

pub mod catalogue;
pub mod listing_windows;
pub mod reservations;
mod roles;
pub mod schedule;
mod slots;
mod statistics;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    catalogue::routes(cfg);
    roles::routes(cfg);
    reservations::routes(cfg);
    slots::routes(cfg);
    schedule::routes(cfg);
    statistics::routes(cfg);
}
