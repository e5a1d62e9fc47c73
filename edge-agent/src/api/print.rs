//! Printing on request: a personal materials checklist, a ticket reprint; when the printer
//! cannot, 503 with the QR code to offer instead.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use menpai_model::api::Checklist;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::AppError;
use super::extract::Body;
use super::{AgentState, active, local_time};
use crate::Agent;
use crate::usage::UsageKind;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/print/checklist", post(print_checklist))
        .route("/api/v1/print/ticket", post(print_ticket))
}

/// Local time as printed on slips.
fn printed_at() -> String {
    local_time(None)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A failed print as the kiosk needs it: the reason, and the QR to offer instead.
fn print_failed(reason: String, fallback_url: String) -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{reason}，请扫码保存到手机"),
    )
    .with_details(json!({ "fallback_qr": fallback_url }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintChecklistBody {
    item: String,
    situations: Vec<String>,
}

async fn print_checklist(
    State(agent): AgentState,
    Body(body): Body<PrintChecklistBody>,
) -> Result<Json<Value>, AppError> {
    if body.situations.len() > 16 {
        return Err(AppError::bad_request("参数错误：最多选择 16 个情形"));
    }
    let c = active(&agent)?;
    let item = agent
        .store
        .item(c.version.id, &body.item)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found(format!("没有找到事项 {}", body.item)))?;
    let list = Checklist::of(&item, &body.situations).map_err(AppError::bad_request)?;
    let now = local_time(None)?;
    let guide = c.guide(item, &agent.config.terminal.hall, now);
    let url = format!(
        "{}/c/{}?s={}&h={}",
        agent.config.phone_base_url.trim_end_matches('/'),
        guide.item.id,
        body.situations.join(","),
        agent.config.terminal.hall
    );
    let slip = menpai_drivers::escpos::ChecklistSlip {
        item_name: guide.item.name.clone(),
        situations: list.situations.clone(),
        lines: list
            .materials
            .iter()
            .map(|l| menpai_drivers::escpos::ChecklistLine {
                name: l.material.name.clone(),
                form: l.material.form.label().to_owned(),
                copies: l.material.copies,
                condition: if l.material.required {
                    None
                } else {
                    l.material.condition.clone()
                },
            })
            .collect(),
        where_to_go: guide
            .halls
            .iter()
            .take(2)
            .map(|h| {
                let numbers: Vec<String> = h.windows.iter().map(|w| w.number.to_string()).collect();
                format!("{} {}号窗口", h.name, numbers.join("、"))
            })
            .collect(),
        promised: guide.promised.clone(),
        follow_url: url.clone(),
        printed_at: printed_at(),
    };
    let job = slip.job(agent.devices.columns()).into_bytes();
    match agent.devices.print(job).await {
        Ok(()) => {
            agent.usage.used(&agent, UsageKind::Print, &body.item);
            Ok(Json(json!({ "printed": true, "qr": url })))
        }
        Err(e) => {
            // The QR is offered instead: the checklist goes by phone.
            agent.usage.used(&agent, UsageKind::Qr, &body.item);
            Err(print_failed(e.reason, url))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintTicketBody {
    number: String,
    business: String,
    people_ahead: u32,
    estimated_wait_min: Option<u32>,
    priority: Option<String>,
    follow_url: String,
}

async fn print_ticket(
    State(agent): AgentState,
    Body(b): Body<PrintTicketBody>,
) -> Result<Json<Value>, AppError> {
    let valid_number =
        (2..=8).contains(&b.number.len()) && b.number.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid_number {
        return Err(AppError::bad_request(
            "参数错误：number 应为 A023 这样的票号",
        ));
    }
    if b.business.chars().count() > 32
        || b.priority.as_ref().is_some_and(|p| p.chars().count() > 16)
    {
        return Err(AppError::bad_request("参数错误：业务名称或优先说明太长"));
    }
    // The slip's QR code may only lead to this region's phone pages.
    let ours = format!("{}/t/", agent.config.phone_base_url.trim_end_matches('/'));
    if !b.follow_url.starts_with("https://")
        || !b.follow_url.starts_with(&ours)
        || b.follow_url.len() > 256
    {
        return Err(AppError::bad_request(format!(
            "参数错误：follow_url 应为本地区手机页的排队链接（{ours}…）"
        )));
    }
    let c = active(&agent)?;
    let hall = c
        .outlet(&agent.config.terminal.hall)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let ticket = menpai_drivers::escpos::Ticket {
        hall,
        number: b.number,
        business: b.business,
        people_ahead: b.people_ahead,
        estimated_wait_min: b.estimated_wait_min,
        priority: b.priority,
        follow_url: b.follow_url.clone(),
        issued_at: printed_at(),
    };
    let job = ticket.job(agent.devices.columns()).into_bytes();
    match agent.devices.print(job).await {
        Ok(()) => Ok(Json(json!({ "printed": true }))),
        Err(e) => Err(print_failed(e.reason, b.follow_url)),
    }
}
