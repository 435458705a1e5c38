//! Who is calling: the session from the `sid` cookie or an
//! `Authorization: Bearer` header, checked on every request (sliding idle
//! limit, absolute limit). Cookie-authenticated unsafe requests must come
//! from an allowed `Origin` (CSRF). Handlers take a [`super::Caller`], which
//! resolves the session on the connection that does their work.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::context::AuthContext;
use super::secrets::sha256_hex;
use super::store::{self, SessionRow};
use crate::db::DbConn;
use crate::domain::Afm;
use crate::domain::ids::SessionId;
use crate::http::{ApiError, ErrorCode, bearer_token, unauthenticated};

pub const COOKIE_NAME: &str = "sid";

/// How stale `last_seen_at` may get before a request writes it again.
/// R-PH-17 ends a session thirty minutes after its last request, to the
/// second, and whatever a request does not write is lost from that (with
/// a minute, a session could end after 29 idle minutes). A second still
/// spares the write to the many requests a busy client sends within one.
const TOUCH_EVERY: Duration = Duration::seconds(1);

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub id: SessionId,
    pub afm: Afm,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    /// The SMS one-time code was verified in this session (R-PH-02).
    pub strong: bool,
    /// The earlier of the idle and the absolute limit.
    pub expires_at: DateTime<Utc>,
}

impl CurrentSession {
    pub(super) fn from_row(row: SessionRow, idle: Duration) -> Result<CurrentSession, ApiError> {
        let idle_expiry = row.last_seen_at + idle;
        Ok(CurrentSession {
            afm: Afm::parse(&row.afm)
                .map_err(|_| ApiError::internal("a session holds an invalid AFM"))?,
            id: row.id,
            first_name: row.first_name,
            last_name: row.last_name,
            father_name: row.father_name,
            strong: row.strong_at.is_some(),
            expires_at: row.expires_at.min(idle_expiry).and_utc(),
        })
    }
}

/// The session cookie, as the conventions require: HttpOnly, SameSite=Lax,
/// Secure outside development.
pub fn session_cookie(token: &str, secure: bool, max_age: Duration) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age.num_seconds()))
        .finish()
}

pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie("", secure, Duration::zero());
    cookie.make_removal();
    cookie
}

enum Credential {
    Bearer(String),
    Cookie(String),
}

fn credential(req: &HttpRequest) -> Option<Credential> {
    let bearer = bearer_token(req).map(|token| Credential::Bearer(token.to_owned()));
    bearer.or_else(|| {
        req.cookie(COOKIE_NAME)
            .map(|c| Credential::Cookie(c.value().to_owned()))
    })
}

/// A browser sends `Origin` on every cross-site and every unsafe request;
/// only the frontends on the allow-list may use the cookie to change data.
fn origin_allowed(req: &HttpRequest, auth: &AuthContext) -> bool {
    if req.method().is_safe() {
        return true;
    }
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| {
            auth.settings
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin)
        })
}

/// The caller's credential, present, well formed and from an allowed
/// origin, but not yet looked up; [`super::Caller`] resolves it in the same
/// `Db::run` as the handler's own work.
#[derive(Debug, Clone)]
pub struct SessionToken {
    hash: String,
    now: NaiveDateTime,
    idle: Duration,
    /// When the token came as the `sid` cookie, whether cookies are
    /// `Secure`: a `401` then also removes the cookie, so a browser stops
    /// sending a session that is over.
    cookie_secure: Option<bool>,
}

impl SessionToken {
    /// Reads the credential; no database work.
    pub(super) fn read(req: &HttpRequest) -> Result<SessionToken, ApiError> {
        let auth = req
            .app_data::<web::Data<AuthContext>>()
            .ok_or_else(|| ApiError::internal("authentication is not configured"))?;
        let (token, cookie_secure) = match credential(req) {
            None => return Err(unauthenticated()),
            Some(Credential::Bearer(token)) => (token, None),
            Some(Credential::Cookie(_)) if !origin_allowed(req, auth) => {
                return Err(ApiError::new(ErrorCode::OriginNotAllowed));
            }
            Some(Credential::Cookie(token)) => (token, Some(auth.cookie_secure)),
        };
        Ok(SessionToken {
            hash: sha256_hex(&token),
            now: auth.clock.now().naive_utc(),
            idle: auth.settings.session_idle(),
            cookie_secure,
        })
    }

    /// The live session, or `401`.
    pub fn resolve(&self, conn: &mut DbConn) -> Result<CurrentSession, ApiError> {
        let (now, idle) = (self.now, self.idle);
        let Some(row) = store::live_session(conn, &self.hash, now, now - idle, TOUCH_EVERY)? else {
            let removal = self
                .cookie_secure
                .and_then(|secure| HeaderValue::try_from(removal_cookie(secure).to_string()).ok());
            return Err(match removal {
                Some(removal) => unauthenticated().with_header(header::SET_COOKIE, removal),
                None => unauthenticated(),
            });
        };
        CurrentSession::from_row(row, idle)
    }
}
