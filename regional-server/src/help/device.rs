//! A terminal calls for staff over mutual TLS: its hall and position come from its enrollment,
//! the same id twice is one call, and a terminal calls at most so often.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use menpai_model::help::{HelpCall, HelpStage, masked_name};
use serde_json::{Value, json};

use super::calls;
use crate::Server;
use crate::devices::Terminal;
use crate::error::{AppError, JsonBody};
use crate::storage::help::HelpCallRecord;

/// `{"id": …, "stage": …, "by": …}`: the call as it stands (201 when new).
pub(super) async fn call(
    State(server): State<Arc<Server>>,
    Terminal(device): Terminal,
    JsonBody(call): JsonBody<HelpCall>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    if let Some(problem) = call.problem() {
        return Err(AppError::bad_request(problem));
    }
    if let Err(wait) = server.help_calls.hit(&device.id, Instant::now()) {
        tracing::warn!(device = %device.id, "A terminal called for help too often.");
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("呼叫太频繁，请 {} 秒后再试", wait.as_secs().max(1)),
        ));
    }
    let record = HelpCallRecord {
        id: call.id,
        device: device.id.clone(),
        hall: device.hall.clone(),
        position: device.position.clone(),
        screen: call.screen,
        item: call.item,
        created_at: calls::now(&server),
        stage: HelpStage::Waiting,
        escalated_at: None,
        acknowledged_by: None,
        acknowledged_name: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        training: device.training,
    };
    let s = server.clone();
    let (kept, new) = tokio::task::spawn_blocking(move || s.storage.add_help_call(&record))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| match e {
            crate::storage::StorageError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
            e => AppError::internal(e),
        })?;
    if new {
        tracing::info!(device = %device.id, hall = %kept.hall, id = %kept.id, "A terminal called for help.");
        calls::publish(&server, &kept);
    }
    let by = kept.acknowledged_name.as_deref().map(masked_name);
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({ "id": kept.id, "stage": kept.stage, "by": by })),
    ))
}
