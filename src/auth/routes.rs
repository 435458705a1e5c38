//! `/v1/auth/*` and `/v1/me`: TAXISnet login, one-time codes, logout.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::{Caller, WithRoles};
use super::context::AuthContext;
use super::otp;
use super::roles::RoleGrant;
use super::secrets::{random_token, sha256_hex};
use super::session::{CurrentSession, removal_cookie, session_cookie};
use super::store::{self, LoginStateRow, SessionRow};
use super::taxisnet::LoginError;
use crate::db::{Db, DbError};
use crate::domain::ids::SessionId;
use crate::http::{ApiError, ErrorCode, FieldError, JsonBody, Lang, Text, rate_limit};
use crate::openapi::problems::{
    BadLogin, ContactRegistryUnavailable, Forbidden, NoCertifiedMobile, OtpRejected, RateLimited,
    Unauthenticated, ValidationFailed,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope(rate_limit::LIMITED_SCOPE)
            .wrap(actix_web::middleware::from_fn(
                rate_limit::limit_by_client_address,
            ))
            .service(login)
            .service(callback)
            .service(request_otp)
            .service(verify_otp)
            .service(logout),
    )
    .service(me);
}

/// The signed-in user (`GET /v1/me`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    #[schema(value_type = String, example = "123456783")]
    pub afm: String,
    #[schema(example = "ΜΑΡΙΑ")]
    pub first_name: String,
    #[schema(example = "ΠΑΠΑΔΟΠΟΥΛΟΥ")]
    pub last_name: String,
    #[schema(example = "ΓΕΩΡΓΙΟΣ")]
    pub father_name: String,
    /// Roles beyond citizen, each with what it is for.
    pub roles: Vec<RoleGrant>,
    /// Whether the SMS one-time code was verified in this session.
    #[schema(example = false)]
    pub strong: bool,
    /// When the session ends unless used again (30 minutes idle, 12 hours at most).
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:45:00Z")]
    pub session_expires_at: DateTime<Utc>,
}

