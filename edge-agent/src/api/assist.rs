//! A citizen asks for 帮代办 or 上门取件 at the plate; sent on to the regional server.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::assist::{
    AssistReceipt, AssistRequest, MAX_ITEM_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, MAX_TIME_CHARS,
    valid_phone,
};
use serde_json::json;

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::Agent;
use crate::sync::assist::{SendError, send};

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/assist", post(assist))
}

/// Refuses what the server would refuse anyway, before the network.
fn check(r: &AssistRequest) -> Result<(), AppError> {
    let too_long = |s: &str, max: usize| s.chars().count() > max;
    if too_long(&r.help, MAX_TEXT_CHARS)
        || too_long(&r.name, MAX_NAME_CHARS)
        || too_long(&r.time, MAX_TIME_CHARS)
        || r.item
            .as_deref()
            .is_some_and(|i| too_long(i, MAX_ITEM_CHARS))
    {
        return Err(AppError::bad_request("填写的内容太长"));
    }
    if r.help.trim().is_empty() {
        return Err(AppError::bad_request("请选择需要什么帮助"));
    }
    if !valid_phone(&r.phone) {
        return Err(AppError::bad_request("手机号应为 11 位数字，以 1 开头"));
    }
    Ok(())
}

/// Sends the request; offline, says so with the hall's phone number (nothing is queued: the
/// plate must not claim a request it could not deliver).
async fn assist(
    State(agent): AgentState,
    Body(r): Body<AssistRequest>,
) -> Result<(StatusCode, Json<AssistReceipt>), AppError> {
    check(&r)?;
    match send(&agent, &r).await {
        Ok(receipt) => Ok((StatusCode::CREATED, Json(receipt))),
        Err(SendError::Refused(status, message)) => Err(AppError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message,
        )),
        Err(e @ SendError::Unreachable(_)) => {
            tracing::warn!(error = %e, "A 帮代办 request could not be sent.");
            let phone = agent
                .catalog()
                .and_then(|c| {
                    c.outlet(&agent.config.terminal.hall)
                        .map(|o| o.phone.clone())
                })
                .unwrap_or_default();
            let message = if phone.is_empty() {
                "没有连上服务中心，请求没有发出。请到咨询台找工作人员。".to_owned()
            } else {
                format!("没有连上服务中心，请求没有发出。请拨打大厅电话 {phone}")
            };
            Err(AppError::new(StatusCode::SERVICE_UNAVAILABLE, message)
                .with_details(json!({ "hall_phone": phone })))
        }
    }
}
