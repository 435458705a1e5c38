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

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::catalogue::{Department, Municipality, Service, store::NameKey};
    use super::reservations::Reservation;
    use super::slots::Slot;
    use crate::domain::ids::{DepartmentId, MunicipalityId, ReservationId, ServiceId, SlotId};
    use crate::http::PageExample;

    /// A page's documented item reads as `T` and writes back unchanged, and
    /// its sort key is what the list endpoint's cursor decodes to.
    fn documented_as_written<T: PageExample + Serialize + DeserializeOwned, K: DeserializeOwned>() {
        let item = T::item();
        let read: T = serde_json::from_value(item.clone()).expect("the example reads");
        assert_eq!(serde_json::to_value(read).unwrap(), item);
        serde_json::from_value::<K>(T::key()).expect("the key reads");
    }

    #[test]
    fn page_examples_are_what_the_api_writes() {
        documented_as_written::<Municipality, NameKey<MunicipalityId>>();
        documented_as_written::<Department, NameKey<DepartmentId>>();
        documented_as_written::<Service, NameKey<ServiceId>>();
        documented_as_written::<Slot, (NaiveDateTime, SlotId)>();
        documented_as_written::<Reservation, (NaiveDateTime, ReservationId)>();
    }
}
