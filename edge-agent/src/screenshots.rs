//! Screenshots for a remote command: the agent asks the kiosk UI (an event with a fresh id),
//! the UI captures its window and posts the PNG back under that id. Only an id the agent is
//! waiting for is taken, once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use menpai_model::api::AgentEvent;
use menpai_model::commands::ATTACHMENT_MAX_BYTES;
use tokio::sync::oneshot;

use crate::Agent;

/// How long the UI has to answer.
pub const WAIT: Duration = Duration::from_secs(20);
/// The PNG signature every screenshot starts with.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

#[derive(Debug, Default)]
pub struct Screenshots {
    waiting: Mutex<HashMap<String, oneshot::Sender<Vec<u8>>>>,
}

/// Why a screenshot was not taken, in words for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error("界面未连接，无法截屏")]
    NoUi,
    #[error("界面 {0} 秒内没有交回截屏")]
    NoAnswer(u64),
}

impl Screenshots {
    /// Takes the UI's PNG for `id`: false when nobody waits for that id, or it is not a PNG
    /// within the limit.
    pub fn deliver(&self, id: &str, png: Vec<u8>) -> bool {
        if !png.starts_with(PNG) || png.len() > ATTACHMENT_MAX_BYTES {
            return false;
        }
        let waiter = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        waiter.is_some_and(|w| w.send(png).is_ok())
    }
}

/// Asks the UI for a screenshot and waits for it.
pub async fn take(agent: &Agent) -> Result<Vec<u8>, ShotError> {
    if agent.ui_clients.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        return Err(ShotError::NoUi);
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap_or_default();
    let id = hex::encode(bytes);
    let (tx, rx) = oneshot::channel();
    let waiting = &agent.screenshots.waiting;
    waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), tx);
    agent.notify(AgentEvent::ScreenshotWanted { id: id.clone() });
    let got = tokio::time::timeout(WAIT, rx).await;
    waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    match got {
        Ok(Ok(png)) => Ok(png),
        _ => Err(ShotError::NoAnswer(WAIT.as_secs())),
    }
}
