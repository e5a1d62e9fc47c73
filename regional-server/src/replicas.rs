//! Hearing the other replicas: every signal another replica sends (`bus.rs`) is acted on here
//! as if the change had been made on this one — its staff pages get the note, its terminals'
//! live streams the queue call or help update, its in-memory copy of the published content is
//! replaced. Nothing to do on SQLite (one process).

use std::sync::Arc;

use crate::Server;
use crate::bus::{CHANNEL, Envelope, Signal};
use crate::storage::Heard;
use menpai_model::sync::StreamEvent;

/// Listens until the server stops.
pub async fn listen_loop(server: Arc<Server>, mut stop: crate::shutdown::Shutdown) {
    let Some(mut heard) = server.storage.listen(CHANNEL) else {
        return;
    };
    loop {
        tokio::select! {
            next = heard.recv() => match next {
                Some(Heard::Payload(payload)) => {
                    let s = server.clone();
                    // Acting may read the database: off the async threads.
                    let _ = tokio::task::spawn_blocking(move || act_on(&s, &payload)).await;
                }
                Some(Heard::Reconnected) => {
                    tracing::warn!("Signals from other replicas may have been missed while the database was cut.");
                    let s = server.clone();
                    let _ = tokio::task::spawn_blocking(move || catch_up(&s)).await;
                }
                None => return,
            },
            _ = stop.wait() => return,
        }
    }
}

/// Acts on one signal from another replica; this replica's own are ignored (it acted already).
pub fn act_on(server: &Server, payload: &str) {
    let envelope: Envelope = match serde_json::from_str(payload) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "A signal from another replica could not be read.");
            return;
        }
    };
    if envelope.from == server.replica {
        return;
    }
    match envelope.signal {
        Signal::Note { hall, topic, id } => server.live.send(&hall, topic, id),
        Signal::Queue { hall, call } => {
            if let Some(h) = server.halls.get(&hall) {
                crate::queue::broadcast_here(server, &h, call);
            }
        }
        Signal::Help { call } => match server.storage.help_call(&call) {
            Ok(Some(record)) => crate::help::calls::publish_here(server, &record),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "A help call another replica changed could not be read.")
            }
        },
        Signal::Content { .. } => catch_up(server),
        Signal::Commands { device } => {
            let _ = server.stream.send(StreamEvent::Commands { device });
        }
        Signal::Updates => {
            let _ = server.stream.send(StreamEvent::Updates);
        }
        Signal::Revoked { device } => {
            let _ = server.revoked.send(device);
        }
        Signal::OperatorEnded { operator } => server.live.end_operator(operator),
    }
}

/// Brings the in-memory copy of the published content up to the database's latest.
fn catch_up(server: &Server) {
    if let Err(e) = crate::content::load_latest(server) {
        tracing::warn!(error = %e, "The latest published content could not be loaded.");
    }
}
