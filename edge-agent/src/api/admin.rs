//! The technician's routes: content import, rollback and versions, the hardware self-test;
//! each needs the technician credential and is audited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::{Agent, ImportError};

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/admin/content/import", post(admin_import))
        .route("/api/v1/admin/content/rollback", post(admin_rollback))
        .route("/api/v1/admin/content/versions", get(admin_versions))
        .route("/api/v1/admin/selftest", post(admin_selftest))
}

/// Checks the technician credential and records the attempt.
fn authorize(agent: &Agent, headers: &HeaderMap, action: &str) -> Result<(), AppError> {
    let expected = agent.config.admin.token_sha256.to_ascii_lowercase();
    if expected.is_empty() {
        let _ = agent
            .store
            .audit(action, "admin routes disabled", "refused");
        return Err(AppError::new(StatusCode::FORBIDDEN, "本终端未启用管理接口"));
    }
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| hex::encode(Sha256::digest(t.trim().as_bytes())));
    let ok =
        presented.is_some_and(|p| menpai_model::secret::same(p.as_bytes(), expected.as_bytes()));
    if !ok {
        let _ = agent
            .store
            .audit(action, "bad or missing technician credential", "refused");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "需要有效的技术员凭证",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    /// A content pack directory on this terminal.
    dir: std::path::PathBuf,
}

/// The technician's hardware self-test (waits for the test scan).
async fn admin_selftest(
    State(agent): AgentState,
    headers: HeaderMap,
    Body(request): Body<menpai_model::api::SelfTestRequest>,
) -> Result<Json<menpai_model::api::SelfTestReport>, AppError> {
    authorize(&agent, &headers, "device.selftest")?;
    let report = crate::selftest::run(&agent, &request).await;
    let failed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| s.outcome == menpai_model::api::SelfTestOutcome::Fail)
        .map(|s| s.step.as_str())
        .collect();
    let outcome = if failed.is_empty() {
        "passed".to_owned()
    } else {
        format!("failed: {}", failed.join(", "))
    };
    let _ = agent.store.audit("device.selftest", "", &outcome);
    Ok(Json(report))
}

async fn admin_import(
    State(agent): AgentState,
    headers: HeaderMap,
    Body(body): Body<ImportBody>,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.import")?;
    let dir = body.dir.clone();
    let worker = agent.clone();
    let result = tokio::task::spawn_blocking(move || worker.import_dir(&dir))
        .await
        .map_err(AppError::internal)?;
    let detail = body.dir.display().to_string();
    match result {
        Ok(v) => {
            let _ = agent.store.audit(
                "content.import",
                &detail,
                &format!("activated {}", v.version),
            );
            Ok(Json(json!({ "activated": v })))
        }
        Err(ImportError::Invalid(errors)) => {
            let _ = agent.store.audit(
                "content.import",
                &detail,
                &format!("refused: {} problem(s)", errors.len()),
            );
            Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("内容包有 {} 处错误，未启用；当前版本不变", errors.len()),
            )
            .with_details(json!(errors)))
        }
        Err(ImportError::Store(e)) => {
            let _ = agent.store.audit("content.import", &detail, "failed");
            Err(AppError::internal(e))
        }
    }
}

async fn admin_rollback(
    State(agent): AgentState,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.rollback")?;
    match agent.rollback() {
        Ok(v) => {
            let _ = agent
                .store
                .audit("content.rollback", "", &format!("activated {}", v.version));
            Ok(Json(json!({ "activated": v })))
        }
        Err(crate::store::StoreError::NoPrevious) => {
            let _ = agent
                .store
                .audit("content.rollback", "", "refused: no previous version");
            Err(AppError::new(
                StatusCode::CONFLICT,
                "没有可以回退的上一个版本",
            ))
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

async fn admin_versions(
    State(agent): AgentState,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.versions")?;
    let versions = agent.store.versions().map_err(AppError::internal)?;
    let audit = agent.store.audit_entries(50).map_err(AppError::internal)?;
    Ok(Json(json!({ "versions": versions, "audit": audit })))
}
