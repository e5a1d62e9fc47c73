//! 好差评's closed loop: a poor rating opens a case for the hall's manager with a deadline in
//! working days; reply, rectification, a second person's verification, closed.

use std::sync::Arc;

use axum::Router;

use crate::Server;

/// Operators' case pages, rankings and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
}
