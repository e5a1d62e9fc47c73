//! Training mode (培训模式) per terminal, set by an admin: the terminal issues training tickets
//! from its own numbers (the hall's queue never sees them) and says so on its screen; the server
//! refuses it real tickets and leases. The terminal learns it at its next heartbeat.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::{Role, Session};

pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/api/v1/admin/devices/{id}/training", post(set))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    training: bool,
}

async fn set(
    State(server): State<Arc<Server>>,
    s: Session,
    Path(id): Path<String>,
    JsonBody(switch): JsonBody<Switch>,
) -> Result<Json<Value>, AppError> {
    let op = s.require(Role::Admin)?.name.clone();
    let found = server
        .storage
        .set_training(&id, switch.training)
        .map_err(AppError::internal)?;
    let what = if switch.training { "on" } else { "off" };
    let _ = server.storage.audit(
        &op,
        "device.training",
        &format!("{id} {what}"),
        if found { "ok" } else { "not found" },
    );
    if !found {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("没有终端 {id}"),
        ));
    }
    Ok(Json(json!({ "device": id, "training": switch.training })))
}
