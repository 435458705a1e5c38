//! Applications, their client secrets and revoked tokens. Whether a token
//! still counts is one statement ([`standing`]), run on every request, so
//! that a revocation or a disabled client bites on the very next request on
//! every instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::scope::AppPurpose;
use crate::db::schema::{app_secrets, apps, revoked_tokens};
use crate::db::{DbConn, on_backend};
use crate::domain::ids::{AppId, ClientId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = apps)]
pub struct AppRow {
    pub id: AppId,
    pub client_id: ClientId,
    pub name: String,
    pub organization: String,
    pub purpose: AppPurpose,
    /// The scopes it was registered with, space-separated (`Scopes::parse`).
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
}

/// A client secret, as its Argon2id hash (a PHC string).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_secrets)]
pub struct SecretRow {
    pub id: String,
    pub app_id: AppId,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub retires_at: Option<NaiveDateTime>,
}

/// Registers an application; answers false, writing nothing, when an
/// enabled one has that name already (the unique index decides, so two
/// registrations at once leave one).
pub fn insert_app(conn: &mut DbConn, row: &AppRow) -> QueryResult<bool> {
    let inserted = on_backend!(conn, |c| diesel::insert_into(apps::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn app(conn: &mut DbConn, id: &AppId) -> QueryResult<Option<AppRow>> {
    apps::table
        .find(id)
        .select(AppRow::as_select())
        .first(conn)
        .optional()
}

pub fn app_by_client(conn: &mut DbConn, client: &ClientId) -> QueryResult<Option<AppRow>> {
    apps::table
        .filter(apps::client_id.eq(client))
        .select(AppRow::as_select())
        .first(conn)
        .optional()
}

/// A client as the token endpoint checks it: the application behind
/// `client` (disabled or not, so that a disabled one costs the same
/// check) and the hashes of its secrets that authenticate at `now`.
pub fn client(
    conn: &mut DbConn,
    client: &ClientId,
    now: NaiveDateTime,
) -> QueryResult<Option<(AppRow, Vec<String>)>> {
    let Some(app) = app_by_client(conn, client)? else {
        return Ok(None);
    };
    let hashes = live_secrets(conn, &app.id, now)?
        .into_iter()
        .map(|secret| secret.secret_hash)
        .collect();
    Ok(Some((app, hashes)))
}

/// Every application not disabled, by name: the list citizens choose from.
pub fn enabled_apps(conn: &mut DbConn) -> QueryResult<Vec<AppRow>> {
    apps::table
        .filter(apps::disabled_at.is_null())
        .order((apps::name, apps::id))
        .select(AppRow::as_select())
        .load(conn)
}

/// Disables an application; answers false when it already was.
pub fn disable(conn: &mut DbConn, id: &AppId, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = diesel::update(apps::table.find(id).filter(apps::disabled_at.is_null()))
        .set(apps::disabled_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn insert_secret(conn: &mut DbConn, row: &SecretRow) -> QueryResult<()> {
    diesel::insert_into(app_secrets::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The secrets that still authenticate at `now`, newest first.
pub fn live_secrets(
    conn: &mut DbConn,
    app: &AppId,
    now: NaiveDateTime,
) -> QueryResult<Vec<SecretRow>> {
    app_secrets::table
        .filter(app_secrets::app_id.eq(app))
        .filter(
            app_secrets::retires_at
                .is_null()
                .or(app_secrets::retires_at.gt(now)),
        )
        .order(app_secrets::created_at.desc())
        .select(SecretRow::as_select())
        .load(conn)
}

/// Gives every secret of `app` that would outlive `at` that time instead:
/// a rotation's overlap, or `now` to end them at once.
pub fn retire_secrets(conn: &mut DbConn, app: &AppId, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        app_secrets::table
            .filter(app_secrets::app_id.eq(app))
            .filter(
                app_secrets::retires_at
                    .is_null()
                    .or(app_secrets::retires_at.gt(at)),
            ),
    )
    .set(app_secrets::retires_at.eq(at))
    .execute(conn)
}

/// Revokes a token by its `jti`, once: a second revocation is a no-op.
pub fn revoke(
    conn: &mut DbConn,
    jti: &str,
    app: &AppId,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    on_backend!(conn, |c| diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::app_id.eq(app),
            revoked_tokens::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))
    .map(drop)
}

/// Forgets the revocations of tokens that have expired: an expired token
/// is refused by its `exp` alone. Few rows (only tokens revoked before
/// their end), so one statement.
pub fn purge_expired_revocations(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.le(now))).execute(conn)
}

/// The application a token was issued to, if the token still counts: the
/// application is not disabled and the token is not revoked.
pub fn standing(conn: &mut DbConn, client: &ClientId, jti: &str) -> QueryResult<Option<AppRow>> {
    let revoked = revoked_tokens::table.filter(revoked_tokens::jti.eq(jti));
    apps::table
        .filter(apps::client_id.eq(client))
        .filter(apps::disabled_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(revoked)))
        .select(AppRow::as_select())
        .first(conn)
        .optional()
}
