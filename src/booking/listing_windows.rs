//! Each service's time zone and booking window, as the public slot listing
//! needs them, kept in memory for a few seconds.
//!
//! The listing is the busiest public endpoint, and reading these from the
//! catalogue on every page doubled the statements a page costs, though
//! they change only when an administrator saves a schedule. A save on this
//! instance forgets them at once; another instance keeps showing the old
//! window for at most [`TIME_TO_LIVE`]. That is harmless because the
//! listing only advises: booking checks the window again, in the seat's
//! own `UPDATE`.

use std::time::Duration;

use chrono_tz::Tz;
use mini_moka::sync::Cache;

use super::reservations::store::{BookingWindow, service_context};
use crate::db::DbConn;
use crate::domain::ids::ServiceId;
use crate::http::ApiError;

pub const TIME_TO_LIVE: Duration = Duration::from_secs(5);

/// What the listing needs of a service.
#[derive(Debug, Clone, Copy)]
pub struct ListingWindow {
    pub zone: Tz,
    /// `None` for a service without a schedule, which has nothing to book.
    pub window: Option<BookingWindow>,
}

pub struct ListingWindows(Cache<ServiceId, ListingWindow>);

impl ListingWindows {
    pub fn new() -> ListingWindows {
        ListingWindows(
            Cache::builder()
                // Bounded by the catalogue: only services that exist are kept.
                .max_capacity(100_000)
                .time_to_live(TIME_TO_LIVE)
                .build(),
        )
    }

    /// The service's window, from memory or from the catalogue; `404` for
    /// a service that does not exist (never remembered).
    pub fn get(
        &self,
        conn: &mut DbConn,
        service_id: &ServiceId,
    ) -> Result<ListingWindow, ApiError> {
        if let Some(found) = self.0.get(service_id) {
            return Ok(found);
        }
        let context = service_context(conn, service_id)?;
        let found = ListingWindow {
            zone: super::reservations::zone_of(&context),
            window: context.booking_window(),
        };
        self.0.insert(service_id.clone(), found);
        Ok(found)
    }

    /// After a schedule changed here, so this instance lists by it at once.
    pub fn forget(&self, service_id: &ServiceId) {
        self.0.invalidate(service_id);
    }
}

impl Default for ListingWindows {
    fn default() -> ListingWindows {
        ListingWindows::new()
    }
}
