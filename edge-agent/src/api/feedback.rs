//! A citizen's rating (好差评), queued in the outbox for the regional server: of the ticket the
//! citizen took at this plate (the server ties it to the window and business that served it),
//! or general.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::{RATING_COMMENT_CHARS, RatingRequest};
use serde_json::{Value, json};

use super::error::AppError;
use super::extract::Body;
use super::{AgentState, active};
use crate::Agent;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/ratings", post(rate))
}

/// A rating (好差评), queued for the regional server.
async fn rate(
    State(agent): AgentState,
    Body(r): Body<RatingRequest>,
) -> Result<Json<Value>, AppError> {
    if !(1..=5).contains(&r.level) {
        return Err(AppError::bad_request("参数错误：level 应在 1 到 5 之间"));
    }
    if r.reasons.len() > 8
        || r.reasons
            .iter()
            .any(|x| x.is_empty() || x.chars().count() > 16)
    {
        return Err(AppError::bad_request(
            "参数错误：最多 8 条原因，每条 1 到 16 个字",
        ));
    }
    let comment: String = r
        .comment
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if comment.chars().count() > RATING_COMMENT_CHARS {
        return Err(AppError::bad_request(format!(
            "参数错误：意见请在 {RATING_COMMENT_CHARS} 字以内"
        )));
    }
    if let Some(t) = &r.ticket {
        let day_ok = chrono::NaiveDate::parse_from_str(&t.day, "%Y-%m-%d").is_ok();
        let number_ok = (1..=8).contains(&t.number.len())
            && t.number.bytes().all(|b| b.is_ascii_alphanumeric());
        if !day_ok || !number_ok {
            return Err(AppError::bad_request(
                "参数错误：ticket 应为 {\"day\": \"YYYY-MM-DD\", \"number\": \"E012\"}",
            ));
        }
    }
    let c = active(&agent)?;
    if let Some(id) = &r.item
        && c.meta(id).is_none()
    {
        return Err(AppError::bad_request(format!("参数错误：没有事项 `{id}`")));
    }
    let subject = if r.ticket.is_some() {
        "ticket"
    } else {
        "general"
    };
    let body = json!({
        "hall": agent.config.terminal.hall, "subject": subject, "ticket": r.ticket,
        "level": r.level, "reasons": r.reasons, "comment": comment, "item": r.item,
        // Practice stays practice even when it reaches the server after training ended.
        "training": agent.training.on(),
    });
    let key = agent
        .store
        .enqueue("rating", &body)
        .map_err(AppError::internal)?;
    Ok(Json(json!({ "recorded": key })))
}
