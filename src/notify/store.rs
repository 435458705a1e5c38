//! Outbox queries: plain synchronous functions over [`DbConn`].

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::transport::DEVELOPMENT;
use super::{Attachment, NewMessage};
use crate::db::schema::{outbox_attachments, outbox_messages};
use crate::db::{DbConn, on_backend};
use crate::domain::ids::MessageId;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_DEAD: &str = "dead";
/// Not delivered before its `expires_at`, and so never sent.
pub const STATUS_EXPIRED: &str = "expired";
/// The statuses of messages not delivered: the backlog `/metrics` shows.
const UNDELIVERED: [&str; 3] = [STATUS_PENDING, STATUS_DEAD, STATUS_EXPIRED];

/// A message's subject and body as stored: sealed (see `notify::sealing`).
#[derive(Debug)]
pub struct SealedText {
    pub subject: Vec<u8>,
    pub body: Vec<u8>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox_messages, treat_none_as_default_value = false)]
struct NewMessageRow<'a> {
    id: String,
    channel: &'a str,
    recipient: &'a str,
    subject: &'a [u8],
    body: &'a [u8],
    language: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = outbox_attachments, treat_none_as_default_value = false)]
struct AttachmentRow {
    message_id: String,
    position: i32,
    filename: String,
    content_type: String,
    content: Vec<u8>,
}

pub(super) fn insert(
    conn: &mut DbConn,
    id: &MessageId,
    message: &NewMessage,
    text: &SealedText,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let now = now.naive_utc();
    let row = NewMessageRow {
        id: id.to_string(),
        channel: message.channel.as_str(),
        recipient: &message.to,
        subject: &text.subject,
        body: &text.body,
        language: message.language.tag(),
        status: STATUS_PENDING,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        expires_at: expires_at.map(|at| at.naive_utc()),
    };
    on_backend!(conn, |c| diesel::insert_into(outbox_messages::table)
        .values(&row)
        .execute(c))?;
    for (position, attachment) in (0..).zip(&message.attachments) {
        let row = AttachmentRow {
            message_id: id.to_string(),
            position,
            filename: attachment.filename.clone(),
            content_type: attachment.content_type.clone(),
            content: attachment.content.clone(),
        };
        on_backend!(conn, |c| diesel::insert_into(outbox_attachments::table)
            .values(&row)
            .execute(c))?;
    }
    Ok(())
}

/// A message a worker has claimed, with what it needs to deliver it.
#[derive(Debug, QueryableByName)]
#[diesel(table_name = outbox_messages)]
pub struct ClaimedRow {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<Vec<u8>>,
    pub body: Option<Vec<u8>>,
    pub attempts: i32,
    pub expires_at: Option<NaiveDateTime>,
}

/// Takes a lease on up to `limit` due messages that no other worker holds.
/// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets concurrent workers pass
/// each other's rows instead of waiting or claiming them twice; SQLite has
/// one writer at a time, and the immediate transaction takes the write lock
/// before reading, so two workers see each other's leases.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> QueryResult<Vec<(ClaimedRow, Vec<Attachment>)>> {
    const RETURNING: &str = "RETURNING id, channel, recipient, subject, body, attempts, expires_at";
    let (now, lease_until, limit) = (now.naive_utc(), lease_until.naive_utc(), i64::from(limit));
    let claimed: Vec<ClaimedRow> = match conn {
        DbConn::Postgres(pg) => diesel::sql_query(format!(
            "UPDATE outbox_messages SET locked_until = $1 WHERE id IN (\
                 SELECT id FROM outbox_messages \
                 WHERE status = 'pending' AND next_attempt_at <= $2 \
                   AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) {RETURNING}"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(pg)?,
        DbConn::Sqlite(lite) => lite.immediate_transaction(|lite| {
            diesel::sql_query(format!(
                "UPDATE outbox_messages SET locked_until = ? WHERE id IN (\
                     SELECT id FROM outbox_messages \
                     WHERE status = 'pending' AND next_attempt_at <= ? \
                       AND (locked_until IS NULL OR locked_until < ?) \
                     ORDER BY next_attempt_at LIMIT ?) {RETURNING}"
            ))
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(lite)
        })?,
    };
    let ids: Vec<&str> = claimed.iter().map(|row| row.id.as_str()).collect();
    let mut attachments: Vec<AttachmentRow> = outbox_attachments::table
        .filter(outbox_attachments::message_id.eq_any(ids))
        .order((outbox_attachments::message_id, outbox_attachments::position))
        .select(AttachmentRow::as_select())
        .load(conn)?;
    Ok(claimed
        .into_iter()
        .map(|row| {
            let (mine, rest) = attachments
                .drain(..)
                .partition(|a: &AttachmentRow| a.message_id == row.id);
            attachments = rest;
            let mine = mine
                .into_iter()
                .map(|a| Attachment {
                    filename: a.filename,
                    content_type: a.content_type,
                    content: a.content,
                })
                .collect();
            (row, mine)
        })
        .collect())
}

/// Records a delivery; `attempts` counts it. The text has left and is
/// cleared, except after the development transport, whose recipient is
/// `GET /dev/outbox`, which reads (opens) it here.
pub fn mark_sent(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    transport: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use outbox_messages::dsl as o;
    let update = diesel::update(o::outbox_messages.find(id));
    let sent = (
        o::status.eq(STATUS_SENT),
        o::attempts.eq(attempts),
        o::transport.eq(transport),
        o::sent_at.eq(now.naive_utc()),
        o::locked_until.eq(None::<NaiveDateTime>),
        o::last_error.eq(None::<String>),
    );
    if transport == DEVELOPMENT {
        update.set(sent).execute(conn)
    } else {
        update.set((sent, no_text())).execute(conn)
    }
    .map(drop)
}

/// Sets a column to NULL.
type Cleared<Column> = diesel::dsl::Eq<Column, Option<Vec<u8>>>;

/// What a message that is sent (or never will be) keeps of its text.
fn no_text() -> (
    Cleared<outbox_messages::subject>,
    Cleared<outbox_messages::body>,
) {
    (
        outbox_messages::subject.eq(None),
        outbox_messages::body.eq(None),
    )
}

/// Drops a message not delivered before its `expires_at`: never sent, and
/// its text cleared.
pub fn mark_expired(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    use outbox_messages::dsl as o;
    diesel::update(o::outbox_messages.find(id))
        .set((
            o::status.eq(STATUS_EXPIRED),
            o::locked_until.eq(None::<NaiveDateTime>),
            no_text(),
        ))
        .execute(conn)
        .map(drop)
}

/// What happens to a message whose delivery failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    At(DateTime<Utc>),
    GiveUp,
}

pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    retry: Retry,
    error: &str,
) -> QueryResult<()> {
    use outbox_messages::dsl as o;
    let (status, next_attempt_at) = match retry {
        Retry::At(at) => (STATUS_PENDING, Some(at.naive_utc())),
        Retry::GiveUp => (STATUS_DEAD, None),
    };
    let update = diesel::update(o::outbox_messages.find(id));
    let common = (
        o::status.eq(status),
        o::attempts.eq(attempts),
        o::locked_until.eq(None::<NaiveDateTime>),
        o::last_error.eq(error),
    );
    match next_attempt_at {
        Some(at) => update
            .set((common, o::next_attempt_at.eq(at)))
            .execute(conn)
            .map(drop),
        None => update.set((common, no_text())).execute(conn).map(drop),
    }
}

/// The messages not delivered, for `/metrics`.
#[derive(Debug)]
pub struct Backlog {
    /// Pending, dead and expired messages, all listed, at 0 when there
    /// are none.
    pub by_status: [(&'static str, i64); UNDELIVERED.len()],
    /// When the oldest message still to be delivered was queued.
    pub oldest_pending: Option<NaiveDateTime>,
}

/// Reads the undelivered messages alone, through the status index: sent
/// ones are nearly all of the table (retention keeps thirty days of them),
/// and counting them at every scrape read the whole table (685 ms and
/// 1.4 GB of pages for 1.5 million messages on PostgreSQL, against 6 ms).
/// Deliveries are counted by the worker as they happen instead
/// (`outbox_deliveries_total`).
pub fn backlog(conn: &mut DbConn) -> QueryResult<Backlog> {
    use diesel::dsl::{count_star, min};
    use outbox_messages::dsl as o;
    let groups: Vec<(String, i64, Option<NaiveDateTime>)> = o::outbox_messages
        .filter(o::status.eq_any(UNDELIVERED))
        .group_by(o::status)
        .select((o::status, count_star(), min(o::created_at)))
        .load(conn)?;
    let group = |status: &str| groups.iter().find(|(name, _, _)| name == status);
    Ok(Backlog {
        by_status: UNDELIVERED.map(|status| (status, group(status).map_or(0, |(_, n, _)| *n))),
        oldest_pending: group(STATUS_PENDING).and_then(|(_, _, oldest)| *oldest),
    })
}

/// A message the development transport "sent", for `GET /dev/outbox`.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox_messages)]
pub struct DeliveredRow {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<Vec<u8>>,
    pub body: Option<Vec<u8>>,
    pub created_at: NaiveDateTime,
}

/// The newest messages the given transport delivered, optionally to one
/// recipient only.
pub fn list_delivered(
    conn: &mut DbConn,
    transport: &str,
    recipient: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveredRow>> {
    use outbox_messages::dsl as o;
    let mut query = o::outbox_messages
        .filter(o::status.eq(STATUS_SENT))
        .filter(o::transport.eq(transport))
        .order((o::created_at.desc(), o::id.desc()))
        .limit(limit)
        .select(DeliveredRow::as_select())
        .into_boxed();
    if let Some(recipient) = recipient {
        query = query.filter(o::recipient.eq(recipient.to_owned()));
    }
    query.load(conn)
}
