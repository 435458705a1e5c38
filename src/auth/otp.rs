//! The SMS one-time code that makes a session strong (R-PH-02, R-PH-03):
//! six digits from the OS CSPRNG, stored only as a keyed hash, valid five
//! minutes, single use, cancelled after five wrong tries; at most one code
//! per 30 s and five per hour for an AFM. Each limit is decided by a
//! conditional UPDATE whose row count answers, so parallel requests cannot
//! slip past it.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::secrets::{HmacKey, random_otp};
use super::session::CurrentSession;
use crate::config::OtpSettings;
use crate::db::DbConn;
use crate::db::schema::{otp_codes, otp_throttle};
use crate::domain::ids::SessionId;
use crate::domain::{Afm, Phone};
use crate::http::{ApiError, ErrorCode, Lang};
use crate::notify::{self, Channel, NewMessage, Template};

/// Takes one send from the AFM's allowance, or says how long to wait.
fn take_send_allowance(
    conn: &mut DbConn,
    afm: &Afm,
    settings: &OtpSettings,
    now: NaiveDateTime,
) -> QueryResult<Result<(), Duration>> {
    let first = (
        otp_throttle::afm.eq(afm.as_str()),
        otp_throttle::window_start.eq(now),
        otp_throttle::sent_in_window.eq(0),
        otp_throttle::last_sent_at.eq(DateTime::UNIX_EPOCH.naive_utc()),
    );
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(otp_throttle::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(otp_throttle::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    let hour_ago = now - Duration::hours(1);
    let row = otp_throttle::table.find(afm.as_str());
    diesel::update(row.filter(otp_throttle::window_start.le(hour_ago)))
        .set((
            otp_throttle::window_start.eq(now),
            otp_throttle::sent_in_window.eq(0),
        ))
        .execute(conn)?;
    let taken = diesel::update(
        row.filter(
            otp_throttle::last_sent_at.le(now - Duration::seconds(settings.resend_interval_secs)),
        )
        .filter(otp_throttle::sent_in_window.lt(settings.max_per_hour)),
    )
    .set((
        otp_throttle::sent_in_window.eq(otp_throttle::sent_in_window + 1),
        otp_throttle::last_sent_at.eq(now),
    ))
    .execute(conn)?;
    if taken == 1 {
        return Ok(Ok(()));
    }
    let (window_start, last_sent_at): (NaiveDateTime, NaiveDateTime) = row
        .select((otp_throttle::window_start, otp_throttle::last_sent_at))
        .first(conn)?;
    let resend_at = last_sent_at + Duration::seconds(settings.resend_interval_secs);
    let wait_until = if resend_at > now {
        resend_at
    } else {
        window_start + Duration::hours(1)
    };
    Ok(Err(wait_until - now))
}

/// Creates a code for the session, replacing any earlier one, and queues
/// the SMS in the same transaction. Answers when the code expires.
pub fn issue(
    conn: &mut DbConn,
    key: &HmacKey,
    settings: &OtpSettings,
    session: &CurrentSession,
    mobile: &Phone,
    language: Lang,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    let session_id = &session.id;
    crate::db::write_transaction(conn, |tx| {
        if let Err(wait) = take_send_allowance(tx, &session.afm, settings, now.naive_utc())? {
            return Err(ApiError::new(ErrorCode::RateLimited).retry_after(wait));
        }
        let code = random_otp();
        let expires_at = now + Duration::seconds(settings.lifetime_secs);
        diesel::delete(otp_codes::table.find(session_id)).execute(tx)?;
        diesel::insert_into(otp_codes::table)
            .values((
                otp_codes::session_id.eq(session_id),
                otp_codes::code_hash.eq(key.sign(&[session_id.as_str(), &code])),
                otp_codes::created_at.eq(now.naive_utc()),
                otp_codes::expires_at.eq(expires_at.naive_utc()),
                otp_codes::failed_attempts.eq(0),
            ))
            .execute(tx)?;
        // An SMS that arrives after the code expired is no use, and would
        // carry a secret for nothing: it expires with the code.
        notify::enqueue_expiring(
            tx,
            &NewMessage {
                channel: Channel::Sms,
                to: mobile.as_str().to_owned(),
                language,
                template: Template::Otp {
                    code,
                    minutes: settings.lifetime_minutes(),
                },
                attachments: Vec::new(),
            },
            now,
            expires_at,
        )?;
        Ok(expires_at)
    })
}

#[derive(Queryable)]
struct StoredCode {
    code_hash: String,
    expires_at: NaiveDateTime,
    failed_attempts: i32,
    consumed_at: Option<NaiveDateTime>,
}

/// Checks a code for the session; on success consumes it, exactly once.
pub fn verify(
    conn: &mut DbConn,
    key: &HmacKey,
    settings: &OtpSettings,
    session_id: &SessionId,
    code: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    // The transaction answers with the verdict rather than failing with it,
    // so that a wrong try is committed and counts.
    let verdict = crate::db::write_transaction(conn, |tx| -> QueryResult<Result<(), ErrorCode>> {
        let row = otp_codes::table.find(session_id);
        let stored: Option<StoredCode> = row
            .select((
                otp_codes::code_hash,
                otp_codes::expires_at,
                otp_codes::failed_attempts,
                otp_codes::consumed_at,
            ))
            .first(tx)
            .optional()?;
        let Some(stored) = stored else {
            return Ok(Err(ErrorCode::OtpNotRequested));
        };
        if stored.consumed_at.is_some() {
            return Ok(Err(ErrorCode::OtpUsed));
        }
        if stored.failed_attempts >= settings.max_failed_attempts {
            return Ok(Err(ErrorCode::OtpAttemptsExceeded));
        }
        if stored.expires_at <= now {
            return Ok(Err(ErrorCode::OtpExpired));
        }
        let live = row
            .filter(otp_codes::consumed_at.is_null())
            .filter(otp_codes::failed_attempts.lt(settings.max_failed_attempts));
        if key.verify(&[session_id.as_str(), code], &stored.code_hash) {
            let consumed = diesel::update(live)
                .set(otp_codes::consumed_at.eq(Some(now)))
                .execute(tx)?;
            return Ok(if consumed == 1 {
                Ok(())
            } else {
                Err(ErrorCode::OtpUsed)
            });
        }
        let counted = diesel::update(live)
            .set(otp_codes::failed_attempts.eq(otp_codes::failed_attempts + 1))
            .execute(tx)?;
        let last_try = counted == 0 || stored.failed_attempts + 1 >= settings.max_failed_attempts;
        Ok(Err(if last_try {
            ErrorCode::OtpAttemptsExceeded
        } else {
            ErrorCode::OtpInvalid
        }))
    })?;
    verdict.map_err(ApiError::new)
}
