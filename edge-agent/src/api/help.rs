//! A citizen calls for staff (有事请教 → 呼叫工作人员, or the help button).

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::{AgentEvent, HelpRequest};
use serde_json::{Value, json};

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::Agent;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/help", post(help))
}

/// A citizen asks for staff: queued for the regional server and told to the hall at once.
async fn help(
    State(agent): AgentState,
    Body(b): Body<HelpRequest>,
) -> Result<Json<Value>, AppError> {
    if b.context.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(AppError::bad_request("参数错误：context 最多 64 个字"));
    }
    let body = json!({ "hall": agent.config.terminal.hall, "position": agent.config.terminal.position, "context": b.context });
    agent
        .store
        .enqueue("help_request", &body)
        .map_err(AppError::internal)?;
    agent.notify(AgentEvent::HelpRequested);
    Ok(Json(json!({ "called": true })))
}
