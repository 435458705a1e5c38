//! `PUT /dev/contact-registry/{afm}`: the stand-in for the National Registry
//! of Communication, so a developer can certify a mobile for any AFM.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::AuthContext;
use crate::auth::contact_registry::store_mobile;
use crate::db::{Db, DbError};
use crate::domain::{Afm, Phone};
use crate::http::{ApiError, FieldError, JsonBody, Text};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/dev/contact-registry/{afm}",
        web::put().to(set_certified_mobile),
    );
}

#[derive(Deserialize)]
struct CertifiedMobile {
    mobile: String,
}

/// `PUT /dev/contact-registry/{afm}` `{"mobile"}`: certifies a mobile for an
/// AFM in the development registry.
async fn set_certified_mobile(
    path: web::Path<String>,
    body: JsonBody<CertifiedMobile>,
    db: web::Data<Db>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let invalid = |field: &'static str, error: crate::domain::DomainError| {
        FieldError::new(
            field,
            error.code(),
            Text::new(error.message_el(), error.to_string()),
        )
    };
    let afm = Afm::parse(&path);
    let mobile = Phone::parse(&body.mobile);
    let (afm, mobile) = match (afm, mobile) {
        (Ok(afm), Ok(mobile)) => (afm, mobile),
        (afm, mobile) => {
            let errors = [
                afm.err().map(|e| invalid("afm", e)),
                mobile.err().map(|e| invalid("mobile", e)),
            ];
            return Err(ApiError::validation(errors.into_iter().flatten().collect()));
        }
    };
    let now = auth.clock.now().naive_utc();
    db.run(move |conn| store_mobile(conn, &afm, &mobile, now).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
