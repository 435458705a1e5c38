//! Reservation and slot queries. Every rule that must hold under
//! concurrency is decided here by the database: the seat by a conditional
//! UPDATE whose row count answers, "one upcoming reservation per citizen
//! per service" by a UNIQUE column, state changes by UPDATEs that name the
//! state they leave.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

use crate::db::schema::{
    departments, municipalities, reservations, service_categories, service_schedules, slots,
};
use crate::db::{DbConn, fixed_update, on_backend, sql_text};
use crate::domain::ids::{DepartmentId, MunicipalityId, ReservationId, ServiceId, SlotId};

/// Where a reservation stands: confirmed when booked; checked in, then
/// completed, at the desk (R-BK-06 c-e); or cancelled, or a no-show.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[schema(example = "confirmed")]
#[diesel(sql_type = Text)]
pub enum ReservationStatus {
    Confirmed,
    CheckedIn,
    Completed,
    Cancelled,
    NoShow,
}

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 5] = [
        ReservationStatus::Confirmed,
        ReservationStatus::CheckedIn,
        ReservationStatus::Completed,
        ReservationStatus::Cancelled,
        ReservationStatus::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::CheckedIn => "checked_in",
            ReservationStatus::Completed => "completed",
            ReservationStatus::Cancelled => "cancelled",
            ReservationStatus::NoShow => "no_show",
        }
    }
}

impl std::str::FromStr for ReservationStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReservationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("no such status: {text}"))
    }
}

sql_text!(ReservationStatus);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = slots)]
pub struct SlotRow {
    pub id: SlotId,
    pub service_id: ServiceId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub booked: i32,
    pub withdrawn_at: Option<NaiveDateTime>,
}

/// What a reservation needs to know about its slot's service.
#[derive(Debug, Clone, Queryable)]
pub struct ServiceContext {
    pub service_id: ServiceId,
    pub service_el: String,
    pub service_en: String,
    pub serves_legal_entities: bool,
    pub department_id: DepartmentId,
    pub department_el: String,
    pub department_en: String,
    pub department_email: String,
    pub municipality_id: MunicipalityId,
    pub municipality_el: String,
    pub municipality_en: String,
    pub time_zone: String,
    /// From the schedule: (minimum notice in minutes, maximum advance in
    /// days). A service without a schedule has no bookable slots.
    pub min_notice_minutes: Option<i32>,
    pub max_advance_days: Option<i32>,
}

/// How soon and how far ahead a service may be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingWindow {
    pub min_notice_minutes: i32,
    pub max_advance_days: i32,
}

