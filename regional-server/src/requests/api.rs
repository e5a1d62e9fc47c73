//! The requests as JSON: the staff's API (the same checks as the pages) and the terminals'
//! route over mutual TLS, where the hall is the terminal's own.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::assist::{AssistReceipt, AssistRequest, RequestKind, RequestState};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Act, Channel, RequestView, Submission, act, link, load, reveal_phone, submit, view};
use crate::Server;
use crate::devices::Terminal;
use crate::error::{AppError, JsonBody};
use crate::operators::{HallWork, Session};
use crate::storage::requests::RequestFilter;

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/requests", get(list))
        .route("/api/v1/requests/{id}", get(one))
        .route("/api/v1/requests/{id}/actions", post(action))
        .route("/api/v1/requests/{id}/phone", post(phone))
}

pub(super) fn device_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/requests", post(from_terminal))
}

#[derive(Debug, Deserialize)]
struct Filters {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    hall: Option<String>,
}

async fn list(
    State(server): S,
    s: Session,
    Query(f): Query<Filters>,
) -> Result<Json<Value>, AppError> {
    let halls = match &f.hall {
        Some(h) => {
            s.in_hall(&server, HallWork::Requests, h)?;
            Some(vec![h.clone()])
        }
        None => s.halls_for(HallWork::Requests)?.map(<[String]>::to_vec),
    };
    let parse_or_400 = |v: &Option<String>, ok: bool, what: &str| {
        if v.as_deref().is_some_and(|v| !v.is_empty()) && !ok {
            Err(AppError::bad_request(format!("没有这个{what}")))
        } else {
            Ok(())
        }
    };
    let kind = f.kind.as_deref().and_then(RequestKind::parse);
    let state = f.state.as_deref().and_then(RequestState::parse);
    parse_or_400(&f.kind, kind.is_some(), "类别")?;
    parse_or_400(&f.state, state.is_some(), "状态")?;
    let filter = RequestFilter {
        halls,
        kind,
        state,
        training_only: s.training(),
        limit: 500,
    };
    let views = tokio::task::spawn_blocking(move || {
        let rows = server
            .storage
            .requests(&filter)
            .map_err(AppError::internal)?;
        rows.iter()
            .map(|r| view(&server, r, false))
            .collect::<Result<Vec<RequestView>, _>>()
    })
    .await
    .map_err(AppError::internal)??;
    Ok(Json(json!({ "requests": views })))
}

async fn one(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let v = tokio::task::spawn_blocking(move || view(&server, &load(&server, &s, &id)?, true))
        .await
        .map_err(AppError::internal)??;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: String,
    #[serde(default)]
    text: String,
}

async fn action(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ActionBody>,
) -> Result<Json<RequestView>, AppError> {
    let a = Act::parse(&b.action, &b.text)?;
    let v = tokio::task::spawn_blocking(move || {
        let r = load(&server, &s, &id)?;
        act(&server, &r, &s.0, &a)?;
        view(&server, &load(&server, &s, &id)?, true)
    })
    .await
    .map_err(AppError::internal)??;
    Ok(Json(v))
}

async fn phone(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let phone =
        tokio::task::spawn_blocking(move || reveal_phone(&server, &load(&server, &s, &id)?, &s.0))
            .await
            .map_err(AppError::internal)??;
    Ok(Json(json!({ "phone": phone })))
}

/// A 帮代办 or 上门取件 request made at a plate: the hall is the terminal's.
async fn from_terminal(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(b): JsonBody<AssistRequest>,
) -> Result<(StatusCode, Json<AssistReceipt>), AppError> {
    // Its own bucket of the per-terminal ticket pace.
    if let Err(wait) = server
        .device_tickets
        .hit(&format!("request {}", device.id), Instant::now())
    {
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("提交太频繁，请 {} 秒后再试", wait.as_secs().max(1)),
        ));
    }
    let s = Submission {
        kind: b.kind,
        hall: device.hall.clone(),
        item: b.item,
        text: b.help,
        name: b.name,
        phone: b.phone,
        time: b.time,
        channel: Channel::Kiosk,
        device: Some(device.id.clone()),
        training: device.training,
    };
    let receipt = tokio::task::spawn_blocking(move || {
        let done = submit(&server, &s)?;
        Ok::<_, AppError>(AssistReceipt {
            link: link(&server, &done.token),
            id: done.id,
            phone: done.phone_masked,
        })
    })
    .await
    .map_err(AppError::internal)??;
    Ok((StatusCode::CREATED, Json(receipt)))
}
