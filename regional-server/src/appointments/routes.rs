//! The appointments' HTTP routes: slots as JSON, capacities for admins, and the booking pages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::{appointment_page, book_page, items_page};
use super::{item_at, slots};
use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::{Role, Session};

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/appointments/slots", get(slots_json))
        .route("/api/v1/admin/appointments/capacity", put(set_capacity))
        .route("/book/{hall}", get(items_page))
        .route("/book/{hall}/{item}", get(book_page))
        .route("/a/{id}", get(appointment_page))
}

#[derive(Deserialize)]
struct SlotQuery {
    hall: String,
    item: String,
    date: String,
}

async fn slots_json(
    State(server): State<Arc<Server>>,
    Query(q): Query<SlotQuery>,
) -> std::result::Result<Json<Value>, AppError> {
    let date = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("日期应为 2026-11-23 这样"))?;
    let s = slots(&server, &q.hall, &q.item, date)?;
    Ok(Json(json!({ "slots": s })))
}

/// Refuses form and JSON posts another site's page makes a browser send.
pub(crate) fn same_site(headers: &HeaderMap) -> std::result::Result<(), AppError> {
    if crate::web::cross_site(headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "请在本站页面提交预约"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct CapacityBody {
    hall: String,
    item: String,
    capacity: u32,
}

async fn set_capacity(
    State(server): State<Arc<Server>>,
    s: Session,
    JsonBody(b): JsonBody<CapacityBody>,
) -> std::result::Result<Json<Value>, AppError> {
    let op = s.require(Role::Admin)?.name.clone();
    item_at(&server, &b.hall, &b.item)?;
    if b.capacity > 500 {
        return Err(AppError::bad_request("每个时段最多 500 个名额"));
    }
    server
        .storage
        .set_capacity(&b.hall, &b.item, b.capacity)
        .map_err(AppError::internal)?;
    let _ = server.storage.audit(
        &op,
        "appointments.capacity",
        &format!("{} {} {}", b.hall, b.item, b.capacity),
        "ok",
    );
    Ok(Json(
        json!({ "hall": b.hall, "item": b.item, "capacity": b.capacity }),
    ))
}
