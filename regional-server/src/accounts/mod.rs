//! Operators managed in the browser (add, disable, re-enable, reset passwords, roles and
//! halls), the forced password change, and the audit view with filters and CSV export.

mod actions;
mod api;
mod audit;
mod csv;
mod fields;
mod pages;
mod password;

use std::sync::Arc;

use axum::Router;

use crate::Server;

pub use actions::{MIN_PASSWORD_CHARS, NewAccount};
pub use csv::csv_cell;

/// The admin's pages and API, and every operator's password change.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .merge(pages::routes())
        .merge(password::routes())
        .merge(audit::routes())
        .merge(api::routes())
}
