//! The review workflow as JSON: submit, list and read change sets (with their diff), approve,
//! return, withdraw; versions and republishing one. Same rules as the pages.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::workflow::{self, Decision};
use super::{access, blocking, diff, publish, set_id};
use crate::Server;
use axum::http::HeaderMap;

use crate::error::{AppError, JsonBody};
use crate::operators::Session;
use crate::storage::ChangeSet;

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/studio/submit", post(submit))
        .route("/api/v1/studio/change-sets", get(list))
        .route("/api/v1/studio/change-sets/{id}", get(one))
        .route("/api/v1/studio/change-sets/{id}/approve", post(approve))
        .route("/api/v1/studio/change-sets/{id}/return", post(send_back))
        .route("/api/v1/studio/change-sets/{id}/withdraw", post(withdraw))
        .route("/api/v1/studio/versions", get(versions))
        .route(
            "/api/v1/studio/versions/{version}/republish",
            post(republish),
        )
}

/// A change set as the API gives it.
pub(super) fn set_json(set: &ChangeSet) -> Value {
    json!({
        "id": set.id,
        "editor": set.editor,
        "title": set.title,
        "state": set.state.as_str(),
        "state_label": set.state.label(),
        "base_version": set.base_version,
        "submitted_at": set.submitted_at,
        "reviewer": set.reviewer,
        "reviewed_at": set.reviewed_at,
        "comment": set.comment,
        "publish_at": set.publish_at,
        "published_version": set.published_version,
        "records": set.records,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    #[serde(default)]
    title: String,
}

async fn submit(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    JsonBody(b): JsonBody<SubmitBody>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    let set = blocking(move || workflow::submit(&server, &s, &b.title)).await?;
    Ok(Json(set_json(&set)))
}

async fn list(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    let sets = blocking(move || {
        access::reader(&server, &s)?;
        server
            .storage
            .change_sets(&[], 200)
            .map_err(AppError::internal)
    })
    .await?;
    Ok(Json(
        json!({ "change_sets": sets.iter().map(set_json).collect::<Vec<_>>() }),
    ))
}

async fn one(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    blocking(move || {
        access::reader(&server, &s)?;
        let set = workflow::find(&server, set_id(&id)?)?;
        let changes = diff::of_set(&server, &set)?;
        let mut v = set_json(&set);
        v["changes"] = json!(changes);
        Ok(Json(v))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    publish_at: Option<String>,
}

async fn decide(
    server: Arc<Server>,
    s: Session,
    id: String,
    approve: bool,
    b: DecisionBody,
) -> Result<Json<Value>, AppError> {
    blocking(move || {
        let d = Decision {
            approve,
            comment: b.comment,
            publish_at: workflow::parse_publish_at(b.publish_at.as_deref())?,
        };
        let set = workflow::review(&server, &s, set_id(&id)?, &d)?;
        Ok(Json(set_json(&set)))
    })
    .await
}

async fn approve(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    decide(server, s, id, true, b).await
}

async fn send_back(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    decide(server, s, id, false, b).await
}

async fn withdraw(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    blocking(move || {
        let (set, rebased) = workflow::withdraw(&server, &s, set_id(&id)?)?;
        let mut v = set_json(&set);
        v["published_since"] = json!(rebased);
        Ok(Json(v))
    })
    .await
}

async fn versions(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    blocking(move || {
        access::reader(&server, &s)?;
        Ok(Json(json!({ "versions": publish::history(&server, 50)? })))
    })
    .await
}

async fn republish(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(version): Path<String>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    blocking(move || {
        let version = publish::version_name(&version)?;
        let op = access::reviewer(&server, &s, "content.republish", version)?;
        let new_version = publish::republish(&server, version, &op.name)?;
        Ok(Json(
            json!({ "republished": version, "version": new_version }),
        ))
    })
    .await
}
