//! `GET /ready`: whether this replica should be sent work — 200 while it serves and its
//! database answers within [`PING_TIMEOUT`], 503 once it is stopping or the database does not
//! answer. A load balancer's health check (HAProxy `option httpchk GET /ready`) reads it;
//! the answer carries no detail an outsider could use.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::Server;

/// How long the database may take to answer before the replica says it is not ready.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/ready", get(ready))
}

async fn ready(State(server): State<Arc<Server>>) -> (StatusCode, &'static str) {
    if server.stopping.is_fired() {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping\n");
    }
    let s = server.clone();
    let ping = tokio::task::spawn_blocking(move || s.storage.ping());
    match tokio::time::timeout(PING_TIMEOUT, ping).await {
        Ok(Ok(Ok(()))) => (StatusCode::OK, "ready\n"),
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "Not ready: the database does not answer.");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
        _ => {
            tracing::warn!("Not ready: the database did not answer in time.");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
