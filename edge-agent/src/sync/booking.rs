//! Booking at the plate through the regional server: the days and slots of this hall, the slot
//! held while a code is texted, and the booking confirmed with it. Sent at once (the citizen
//! waits), never queued: the plate says honestly when the server is out of reach.

use std::time::Duration;

use menpai_model::api::{BookingCodeSent, BookingDays, BookingHold};
use serde::de::DeserializeOwned;

use super::Identity;
use super::assist::SendError;
use crate::Agent;

/// How long the citizen waits for the server.
const TIMEOUT: Duration = Duration::from_secs(8);

/// The server's answer to booking `(method, path, body)`, over mutual TLS.
async fn call<T: DeserializeOwned>(
    agent: &Agent,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<T, SendError> {
    let unreachable = |e: &dyn std::fmt::Display| SendError::Unreachable(e.to_string());
    let identity = Identity::load(&agent.config.data_dir)
        .map_err(|e| unreachable(&e))?
        .ok_or_else(|| SendError::Unreachable("this terminal is not enrolled".into()))?;
    let client = identity.client().map_err(|e| unreachable(&e))?;
    let reply = client
        .request(
            method,
            path,
            &[("content-type", "application/json")],
            body,
            TIMEOUT,
        )
        .await
        .map_err(|e| unreachable(&e))?;
    match reply.status {
        200..=299 => serde_json::from_slice(&reply.body)
            .map_err(|e| SendError::Unreachable(format!("booking answer: {e}"))),
        400..=499 => Err(SendError::Refused(reply.status, reply.error_text())),
        s => Err(SendError::Unreachable(format!(
            "status {s}: {}",
            reply.error_text()
        ))),
    }
}

pub async fn days(agent: &Agent, item: &str) -> Result<BookingDays, SendError> {
    let path = format!(
        "/device/v1/appointments/days?item={}",
        menpai_model::percent_encode(item)
    );
    call(agent, "GET", &path, Vec::new()).await
}

pub async fn hold(agent: &Agent, hold: &BookingHold) -> Result<BookingCodeSent, SendError> {
    let body = serde_json::to_vec(hold).expect("serialises");
    call(agent, "POST", "/device/v1/appointments", body).await
}

/// The booking as the server made it (the fields the plate needs).
#[derive(Debug, serde::Deserialize)]
pub struct Booked {
    pub id: String,
    pub token: String,
    pub item_name: String,
    pub slot: String,
    pub holder: String,
    pub phone: String,
    /// The confirmation was texted.
    #[serde(default)]
    pub texted: bool,
}

pub async fn confirm(agent: &Agent, pending: &str, code: &str) -> Result<Booked, SendError> {
    let path = format!(
        "/device/v1/appointments/{}/confirm",
        menpai_model::percent_encode(pending)
    );
    let body = serde_json::json!({ "code": code }).to_string().into_bytes();
    call(agent, "POST", &path, body).await
}
