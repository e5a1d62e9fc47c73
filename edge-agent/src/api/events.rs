//! The event stream (WebSocket): a hello, then every agent event, until the UI goes away.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use menpai_model::api::AgentEvent;
use serde::Serialize;

use super::AgentState;
use crate::Agent;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/events", get(events))
}

async fn events(State(agent): AgentState, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| stream_events(agent, socket))
}

/// Sends a hello, then every agent event, until the UI goes away.
async fn stream_events(agent: Arc<Agent>, socket: WebSocket) {
    use std::sync::atomic::Ordering;
    agent.ui_clients.fetch_add(1, Ordering::Relaxed);
    follow(&agent, socket).await;
    agent.ui_clients.fetch_sub(1, Ordering::Relaxed);
}

async fn follow(agent: &Arc<Agent>, mut socket: WebSocket) {
    let mut rx = agent.subscribe();
    let stop = agent.tasks.shutdown();
    let hello = AgentEvent::Hello {
        content_version: agent.catalog().map(|c| c.version.version.clone()),
    };
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(e) => if send(&mut socket, &e).await.is_err() { return },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "The UI fell behind the event stream.");
                }
                Err(_) => return,
            },
            () = stop.requested() => {
                // The agent stops: say goodbye, so the UI reconnects to the next one.
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(socket: &mut WebSocket, event: &impl Serialize) -> Result<(), axum::Error> {
    let text = serde_json::to_string(event).expect("events serialise");
    socket.send(Message::Text(text.into())).await
}
