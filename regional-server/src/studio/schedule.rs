//! Scheduled publishing (定时发布): approved change sets whose time has come on the server's
//! clock are published, oldest first, about once a second.

use std::sync::Arc;
use std::time::Duration;

use crate::Server;
use crate::shutdown::Shutdown;
use crate::storage::ChangeSet;

/// How often the schedule is looked at.
pub const TICK: Duration = Duration::from_secs(1);

/// Publishes what is due every [`TICK`] until the server stops.
pub async fn schedule_loop(server: Arc<Server>, mut stop: Shutdown) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        let s = server.clone();
        let _ = tokio::task::spawn_blocking(move || publish_due(&s)).await;
    }
}

/// Publishes every approved change set due now on `server.clock` (blocking); returns them as
/// they ended (published or failed).
pub fn publish_due(server: &Server) -> Vec<ChangeSet> {
    let now = crate::clock::stamp(server.clock.local_now());
    let due = match server.storage.due(&now) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "Reading the publishing schedule failed.");
            return Vec::new();
        }
    };
    due.iter()
        .filter_map(|set| match super::publish::change_set(server, set) {
            Ok(done) => Some(done),
            Err(e) => {
                tracing::error!(id = set.id, error = %e.message, "A scheduled publish failed.");
                None
            }
        })
        .collect()
}
