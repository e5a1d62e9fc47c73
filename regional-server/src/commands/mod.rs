//! Remote commands (fleet care): an operator sends a terminal, or every terminal of a hall, one
//! of a fixed few commands (`menpai_model::commands::Command`; no remote shell, by design). The
//! server keeps it until the terminal reports its result: told at once on the terminal's live
//! stream (on whichever replica it is connected, through the bus), fetched again after a
//! reconnect. queued → sent → done / failed / expired, every step in the audit log with the
//! operator who sent it. Admins command any terminal, hall managers those of their halls.

mod page;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use menpai_model::commands::{
    ATTACHMENT_MAX_BYTES, Attachment, Command, CommandReport, CommandState, MESSAGE_MAX_CHARS,
    PendingCommand,
};
use menpai_model::sync::StreamEvent;
use serde_json::{Value, json};

use crate::Server;
use crate::devices::Terminal;
use crate::error::{AppError, JsonBody};
use crate::operators::{Role, Session};
use crate::shutdown::Shutdown;
use crate::storage::{CommandRecord, Device};

type S = State<Arc<Server>>;

/// How long a command waits for its terminal before it expires (a restart or reboot: less).
pub const COMMAND_TTL: Duration = Duration::from_secs(menpai_model::commands::COMMAND_TTL_S);
/// Commands a terminal may have open at once: a looping script cannot pile them up.
pub const OPEN_PER_DEVICE: usize = 10;
/// How long finished commands and their files are kept.
const KEPT_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often expired commands are marked so.
const EXPIRY_TICK: Duration = Duration::from_secs(30);
/// A result's body: the attachment in base64 and the message, with room for the JSON around.
pub const REPORT_BODY_LIMIT: usize = ATTACHMENT_MAX_BYTES / 3 * 4 + 64 * 1024;
/// Commands listed per terminal in the fleet view and the admin API.
const LISTED: usize = 20;

/// The operators' routes.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route(
            "/api/v1/admin/devices/{id}/commands",
            get(list).post(send_to_device),
        )
        .route("/api/v1/admin/halls/{hall}/commands", post(send_to_hall))
        .route("/api/v1/admin/commands/{id}/attachment", get(attachment))
        .route("/fleet/terminals/{id}", get(page::page))
        .route("/fleet/terminals/{id}/commands", post(page::send))
}

/// The terminals' routes (a result may carry a screenshot or logs: its own body limit).
pub fn device_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/commands", get(fetch))
}

/// Where terminals report results.
pub fn report_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/commands/{id}", post(report))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The operator, when they may command terminals of `hall`: an admin, or a hall manager of
/// that hall, never in a training login. Refusals are audited.
fn commander<'a>(
    server: &Server,
    s: &'a Session,
    hall: &str,
    action: &str,
) -> Result<&'a str, AppError> {
    let refused = |e: AppError| {
        let _ = server
            .storage
            .audit_in_hall(&s.0.name, action, hall, "", "forbidden");
        e
    };
    let op = s.require(Role::HallManager).map_err(refused)?;
    if op.training {
        return Err(refused(AppError::new(
            StatusCode::FORBIDDEN,
            "培训登录不能向终端发指令",
        )));
    }
    if !op.acts_in(hall) {
        return Err(refused(AppError::new(
            StatusCode::FORBIDDEN,
            "你没有这个大厅终端的维护权限",
        )));
    }
    Ok(&op.name)
}

fn checked(command: &Command) -> Result<(), AppError> {
    command.check().map_err(AppError::bad_request)
}

/// Keeps `command` for `device` and tells the terminal, here and on every replica.
fn queue(
    server: &Server,
    device: &Device,
    command: &Command,
    by: &str,
) -> Result<String, AppError> {
    let now = now_ms();
    let open = server
        .storage
        .open_commands(&device.id, now)
        .map_err(AppError::internal)?;
    if open >= OPEN_PER_DEVICE {
        let _ = server.storage.audit_in_hall(
            by,
            "command.queued",
            &device.hall,
            &format!("{} {}", device.id, command.label()),
            "too many open",
        );
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "终端 {} 还有 {open} 条指令没有执行完，请等它们完成或过期后再发",
                device.id
            ),
        ));
    }
    let record = CommandRecord {
        id: format!("cmd-{}", &crate::web::random_token()[..16]),
        device: device.id.clone(),
        hall: device.hall.clone(),
        kind: command.kind().to_owned(),
        body: serde_json::to_string(command).expect("commands serialise"),
        state: CommandState::Queued,
        created_by: by.to_owned(),
        created_ms: now,
        expires_ms: now + (command.ttl_s() * 1000) as i64,
        sent_ms: None,
        finished_ms: None,
        message: String::new(),
        attachment_type: None,
    };
    server
        .storage
        .add_command(&record)
        .map_err(AppError::internal)?;
    let _ = server.storage.audit_in_hall(
        by,
        "command.queued",
        &device.hall,
        &audit_detail(&record.id, &device.id, command),
        "ok",
    );
    tell(server, &device.id);
    Ok(record.id)
}

