//! Tasks that run beside the server, in rounds, and stop with it: the
//! outbox worker, the retention passes and the reminder passes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Metrics;

/// How a round went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Nothing more to do for now: the next round after the pause.
    Idle,
    /// There is more to do: the next round at once.
    More,
    /// It could not do its work (the task logged why): the next round
    /// after the pause, and counted, so that a pass failing for hours
    /// shows on `/metrics`, not only in the logs.
    Failed,
}

/// A running task; [`Background::stop`] ends it after its current round.
pub struct Background {
    name: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Background {
    /// Starts on the current tokio runtime a task that runs `round` again
    /// and again: at once when it answers [`Round::More`], after `pause`
    /// otherwise, until stopped. Each round's outcome goes to `metrics`.
    pub fn start<R, F>(
        name: &'static str,
        pause: Duration,
        metrics: Arc<Metrics>,
        mut round: R,
    ) -> Background
    where
        R: FnMut() -> F + Send + 'static,
        F: Future<Output = Round> + Send,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let outcome = round().await;
                metrics.background_round(name, outcome != Round::Failed);
                if outcome != Round::More {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stopped.changed() => {}
                    }
                }
                if *stopped.borrow() {
                    break;
                }
            }
            tracing::info!(task = name, "stopped");
        });
        Background { name, stop, task }
    }

    pub async fn stop(self) {
        // The receiver is gone only if the task already ended.
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(task = self.name, error = %e, "the task panicked");
        }
    }
}
