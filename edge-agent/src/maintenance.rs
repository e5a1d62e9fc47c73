//! A maintenance notice on the plate (维护公告), sent by an operator as a remote command: shown
//! under the screen's title until its time is up or it is taken down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use menpai_model::api::AgentEvent;

use crate::Agent;

#[derive(Debug, Default)]
pub struct Maintenance {
    /// The notice and until when it shows.
    notice: Mutex<Option<(String, Instant)>>,
    /// Each change's number: only the latest notice's end takes it down.
    changes: Arc<AtomicU64>,
}

impl Maintenance {
    /// The notice showing now, if any.
    pub fn current(&self) -> Option<String> {
        let notice = self.notice.lock().unwrap_or_else(|e| e.into_inner());
        notice
            .as_ref()
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(text, _)| text.clone())
    }
}

/// Shows `text` for `span` (replacing any notice), or takes the notice down (`None`); the UI
/// is told at once and again when the notice ends.
pub fn set(agent: &Arc<Agent>, text: Option<String>, span: Duration) {
    let m = &agent.maintenance;
    *m.notice.lock().unwrap_or_else(|e| e.into_inner()) =
        text.clone().map(|t| (t, Instant::now() + span));
    let mine = m.changes.fetch_add(1, Ordering::SeqCst) + 1;
    agent.notify(AgentEvent::MaintenanceChanged { text: text.clone() });
    if text.is_some() {
        let (agent, changes) = (agent.clone(), m.changes.clone());
        tokio::spawn(async move {
            tokio::time::sleep(span).await;
            if changes.load(Ordering::SeqCst) == mine {
                *agent
                    .maintenance
                    .notice
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
                agent.notify(AgentEvent::MaintenanceChanged { text: None });
                tracing::info!("The maintenance notice's time is up.");
            }
        });
    }
}
