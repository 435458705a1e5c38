//! Schedules and slots (R-BK-02, R-BK-09): the pure rules (Greek public
//! holidays, weekly opening hours, slot generation across daylight saving)
//! and the administrators' endpoints that store them and materialize slots.
//!
//! The rules touch neither the database nor HTTP, so they can be tested
//! exhaustively, and slot generation stays a deterministic function that
//! the store upserts on `(service, starts_at)`.

pub mod holidays;
mod routes;
pub mod slots;
pub mod store;
pub mod weekly;

pub use holidays::{Holiday, holiday_on, orthodox_easter, public_holidays};
pub use routes::routes;
pub use slots::{MAX_GENERATION_DAYS, SlotTimes, generate};
pub use weekly::{OpeningRange, Schedule, ScheduleError, ScheduleErrorKind};

use chrono::{NaiveDate, NaiveDateTime};

use crate::booking::catalogue::store::duration_minutes;
use crate::booking::reservations::store::ServiceContext;
use crate::booking::reservations::zone_of;
use crate::db::DbConn;
use crate::http::ApiError;

/// Materializes the slots a service's schedule gives in `[from, to]`;
/// answers (slots in the range, of which new). Idempotent: existing starts
/// are left alone. A service without a schedule has none.
pub fn materialize(
    conn: &mut DbConn,
    service: &ServiceContext,
    from: NaiveDate,
    to: NaiveDate,
    now: NaiveDateTime,
) -> Result<(usize, usize), ApiError> {
    let Some(row) = store::schedule(conn, &service.service_id)? else {
        return Ok((0, 0));
    };
    let schedule = row.schedule()?;
    let duration = duration_minutes(conn, &service.service_id)?;
    let times: Vec<_> = generate(&schedule, duration, from, to, zone_of(service))
        .into_iter()
        .map(|s| (s.starts_at, s.ends_at))
        .collect();
    let created = store::insert_slots(conn, &service.service_id, &times, row.seats_per_slot, now)?;
    Ok((times.len(), created))
}
