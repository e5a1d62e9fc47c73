//! Operators managed in the browser (add, disable, re-enable, reset passwords, roles and
//! halls) and the audit view with filters and CSV export.

use std::sync::Arc;

use axum::Router;

use crate::Server;

/// The admin's pages and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
}
