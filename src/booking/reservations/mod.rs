//! Reservations (R-BK-02 .. R-BK-08): booking, the citizen's own
//! reservations, and the serving department's desk.

mod booking;
mod ics;
mod routes;
pub mod store;
mod view;

pub use routes::routes;
pub use view::{Reservation, ReservationStatus, local, local_midnight, zone as zone_of};