/// What the audit log says of a command: its id, terminal and label, and a notice's words
/// (shown to the public, so on record).
fn audit_detail(id: &str, device: &str, command: &Command) -> String {
    match command {
        Command::Notice { text, minutes } if *minutes > 0 => {
            format!("{id} {device} {}：{text}", command.label())
        }
        _ => format!("{id} {device} {}", command.label()),
    }
}

/// Tells the terminal's live stream that commands wait for it.
fn tell(server: &Server, device: &str) {
    let _ = server.stream.send(StreamEvent::Commands {
        device: device.to_owned(),
    });
    crate::bus::tell(
        server,
        crate::bus::Signal::Commands {
            device: device.to_owned(),
        },
    );
}

/// The unrevoked terminal `id`, when `s` may see its hall: 404 otherwise, so another hall's
/// terminal ids are not confirmed (the miss is audited, without a hall).
fn live_device(server: &Server, s: &Session, id: &str) -> Result<Device, AppError> {
    let visible = |d: &Device| s.0.reads_halls().is_none_or(|h| h.contains(&d.hall));
    match server
        .storage
        .device_by_id(id)
        .map_err(AppError::internal)?
    {
        Some(d) if d.revoked_at.is_none() && visible(&d) => Ok(d),
        found => {
            if found.is_some() {
                let _ = server
                    .storage
                    .audit(&s.0.name, "command.queued", id, "not found");
            }
            Err(AppError::new(
                StatusCode::NOT_FOUND,
                format!("没有未吊销的终端 {id}"),
            ))
        }
    }
}

async fn send_to_device(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(command): JsonBody<Command>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    crate::web::check_json_change(&headers)?;
    let device = live_device(&server, &s, &id)?;
    let op = commander(&server, &s, &device.hall, "command.queued")?.to_owned();
    checked(&command)?;
    let command = command.normalized();
    let id = queue(&server, &device, &command, &op)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "device": device.id, "state": "queued", "label": command.label() })),
    ))
}

async fn send_to_hall(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(hall): Path<String>,
    JsonBody(command): JsonBody<Command>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    crate::web::check_json_change(&headers)?;
    if server.halls.get(&hall).is_none() {
        return Err(AppError::new(StatusCode::NOT_FOUND, "没有这个大厅"));
    }
    let op = commander(&server, &s, &hall, "command.queued")?.to_owned();
    checked(&command)?;
    let command = command.normalized();
    let devices: Vec<Device> = server
        .storage
        .devices()
        .map_err(AppError::internal)?
        .into_iter()
        .filter(|d| d.hall == hall && d.revoked_at.is_none())
        .collect();
    let mut ids = Vec::with_capacity(devices.len());
    for d in &devices {
        ids.push(queue(&server, d, &command, &op)?);
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "ids": ids, "hall": hall, "label": command.label() })),
    ))
}

/// A command as operators see it.
pub fn view(c: &CommandRecord) -> Value {
    let command: Option<Command> = serde_json::from_str(&c.body).ok();
    json!({
        "id": c.id,
        "device": c.device,
        "kind": c.kind,
        "label": command.map(|c| c.label()).unwrap_or_else(|| c.kind.clone()),
        "state": c.state.name(),
        "state_label": c.state.label(),
        "created_by": c.created_by,
        "created_ms": c.created_ms,
        "sent_ms": c.sent_ms,
        "finished_ms": c.finished_ms,
        "message": c.message,
        "attachment": c.attachment_type.as_ref().map(|t| json!({
            "content_type": t,
            "href": format!("/api/v1/admin/commands/{}/attachment", c.id),
        })),
    })
}

