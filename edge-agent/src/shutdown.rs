//! Stopping the agent cleanly: one signal every background loop listens to (as mini-redis's
//! `Shutdown`), and the loops' tasks, awaited before the process exits.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A loop's handle on the stop signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// Completes once the agent is stopping.
    pub async fn requested(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    pub fn is_requested(&self) -> bool {
        *self.rx.borrow()
    }

    /// Sleeps `wait`, less when the agent stops; true when it is stopping.
    pub async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(wait) => self.is_requested(),
            () = self.requested() => true,
        }
    }

    /// Runs `work` unless the agent stops first (then None). Only for work that may stop at an
    /// await: the store's writes are synchronous transactions, never cut in the middle.
    pub async fn unless_stopped<F: Future>(&self, work: F) -> Option<F::Output> {
        tokio::select! {
            out = work => Some(out),
            () = self.requested() => None,
        }
    }
}

/// The agent's background tasks (sync, outbox, heartbeat, stream, host, watchdog) and their
/// stop signal.
#[derive(Debug)]
pub struct Tasks {
    stop: watch::Sender<bool>,
    running: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks {
            stop: watch::Sender::new(false),
            running: Mutex::default(),
        }
    }
}

impl Tasks {
    /// A handle for a loop to learn that the agent stops.
    pub fn shutdown(&self) -> Shutdown {
        Shutdown {
            rx: self.stop.subscribe(),
        }
    }

    /// Runs a background loop; it must end soon after its [`Shutdown`] says so.
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name, handle));
    }

    /// Tells every loop (and the event streams) to stop; returns at once.
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Tells every loop to stop and waits up to `grace` for all of them (tasks they spawn
    /// meanwhile too); one still running then is aborted, and logged.
    pub async fn stop(&self, grace: Duration) {
        self.request_stop();
        let deadline = Instant::now() + grace;
        loop {
            let batch: Vec<_> = self
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(..)
                .collect();
            if batch.is_empty() {
                return;
            }
            for (name, mut task) in batch {
                if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                    tracing::warn!(
                        task = name,
                        "A background task did not stop in time; aborting it."
                    );
                    task.abort();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_ends_sleeping_loops_and_waits_for_them() {
        let tasks = Tasks::default();
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (stop, done) = (tasks.shutdown(), finished.clone());
        tasks.spawn("test-loop", async move {
            while !stop.sleep(Duration::from_secs(3600)).await {}
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let started = std::time::Instant::now();
        tasks.stop(Duration::from_secs(5)).await;
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(tasks.shutdown().is_requested());
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_signal_is_aborted_after_the_grace() {
        let tasks = Tasks::default();
        tasks.spawn("stubborn", std::future::pending());
        let started = std::time::Instant::now();
        tasks.stop(Duration::from_millis(100)).await;
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
