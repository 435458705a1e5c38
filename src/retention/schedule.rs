//! The server's own retention passes: one shortly after start, then one
//! every `retention.interval_secs`.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::config::RetentionSettings;
use crate::db::{Db, DbError};
use crate::ops::Metrics;
use crate::ops::background::{Background, Round};

/// Passes at `settings.interval_secs`; sessions idle for `session_idle`
/// have ended.
pub fn start(
    db: Db,
    clock: SharedClock,
    settings: &RetentionSettings,
    session_idle: chrono::Duration,
    metrics: Arc<Metrics>,
) -> Background {
    let pause = Duration::from_secs(settings.interval_secs.max(1));
    Background::start("retention", pause, metrics, move || {
        let (db, clock) = (db.clone(), clock.clone());
        async move {
            let now = clock.now();
            match db
                .run(move |conn| super::run(conn, now, session_idle).map_err(DbError::from))
                .await
            {
                Ok(report) => {
                    if report != super::Report::default() {
                        tracing::info!(?report, "retention pass");
                    }
                    Round::Idle
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention pass failed; next one as usual");
                    Round::Failed
                }
            }
        }
    })
}
