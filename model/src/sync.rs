//! What terminals and the regional server say to each other over mTLS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::DeviceHealth;

/// A terminal asks for its certificate with a one-time token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub token: String,
    /// PKCS#10 request for the terminal's own key, PEM.
    pub csr_pem: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    pub hall: String,
    pub position: String,
    pub certificate_pem: String,
    /// The region's CA, which signs the server's and every terminal's certificate.
    pub ca_pem: String,
    /// Ed25519 public key (base64) content manifests are signed with.
    pub content_public_key: String,
    /// Ed25519 public key (base64) appointment tokens are signed with.
    pub appointment_public_key: String,
    pub heartbeat_interval_s: u64,
    /// This terminal's ticket key (32 bytes, base64): the secret each ticket's link carries is
    /// made with it, online or offline.
    #[serde(default)]
    pub ticket_key: String,
}

/// One outbox event on its way to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxEvent {
    pub key: String,
    pub kind: String,
    pub body: serde_json::Value,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<OutboxEvent>,
}

/// The keys the server now holds (new or seen before): the terminal marks them sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAck {
    pub held: Vec<String>,
    pub new: usize,
    pub duplicates: usize,
}

/// A terminal's heartbeat: what DESIGN § Sync, events, health lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub agent_version: String,
    pub uptime_s: u64,
    pub content_version: Option<String>,
    pub outbox_depth: u64,
    /// When content was last checked with the server (UTC, RFC 3339).
    pub last_sync: Option<String>,
    pub devices: BTreeMap<String, DeviceHealth>,
    pub cpu_temp_c: Option<f32>,
    pub disk_free_mb: Option<u64>,
    pub mem_available_mb: Option<u64>,
    /// The kiosk UI follows the event stream.
    pub ui_alive: bool,
    /// Network state as NetworkManager reports it, when known.
    #[serde(default)]
    pub network: Option<String>,
}

/// What the server answers a heartbeat with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    pub latest_version: Option<String>,
    /// The terminal is in training mode (its tickets, calls, requests and ratings are not real).
    #[serde(default)]
    pub training: bool,
}

/// A push on the live stream (newline-delimited JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// A new content version is published: sync now.
    Content { version: String },
    /// The hall's queue changed; `call` when a window called (or recalled) a ticket.
    Queue {
        hall: String,
        view: crate::queue::QueueView,
        #[serde(default)]
        call: Option<crate::queue::WindowCall>,
    },
    /// A help call this terminal made changed state (acknowledged, resolved, escalated).
    Help { update: crate::help::HelpUpdate },
    /// An operator sent this terminal a command: fetch `GET /device/v1/commands`.
    Commands { device: String },
    /// A rollout changed (a group started, paused, resumed, cancelled): every terminal asks
    /// `GET /device/v1/update` again, after a random wait so they do not all ask at once.
    Updates,
    /// Nothing happened; the connection is alive.
    Ping,
}
