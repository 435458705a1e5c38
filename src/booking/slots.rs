//! `GET /v1/services/{id}/slots`: what a citizen can book (R-BK-02): future
//! slots inside the service's booking window, not withdrawn, with a free
//! seat unless `include_full=true`. Times in the municipality's zone.

use actix_web::{get, web};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listing_windows::{ListingWindow, ListingWindows};
use crate::auth::AuthContext;
use crate::db::schema::slots;
use crate::db::{Db, DbConn, on_backend};
use crate::domain::ids::{ServiceId, SlotId};
use crate::http::{ApiError, Page, PageExample, PageParams, Text, Validation, parse_path_id};
use crate::openapi::problems::{NotFound, ValidationFailed};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_slots);
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Slot {
    // Shown as it was before ids were typed, so the document stays as it is.
    #[schema(value_type = String, example = "0193a1b2-0000-7000-8000-000000000001")]
    pub id: SlotId,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:00:00+02:00")]
    pub starts_at: DateTime<FixedOffset>,
    #[serde(serialize_with = "crate::http::json_time::rfc3339")]
    #[schema(example = "2026-12-01T09:20:00+02:00")]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(example = 2)]
    pub capacity: i32,
    #[schema(example = 1)]
    pub remaining: i32,
}

impl PageExample for Slot {
    fn item() -> serde_json::Value {
        serde_json::json!({
            "id": "0193a1b2-0000-7000-8000-000000000001",
            "starts_at": "2026-12-01T09:00:00+02:00",
            "ends_at": "2026-12-01T09:20:00+02:00",
            "capacity": 2,
            "remaining": 1,
        })
    }

    fn key() -> serde_json::Value {
        serde_json::json!([
            "2026-12-01T07:00:00",
            "0193a1b2-0000-7000-8000-000000000001"
        ])
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// First day, `YYYY-MM-DD` in the municipality's zone; default today.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-01")]
    from: Option<String>,
    /// Last day, inclusive; default 14 days after `from`; at most 92 days after it.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-14")]
    to: Option<String>,
    /// Also list slots with no free seat.
    #[param(value_type = Option<bool>)]
    include_full: Option<String>,
}

/// The columns a listed slot shows; the service is the one asked for and
/// a listed slot is never withdrawn, so those two are not read back.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = slots)]
struct ListedRow {
    id: SlotId,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    capacity: i32,
    booked: i32,
}

fn slots_between(
    conn: &mut DbConn,
    service: &ServiceId,
    from: NaiveDateTime,
    to: NaiveDateTime,
    include_full: bool,
    after: Option<&(NaiveDateTime, SlotId)>,
    limit: u32,
) -> QueryResult<Vec<ListedRow>> {
    on_backend!(conn, |c| {
        let mut query = slots::table
            .filter(slots::service_id.eq(service))
            .filter(slots::withdrawn_at.is_null())
            .filter(slots::starts_at.gt(from))
            .filter(slots::starts_at.le(to))
            .order((slots::starts_at, slots::id))
            .limit(i64::from(limit) + 1)
            .select(ListedRow::as_select())
            .into_boxed();
        if !include_full {
            query = query.filter(slots::booked.lt(slots::capacity));
        }
        if let Some((starts, id)) = after {
            query = query.filter(
                slots::starts_at
                    .gt(*starts)
                    .or(slots::starts_at.eq(*starts).and(slots::id.gt(id.clone()))),
            );
        }
        query.load(c)
    })
}

/// Bookable slots of a service, by start time.
#[utoipa::path(
    tag = "catalogue",
    params(("service_id" = String, Path, format = Uuid), SlotQuery, PageParams),
    responses(
        (status = 200, description = "A page of slots.", body = Page<Slot>),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/services/{service_id}/slots")]
async fn list_slots(
    path: web::Path<String>,
    query: web::Query<SlotQuery>,
    page: web::Query<PageParams>,
    db: web::Data<Db>,
    windows: web::Data<ListingWindows>,
    auth: web::Data<AuthContext>,
) -> Result<web::Json<Page<Slot>>, ApiError> {
    let service: ServiceId = parse_path_id(&path, "service_id")?;
    let mut v = Validation::default();
    let from = v.date("from", query.from.as_deref());
    let to = v.date("to", query.to.as_deref());
    let include_full = match query.include_full.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            v.fail(
                "include_full",
                "invalid_boolean",
                Text::new("true ή false.", "true or false."),
            );
            false
        }
    };
    let request = page.parse::<(NaiveDateTime, SlotId)>();
    v.finish()?;
    let request = request?;
    let now = auth.clock.now();
    let rows = db
        .run(move |conn| -> Result<_, ApiError> {
            let ListingWindow { zone, window } = windows.get(conn, &service)?;
            let today = now.with_timezone(&zone).date_naive();
            let from = from.unwrap_or(today);
            let to = to.unwrap_or(from + Duration::days(14));
            if to < from || to - from > Duration::days(92) {
                let mut v = Validation::default();
                v.fail(
                    "to",
                    "invalid_range",
                    Text::new(
                        "Το to είναι από το from έως 92 ημέρες μετά.",
                        "to is from `from` up to 92 days after it.",
                    ),
                );
                v.finish()?;
            }
            let Some(window) = window else {
                return Ok((Vec::new(), zone));
            };
            let day_start = |d: NaiveDate| super::reservations::local_midnight(d, zone);
            let earliest = (now + Duration::minutes(i64::from(window.min_notice_minutes)))
                .naive_utc()
                .max(day_start(from));
            let latest = (now + Duration::days(i64::from(window.max_advance_days)))
                .naive_utc()
                .min(day_start(to + Duration::days(1)));
            let rows = slots_between(
                conn,
                &service,
                earliest,
                latest,
                include_full,
                request.after.as_ref(),
                request.limit,
            )?;
            Ok((rows, zone))
        })
        .await?;
    let (rows, zone) = rows;
    let page = Page::from_rows(rows, request.limit, |s: &ListedRow| {
        (s.starts_at, s.id.clone())
    });
    Ok(web::Json(Page {
        items: page
            .items
            .into_iter()
            .map(|s| Slot {
                id: s.id,
                starts_at: super::reservations::local(s.starts_at, zone),
                ends_at: super::reservations::local(s.ends_at, zone),
                capacity: s.capacity,
                remaining: s.capacity - s.booked,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
