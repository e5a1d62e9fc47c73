//! 听指南: read a guide's summary (or a screen's words) aloud at the plate, stop it, and see
//! whether it still sounds. Only the kiosk on this machine reaches these routes.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::{ReadAloud, ReadingState};

use super::error::AppError;
use super::extract::Body;
use super::{AgentState, active};
use crate::Agent;
use crate::read_aloud::guide_summary;

/// A screen's words read aloud at most (a guide's summary is made here, not sent).
const MAX_READ_CHARS: usize = 1000;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route(
            "/api/v1/read",
            post(read)
                .get(reading)
                .layer(DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/api/v1/read/stop", post(stop))
}

async fn read(
    State(agent): AgentState,
    Body(what): Body<ReadAloud>,
) -> Result<Json<ReadingState>, AppError> {
    let text = match (what.item, what.text) {
        (Some(id), None) => {
            let c = active(&agent)?;
            let item = agent
                .store
                .item(c.version.id, &id)
                .map_err(AppError::internal)?
                .ok_or_else(|| AppError::not_found(format!("没有找到事项 {id}")))?;
            let now = menpai_model::queue::china_now();
            guide_summary(&c.guide(item, &agent.config.terminal.hall, now))
        }
        (None, Some(text)) => {
            let text = text.trim().to_owned();
            if text.is_empty() {
                return Err(AppError::bad_request("没有要朗读的内容"));
            }
            if text.chars().count() > MAX_READ_CHARS {
                return Err(AppError::bad_request(format!(
                    "一次最多朗读 {MAX_READ_CHARS} 个字"
                )));
            }
            text
        }
        _ => {
            return Err(AppError::bad_request(
                "请给出事项（item）或文字（text）之一",
            ));
        }
    };
    let a = menpai_drivers::voice::reading(&text);
    let state = agent
        .devices
        .read_aloud(a)
        .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(state))
}

async fn reading(State(agent): AgentState) -> Json<ReadingState> {
    Json(agent.devices.reading())
}

async fn stop(State(agent): AgentState) -> Json<ReadingState> {
    Json(agent.devices.stop_reading())
}
