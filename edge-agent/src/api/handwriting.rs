//! The writing pad's strokes → candidate characters (after each stroke the kiosk asks again).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::{HandwritingCandidates, HandwritingInk};

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::Agent;
use crate::handwriting::Ink;

/// A stroke may bring up to 20,000 touch samples (a finger held on the pad): room for them.
const BODY_LIMIT: usize = 512 * 1024;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route(
        "/api/v1/handwriting",
        post(recognise).layer(DefaultBodyLimit::max(BODY_LIMIT)),
    )
}

async fn recognise(
    State(agent): AgentState,
    Body(ink): Body<HandwritingInk>,
) -> Result<Json<HandwritingCandidates>, AppError> {
    let ink = Ink::check(&ink).map_err(|e| AppError::bad_request(e.to_string()))?;
    let candidates = tokio::task::spawn_blocking(move || agent.handwriting.recognise(&ink))
        .await
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "手写识别出错"))?
        .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok(Json(HandwritingCandidates { candidates }))
}
