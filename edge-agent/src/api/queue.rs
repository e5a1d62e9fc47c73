//! The queue: the panel, taking a ticket, checking in an appointment. The decisions live in
//! `crate::queue::desk`; these handlers parse, call it and shape the answer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::queue::{CheckIn, CheckedIn, IssuedTicket, Priority, QueueView, TakeTicket};

use super::error::AppError;
use super::extract::{Body, Params};
use super::{AgentState, AtParams, active, local_time};
use crate::Agent;
use crate::queue::desk;
use crate::usage::UsageKind;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/queue", get(queue_view))
        .route("/api/v1/queue/tickets", post(take_ticket))
        .route("/api/v1/appointments/check-in", post(check_in))
}

async fn queue_view(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
) -> Result<Json<QueueView>, AppError> {
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    Ok(Json(desk::view(&agent, &c, now)?))
}

/// Takes a ticket and prints it; a ticket that could not be printed is still valid and says why.
async fn take_ticket(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
    Body(b): Body<TakeTicket>,
) -> Result<(StatusCode, Json<IssuedTicket>), AppError> {
    if b.prefix.len() != 1 || !b.prefix.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(AppError::bad_request(
            "参数错误：prefix 应为一个大写字母，如 E",
        ));
    }
    if b.priority == Priority::Appointment {
        return Err(AppError::bad_request("预约优先号请扫预约二维码签到领取"));
    }
    let now = local_time(p.at.as_deref())?;
    let c = active(&agent)?;
    let ticket = desk::take_ticket(&agent, &c, &b.prefix, b.priority, now).await?;
    agent.usage.used(&agent, UsageKind::Ticket, &b.prefix);
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Checks in an appointment by the token its QR code carries, and issues its priority ticket.
async fn check_in(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
    Body(b): Body<CheckIn>,
) -> Result<Json<CheckedIn>, AppError> {
    let now = local_time(p.at.as_deref())?;
    let c = active(&agent)?;
    let checked_in = desk::check_in(&agent, &c, &b.token, now).await?;
    agent
        .usage
        .used(&agent, UsageKind::Ticket, &checked_in.ticket.prefix);
    Ok(Json(checked_in))
}
