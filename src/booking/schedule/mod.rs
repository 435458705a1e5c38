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

use std::collections::HashMap;

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::booking::catalogue::store::duration_minutes;
use crate::booking::reservations::store::ServiceContext;
use crate::booking::reservations::{local_midnight, zone_of};
use crate::db::DbConn;
use crate::domain::ids::SlotId;
use crate::http::ApiError;

/// What bringing a range's slots in line with the schedule did.
#[derive(Debug, Default)]
pub struct Materialized {
    /// Slots the schedule gives in the range.
    pub slots_in_range: usize,
    /// Of those, the ones that did not exist yet.
    pub created: usize,
    /// Future slots given the schedule's seats (never fewer than they have
    /// booked) or, unbooked, the service's new length.
    pub resized: usize,
    /// Future slots the schedule no longer gives (a date closed, hours or
    /// the service's length changed) that nobody had booked: withdrawn.
    pub withdrawn: usize,
    /// Future slots the schedule no longer gives that hold bookings: kept
    /// for those bookings but closed to new ones, for an administrator to
    /// withdraw (which tells the citizens) or keep.
    pub kept_booked: Vec<SlotId>,
}

/// Brings a service's slots in `[from, to]` (days in its zone) in line with
/// its schedule: creates the missing ones (a start that has a slot is not
/// created again, so running it twice changes nothing), gives future ones
/// the schedule's seats, and withdraws future ones it no longer gives, or,
/// when booked, closes them to new bookings. Past slots are history and stay
/// as they are; withdrawn ones stay withdrawn, even where the schedule gives
/// them again (an administrator withdrew them on purpose). A service
/// without a schedule has none.
pub fn materialize(
    conn: &mut DbConn,
    service: &ServiceContext,
    from: NaiveDate,
    to: NaiveDate,
    now: NaiveDateTime,
) -> Result<Materialized, ApiError> {
    let Some(row) = store::schedule(conn, &service.service_id)? else {
        return Ok(Materialized::default());
    };
    let schedule = row.schedule()?;
    let duration = duration_minutes(conn, &service.service_id)?;
    let zone = zone_of(service);
    let times: Vec<_> = generate(&schedule, duration, from, to, zone)
        .into_iter()
        .map(|s| (s.starts_at, s.ends_at))
        .collect();
    let created = store::insert_slots(conn, &service.service_id, &times, row.seats_per_slot, now)?;

    let until = local_midnight(to + Days::new(1), zone);
    let after = local_midnight(from, zone).max(now);
    let given: HashMap<_, _> = times
        .iter()
        .map(|(starts, ends)| (starts.naive_utc(), ends.naive_utc()))
        .collect();
    // A start the schedule no longer gives goes; one it gives with another
    // end (the service's length changed) is stretched, since the start is
    // the slot's key and a new slot could not be made beside it.
    let (mut matching, mut gone, mut kept_booked) = (Vec::new(), Vec::new(), Vec::new());
    let mut stretched = 0;
    for slot in store::open_slots_between(conn, &service.service_id, after, until)? {
        match given.get(&slot.starts_at) {
            Some(ends) if *ends == slot.ends_at => matching.push(slot.id),
            Some(ends) if store::set_end_if_unbooked(conn, &slot.id, *ends)? => {
                stretched += 1;
                matching.push(slot.id);
            }
            Some(_) => kept_booked.push(slot.id),
            None => gone.push(slot.id),
        }
    }
    let withdrawn = store::withdraw_unbooked(conn, &gone, now)?;
    if withdrawn < gone.len() {
        kept_booked.extend(store::still_open(conn, &gone)?);
    }
    store::close_to_bookings(conn, &kept_booked)?;
    let resized = stretched + store::resize(conn, &matching, row.seats_per_slot)?;
    Ok(Materialized {
        slots_in_range: times.len(),
        created,
        resized,
        withdrawn,
        kept_booked,
    })
}