impl From<WithRoles> for Me {
    fn from(WithRoles { session, roles }: WithRoles) -> Me {
        Me {
            afm: session.afm.to_string(),
            first_name: session.first_name,
            last_name: session.last_name,
            father_name: session.father_name,
            roles,
            strong: session.strong,
            session_expires_at: session.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// Where to send the browser after signing in; must be on the allow-list.
    /// Without it, the callback answers the session as JSON.
    return_to: Option<String>,
}

/// Starts the TAXISnet login: redirects to the provider's authorize page
/// with a single-use `state` and a PKCE challenge.
#[utoipa::path(
    tag = "authentication",
    params(LoginQuery),
    responses(
        (status = 302, description = "To the TAXISnet authorize page. Sets the `login_state` cookie: the callback signs in only the browser that holds it.", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 422, response = ValidationFailed),
        (status = 429, response = RateLimited),
    )
)]
#[get("/login")]
async fn login(
    query: web::Query<LoginQuery>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let return_to = query.into_inner().return_to;
    if let Some(url) = &return_to {
        let allowed = auth
            .settings
            .return_to_allowlist
            .iter()
            .any(|prefix| url.starts_with(prefix.as_str()));
        if !allowed {
            return Err(ApiError::validation(vec![FieldError::new(
                "return_to",
                "not_allowed",
                Text::new(
                    "Η διεύθυνση επιστροφής δεν είναι στις εγκεκριμένες.",
                    "The return address is not on the allow-list.",
                ),
            )]));
        }
    }
    let start = auth.taxisnet.start();
    let now = auth.clock.now().naive_utc();
    let row = LoginStateRow {
        state_hash: sha256_hex(&start.state),
        pkce_verifier: start.pkce_verifier,
        return_to,
        created_at: now,
        expires_at: now + Duration::minutes(10),
    };
    db.run(move |conn| store::insert_login_state(conn, &row).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Found()
        .cookie(login_cookie(&start.state, auth.cookie_secure))
        .insert_header((header::LOCATION, start.url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// The browser that started a sign-in keeps its `state` in a cookie, and
/// the callback signs in only the browser that shows it (RFC 6749 10.12).
/// Without it, anyone could send a citizen the callback of a sign-in they
/// started themselves, and the citizen would book as them. Lax, so that
/// the provider's redirect back (a top-level GET) carries it; ten minutes,
/// as the state lives.
const LOGIN_COOKIE: &str = "login_state";

fn login_cookie(state: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, state.to_owned())
        .path("/v1/auth")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::minutes(10))
        .finish()
}

/// Whether this request comes from the browser that started the sign-in
/// of `state`. Compared as hashes, so the time taken says nothing about
/// the value.
fn started_here(req: &HttpRequest, state: &str) -> bool {
    req.cookie(LOGIN_COOKIE)
        .is_some_and(|c| sha256_hex(c.value()) == sha256_hex(state))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The `state` given at login.
    state: Option<String>,
    /// Set by the provider when the citizen or the provider refused.
    error: Option<String>,
}

/// The new session, when the login had no `return_to`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginAnswer {
    /// The session token, for `Authorization: Bearer`; also set as the `sid` cookie.
    #[schema(example = "fzmsL6GWCWJgz1IbOzCHAEF8VZkQEiPR8KErkM77hwU")]
    pub token: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:45:00Z")]
    pub expires_at: DateTime<Utc>,
    pub user: Me,
}

/// Finishes the TAXISnet login: exchanges the code, reads the citizen's AFM
/// and names, and starts a session (cookie `sid`).
#[utoipa::path(
    tag = "authentication",
    params(CallbackQuery),
    responses(
        (status = 200, description = "Signed in; the session (no `return_to` was given).", body = LoginAnswer),
        (status = 303, description = "Signed in; to `return_to`.", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, response = BadLogin),
        (status = 429, response = RateLimited),
    )
)]
#[get("/callback")]
async fn callback(
    req: HttpRequest,
    query: web::Query<CallbackQuery>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let state = query
        .state
        .filter(|state| started_here(&req, state))
        .ok_or(ApiError::new(ErrorCode::InvalidLoginState))?;
    let now = auth.clock.now();
    let hash = sha256_hex(&state);
    let pending = db
        .run(move |conn| {
            store::take_login_state(conn, &hash, now.naive_utc()).map_err(DbError::from)
        })
        .await?
        .ok_or(ApiError::new(ErrorCode::InvalidLoginState))?;
    let code = match (query.error, query.code) {
        (None, Some(code)) => code,
        (error, _) => {
            tracing::info!(?error, "the identity provider declined the login");
            return Err(ApiError::new(ErrorCode::LoginFailed));
        }
    };
    let user = auth
        .taxisnet
        .finish(code, pending.pkce_verifier)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "TAXISnet login failed");
            match e {
                LoginError::Refused(_) => ApiError::new(ErrorCode::LoginFailed),
                LoginError::Provider(_) | LoginError::Userinfo(_) => {
                    ApiError::new(ErrorCode::IdentityProviderError)
                }
            }
        })?;

    let token = random_token();
    let lifetime = Duration::seconds(auth.settings.session_absolute_timeout_secs);
    let row = SessionRow {
        id: SessionId::generate(),
        token_hash: sha256_hex(&token),
        afm: user.afm.to_string(),
        first_name: user.first_name,
        last_name: user.last_name,
        father_name: user.father_name,
        created_at: now.naive_utc(),
        last_seen_at: now.naive_utc(),
        expires_at: (now + lifetime).naive_utc(),
        strong_at: None,
    };
    let idle = auth.settings.session_idle();
    let session = db
        .run(move |conn| {
            store::insert_session(conn, &row)?;
            let roles = super::roles::grants_for(conn, &row.afm)?;
            Ok::<_, ApiError>((row, roles))
        })
        .await?;
    let cookie = session_cookie(&token, auth.cookie_secure, lifetime);
    let mut used = login_cookie("", auth.cookie_secure);
    used.make_removal();
    let user = Me::from(WithRoles {
        session: CurrentSession::from_row(session.0, idle)?,
        roles: session.1,
    });
    Ok(match pending.return_to {
        Some(url) => HttpResponse::SeeOther()
            .cookie(cookie)
            .cookie(used)
            .insert_header((header::LOCATION, url))
            .finish(),
        None => HttpResponse::Ok()
            .cookie(cookie)
            .cookie(used)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(LoginAnswer {
                token,
                expires_at: user.session_expires_at,
                user,
            }),
    })
}

