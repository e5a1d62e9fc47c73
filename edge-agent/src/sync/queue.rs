//! The terminal's side of the hall's queue on the regional server: tickets taken online,
//! blocks of numbers leased for when the server is away, and the calls the live stream brings.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use menpai_model::queue::{
    DeviceTicketRequest, IssuedTicket, LeaseRequest, NumberLease, QueueView, WindowCall,
};

use super::client::Client;
use crate::Agent;

/// How long a citizen waits for the server before the ticket comes from a leased block.
const TICKET_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failure, tickets come from leased blocks at once for this long.
const DOWN_FOR: Duration = Duration::from_secs(10);
/// Numbers per (day, prefix) below which the terminal leases another block.
pub const LEASE_LOW: u32 = 5;

/// Why the server gave no ticket.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The server answered no, in words for the citizen.
    #[error("{1}")]
    Refused(u16, String),
    /// The server could not be reached or did not answer in time.
    #[error("the regional server is unreachable: {0}")]
    Unreachable(String),
}

/// The queue's own connection to the regional server (never behind a content download).
pub struct QueueLink {
    client: Client,
    device_id: String,
    down_until: Mutex<Option<Instant>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for QueueLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueLink")
            .field("device_id", &self.device_id)
            .finish()
    }
}

impl QueueLink {
    pub fn new(client: Client, device_id: String) -> QueueLink {
        QueueLink {
            client,
            device_id,
            down_until: Mutex::new(None),
            requests: AtomicU64::new(0),
        }
    }

    /// A request id no other terminal or request can have.
    pub fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let now = chrono::Utc::now().timestamp_micros();
        format!("{}-{now:x}-{n}", self.device_id)
            .chars()
            .rev()
            .take(64)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    }

    /// Whether to try the server for a ticket now.
    pub fn reachable(&self) -> bool {
        let d = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        d.is_none_or(|until| Instant::now() >= until)
    }

    pub fn mark_up(&self) {
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn mark_down(&self) {
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + DOWN_FOR);
    }

    async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, LinkError> {
        match self
            .client
            .request(
                "POST",
                path,
                &[("content-type", "application/json")],
                body,
                timeout,
            )
            .await
        {
            Ok(r) if (200..300).contains(&r.status) => {
                self.mark_up();
                Ok(r.body.to_vec())
            }
            Ok(r) if (400..500).contains(&r.status) => {
                Err(LinkError::Refused(r.status, r.error_text()))
            }
            Ok(r) => {
                self.mark_down();
                Err(LinkError::Unreachable(format!(
                    "status {}: {}",
                    r.status,
                    r.error_text()
                )))
            }
            Err(e) => {
                self.mark_down();
                // The next request dials afresh rather than waiting on a dead connection.
                self.client.reset().await;
                Err(LinkError::Unreachable(e.to_string()))
            }
        }
    }

    /// Takes a ticket from the server (the follow link is the terminal's to add).
    pub async fn take(&self, r: &DeviceTicketRequest) -> Result<IssuedTicket, LinkError> {
        let body = serde_json::to_vec(r).expect("serialises");
        let bytes = self
            .post("/device/v1/queue/tickets", body, TICKET_TIMEOUT)
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| LinkError::Unreachable(format!("ticket answer: {e}")))
    }

    /// Leases blocks for today wherever fewer than [`LEASE_LOW`] numbers are left (the server
    /// leases today's numbers only; after midnight the next refill takes the new day's).
    pub async fn refill_leases(&self, agent: &Agent) -> Result<usize, LinkError> {
        let Some(catalog) = agent.catalog() else {
            return Err(LinkError::Unreachable(
                "no content yet: the hall is not known".into(),
            ));
        };
        let hall = &agent.config.terminal.hall;
        let Some(outlet) = catalog.outlet(hall) else {
            return Ok(0);
        };
        let prefixes: Vec<String> = outlet
            .business_types
            .iter()
            .map(|b| b.prefix.clone())
            .collect();
        let days = vec![
            menpai_model::queue::china_now()
                .date()
                .format("%Y-%m-%d")
                .to_string(),
        ];
        let wants = crate::queue::lease_wants(&agent.store, hall, &days, &prefixes, LEASE_LOW)
            .map_err(|e| LinkError::Unreachable(e.to_string()))?;
        if wants.is_empty() {
            return Ok(0);
        }
        let body = serde_json::to_vec(&LeaseRequest { wants }).expect("serialises");
        let bytes = self
            .post("/device/v1/queue/leases", body, Duration::from_secs(15))
            .await?;
        let leases: Vec<NumberLease> = serde_json::from_slice(&bytes)
            .map_err(|e| LinkError::Unreachable(format!("lease answer: {e}")))?;
        crate::queue::add_leases(&agent.store, hall, &leases)
            .map_err(|e| LinkError::Unreachable(e.to_string()))?;
        Ok(leases.len())
    }
}

/// The hall's queue as the server pushed it: kept for the panel, and a call announced.
pub fn on_queue(agent: &Agent, view: QueueView, call: Option<WindowCall>) {
    *agent.hall_queue.lock().unwrap_or_else(|e| e.into_inner()) = Some(view);
    match call {
        Some(c) => agent.announce_call(&c),
        None => agent.notify(menpai_model::api::AgentEvent::QueueChanged),
    }
}
