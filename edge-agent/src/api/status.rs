//! The terminal's state: health, the kiosk UI's beacon, the peripherals.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::api::{DeviceList, Health};

use super::{AgentState, AppError};
use crate::Agent;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/ui/alive", post(ui_alive))
        .route(
            "/api/v1/ui/screenshots/{id}",
            post(screenshot).layer(axum::extract::DefaultBodyLimit::max(
                menpai_model::commands::ATTACHMENT_MAX_BYTES,
            )),
        )
        .route("/api/v1/devices", get(devices))
}

/// The kiosk UI says it is alive (from its frame loop, so a frozen UI goes silent), and
/// whether a citizen is using the plate (`{"session": true}`; an update's reboot waits).
async fn ui_alive(State(agent): AgentState, body: axum::body::Bytes) -> StatusCode {
    agent.host.ui_alive();
    #[derive(serde::Deserialize)]
    struct Alive {
        #[serde(default)]
        session: bool,
    }
    if serde_json::from_slice::<Alive>(&body).is_ok_and(|a| a.session) {
        agent.update_lock.touch();
    }
    StatusCode::NO_CONTENT
}

/// The UI's screenshot for a request of the agent's (an id it waits for, once).
async fn screenshot(
    State(agent): AgentState,
    axum::extract::Path(id): axum::extract::Path<String>,
    png: axum::body::Bytes,
) -> Result<StatusCode, AppError> {
    if agent.screenshots.deliver(&id, png.to_vec()) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::new(
            StatusCode::CONFLICT,
            "没有在等这张截屏，或它不是 PNG",
        ))
    }
}

async fn health(State(agent): AgentState) -> Json<Health> {
    let catalog = agent.catalog();
    Json(Health {
        status: if catalog.is_some() {
            "ok".into()
        } else {
            "no_content".into()
        },
        agent_version: env!("CARGO_PKG_VERSION").into(),
        content_version: catalog.as_ref().map(|c| c.version.version.clone()),
        region: catalog.as_ref().map(|c| c.region.name.clone()),
        items: catalog.as_ref().map_or(0, |c| c.item_count()),
        uptime_s: agent.uptime_s(),
        outbox_depth: agent.store.outbox_depth().unwrap_or_default(),
        regional: agent
            .regional
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        host: agent.host_status(),
    })
}

async fn devices(State(agent): AgentState) -> Json<DeviceList> {
    Json(DeviceList {
        devices: agent.devices.health(),
    })
}
