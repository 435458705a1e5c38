//! Schedules and materialized slots in the database.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::weekly::{OpeningRange, Schedule};
use crate::booking::reservations::ReservationStatus;
use crate::db::schema::{reservations, service_schedules, slots};
use crate::db::{DbConn, on_backend};
use crate::domain::ids::{ReservationId, ServiceId, SlotId};
use crate::http::ApiError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = service_schedules)]
pub struct ScheduleRow {
    pub service_id: ServiceId,
    pub weekly_hours: String,
    pub seats_per_slot: i32,
    pub min_notice_minutes: i32,
    pub max_advance_days: i32,
    pub closed_dates: String,
    pub open_dates: String,
    pub updated_at: NaiveDateTime,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

impl ScheduleRow {
    pub fn new(
        service_id: ServiceId,
        schedule: &Schedule,
        now: NaiveDateTime,
    ) -> Result<ScheduleRow, ApiError> {
        let number = |n: u32| i32::try_from(n).map_err(ApiError::internal);
        Ok(ScheduleRow {
            service_id,
            weekly_hours: to_json(&schedule.weekly_hours)?,
            seats_per_slot: number(schedule.seats_per_slot)?,
            min_notice_minutes: number(schedule.min_notice_minutes)?,
            max_advance_days: number(schedule.max_advance_days)?,
            closed_dates: to_json(&schedule.closed_dates)?,
            open_dates: to_json(&schedule.open_dates)?,
            updated_at: now,
        })
    }

    /// The stored schedule; it was validated before it was stored.
    pub fn schedule(&self) -> Result<Schedule, ApiError> {
        let corrupt = |e: serde_json::Error| {
            ApiError::internal(format!("a stored schedule does not parse: {e}"))
        };
        let number = |n: i32| u32::try_from(n).map_err(ApiError::internal);
        Ok(Schedule {
            weekly_hours: serde_json::from_str::<Vec<OpeningRange>>(&self.weekly_hours)
                .map_err(corrupt)?,
            seats_per_slot: number(self.seats_per_slot)?,
            min_notice_minutes: number(self.min_notice_minutes)?,
            max_advance_days: number(self.max_advance_days)?,
            closed_dates: serde_json::from_str(&self.closed_dates).map_err(corrupt)?,
            open_dates: serde_json::from_str(&self.open_dates).map_err(corrupt)?,
        })
    }
}

pub fn schedule(conn: &mut DbConn, service_id: &ServiceId) -> QueryResult<Option<ScheduleRow>> {
    service_schedules::table
        .find(service_id)
        .select(ScheduleRow::as_select())
        .first(conn)
        .optional()
}

pub fn save_schedule(conn: &mut DbConn, row: &ScheduleRow) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(service_schedules::table)
            .values(row)
            .on_conflict(service_schedules::service_id)
            .do_update()
            .set(row)
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(service_schedules::table)
            .values(row)
            .on_conflict(service_schedules::service_id)
            .do_update()
            .set(row)
            .execute(c)?,
    };
    Ok(())
}

/// Materializes slots; a start that already has a slot is left as it is,
/// so generating a range again changes nothing. Answers how many were new.
pub fn insert_slots(
    conn: &mut DbConn,
    service_id: &ServiceId,
    times: &[(DateTime<Utc>, DateTime<Utc>)],
    capacity: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<_> = times
        .iter()
        .map(|(starts, ends)| {
            (
                slots::id.eq(SlotId::generate()),
                slots::service_id.eq(service_id),
                slots::starts_at.eq(starts.naive_utc()),
                slots::ends_at.eq(ends.naive_utc()),
                slots::capacity.eq(capacity),
                slots::booked.eq(0),
                slots::created_at.eq(now),
            )
        })
        .collect();
    let mut inserted = 0;
    // In chunks: SQLite allows at most 32766 bound parameters per statement.
    for chunk in rows.chunks(500) {
        inserted += match conn {
            DbConn::Postgres(c) => diesel::insert_into(slots::table)
                .values(chunk)
                .on_conflict((slots::service_id, slots::starts_at))
                .do_nothing()
                .execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(slots::table)
                .values(chunk)
                .on_conflict((slots::service_id, slots::starts_at))
                .do_nothing()
                .execute(c)?,
        };
    }
    Ok(inserted)
}

