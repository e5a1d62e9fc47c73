//! The plate tells what only it sees: a session ended (and how long it lasted), a checklist's
//! QR code shown to take it by phone. Counted anonymously by `crate::usage`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::Agent;
use crate::usage::{MAX_SUBJECT_CHARS, UsageKind};

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/usage", post(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageReport {
    /// `session` (with `seconds`) or `qr` (with `item`).
    kind: UsageKind,
    #[serde(default)]
    seconds: Option<u64>,
    #[serde(default)]
    item: Option<String>,
}

async fn report(
    State(agent): AgentState,
    Body(r): Body<UsageReport>,
) -> Result<StatusCode, AppError> {
    match (r.kind, r.seconds, r.item.as_deref()) {
        (UsageKind::Session, Some(s), None) => agent.usage.session_ended(&agent, s),
        (UsageKind::Qr, None, Some(item))
            if !item.is_empty() && item.chars().count() <= MAX_SUBJECT_CHARS =>
        {
            agent.usage.used(&agent, UsageKind::Qr, item)
        }
        _ => {
            return Err(AppError::bad_request(
                "参数错误：应为 {\"kind\": \"session\", \"seconds\": 95} 或 {\"kind\": \"qr\", \"item\": \"…\"}",
            ));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
