//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Db, has_pending_migrations};
use crate::http::{ApiError, ErrorCode, Text};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: String,
    /// `postgresql` or `sqlite`.
    #[schema(example = "postgresql")]
    pub database: String,
}

/// The process is alive. Touches nothing else, so a slow database never
/// gets a healthy instance restarted.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive.", body = Health)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// The instance can serve: the database answers and its schema is current.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ready to serve.", body = Readiness))
)]
#[get("/readyz")]
async fn readyz(db: web::Data<Db>) -> Result<web::Json<Readiness>, ApiError> {
    let pending = db
        .run(|conn| has_pending_migrations(conn).map_err(ApiError::internal))
        .await?;
    if pending {
        return Err(
            ApiError::new(ErrorCode::ServiceUnavailable).with_detail(Text::new(
                "Η βάση δεδομένων δεν έχει ενημερωθεί (εκκρεμούν μεταναστεύσεις).",
                "The database schema is not current (migrations are pending).",
            )),
        );
    }
    Ok(web::Json(Readiness {
        status: "ready".into(),
        database: db.backend().into(),
    }))
}