impl ServiceContext {
    /// The schedule's window; `None` for a service without a schedule.
    pub fn booking_window(&self) -> Option<BookingWindow> {
        let (min_notice_minutes, max_advance_days) =
            self.min_notice_minutes.zip(self.max_advance_days)?;
        Some(BookingWindow {
            min_notice_minutes,
            max_advance_days,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reservations, treat_none_as_default_value = false)]
pub struct ReservationRow {
    pub id: ReservationId,
    pub slot_id: SlotId,
    pub service_id: ServiceId,
    pub department_id: DepartmentId,
    pub municipality_id: MunicipalityId,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: ReservationStatus,
    pub citizen_afm: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub special_requirements: Option<String>,
    pub legal_entity_name: Option<String>,
    pub legal_entity_afm: Option<String>,
    pub upcoming_key: Option<String>,
    pub identity_document: Option<String>,
    pub cancel_reason: Option<String>,
    pub checked_in_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub anonymized_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The language the citizen booked in, for messages sent later.
    pub language: String,
    /// How often the appointment moved: its calendar file's SEQUENCE.
    pub revision: i32,
    /// When the R-BK-05 reminder pass handled it (sent or found none due).
    pub reminder_handled_at: Option<NaiveDateTime>,
}

/// Takes a seat when the slot has one free, is not withdrawn and starts
/// within `(earliest, latest]`, and answers the slot as the seat left it;
/// `None` when no seat was taken. One statement: the row count decides,
/// and the slot is read in the same round trip.
pub fn take_seat(
    conn: &mut DbConn,
    slot_id: &SlotId,
    earliest: NaiveDateTime,
    latest: NaiveDateTime,
) -> QueryResult<Option<SlotRow>> {
    let seat = TakeSeat {
        slot_id: slot_id.as_str(),
        earliest: &earliest,
        latest: &latest,
    };
    on_backend!(conn, |c| seat.get_result::<SlotRow>(c).optional())
}

fixed_update! {
    /// The seat: the `UPDATE` whose row count decides a booking, returning
    /// the slot's columns in [`SlotRow`]'s order.
    TakeSeat { slot_id: str as Text, earliest: NaiveDateTime as Timestamp, latest: NaiveDateTime as Timestamp }
    = "UPDATE slots SET booked = booked + 1 WHERE id = ? AND booked < capacity \
       AND withdrawn_at IS NULL AND starts_at > ? AND starts_at <= ? \
       RETURNING id, service_id, starts_at, ends_at, capacity, booked, withdrawn_at"
    -> (Text, Text, Timestamp, Timestamp, Integer, Integer, Nullable<Timestamp>)
}

pub fn release_seat(conn: &mut DbConn, slot_id: &SlotId) -> QueryResult<()> {
    ReleaseSeat {
        slot_id: slot_id.as_str(),
    }
    .execute(conn)
    .map(drop)
}

fixed_update! {
    ReleaseSeat { slot_id: str as Text }
    = "UPDATE slots SET booked = booked - 1 WHERE id = ? AND booked > 0"
}

pub fn slot(conn: &mut DbConn, slot_id: &SlotId) -> QueryResult<Option<SlotRow>> {
    on_backend!(conn, |c| slots::table
        .find(slot_id)
        .select(SlotRow::as_select())
        .first(c)
        .optional())
}

pub fn service_context(conn: &mut DbConn, service_id: &ServiceId) -> QueryResult<ServiceContext> {
    on_backend!(conn, |c| service_categories::table
        .inner_join(departments::table.inner_join(municipalities::table))
        .left_join(service_schedules::table)
        .filter(service_categories::id.eq(service_id))
        .select((
            service_categories::id,
            service_categories::name_el,
            service_categories::name_en,
            service_categories::serves_legal_entities,
            departments::id,
            departments::name_el,
            departments::name_en,
            departments::email,
            municipalities::id,
            municipalities::name_el,
            municipalities::name_en,
            municipalities::time_zone,
            service_schedules::min_notice_minutes.nullable(),
            service_schedules::max_advance_days.nullable(),
        ))
        .first(c))
}

/// Frees the "upcoming" mark of the citizen's past reservations for the
/// service, so that a visit that has passed does not block the next booking.
pub fn release_past_upcoming(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    let release = ReleasePastUpcoming { key, now: &now };
    on_backend!(conn, |c| release.execute(c)).map(drop)
}

fixed_update! {
    ReleasePastUpcoming { key: str as Text, now: NaiveDateTime as Timestamp }
    = "UPDATE reservations SET upcoming_key = NULL WHERE upcoming_key = ? AND starts_at <= ?"
}

pub fn insert(conn: &mut DbConn, row: &ReservationRow) -> QueryResult<()> {
    on_backend!(conn, |c| diesel::insert_into(reservations::table)
        .values(row)
        .execute(c))
    .map(drop)
}

pub fn find(conn: &mut DbConn, id: &ReservationId) -> QueryResult<Option<ReservationRow>> {
    reservations::table
        .find(id)
        .select(ReservationRow::as_select())
        .first(conn)
        .optional()
}

/// The citizen's reservations, newest first, after the keyset `after`.
pub fn list_for_citizen(
    conn: &mut DbConn,
    afm: &str,
    after: Option<&(NaiveDateTime, ReservationId)>,
    limit: u32,
) -> QueryResult<Vec<ReservationRow>> {
    let mut query = reservations::table
        .filter(reservations::citizen_afm.eq(afm))
        .order((reservations::created_at.desc(), reservations::id.desc()))
        .limit(i64::from(limit) + 1)
        .select(ReservationRow::as_select())
        .into_boxed();
    if let Some((created, id)) = after {
        query = query.filter(
            reservations::created_at
                .lt(*created)
                .or(reservations::created_at
                    .eq(*created)
                    .and(reservations::id.lt(id.clone()))),
        );
    }
    query.load(conn)
}

/// A department's reservations starting in `[from, to)`, optionally of one
/// status, by start time.
pub fn list_for_department(
    conn: &mut DbConn,
    department_id: &DepartmentId,
    from: NaiveDateTime,
    to: NaiveDateTime,
    status: Option<ReservationStatus>,
    after: Option<&(NaiveDateTime, ReservationId)>,
    limit: u32,
) -> QueryResult<Vec<ReservationRow>> {
    let mut query = reservations::table
        .filter(reservations::department_id.eq(department_id))
        .filter(reservations::starts_at.ge(from))
        .filter(reservations::starts_at.lt(to))
        .order((reservations::starts_at, reservations::id))
        .limit(i64::from(limit) + 1)
        .select(ReservationRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(reservations::status.eq(status));
    }
    if let Some((starts, id)) = after {
        query = query.filter(
            reservations::starts_at
                .gt(*starts)
                .or(reservations::starts_at
                    .eq(*starts)
                    .and(reservations::id.gt(id.clone()))),
        );
    }
    query.load(conn)
}

/// Contact data a citizen may rectify (R-BK-11).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = reservations)]
pub struct ContactChange {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub special_requirements: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

/// The reservation `id` while it is confirmed and has not started: the
/// only state in which a citizen may change, cancel or move it.
#[diesel::dsl::auto_type]
fn upcoming<'a>(id: &'a ReservationId, now: NaiveDateTime) -> _ {
    // A typed binding: `auto_type` reads an expression's type from its syntax.
    let confirmed: ReservationStatus = ReservationStatus::Confirmed;
    reservations::table
        .find(id)
        .filter(reservations::status.eq(confirmed))
        .filter(reservations::starts_at.gt(now))
}

/// Applies a change to a confirmed, future reservation; answers whether it applied.
pub fn rectify(
    conn: &mut DbConn,
    id: &ReservationId,
    change: &ContactChange,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(upcoming(id, now))
        .set(change)
        .execute(conn)?;
    Ok(updated == 1)
}

/// Locks the slots whose seats a transaction is about to change, in id
/// order. Every change of a booked seat (cancel, move, withdrawal) locks
/// its slots before its reservations, and several slots in this order, so
/// that two such changes never wait for each other: two moves in opposite
/// directions between the same slots deadlocked on PostgreSQL before.
/// SQLite's `BEGIN IMMEDIATE` already holds the only write lock.
pub fn lock_slots(conn: &mut DbConn, ids: &[&SlotId]) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(c) => slots::table
            .filter(slots::id.eq_any(ids))
            .order(slots::id)
            .select(slots::id)
            .for_update()
            .load::<SlotId>(c)
            .map(drop),
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// The reservation `id` while it is upcoming (see [`upcoming`]) and still
/// holds its seat in `slot_id`: a change decided on a reservation read
/// earlier applies only if nobody moved it meanwhile, or it would free a
/// seat in a slot the reservation has left.
#[diesel::dsl::auto_type]
fn upcoming_in<'a>(id: &'a ReservationId, slot_id: &'a SlotId, now: NaiveDateTime) -> _ {
    let upcoming: upcoming<'a> = upcoming(id, now);
    upcoming.filter(reservations::slot_id.eq(slot_id))
}

/// Cancels a confirmed reservation in `slot_id` that has not started;
/// answers whether it did.
pub fn cancel(
    conn: &mut DbConn,
    id: &ReservationId,
    slot_id: &SlotId,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(upcoming_in(id, slot_id, now))
        .set((
            reservations::status.eq(ReservationStatus::Cancelled),
            reservations::revision.eq(reservations::revision + 1),
            reservations::cancel_reason.eq(reason),
            reservations::upcoming_key.eq(None::<String>),
            reservations::closed_at.eq(Some(now)),
            reservations::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Moves a confirmed reservation from `from_slot` to another slot of the
/// same service; answers whether it did.
pub fn move_to_slot(
    conn: &mut DbConn,
    id: &ReservationId,
    from_slot: &SlotId,
    slot: &SlotRow,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(upcoming_in(id, from_slot, now))
        .set((
            reservations::slot_id.eq(&slot.id),
            reservations::starts_at.eq(slot.starts_at),
            reservations::ends_at.eq(slot.ends_at),
            reservations::revision.eq(reservations::revision + 1),
            reservations::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// A staff step: from `from` to `to`, setting the given timestamps. Answers
/// whether the reservation was in `from`.
pub fn transition(
    conn: &mut DbConn,
    id: &ReservationId,
    from: ReservationStatus,
    to: ReservationStatus,
    identity_document: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = reservations::table
        .find(id)
        .filter(reservations::status.eq(from));
    let updated = match to {
        ReservationStatus::CheckedIn => diesel::update(target)
            .set((
                reservations::status.eq(to),
                reservations::identity_document.eq(identity_document),
                reservations::checked_in_at.eq(Some(now)),
                reservations::upcoming_key.eq(None::<String>),
                reservations::updated_at.eq(now),
            ))
            .execute(conn)?,
        _ => diesel::update(target)
            .set((
                reservations::status.eq(to),
                reservations::closed_at.eq(Some(now)),
                reservations::upcoming_key.eq(None::<String>),
                reservations::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

/// A confirmed reservation the reminder pass has not handled.
#[derive(Debug, Queryable)]
pub struct ReminderCandidate {
    pub id: ReservationId,
    pub starts_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Up to `limit` confirmed reservations not yet handled by the reminder
/// pass that start in `(now, until]`, soonest first.
pub fn due_for_reminder(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ReminderCandidate>> {
    on_backend!(conn, |c| reservations::table
        .filter(reservations::reminder_handled_at.is_null())
        .filter(reservations::status.eq(ReservationStatus::Confirmed))
        .filter(reservations::starts_at.gt(now))
        .filter(reservations::starts_at.le(until))
        .order(reservations::starts_at)
        .limit(limit)
        .select((
            reservations::id,
            reservations::starts_at,
            reservations::created_at
        ))
        .load(c))
}

/// Marks those of `ids` no pass has handled as handled by this one;
/// answers how many it marked (another pass may have been first).
pub fn claim_reminders(
    conn: &mut DbConn,
    ids: &[&ReservationId],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut claimed = 0;
    // In chunks, for SQLite's limit on bound parameters.
    for chunk in ids.chunks(500) {
        claimed += on_backend!(conn, |c| diesel::update(
            reservations::table
                .filter(reservations::id.eq_any(chunk))
                .filter(reservations::reminder_handled_at.is_null())
        )
        .set(reservations::reminder_handled_at.eq(Some(now)))
        .execute(c))?;
    }
    Ok(claimed)
}
