//! The public catalogue (R-BK-02): which municipalities take bookings and
//! which thematic services each offers, with the documents they require
//! (R-BK-04, R-BK-05).

mod admin;
mod routes;
pub mod store;

pub use routes::{Department, Municipality, Service, document_texts};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    routes::routes(cfg);
    admin::routes(cfg);
}
