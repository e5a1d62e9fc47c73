//! Booking at the plate: a terminal books for the citizen in front of it, in its own hall
//! only, with the phone booking's checks, its code by text message, its limits (the address's
//! counted per terminal, with a plate's own budget) and its sealing. No name is asked at the plate.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{BookRequest, Booked, open_days};
use crate::Server;
use crate::booking_codes::{self, CodeSent};
use crate::devices::Terminal;
use crate::error::{AppError, JsonBody};

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/device/v1/appointments/days", get(days))
        .route("/device/v1/appointments", post(hold))
        .route("/device/v1/appointments/{id}/confirm", post(confirm))
}

/// The limits' key for a terminal: its own, apart from any address.
fn requester(device: &crate::storage::Device) -> String {
    format!("device:{}", device.id)
}

fn not_in_training(device: &crate::storage::Device) -> Result<(), AppError> {
    match device.training {
        true => Err(AppError::new(
            StatusCode::CONFLICT,
            "培训模式：这台终端不能真实预约",
        )),
        false => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaysQuery {
    item: String,
}

/// `{"days": [{"date", "slots": [{"start", "end", "left"}]}]}`: the next three days of the
/// terminal's hall with places left.
async fn days(
    State(server): State<Arc<Server>>,
    Terminal(device): Terminal,
    Query(q): Query<DaysQuery>,
) -> Result<Json<Value>, AppError> {
    let s = server.clone();
    let days = tokio::task::spawn_blocking(move || open_days(&s, &device.hall, &q.item))
        .await
        .map_err(AppError::internal)??;
    let days: Vec<Value> = days
        .into_iter()
        .map(|(date, slots)| json!({ "date": date.to_string(), "slots": slots }))
        .collect();
    Ok(Json(json!({ "days": days })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    item: String,
    date: String,
    start: String,
    phone: String,
}

/// Holds the slot and texts a code to the phone (202): the same answer for every number.
async fn hold(
    State(server): State<Arc<Server>>,
    Terminal(device): Terminal,
    JsonBody(b): JsonBody<HoldBody>,
) -> Result<(StatusCode, Json<CodeSent>), AppError> {
    not_in_training(&device)?;
    let who = requester(&device);
    booking_codes::admit_terminal(&server, &who)?;
    let r = BookRequest {
        hall: device.hall.clone(),
        item: b.item,
        date: b.date,
        start: b.start,
        name: String::new(),
        phone: b.phone,
        at_plate: true,
    };
    let sent = tokio::task::spawn_blocking(move || booking_codes::request(&server, &who, &r))
        .await
        .map_err(AppError::internal)??;
    tracing::info!(device = %device.id, "A plate asked for a booking code.");
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// Books once the texted code is right (201); the check-in token comes back to be shown and
/// printed, and the confirmation is texted.
async fn confirm(
    State(server): State<Arc<Server>>,
    Terminal(device): Terminal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CodeBody>,
) -> Result<(StatusCode, Json<Booked>), AppError> {
    not_in_training(&device)?;
    booking_codes::admit_terminal(&server, &requester(&device))?;
    let hall = device.hall.clone();
    let booked = tokio::task::spawn_blocking(move || {
        booking_codes::confirm_in(&server, &id, &b.code, Some(&hall))
    })
    .await
    .map_err(AppError::internal)??;
    Ok((StatusCode::CREATED, Json(booked)))
}
