//! Help calls from the plates (有事请教 → 呼叫工作人员): the hall's staff and the duty view see
//! them live, acknowledge (马上到) and resolve (已处理); unanswered calls escalate.

pub mod calls;
mod device;
pub mod duty;
pub mod panel;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use crate::Server;
use crate::shutdown::Shutdown;

/// Operators' pages and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/duty", get(duty::page))
        .route("/duty/calls", get(duty::fragment))
        .route("/duty/calls/{id}/acknowledge", post(duty::acknowledge_form))
        .route("/duty/calls/{id}/resolve", post(duty::resolve_form))
        .route("/api/v1/help/calls", get(duty::list_json))
        .route(
            "/api/v1/help/calls/{id}/acknowledge",
            post(duty::acknowledge_json),
        )
        .route("/api/v1/help/calls/{id}/resolve", post(duty::resolve_json))
}

/// What terminals call over mutual TLS.
pub fn device_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/help", post(device::call))
}

/// Calls per terminal a minute: a stuck button must not flood the hall's pages.
pub const CALLS_PER_MINUTE: u32 = 12;

/// How often the loop looks for calls nobody acknowledged.
const ESCALATION_TICK: Duration = Duration::from_millis(500);

/// Escalates calls nobody acknowledged in time, until the server stops.
pub async fn escalation_loop(server: Arc<Server>, mut stop: Shutdown) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(ESCALATION_TICK) => {}
        }
        let s = server.clone();
        let _ = tokio::task::spawn_blocking(move || calls::escalate_due(&s)).await;
    }
}

#[cfg(test)]
mod tests;
