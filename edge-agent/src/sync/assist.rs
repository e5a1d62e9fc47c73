//! 帮代办 and 上门取件 requests made at the plate, sent to the regional server at once (the
//! citizen waits for the private link); never queued, so the plate can say honestly when it
//! could not be sent.

use std::time::Duration;

use menpai_model::assist::{AssistReceipt, AssistRequest};

use super::Identity;
use crate::Agent;

/// How long the citizen waits for the server.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused it, in words for the citizen.
    #[error("{1}")]
    Refused(u16, String),
    /// Not enrolled, or the server could not be reached in time.
    #[error("the regional server is unreachable: {0}")]
    Unreachable(String),
}

/// Sends a request to the regional server over mutual TLS (its own short connection).
pub async fn send(agent: &Agent, request: &AssistRequest) -> Result<AssistReceipt, SendError> {
    let unreachable = |e: &dyn std::fmt::Display| SendError::Unreachable(e.to_string());
    let identity = Identity::load(&agent.config.data_dir)
        .map_err(|e| unreachable(&e))?
        .ok_or_else(|| SendError::Unreachable("this terminal is not enrolled".into()))?;
    let client = identity.client().map_err(|e| unreachable(&e))?;
    let body = serde_json::to_vec(request).expect("serialises");
    let reply = client
        .request(
            "POST",
            "/device/v1/requests",
            &[("content-type", "application/json")],
            body,
            SEND_TIMEOUT,
        )
        .await
        .map_err(|e| unreachable(&e))?;
    match reply.status {
        200..=299 => serde_json::from_slice(&reply.body)
            .map_err(|e| SendError::Unreachable(format!("request answer: {e}"))),
        400..=499 => Err(SendError::Refused(reply.status, reply.error_text())),
        s => Err(SendError::Unreachable(format!(
            "status {s}: {}",
            reply.error_text()
        ))),
    }
}
