//! The accounts as JSON for scripts and tests: list, add, disable, re-enable, reset the
//! password; the same checks and audit as the pages.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions::{self, NewAccount};
use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::Session;

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/admin/operators", get(list).post(add))
        .route("/api/v1/admin/operators/{name}/disable", post(disable))
        .route("/api/v1/admin/operators/{name}/enable", post(enable))
        .route("/api/v1/admin/operators/{name}/password", post(reset))
}

async fn list(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    actions::admin(&server, &s, "operators.view")?;
    let ops: Vec<Value> = server
        .storage
        .operators()
        .map_err(AppError::internal)?
        .into_iter()
        .map(|o| {
            json!({
                "name": o.name, "display_name": o.display_name, "role": o.role.as_str(),
                "halls": o.halls, "disabled": o.disabled,
                "must_change_password": o.must_change_password,
            })
        })
        .collect();
    Ok(Json(json!({ "operators": ops })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    name: String,
    display_name: String,
    role: String,
    #[serde(default)]
    halls: Vec<String>,
    password: String,
}

async fn add(
    State(server): S,
    s: Session,
    JsonBody(b): JsonBody<AddBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let me = actions::admin(&server, &s, "operator.create")?;
    let a = NewAccount {
        name: b.name,
        display_name: b.display_name,
        role: b.role,
        halls: b.halls,
        password: b.password,
    };
    actions::add(&server, me, &a).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created": a.name, "must_change_password": true })),
    ))
}

async fn disable(
    State(server): S,
    s: Session,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    let me = actions::admin(&server, &s, "operator.disable")?;
    actions::disable(&server, me, &name)?;
    Ok(Json(json!({ "disabled": name })))
}

async fn enable(
    State(server): S,
    s: Session,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    let me = actions::admin(&server, &s, "operator.enable")?;
    actions::enable(&server, me, &name)?;
    Ok(Json(json!({ "enabled": name })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    password: String,
}

async fn reset(
    State(server): S,
    s: Session,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<ResetBody>,
) -> Result<Json<Value>, AppError> {
    let me = actions::admin(&server, &s, "operator.reset_password")?;
    actions::reset(&server, me, &name, &b.password).await?;
    Ok(Json(
        json!({ "reset": name, "must_change_password": true, "sessions_ended": true }),
    ))
}
