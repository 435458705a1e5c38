//! `GET /dev/outbox?to=ADDRESS`: what the development transports "sent",
//! newest first, so developers and scripts can read their OTPs. Mounted in
//! the development profile only, outside the OpenAPI document, which
//! describes the production API.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::http::{ApiError, ErrorCode};
use crate::notify::sealing::{self, Field};
use crate::notify::transport::DEVELOPMENT;
use crate::notify::{Channel, store};

/// How many messages the dev outbox shows at most.
const LIMIT: i64 = 100;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dev/outbox")
            .route(web::get().to(dev_outbox))
            .default_service(web::to(get_only)),
    );
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DevOutbox {
    pub items: Vec<DevOutboxItem>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DevOutboxItem {
    pub id: String,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

async fn dev_outbox(
    db: web::Data<Db>,
    query: web::Query<OutboxQuery>,
) -> Result<web::Json<DevOutbox>, ApiError> {
    let to = query.into_inner().to;
    let rows = db
        .run(move |conn| -> Result<_, ApiError> {
            Ok(store::list_delivered(
                conn,
                DEVELOPMENT,
                to.as_deref(),
                LIMIT,
            )?)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let channel = Channel::parse(&row.channel).ok_or_else(|| {
                ApiError::internal(format!("stored channel {:?} is unknown", row.channel))
            })?;
            // Sealed at rest like every outbox text; opened here because
            // this is where development "delivers" to.
            let open = |field, stored: &Option<Vec<u8>>| {
                sealing::open(field, &row.id, stored.as_deref()).map_err(|e| {
                    ApiError::internal(format!("cannot open outbox message {}: {e}", row.id))
                })
            };
            Ok(DevOutboxItem {
                subject: open(Field::Subject, &row.subject)?,
                body: open(Field::Body, &row.body)?,
                id: row.id,
                channel,
                to: row.recipient,
                created_at: row.created_at.and_utc(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(web::Json(DevOutbox { items }))
}

/// The fallback's `405` relies on the OpenAPI document, which leaves this
/// route out; so the resource answers other methods itself.
async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::MethodNotAllowed)
        .with_header(header::ALLOW, HeaderValue::from_static("GET")))
}
