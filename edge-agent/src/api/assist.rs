//! A citizen asks for 帮代办 or 上门取件 at the plate; sent on to the regional server.

use std::sync::Arc;

use axum::Router;

use crate::Agent;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
}