/// A slot not withdrawn, as reconciling it with its schedule sees it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = slots)]
pub struct OpenSlot {
    pub id: SlotId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

/// The service's slots that are not withdrawn and start in `(after, until)`.
pub fn open_slots_between(
    conn: &mut DbConn,
    service_id: &ServiceId,
    after: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<OpenSlot>> {
    on_backend!(conn, |c| slots::table
        .filter(slots::service_id.eq(service_id))
        .filter(slots::withdrawn_at.is_null())
        .filter(slots::starts_at.gt(after))
        .filter(slots::starts_at.lt(until))
        .select(OpenSlot::as_select())
        .load(c))
}

/// Withdraws those of `ids` nobody booked: the row count decides, so a
/// booking that took a seat first keeps its slot, and one that comes after
/// finds the slot withdrawn. Answers how many it withdrew.
pub fn withdraw_unbooked(
    conn: &mut DbConn,
    ids: &[SlotId],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut withdrawn = 0;
    // In chunks, for SQLite's limit on bound parameters.
    for chunk in ids.chunks(500) {
        withdrawn += on_backend!(conn, |c| diesel::update(
            slots::table
                .filter(slots::id.eq_any(chunk))
                .filter(slots::booked.eq(0))
                .filter(slots::withdrawn_at.is_null())
        )
        .set(slots::withdrawn_at.eq(Some(now)))
        .execute(c))?;
    }
    Ok(withdrawn)
}

/// Gives an unbooked slot a new end; answers whether it did.
pub fn set_end_if_unbooked(
    conn: &mut DbConn,
    slot_id: &SlotId,
    ends_at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = on_backend!(conn, |c| diesel::update(
        slots::table.find(slot_id).filter(slots::booked.eq(0))
    )
    .set(slots::ends_at.eq(ends_at))
    .execute(c))?;
    Ok(changed == 1)
}

/// Those of `ids` that are still open, i.e. hold bookings.
pub fn still_open(conn: &mut DbConn, ids: &[SlotId]) -> QueryResult<Vec<SlotId>> {
    let mut open = Vec::new();
    for chunk in ids.chunks(500) {
        open.extend(on_backend!(conn, |c| slots::table
            .filter(slots::id.eq_any(chunk))
            .filter(slots::withdrawn_at.is_null())
            .order(slots::starts_at)
            .select(slots::id)
            .load::<SlotId>(c))?);
    }
    Ok(open)
}

/// Gives those of `ids` `seats` seats each, but never fewer than they have
/// booked; answers how many changed. A concurrent booking's seat counts:
/// PostgreSQL evaluates the new capacity again on the row the booking left.
pub fn resize(conn: &mut DbConn, ids: &[SlotId], seats: i32) -> QueryResult<usize> {
    let capacity = || {
        diesel::dsl::case_when::<_, _, Integer>(slots::booked.gt(seats), slots::booked)
            .otherwise(seats)
    };
    let mut changed = 0;
    for chunk in ids.chunks(500) {
        changed += on_backend!(conn, |c| diesel::update(
            slots::table
                .filter(slots::id.eq_any(chunk))
                .filter(slots::capacity.ne(capacity()))
        )
        .set(slots::capacity.eq(capacity()))
        .execute(c))?;
    }
    Ok(changed)
}

/// Closes those of `ids` to new bookings (capacity down to what they have
/// booked), keeping the bookings they hold.
pub fn close_to_bookings(conn: &mut DbConn, ids: &[SlotId]) -> QueryResult<()> {
    for chunk in ids.chunks(500) {
        on_backend!(conn, |c| diesel::update(
            slots::table
                .filter(slots::id.eq_any(chunk))
                .filter(slots::capacity.ne(slots::booked))
        )
        .set(slots::capacity.eq(slots::booked))
        .execute(c))?;
    }
    Ok(())
}

/// Withdraws a slot; answers the ids of the reservations it held, which the
/// caller cancels.
pub fn withdraw_slot(
    conn: &mut DbConn,
    slot_id: &SlotId,
    now: NaiveDateTime,
) -> QueryResult<Option<Vec<ReservationId>>> {
    let updated = diesel::update(
        slots::table
            .find(slot_id)
            .filter(slots::withdrawn_at.is_null()),
    )
    .set(slots::withdrawn_at.eq(Some(now)))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    reservations::table
        .filter(reservations::slot_id.eq(slot_id))
        .filter(reservations::status.eq(ReservationStatus::Confirmed))
        .select(reservations::id)
        .load(conn)
        .map(Some)
}

/// Services that have a schedule.
pub fn scheduled_services(conn: &mut DbConn) -> QueryResult<Vec<ServiceId>> {
    service_schedules::table
        .select(service_schedules::service_id)
        .load(conn)
}