/// The signed-in user, their roles, and whether the session is strong.
#[utoipa::path(
    tag = "authentication",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user.", body = Me),
        (status = 401, response = Unauthenticated),
    )
)]
#[get("/v1/me")]
async fn me(caller: Caller<WithRoles>, db: web::Data<Db>) -> Result<web::Json<Me>, ApiError> {
    let caller = db.run(move |conn| caller.resolve(conn)).await?;
    Ok(web::Json(Me::from(caller)))
}

/// Where the one-time code went.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OtpSent {
    /// The certified mobile, mostly hidden.
    #[schema(example = "+3069*****678")]
    pub masked_mobile: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-11-20T08:20:00Z")]
    pub expires_at: DateTime<Utc>,
}

/// Sends a 6-digit one-time code by SMS to the mobile certified for the
/// caller's AFM in the National Registry of Communication (R-PH-02).
#[utoipa::path(
    tag = "authentication",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 202, description = "The SMS is on its way.", body = OtpSent),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 409, response = NoCertifiedMobile),
        (status = 429, response = RateLimited),
        (status = 502, response = ContactRegistryUnavailable),
    )
)]
#[post("/otp")]
async fn request_otp(
    req: HttpRequest,
    caller: Caller<CurrentSession>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    // Two checkouts, not one: the registry is asked between the session's
    // lookup and the code's issue, and no connection is held across a call
    // to another service.
    let session = db.run(move |conn| caller.resolve(conn)).await?;
    let mobile = auth
        .contact_registry
        .certified_mobile(&db, &session.afm)
        .await?
        .ok_or(ApiError::new(ErrorCode::NoCertifiedMobile))?;
    let language = Lang::from_headers(req.headers());
    let masked_mobile = mobile.masked();
    let context = auth.clone();
    let expires_at = db
        .run(move |conn| {
            otp::issue(
                conn,
                &context.hmac,
                &context.settings.otp,
                &session,
                &mobile,
                language,
                context.clock.now(),
            )
        })
        .await?;
    Ok(HttpResponse::Accepted().json(OtpSent {
        masked_mobile,
        expires_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OtpCode {
    /// The six digits from the SMS.
    #[schema(pattern = "^[0-9]{6}$", example = "042917")]
    pub code: String,
}

/// Verifies the one-time code and marks the session strong.
#[utoipa::path(
    tag = "authentication",
    security(("session_cookie" = []), ("bearer" = [])),
    request_body = OtpCode,
    responses(
        (status = 200, description = "The session is strong.", body = Me),
        (status = 400, response = OtpRejected),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 422, response = ValidationFailed),
        (status = 429, response = RateLimited),
    )
)]
#[post("/otp/verify")]
async fn verify_otp(
    caller: Caller<WithRoles>,
    body: JsonBody<OtpCode>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<web::Json<Me>, ApiError> {
    let code = body.into_inner().code;
    let well_formed = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(ApiError::validation(vec![FieldError::new(
            "code",
            "invalid_format",
            Text::new("Ο κωδικός έχει 6 ψηφία.", "The code has 6 digits."),
        )]))
    };
    let context = auth.clone();
    let now = auth.clock.now().naive_utc();
    let caller = db
        .run(move |conn| {
            let mut caller = caller.resolve(conn)?;
            let code = well_formed?;
            otp::verify(
                conn,
                &context.hmac,
                &context.settings.otp,
                &caller.session.id,
                &code,
                now,
            )?;
            store::mark_strong(conn, &caller.session.id, now)?;
            caller.session.strong = true;
            Ok::<_, ApiError>(caller)
        })
        .await?;
    Ok(web::Json(Me::from(caller)))
}

/// Ends the session and clears the cookie.
#[utoipa::path(
    tag = "authentication",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Signed out."),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 429, response = RateLimited),
    )
)]
#[post("/logout")]
async fn logout(
    caller: Caller<CurrentSession>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| {
        let session = caller.resolve(conn)?;
        store::delete_session(conn, &session.id).map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::NoContent()
        .cookie(removal_cookie(auth.cookie_secure))
        .finish())
}
