//! The simulated devices, for the demo and tests: hold a code to the scanner, read what the
//! printer, LED bar and voice got, set the GPIO lines, and call tickets as window staff would.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::queue::WindowCall;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::AppError;
use super::extract::{Body, Params};
use super::{AgentState, AtParams, active, local_time};
use crate::Agent;
use crate::queue::desk;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
        .route("/api/v1/sim/queue/call", post(sim_call))
        .route("/api/v1/sim/scanner", post(sim_scan))
        .route(
            "/api/v1/sim/printer",
            get(sim_printer).post(sim_printer_status),
        )
        .route("/api/v1/sim/led", get(sim_led))
        .route("/api/v1/sim/voice", get(sim_voice))
        .route("/api/v1/sim/gpio", get(sim_gpio_levels).post(sim_gpio))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimCallBody {
    window: u32,
}

/// The simulated window staff of a standalone terminal: calls the next ticket at a window.
async fn sim_call(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
    Body(b): Body<SimCallBody>,
) -> Result<Json<WindowCall>, AppError> {
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    desk::call_next(&agent, &c, b.window, now)?
        .map(Json)
        .ok_or_else(|| AppError::not_found(format!("{} 号窗口没有等候的号", b.window)))
}

fn not_simulated(device: &str) -> AppError {
    AppError::not_found(format!("{device} is not simulated on this terminal"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimScanBody {
    /// Text of the code, sent as UTF-8 unless `gb18030` is set.
    payload: String,
    #[serde(default)]
    gb18030: bool,
}

/// Holds a code to the simulated scanner.
async fn sim_scan(
    State(agent): AgentState,
    Body(b): Body<SimScanBody>,
) -> Result<Json<Value>, AppError> {
    let bytes = if b.gb18030 {
        encoding_rs::GB18030.encode(&b.payload).0.into_owned()
    } else {
        b.payload.clone().into_bytes()
    };
    agent
        .devices
        .simulate_scan(&bytes)
        .map_err(|_| not_simulated("scanner"))?;
    Ok(Json(json!({ "sent": b.payload })))
}

/// What the simulated printer received: a readable preview and the QR payloads.
async fn sim_printer(State(agent): AgentState) -> Result<Json<Value>, AppError> {
    let twin = agent
        .devices
        .printer_twin()
        .ok_or_else(|| not_simulated("printer"))?;
    let bytes = twin.received();
    Ok(Json(json!({
        "bytes": bytes.len(),
        "preview": menpai_drivers::escpos::preview(&bytes),
        "status": format!("{:?}", twin.status()),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimPrinterBody {
    #[serde(default = "yes")]
    online: bool,
    #[serde(default)]
    paper_out: bool,
    #[serde(default)]
    paper_near_end: bool,
    #[serde(default)]
    cover_open: bool,
    /// How long a job takes to print, in milliseconds (a real printer's pace).
    #[serde(default)]
    print_ms: u32,
}

fn yes() -> bool {
    true
}

/// Changes the simulated printer's paper, cover and pace.
async fn sim_printer_status(
    State(agent): AgentState,
    Body(b): Body<SimPrinterBody>,
) -> Result<Json<Value>, AppError> {
    let twin = agent
        .devices
        .printer_twin()
        .ok_or_else(|| not_simulated("printer"))?;
    twin.set_status(menpai_drivers::escpos::PrinterStatus {
        online: b.online,
        paper_out: b.paper_out,
        paper_near_end: b.paper_near_end,
        cover_open: b.cover_open,
        error: false,
    });
    twin.set_print_time(std::time::Duration::from_millis(u64::from(
        b.print_ms.min(60_000),
    )));
    Ok(Json(json!({ "status": format!("{:?}", twin.status()) })))
}

/// What the simulated voice said: one entry per call, oldest first.
async fn sim_voice(State(agent): AgentState) -> Result<Json<Value>, AppError> {
    let dir = agent
        .devices
        .wav_dir()
        .ok_or_else(|| not_simulated("voice"))?;
    let mut said = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(AppError::internal)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    names.sort();
    for wav in names {
        let text = std::fs::read_to_string(wav.with_extension("txt")).unwrap_or_default();
        let mut lines = text.lines();
        let bytes = std::fs::read(&wav).unwrap_or_default();
        let modified = std::fs::metadata(&wav)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64);
        said.push(json!({
            "file": wav.file_name().map(|n| n.to_string_lossy().into_owned()),
            "text": lines.next().unwrap_or_default(),
            "pinyin": lines.next().unwrap_or_default(),
            "seconds": menpai_drivers::voice::wav_seconds(&bytes),
            "written_ms": modified,
        }));
    }
    Ok(Json(json!({ "said": said })))
}

async fn sim_led(State(agent): AgentState) -> Result<Json<Value>, AppError> {
    let frames = agent
        .devices
        .led_frames()
        .ok_or_else(|| not_simulated("led"))?;
    let frames: Vec<Value> = frames
        .into_iter()
        .map(|(address, m)| {
            let (kind, text) = match m {
                menpai_drivers::led::LedMessage::Text(t) => ("text", t),
                menpai_drivers::led::LedMessage::Blink(t) => ("blink", t),
                menpai_drivers::led::LedMessage::Clear => ("clear", String::new()),
            };
            json!({ "address": address, "kind": kind, "text": text })
        })
        .collect();
    Ok(Json(json!({ "frames": frames })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimGpioBody {
    presence: Option<bool>,
    help_button: Option<bool>,
}

async fn sim_gpio(
    State(agent): AgentState,
    Body(b): Body<SimGpioBody>,
) -> Result<Json<Value>, AppError> {
    let gpio = agent
        .devices
        .gpio_twin()
        .ok_or_else(|| not_simulated("gpio"))?;
    if let Some(p) = b.presence {
        gpio.set_presence(p);
    }
    if let Some(h) = b.help_button {
        gpio.set_help_button(h);
    }
    sim_gpio_levels(State(agent)).await
}

/// The simulated lines: the status LED and how often it changed (blinks).
async fn sim_gpio_levels(State(agent): AgentState) -> Result<Json<Value>, AppError> {
    let gpio = agent
        .devices
        .gpio_twin()
        .ok_or_else(|| not_simulated("gpio"))?;
    let l = gpio.levels();
    Ok(Json(json!({
        "status_led": l.status_led,
        "status_led_changes": l.status_led_changes,
        "presence": l.presence,
        "help_button": l.help_button,
    })))
}
