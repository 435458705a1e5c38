//! A stand-in for GSIS TAXISnet in the development profile: the same three
//! endpoints and the same XML userinfo, under `/dev/taxisnet/oauth2server`.
//! It is a real OAuth2 authorization server (client check, single-use codes,
//! PKCE S256), so the login talks to it over HTTP exactly as to GSIS.
//! `authorize` shows a small form of demo citizens; `login_hint=AFM` signs
//! in any valid AFM at once, for scripts and tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use quick_xml::escape::escape;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::demo::{DEMO_PEOPLE, DemoPerson};
use crate::auth::random_token;
use crate::config::{DEVELOPMENT_CLIENT_ID, DEVELOPMENT_CLIENT_SECRET};
use crate::domain::Afm;
use crate::http::{ApiError, ErrorCode, Text};

const CODE_LIFETIME: Duration = Duration::from_secs(300);
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

struct Grant {
    afm: Afm,
    redirect_uri: String,
    code_challenge: String,
    issued: Instant,
}

#[derive(Default)]
pub struct DevelopmentProvider {
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, (Afm, Instant)>>,
}

/// `provider` is made once per server, not per worker: a code issued by
/// one worker must be redeemable at another.
pub fn routes(cfg: &mut web::ServiceConfig, provider: web::Data<DevelopmentProvider>) {
    cfg.app_data(provider)
        .route("/oauth/authorize", web::get().to(authorize))
        .route("/oauth/token", web::post().to(token))
        .route("/userinfo", web::get().to(userinfo));
}

#[derive(Clone, Deserialize, Serialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
}

/// A sign-in request this provider cannot serve: `400 bad_request`, with
/// what is wrong in `detail`.
fn bad_request(el: &'static str, en: &'static str) -> ApiError {
    ApiError::new(ErrorCode::BadRequest).with_detail(Text::new(el, en))
}

async fn authorize(
    query: web::Query<AuthorizeQuery>,
    provider: web::Data<DevelopmentProvider>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if q.client_id.as_deref() != Some(DEVELOPMENT_CLIENT_ID) {
        return Err(bad_request("Άγνωστο client_id.", "Unknown client_id."));
    }
    if q.response_type.as_deref() != Some("code") {
        return Err(bad_request(
            "Το response_type πρέπει να είναι code.",
            "response_type must be code.",
        ));
    }
    let (Some(redirect_uri), Some(challenge)) = (q.redirect_uri.clone(), q.code_challenge.clone())
    else {
        return Err(bad_request(
            "Απαιτούνται redirect_uri και code_challenge (PKCE).",
            "redirect_uri and a PKCE code_challenge are required.",
        ));
    };
    if q.code_challenge_method.as_deref() != Some("S256") {
        return Err(bad_request(
            "Το code_challenge_method πρέπει να είναι S256.",
            "code_challenge_method must be S256.",
        ));
    }
    // Anyone can call this endpoint with anything: the URL is checked here,
    // not trusted to come from the login's client.
    let mut location = reqwest::Url::parse(&redirect_uri)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| {
            bad_request(
                "Το redirect_uri πρέπει να είναι διεύθυνση http ή https.",
                "redirect_uri must be an http or https URL.",
            )
        })?;
    let Some(hint) = q.login_hint.as_deref() else {
        return Ok(form(&q));
    };
    match Afm::parse(hint) {
        Ok(afm) => {
            let code = random_token();
            provider.codes.lock().expect("provider lock").insert(
                code.clone(),
                Grant {
                    afm,
                    redirect_uri,
                    code_challenge: challenge,
                    issued: Instant::now(),
                },
            );
            location.query_pairs_mut().append_pair("code", &code);
        }
        Err(_) => {
            location
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("error_description", "not a valid AFM");
        }
    }
    if let Some(state) = &q.state {
        location.query_pairs_mut().append_pair("state", state);
    }
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, location.to_string()))
        .finish())
}

/// The sign-in page: one link per demo citizen, and a field for any AFM.
fn form(query: &AuthorizeQuery) -> HttpResponse {
    let link = |afm: &str| {
        let with_hint = AuthorizeQuery {
            login_hint: Some(afm.to_owned()),
            ..query.clone()
        };
        format!(
            "?{}",
            escape(serde_urlencoded::to_string(with_hint).unwrap_or_default())
        )
    };
    let people: String = DEMO_PEOPLE
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"{}\">{} {}</a> <small>ΑΦΜ {} · {}</small></li>",
                link(p.afm),
                escape(p.first_name),
                escape(p.last_name),
                p.afm,
                escape(p.role_note)
            )
        })
        .collect();
    let fields = [
        ("response_type", &query.response_type),
        ("client_id", &query.client_id),
        ("redirect_uri", &query.redirect_uri),
        ("state", &query.state),
        ("scope", &query.scope),
        ("code_challenge", &query.code_challenge),
        ("code_challenge_method", &query.code_challenge_method),
    ];
    let hidden: String = fields
        .iter()
        .filter_map(|(name, value)| {
            value.as_ref().map(|v| {
                format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    escape(v)
                )
            })
        })
        .collect();
    let page = format!(
        "<!doctype html><html lang=\"el\"><meta charset=\"utf-8\"><title>TAXISnet (ανάπτυξη)</title>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">\
         <h1>TAXISnet — περιβάλλον ανάπτυξης</h1>\
         <p>Επιλέξτε δοκιμαστικό πολίτη / choose a demo citizen:</p><ul>{people}</ul>\
         <form method=\"get\">{hidden}<label>ή οποιοσδήποτε έγκυρος ΑΦΜ / or any valid AFM: \
         <input name=\"login_hint\" pattern=\"[0-9]{{9}}\" required></label> <button>Είσοδος</button></form>\
         </body></html>"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Serialize)]
