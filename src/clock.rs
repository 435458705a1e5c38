//! Where time comes from. Rules take `now` from a [`Clock`] rather than
//! calling `Utc::now()`, so tests (and `--now` on the CLI) can move it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// Clocks answer whole microseconds: PostgreSQL keeps no finer, so an
/// instant reads back exactly as it was written, on either database.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// The real time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// Real time plus an offset that only grows: time runs as usual (so
/// background work keeps its pace) and a test can jump ahead, e.g. past a
/// session's idle limit.
#[derive(Default)]
pub struct AdjustableClock(Mutex<Duration>);

impl AdjustableClock {
    pub fn new() -> Arc<AdjustableClock> {
        Arc::new(AdjustableClock::default())
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6) + *self.0.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_jumps_when_told_and_runs_otherwise() {
        let clock = AdjustableClock::new();
        let before = Utc::now();
        clock.advance(Duration::minutes(31));
        let now = clock.now();
        assert!(now >= before + Duration::minutes(31));
        assert!(now < before + Duration::minutes(32));
    }
}
