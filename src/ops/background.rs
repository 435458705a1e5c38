//! Tasks that run beside the server, in rounds, and stop with it: the
//! outbox worker and the retention schedule.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running task; [`Background::stop`] ends it after its current round.
pub struct Background {
    name: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Background {
    /// Starts on the current tokio runtime a task that runs `round` again
    /// and again: at once when it answers `true` (there is more to do),
    /// after `pause` otherwise, until stopped.
    pub fn start<R, F>(name: &'static str, pause: Duration, mut round: R) -> Background
    where
        R: FnMut() -> F + Send + 'static,
        F: Future<Output = bool> + Send,
    {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let more = round().await;
                if !more {
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
