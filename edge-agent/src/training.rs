//! Training mode (培训模式): the regional server marks a terminal for training. Its tickets then
//! come from its own numbers and are printed as training tickets, never from the hall's queue;
//! the plate says so on every screen; the server marks whatever else the terminal sends.

use std::sync::atomic::{AtomicBool, Ordering};

use menpai_model::api::AgentEvent;

use crate::Agent;
use crate::store::Store;

const KEY: &str = "training";

/// Whether this terminal is in training mode, as the server last said (kept across restarts).
#[derive(Debug, Default)]
pub struct Training(AtomicBool);

impl Training {
    pub fn load(store: &Store) -> Training {
        let on = store.sync_state(KEY).ok().flatten().as_deref() == Some("1");
        Training(AtomicBool::new(on))
    }

    pub fn on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The server's word at a heartbeat: a change is kept and told to the plate.
pub fn apply(agent: &Agent, on: bool) {
    if agent.training.0.swap(on, Ordering::Relaxed) == on {
        return;
    }
    if let Err(e) = agent.store.set_sync_state(KEY, if on { "1" } else { "0" }) {
        tracing::warn!(error = %e, "Training mode could not be kept in the store.");
    }
    tracing::info!(
        on,
        "The regional server changed this terminal's training mode."
    );
    agent.notify(AgentEvent::TrainingChanged { on });
}
