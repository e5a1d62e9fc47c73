//! Booking at the plate: the kiosk picks an item's day and slot, takes the phone number on a
//! digit keypad, then the code texted to it; the regional server holds, checks and books (its
//! rules, limits and sealing are the phone booking's); the slip with the check-in QR is printed
//! here. Phone numbers and codes are never logged.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::api::{BookedAtPlate, BookingCode, BookingCodeSent, BookingDays, BookingHold};
use serde::Deserialize;

use super::error::AppError;
use super::extract::{Body, Params};
use super::{AgentState, active, local_time};
use crate::Agent;
use crate::sync::assist::SendError;
use crate::sync::booking;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/booking/days", get(days))
        .route("/api/v1/booking", post(hold))
        .route("/api/v1/booking/{pending}/confirm", post(confirm))
}

/// The server's refusal in its words; out of reach, plain words and another way.
fn failed(e: SendError) -> AppError {
    match e {
        SendError::Refused(status, message) => AppError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message,
        ),
        e @ SendError::Unreachable(_) => {
            tracing::warn!(error = %e, "A booking at the plate did not reach the regional server.");
            AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "预约服务暂时连不上，请稍后再试，或扫码用手机预约",
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaysParams {
    item: String,
}

async fn days(
    State(agent): AgentState,
    Params(p): Params<DaysParams>,
) -> Result<Json<BookingDays>, AppError> {
    if p.item.is_empty() || p.item.len() > 64 {
        return Err(AppError::bad_request("参数错误：item"));
    }
    booking::days(&agent, &p.item)
        .await
        .map(Json)
        .map_err(failed)
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

async fn hold(
    State(agent): AgentState,
    Body(b): Body<BookingHold>,
) -> Result<(StatusCode, Json<BookingCodeSent>), AppError> {
    if !digits(&b.phone, 11) || !b.phone.starts_with('1') {
        return Err(AppError::bad_request("请输入 11 位手机号"));
    }
    if b.item.len() > 64
        || !digits(&b.date.replace('-', ""), 8)
        || !digits(&b.start.replace(':', ""), 4)
    {
        return Err(AppError::bad_request("请重新选择日期和时段"));
    }
    let sent = booking::hold(&agent, &b).await.map_err(failed)?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

async fn confirm(
    State(agent): AgentState,
    Path(pending): Path<String>,
    Body(b): Body<BookingCode>,
) -> Result<(StatusCode, Json<BookedAtPlate>), AppError> {
    if !digits(b.code.trim(), 6) {
        return Err(AppError::bad_request("请输入短信里的 6 位验证码"));
    }
    if pending.len() > 64 {
        return Err(AppError::new(
            StatusCode::GONE,
            "验证码已过期或已用过，请重新预约",
        ));
    }
    let booked = booking::confirm(&agent, &pending, b.code.trim())
        .await
        .map_err(failed)?;
    let hall = active(&agent)
        .ok()
        .and_then(|c| {
            c.outlet(&agent.config.terminal.hall)
                .map(|o| o.name.clone())
        })
        .unwrap_or_default();
    let slip = menpai_drivers::escpos::AppointmentSlip {
        hall,
        item_name: booked.item_name.clone(),
        slot: booked.slot.clone(),
        holder: booked.holder.clone(),
        token: booked.token.clone(),
        printed_at: local_time(None)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
    };
    let print = agent
        .devices
        .print(slip.job(agent.devices.columns()).into_bytes())
        .await;
    tracing::info!(id = %booked.id, printed = print.is_ok(), "Booked at the plate.");
    Ok((
        StatusCode::CREATED,
        Json(BookedAtPlate {
            id: booked.id,
            item_name: booked.item_name,
            slot: booked.slot,
            holder: booked.holder,
            phone: booked.phone,
            texted: booked.texted,
            token: booked.token,
            printed: print.is_ok(),
            print_error: print.err().map(|e| e.reason),
        }),
    ))
}
