//! Help calls through the regional server: sent at once, their state back over the stream.

use std::time::Duration;

use menpai_model::api::AgentEvent;
use menpai_model::help::{HelpCall, HelpStage, HelpUpdate};
use serde::Deserialize;

use super::Identity;
use crate::Agent;

/// How long a citizen waits for the server to take a call before the plate shows the phone.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A help call this terminal made changed state: the plate shows it.
pub(crate) fn on_update(agent: &Agent, update: HelpUpdate) {
    agent.notify(AgentEvent::HelpChanged { update });
}

/// The server took the call: how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Taken {
    pub id: String,
    pub stage: HelpStage,
    #[serde(default)]
    pub by: Option<String>,
}

/// Why the call did not reach the hall's staff (for the log; the plate shows the phone).
#[derive(Debug, thiserror::Error)]
pub enum NotReached {
    #[error("this terminal is not enrolled with a regional server")]
    NotEnrolled,
    #[error("the regional server refused the call ({0}): {1}")]
    Refused(u16, String),
    #[error("the regional server could not be reached: {0}")]
    Unreachable(String),
}

/// A call id no other terminal or call can have.
pub fn call_id(device: &str) -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    let now = chrono::Utc::now().timestamp_millis();
    let tail = format!("-{now:x}-{}", hex::encode(r));
    let room = menpai_model::help::MAX_ID - tail.len();
    let head: String = device
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(room)
        .collect();
    format!("{head}{tail}")
}

impl NotReached {
    /// Its name in the outbox.
    pub fn reason(&self) -> &'static str {
        match self {
            NotReached::NotEnrolled => "not_enrolled",
            NotReached::Refused(..) => "refused",
            NotReached::Unreachable(_) => "unreachable",
        }
    }
}

/// Keeps a call that did not reach the hall's staff in the outbox, for the statistics.
pub fn record_missed(
    agent: &Agent,
    screen: &str,
    item: &str,
    why: &NotReached,
) -> Result<(), crate::store::StoreError> {
    let t = &agent.config.terminal;
    let body = serde_json::json!({
        "hall": t.hall, "position": t.position, "screen": screen, "item": item,
        "reached": false, "reason": why.reason(),
    });
    agent.store.enqueue("help_request", &body).map(drop)
}

/// The help button pressed while no kiosk UI listens (it crashed or is restarting): the agent
/// calls by itself, so the press still reaches the hall. With a UI, the UI calls (it knows the
/// screen and the item in view, and shows the call's state). Runs until the agent stops.
pub async fn watch_button(agent: std::sync::Arc<Agent>) {
    let mut events = agent.subscribe();
    let stop = agent.tasks.shutdown();
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            () = stop.requested() => return,
        };
        match event {
            Ok(AgentEvent::HelpRequested)
                if agent.ui_clients.load(std::sync::atomic::Ordering::Relaxed) == 0 =>
            {
                match send(&agent, "", "").await {
                    Ok(t) => tracing::info!(id = %t.id, "The help button called staff (no UI)."),
                    Err(why) => {
                        tracing::warn!(error = %why, "The help button's call did not reach the hall's staff.");
                        if let Err(e) = record_missed(&agent, "", "", &why) {
                            tracing::error!(error = %e, "The missed call was not kept.");
                        }
                    }
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            _ => {}
        }
    }
}

/// Sends a call to the regional server now, within [`CALL_TIMEOUT`].
pub async fn send(agent: &Agent, screen: &str, item: &str) -> Result<Taken, NotReached> {
    let data_dir = agent.config.data_dir.clone();
    let identity = tokio::task::spawn_blocking(move || Identity::load(&data_dir))
        .await
        .map_err(|e| NotReached::Unreachable(e.to_string()))?
        .map_err(|e| NotReached::Unreachable(e.to_string()))?
        .ok_or(NotReached::NotEnrolled)?;
    let client = identity
        .client()
        .map_err(|e| NotReached::Unreachable(e.to_string()))?;
    let call = HelpCall {
        id: call_id(&identity.enrollment.device_id),
        screen: screen.to_owned(),
        item: item.to_owned(),
    };
    let body = serde_json::to_vec(&call).expect("serialises");
    let reply = client
        .request("POST", "/device/v1/help", &[], body, CALL_TIMEOUT)
        .await
        .map_err(|e| NotReached::Unreachable(e.to_string()))?;
    match reply.status {
        200..=299 => serde_json::from_slice(&reply.body)
            .map_err(|e| NotReached::Unreachable(format!("the answer: {e}"))),
        s @ 400..=499 => Err(NotReached::Refused(s, reply.error_text())),
        s => Err(NotReached::Unreachable(format!(
            "status {s}: {}",
            reply.error_text()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_valid_and_differ() {
        let long = "hall-futian-entrance-".repeat(5);
        for device in ["hall-futian-entrance-1a2b3c", long.as_str(), "设备"] {
            let id = call_id(device);
            let call = HelpCall {
                id: id.clone(),
                screen: String::new(),
                item: String::new(),
            };
            assert_eq!(call.problem(), None, "{id}");
        }
        assert_ne!(call_id("d"), call_id("d"));
    }
}
