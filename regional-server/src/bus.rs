//! What one replica tells the others: changes that open pages, terminals' live streams and
//! in-memory copies must hear about, whichever replica they are connected to. A signal carries
//! ids only (PostgreSQL NOTIFY takes under 8,000 bytes, and nothing personal rides on it); the
//! replica that hears it reads what it needs from the shared database (`replicas.rs`). On
//! SQLite there is one process and nothing to tell.

use serde::{Deserialize, Serialize};

use crate::Server;
use crate::live::Topic;

/// The NOTIFY channel of a region's replicas.
pub const CHANNEL: &str = "menpai_region";

/// One change, by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// A staff page note (help, request, case, queue) for a hall.
    Note {
        hall: String,
        topic: Topic,
        id: String,
    },
    /// A hall's queue changed; `call` when a window called a ticket.
    Queue {
        hall: String,
        call: Option<menpai_model::queue::WindowCall>,
    },
    /// A help call changed state: its terminal is told.
    Help { call: String },
    /// A content version was published.
    Content { version: String },
    /// Commands wait for a terminal: its open stream is told.
    Commands { device: String },
    /// A rollout changed: every open stream is told.
    Updates,
    /// A terminal was revoked: its open stream ends.
    Revoked { device: String },
    /// An operator's sessions ended: their open pages close.
    OperatorEnded { operator: i64 },
}

/// A signal and the replica that sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub from: String,
    #[serde(flatten)]
    pub signal: Signal,
}

/// Tells the other replicas (after this one has acted on it itself).
pub fn tell(server: &Server, signal: Signal) {
    let envelope = Envelope {
        from: server.replica.clone(),
        signal,
    };
    let payload = serde_json::to_string(&envelope).expect("signals serialise");
    if let Err(e) = server.storage.notify(CHANNEL, &payload) {
        tracing::warn!(error = %e, "The other replicas could not be told of a change.");
    }
}

/// A staff page note, here and on every replica.
pub fn note(server: &Server, hall: &str, topic: Topic, id: impl Into<String>) {
    let id = id.into();
    server.live.send(hall, topic, id.clone());
    tell(
        server,
        Signal::Note {
            hall: hall.to_owned(),
            topic,
            id,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_small_and_read_back() {
        let e = Envelope {
            from: "r1".into(),
            signal: Signal::Note {
                hall: "hall-futian".into(),
                topic: Topic::Help,
                id: "hc-1".into(),
            },
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.len() < 200, "{text}");
        assert_eq!(serde_json::from_str::<Envelope>(&text).unwrap(), e);
    }
}