struct OAuthError {
    error: &'static str,
    error_description: &'static str,
}

fn oauth_error(status: u16, error: &'static str, error_description: &'static str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(OAuthError {
            error,
            error_description,
        })
}

/// Client credentials from HTTP Basic or from the form, as GSIS accepts.
fn client_authenticated(req: &HttpRequest, form: &TokenForm) -> bool {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match &basic {
        Some(pair) => match pair.split_once(':') {
            Some((id, secret)) => (Some(id), Some(secret)),
            None => (None, None),
        },
        None => (form.client_id.as_deref(), form.client_secret.as_deref()),
    };
    id == Some(DEVELOPMENT_CLIENT_ID) && secret == Some(DEVELOPMENT_CLIENT_SECRET)
}

async fn token(
    req: HttpRequest,
    form: web::Form<TokenForm>,
    provider: web::Data<DevelopmentProvider>,
) -> HttpResponse {
    if !client_authenticated(&req, &form) {
        return oauth_error(401, "invalid_client", "unknown client or wrong secret");
    }
    if form.grant_type != "authorization_code" {
        return oauth_error(400, "unsupported_grant_type", "only authorization_code");
    }
    let Some(grant) = provider
        .codes
        .lock()
        .expect("provider lock")
        .remove(&form.code)
    else {
        return oauth_error(400, "invalid_grant", "unknown or used code");
    };
    let challenge = form
        .code_verifier
        .as_deref()
        .map(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())));
    let valid = grant.issued.elapsed() < CODE_LIFETIME
        && form.redirect_uri.as_deref() == Some(grant.redirect_uri.as_str())
        && challenge.as_deref() == Some(grant.code_challenge.as_str());
    if !valid {
        return oauth_error(
            400,
            "invalid_grant",
            "expired code, other redirect_uri or failed PKCE",
        );
    }
    let access_token = random_token();
    provider
        .tokens
        .lock()
        .expect("provider lock")
        .insert(access_token.clone(), (grant.afm, Instant::now()));
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenAnswer {
            access_token,
            token_type: "bearer",
            expires_in: TOKEN_LIFETIME.as_secs(),
        })
}

async fn userinfo(req: HttpRequest, provider: web::Data<DevelopmentProvider>) -> HttpResponse {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let afm = token.and_then(|t| {
        let tokens = provider.tokens.lock().expect("provider lock");
        tokens
            .get(t)
            .filter(|(_, issued)| issued.elapsed() < TOKEN_LIFETIME)
            .map(|(afm, _)| afm.clone())
    });
    let Some(afm) = afm else {
        return HttpResponse::Unauthorized().finish();
    };
    let person = DEMO_PEOPLE.iter().find(|p| p.afm == afm.as_str());
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(userinfo_xml(&afm, person))
}

/// Names as GSIS writes them: capitals without accents.
fn gsis_name(name: &str) -> String {
    name.to_uppercase()
        .chars()
        .map(|c| match c {
            'Ά' => 'Α',
            'Έ' => 'Ε',
            'Ή' => 'Η',
            'Ί' | 'Ϊ' => 'Ι',
            'Ό' => 'Ο',
            'Ύ' | 'Ϋ' => 'Υ',
            'Ώ' => 'Ω',
            other => other,
        })
        .collect()
}

/// The GSIS shape, padding included: values come right-padded with spaces.
fn userinfo_xml(afm: &Afm, person: Option<&DemoPerson>) -> String {
    let (first, last, father, mother, year) = person.map_or(
        ("ΔΟΚΙΜΑΣΤΙΚΟΣ", "ΠΟΛΙΤΗΣ", "ΙΩΑΝΝΗΣ", "ΜΑΡΙΑ", 1980),
        |p| {
            (
                p.first_name,
                p.last_name,
                p.father_name,
                p.mother_name,
                p.birth_year,
            )
        },
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><root><userinfo userid=\"User{afm}   \" taxid=\"{afm}   \" \
         lastname=\"{}\" firstname=\"{}\" fathername=\"{}\" mothername=\"{}\" birthyear=\"{year}      \"/></root>",
        escape(gsis_name(last)),
        escape(gsis_name(first)),
        escape(gsis_name(father)),
        escape(gsis_name(mother)),
    )
}
