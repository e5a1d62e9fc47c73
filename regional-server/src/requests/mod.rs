//! Citizens' requests — 帮代办, 上门取件 — and consultations (在线咨询): taken from the plates
//! and the phone pages, worked from a queue by the hall's staff, followed at a private link.

use std::sync::Arc;

use axum::Router;

use crate::Server;

/// Operators' work queue and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
}

/// Citizens' forms and private links (phone pages).
pub fn public_routes() -> Router<Arc<Server>> {
    Router::new()
}

/// What terminals call over mutual TLS.
pub fn device_routes() -> Router<Arc<Server>> {
    Router::new()
}