async fn list(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let device = server
        .storage
        .device_by_id(&id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个终端"))?;
    let op = s.require(Role::Viewer)?;
    if op.reads_halls().is_some_and(|h| !h.contains(&device.hall)) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "你看不到这个大厅的终端",
        ));
    }
    let list = server
        .storage
        .device_commands(&device.id, LISTED)
        .map_err(AppError::internal)?;
    Ok(Json(
        json!({ "device": device.id, "commands": list.iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// A result's file (a screenshot, logs): for those who may command its terminal (a screen may
/// show what a citizen was doing), audited.
async fn attachment(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = server
        .storage
        .command(&id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这条指令"))?;
    let op = commander(&server, &s, &c.hall, "command.attachment")?.to_owned();
    let (kind, bytes) = server
        .storage
        .command_attachment(&id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "这条指令没有附件"))?;
    let _ = server
        .storage
        .audit_in_hall(&op, "command.attachment", &c.hall, &id, "ok");
    let name = match kind.as_str() {
        "image/png" => format!("{}-{}.png", c.device, c.id),
        _ => format!("{}-{}.log.gz", c.device, c.id),
    };
    // A picture opens in the browser, logs download; neither is ever run as a page.
    let disposition = if kind == "image/png" {
        "inline"
    } else {
        "attachment"
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// The terminal's commands still to carry out; the new ones become sent.
async fn fetch(
    State(server): S,
    Terminal(device): Terminal,
) -> Result<Json<Vec<PendingCommand>>, AppError> {
    let s = server.clone();
    let id = device.id.clone();
    let now = now_ms();
    let taken = tokio::task::spawn_blocking(move || s.storage.take_commands(&id, now))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let mut out = Vec::with_capacity(taken.len());
    for (c, new) in taken {
        let Ok(command) = serde_json::from_str::<Command>(&c.body) else {
            continue;
        };
        // Sent just now (not again after a reconnect).
        if new {
            let _ = server.storage.audit_in_hall(
                &c.created_by,
                "command.sent",
                &c.hall,
                &format!("{} {}", c.id, c.device),
                "ok",
            );
        }
        out.push(PendingCommand {
            id: c.id,
            command,
            issued_at: chrono::DateTime::from_timestamp_millis(c.created_ms)
                .unwrap_or_default()
                .to_rfc3339(),
        });
    }
    Ok(Json(out))
}

/// The attachment's bytes, when they are what their type says and within the limit.
fn attachment_bytes(a: &Attachment) -> Result<Vec<u8>, AppError> {
    if !Attachment::allowed(&a.content_type) {
        return Err(AppError::bad_request("附件只能是 PNG 截图或 gzip 日志"));
    }
    if a.base64.len() > ATTACHMENT_MAX_BYTES / 3 * 4 + 4 {
        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "附件太大"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&a.base64)
        .map_err(|_| AppError::bad_request("附件不是有效的 base64"))?;
    let magic: &[u8] = match a.content_type.as_str() {
        "image/png" => b"\x89PNG\r\n\x1a\n",
        _ => b"\x1f\x8b",
    };
    if !bytes.starts_with(magic) || bytes.len() > ATTACHMENT_MAX_BYTES {
        return Err(AppError::bad_request("附件内容与类型不符"));
    }
    Ok(bytes)
}

/// The terminal's result for one of its own commands.
async fn report(
    State(server): S,
    Terminal(device): Terminal,
    Path(id): Path<String>,
    JsonBody(r): JsonBody<CommandReport>,
) -> Result<Json<Value>, AppError> {
    // Its own command, still open, and a file only of the kind the command asks for: checked
    // before the file is decoded.
    let kept = server
        .storage
        .command(&id)
        .map_err(AppError::internal)?
        .filter(|c| c.device == device.id)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这条指令"))?;
    if let Some(a) = &r.attachment {
        let wanted = serde_json::from_str::<Command>(&kept.body)
            .ok()
            .and_then(|c| c.attachment_type());
        if wanted != Some(a.content_type.as_str()) {
            return Err(AppError::bad_request("这条指令的结果不带这种附件"));
        }
    }
    let file = r.attachment.as_ref().map(attachment_bytes).transpose()?;
    let message: String = r.message.chars().take(MESSAGE_MAX_CHARS).collect();
    let kind = r.attachment.as_ref().map(|a| a.content_type.clone());
    let s = server.clone();
    let (dev, cmd) = (device.id.clone(), id.clone());
    let msg = message.clone();
    let done = tokio::task::spawn_blocking(move || {
        let attached = kind.as_deref().zip(file.as_deref());
        s.storage
            .finish_command(&dev, &cmd, r.ok, &msg, attached, now_ms())
            .and_then(|done| Ok((done, s.storage.command(&cmd)?)))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let (finished, record) = done;
    let Some(record) = record.filter(|c| c.device == device.id) else {
        return Err(AppError::new(StatusCode::NOT_FOUND, "没有这条指令"));
    };
    if !finished {
        // Still open but past its expiry (the expiry loop has not marked it yet): expired.
        let state = match record.state {
            CommandState::Queued | CommandState::Sent => CommandState::Expired,
            s => s,
        };
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!("这条指令已结束（{}）", state.label()),
        ));
    }
    let _ = server.storage.audit_in_hall(
        &record.created_by,
        &format!("command.{}", record.state.name()),
        &record.hall,
        &format!(
            "{} {} {}",
            record.id,
            record.device,
            message.chars().take(200).collect::<String>()
        ),
        if r.ok { "ok" } else { "failed" },
    );
    Ok(Json(
        json!({ "id": record.id, "state": record.state.name() }),
    ))
}

/// Marks commands whose terminal stayed away past their expiry, every half minute.
pub async fn expiry_loop(server: Arc<Server>, mut stop: Shutdown) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(EXPIRY_TICK) => {}
        }
        let s = server.clone();
        let _ = tokio::task::spawn_blocking(move || expire_due(&s)).await;
    }
}

/// Marks the commands due now as expired, each in the audit log.
pub fn expire_due(server: &Server) {
    match server.storage.expire_commands(now_ms()) {
        Ok(expired) => {
            for c in expired {
                let _ = server.storage.audit_in_hall(
                    &c.created_by,
                    "command.expired",
                    &c.hall,
                    &format!("{} {}", c.id, c.device),
                    "expired",
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "Expired commands could not be marked."),
    }
    let before = now_ms() - KEPT_FOR.as_millis() as i64;
    if let Err(e) = server.storage.purge_commands(before) {
        tracing::warn!(error = %e, "Old commands could not be purged.");
    }
}
