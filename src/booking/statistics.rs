//! Usage statistics for a municipality's administrators (R-BK-09): counts
//! of reservations by service, department, day and status, counted from
//! live and anonymized rows alike, since anonymizing keeps exactly what
//! statistics need (R-BK-07).

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reservations::ReservationStatus;
use super::reservations::local_midnight;
use crate::auth::{Caller, MunicipalityAdmin};
use crate::booking::catalogue::store::municipality_time_zone;
use crate::clock::SharedClock;
use crate::db::schema::{departments, reservations, service_categories};
use crate::db::{Db, DbConn};
use crate::domain::ids::{DepartmentId, MunicipalityId, ServiceId};
use crate::http::{ApiError, Text, Validation, parse_path_id};
use crate::openapi::problems::{Forbidden, NotFound, Unauthenticated, ValidationFailed};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(statistics);
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    #[schema(example = 120)]
    pub total: u64,
    #[schema(example = 18)]
    pub confirmed: u64,
    #[schema(example = 2)]
    pub checked_in: u64,
    #[schema(example = 86)]
    pub completed: u64,
    #[schema(example = 9)]
    pub cancelled: u64,
    #[schema(example = 5)]
    pub no_show: u64,
}

impl StatusCounts {
    fn add(&mut self, status: ReservationStatus) {
        self.total += 1;
        let count = match status {
            ReservationStatus::Confirmed => &mut self.confirmed,
            ReservationStatus::CheckedIn => &mut self.checked_in,
            ReservationStatus::Completed => &mut self.completed,
            ReservationStatus::Cancelled => &mut self.cancelled,
            ReservationStatus::NoShow => &mut self.no_show,
        };
        *count += 1;
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NamedCounts {
    #[schema(example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a03")]
    pub id: String,
    pub name: Text,
    pub counts: StatusCounts,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayCounts {
    #[schema(value_type = String, format = Date, example = "2026-11-02")]
    pub date: NaiveDate,
    pub counts: StatusCounts,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Statistics {
    #[schema(value_type = String, format = Date, example = "2026-11-01")]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date, example = "2026-11-30")]
    pub to: NaiveDate,
    pub counts: StatusCounts,
    pub by_service: Vec<NamedCounts>,
    pub by_department: Vec<NamedCounts>,
    pub by_day: Vec<DayCounts>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// First day of appointments counted, `YYYY-MM-DD`; default 30 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day, inclusive; default today; at most 366 days after `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// One reservation as the statistics count it: no personal data.
#[derive(Queryable)]
struct Row {
    service_id: ServiceId,
    service_el: String,
    service_en: String,
    department_id: DepartmentId,
    department_el: String,
    department_en: String,
    starts_at: NaiveDateTime,
    status: ReservationStatus,
}

fn rows(
    conn: &mut DbConn,
    municipality: &MunicipalityId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Row>> {
    reservations::table
        .inner_join(
            service_categories::table.on(service_categories::id.eq(reservations::service_id)),
        )
        .inner_join(departments::table.on(departments::id.eq(reservations::department_id)))
        .filter(reservations::municipality_id.eq(municipality))
        .filter(reservations::starts_at.ge(from))
        .filter(reservations::starts_at.lt(to))
        .select((
            service_categories::id,
            service_categories::name_el,
            service_categories::name_en,
            departments::id,
            departments::name_el,
            departments::name_en,
            reservations::starts_at,
            reservations::status,
        ))
        .load(conn)
}

/// Counts of the municipality's reservations by service, department, day
/// (in Europe/Athens) and status, for appointments between two dates.
#[utoipa::path(
    tag = "administration",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("municipality_id" = String, Path, format = Uuid), StatisticsQuery),
    responses(
        (status = 200, description = "The counts.", body = Statistics),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
    )
)]
#[get("/v1/municipalities/{municipality_id}/statistics")]
async fn statistics(
    caller: Caller<MunicipalityAdmin>,
    path: web::Path<String>,
    query: web::Query<StatisticsQuery>,
    db: web::Data<Db>,
    clock: web::Data<SharedClock>,
) -> Result<web::Json<Statistics>, ApiError> {
    let municipality = parse_path_id::<MunicipalityId>(&path, "municipality_id");
    let mut v = Validation::default();
    let from = v.date("from", query.from.as_deref());
    let to = v.date("to", query.to.as_deref());
    let checked = v.finish();
    let now = clock.now();
    let (from, to, zone, rows) = db
        .run(move |conn| -> Result<_, ApiError> {
            let admin = caller.resolve(conn)?;
            let id = municipality?;
            admin.require(&id)?;
            checked?;
            let zone = municipality_time_zone(conn, &id)?.ok_or_else(ApiError::not_found)?;
            let to = to.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
            let from = from.unwrap_or(to - Duration::days(30));
            if to < from || to - from > Duration::days(366) {
                let mut v = Validation::default();
                v.fail(
                    "to",
                    "invalid_range",
                    Text::new(
                        "Έως 366 ημέρες μετά το from.",
                        "Up to 366 days after `from`.",
                    ),
                );
                v.finish()?;
            }
            let (start, end) = (
                local_midnight(from, zone),
                local_midnight(to + Duration::days(1), zone),
            );
            Ok((from, to, zone, rows(conn, &id, start, end)?))
        })
        .await?;

    let mut counts = StatusCounts::default();
    let mut by_service: BTreeMap<ServiceId, NamedCounts> = BTreeMap::new();
    let mut by_department: BTreeMap<DepartmentId, NamedCounts> = BTreeMap::new();
    let mut by_day: BTreeMap<NaiveDate, StatusCounts> = BTreeMap::new();
    for row in rows {
        let status = row.status;
        counts.add(status);
        // The response names a service or a department alike by its text.
        let named = |id: &dyn std::fmt::Display, el: String, en: String| NamedCounts {
            id: id.to_string(),
            name: Text::new(el, en),
            counts: StatusCounts::default(),
        };
        by_service
            .entry(row.service_id)
            .or_insert_with_key(|id| named(id, row.service_el, row.service_en))
            .counts
            .add(status);
        by_department
            .entry(row.department_id)
            .or_insert_with_key(|id| named(id, row.department_el, row.department_en))
            .counts
            .add(status);
        let day = row.starts_at.and_utc().with_timezone(&zone).date_naive();
        by_day.entry(day).or_default().add(status);
    }
    Ok(web::Json(Statistics {
        from,
        to,
        counts,
        by_service: by_service.into_values().collect(),
        by_department: by_department.into_values().collect(),
        by_day: by_day
            .into_iter()
            .map(|(date, counts)| DayCounts { date, counts })
            .collect(),
    }))
}
