//! A citizen calls for staff (有事请教 → 呼叫工作人员, or the help button): the call goes to the
//! regional server at once; when it cannot, the plate says so and shows the hall's phone.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::HelpRequest;
use menpai_model::help::{HelpAnswer, MAX_FIELD};

use super::AgentState;
use super::error::AppError;
use super::extract::Body;
use crate::Agent;
use crate::sync::help as link;
use crate::usage::UsageKind;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/help", post(help))
}

fn field(name: &str, v: &Option<String>) -> Result<String, AppError> {
    let v = v.as_deref().unwrap_or_default().trim();
    if v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) {
        return Err(AppError::bad_request(format!(
            "参数错误：{name} 最多 {MAX_FIELD} 个字"
        )));
    }
    Ok(v.to_owned())
}

/// `{"reached": true, "id": …, "stage": …}` when the regional server took the call;
/// `{"reached": false, "phone": …}` when it could not be told (kept in the outbox as a missed
/// call, for the statistics).
async fn help(
    State(agent): AgentState,
    Body(b): Body<HelpRequest>,
) -> Result<Json<HelpAnswer>, AppError> {
    let context = field("context", &b.context)?;
    let screen = field("screen", &b.screen)?;
    let screen = if screen.is_empty() { context } else { screen };
    let item = field("item", &b.item)?;
    match link::send(&agent, &screen, &item).await {
        Ok(taken) => {
            // A missed call is counted by the server from its `help_request` event.
            agent.usage.used(&agent, UsageKind::Help, &item);
            Ok(Json(HelpAnswer {
                reached: true,
                id: Some(taken.id),
                stage: Some(taken.stage),
                by: taken.by,
                phone: None,
            }))
        }
        Err(why) => {
            tracing::warn!(error = %why, "A help call did not reach the hall's staff; the plate shows the phone.");
            link::record_missed(&agent, &screen, &item, &why).map_err(AppError::internal)?;
            let t = &agent.config.terminal;
            let phone = agent
                .catalog()
                .and_then(|c| c.outlet(&t.hall).map(|o| o.phone.clone()))
                .filter(|p| !p.is_empty());
            Ok(Json(HelpAnswer {
                reached: false,
                id: None,
                stage: None,
                by: None,
                phone,
            }))
        }
    }
}
