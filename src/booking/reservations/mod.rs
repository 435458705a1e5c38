//! Reservations (R-BK-02 .. R-BK-08): booking, the citizen's own
//! reservations, and the serving department's desk.

mod booking;
mod change;
mod desk;
mod ics;
mod messages;
pub mod reminders;
mod routes;
pub mod store;
mod view;
mod visit;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    routes::routes(cfg);
    desk::routes(cfg);
}
pub use messages::{CancelledBy, ReservationLink, queue_cancellation_notice};
pub use view::{Reservation, ReservationStatus, local, local_midnight, zone as zone_of};
