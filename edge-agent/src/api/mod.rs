//! The local HTTP + WebSocket API the kiosk UI calls on 127.0.0.1: the router and what the
//! route groups share. Handlers parse, call one domain function and shape the answer.

mod admin;
mod ask;
mod assist;
mod booking;
mod content;
mod error;
mod events;
mod extract;
mod feedback;
mod files;
mod handwriting;
mod help;
mod print;
mod queue;
mod read_aloud;
mod sim;
mod status;
mod usage;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::Deserialize;
use tower_http::timeout::TimeoutLayer;

pub use error::AppError;
pub use extract::{Body, Params};

use crate::Agent;
use crate::catalog::Catalog;

/// Longest a kiosk request may take: above the printer's 30 s and the regional server's
/// ticket answer, so a ticket is never issued without its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The technician's routes wait for a test scan (up to 300 s) or import a whole pack.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(600);

type AgentState = State<Arc<Agent>>;

/// The API's routes, with the body limit of the config and a request timeout (the event
/// stream, which lives as long as the UI, has none).
pub fn router(agent: Arc<Agent>) -> Router {
    let limit = agent.config.max_body_bytes;
    let kiosk = Router::new()
        .merge(status::routes())
        .merge(content::routes())
        .merge(files::routes())
        .merge(queue::routes())
        .merge(print::routes())
        .merge(feedback::routes())
        .merge(help::routes())
        .merge(ask::routes())
        .merge(assist::routes())
        .merge(booking::routes())
        .merge(handwriting::routes())
        .merge(read_aloud::routes())
        .merge(sim::routes())
        .merge(usage::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let admin = admin::routes().layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        ADMIN_TIMEOUT,
    ));
    Router::new()
        .merge(kiosk)
        .merge(admin)
        .merge(events::routes())
        .fallback(|| async { AppError::new(StatusCode::NOT_FOUND, "没有这个接口") })
        .layer(axum::middleware::map_response(explain_timeout))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(crate::local_only::guard))
        .with_state(agent)
}

/// The timeout layer answers a bare 408: say it in words, as every other error does.
async fn explain_timeout(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        AppError::new(StatusCode::REQUEST_TIMEOUT, "终端处理超时，请稍后再试").into_response()
    } else {
        response
    }
}

pub(super) fn active(agent: &Agent) -> Result<Arc<Catalog>, AppError> {
    agent.catalog().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "终端还没有办事指南内容，请联系工作人员",
        )
    })
}

/// China Standard Time (no daylight saving), or the `at` parameter when a caller fixes the time.
pub(super) fn local_time(at: Option<&str>) -> Result<NaiveDateTime, AppError> {
    match at {
        Some(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| {
                AppError::bad_request(format!(
                    "参数错误：at `{s}` 应为 2026-11-23T10:00 这样的时间"
                ))
            }),
        None => Ok(menpai_model::queue::china_now()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_timed_out_request_is_told_in_words() {
        let bare = StatusCode::REQUEST_TIMEOUT.into_response();
        let answer = explain_timeout(bare).await;
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        let body = axum::body::to_bytes(answer.into_body(), 4096)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "终端处理超时，请稍后再试");
    }
}
