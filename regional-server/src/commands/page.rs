//! A terminal's page in the fleet view (`/fleet/terminals/{id}`): its state, the commands an
//! operator who may command it can send (one button each), and its recent commands with where
//! they stand, the terminal's answer, a screenshot shown, logs to download. Refreshed every 3 s.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use menpai_model::commands::{Command, MINUTES_MAX, NOTICE_MAX_CHARS};
use serde::Deserialize;

use crate::Server;
use crate::error::AppError;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console, console_page, error_line, html,
};
use crate::operators::{PageSession, Role, Session, hall_name};
use crate::storage::{CommandRecord, Device};
use crate::web::{FormToken, check_form};
use menpai_model::commands::CommandState;

type S = State<Arc<Server>>;

const STYLE: &str = ".commands{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}\
.commands form{display:flex;gap:4px;align-items:center;background:#fff;padding:6px 8px;border-radius:8px}\
.commands input[type=number]{width:5em}.commands input[type=text]{width:16em}\
td.message{white-space:pre-wrap;max-width:32em}\
.st{padding:2px 6px;border-radius:6px;background:#eee}.st.done{background:#d4f4dd}\
.st.failed,.st.expired{background:#fbd9d3}.st.sent{background:#fff3c4}";

/// Whether `s` may command terminals of `hall` (the API checks again, and audits refusals).
fn may_command(s: &Session, hall: &str) -> bool {
    s.require(Role::HallManager)
        .is_ok_and(|op| !op.training && op.acts_in(hall))
}

/// The terminal, when `s` may see it (404 otherwise: another hall's ids are not confirmed).
fn visible(server: &Server, s: &Session, id: &str) -> Result<Device, AppError> {
    s.require(Role::Viewer)?;
    server
        .storage
        .device_by_id(id)
        .map_err(AppError::internal)?
        .filter(|d| s.0.reads_halls().is_none_or(|h| h.contains(&d.hall)))
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个终端"))
}

fn refusal(s: &Session, e: AppError) -> Response {
    let body = html! { h1 { "终端" } (error_line(&e.message)) };
    (e.status, console(&s.0, Section::Fleet, "终端", body)).into_response()
}

pub(super) async fn page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let device = match visible(&server, &s, &id) {
        Ok(d) => d,
        Err(e) => return refusal(&s, e),
    };
    let list = match server.storage.device_commands(&device.id, super::LISTED) {
        Ok(l) => l,
        Err(e) => return refusal(&s, AppError::internal(e)),
    };
    let view = server
        .fleet
        .view_of(
            &server,
            chrono::Utc::now().timestamp_millis(),
            Some(std::slice::from_ref(&device.hall)),
        )
        .ok()
        .and_then(|v| {
            v.halls
                .into_iter()
                .flat_map(|h| h.terminals)
                .find(|t| t.id == device.id)
        });
    let token = FormToken::of(&headers);
    let hall = hall_name(&server, &device.hall);
    let place = view
        .as_ref()
        .map(|v| v.position_name.clone())
        .unwrap_or_else(|| device.position.clone());
    let body = html! {
        p { a href="/fleet" { "← 终端运行状态" } }
        h1 { (hall) " · " (place) }
        p class="muted" {
            span id="device" { (device.id) }
            @if let Some(v) = &view {
                " · " span id="status" data-status=(format!("{:?}", v.status).to_lowercase()) { (v.status.label()) }
                " · 程序版本 " (v.agent_version.as_deref().unwrap_or("—"))
                @if !v.faults.is_empty() { " · 故障：" (v.faults.join("；")) }
            }
            @if device.revoked_at.is_some() { " · 已吊销" }
        }
        @if device.revoked_at.is_none() && may_command(&s, &device.hall) {
            h2 { "远程维护" }
            p class="muted" { "指令保存在服务器上，终端在线时立即执行，离线时等它重新连上；24 小时内未执行的指令作废。不提供远程命令行。" }
            (forms(&device.id, &token))
        }
        h2 { "最近的指令" }
        (table(&list, may_command(&s, &device.hall)))
    };
    // Refreshed while a command is open, to show its result as it comes.
    let open = list
        .iter()
        .any(|c| matches!(c.state, CommandState::Queued | CommandState::Sent));
    let page = Page::new("终端 · 门牌", CONSOLE_STYLE).head(html! {
        @if open { meta http-equiv="refresh" content="3"; }
        style { (PreEscaped(STYLE)) }
    });
    let mut res = console_page(&s.0, Section::Fleet, page, body).into_response();
    token.set_on(&mut res);
    res
}

/// One small form per command, each posting to the terminal's commands.
fn forms(id: &str, token: &FormToken) -> Markup {
    let action = format!("/fleet/terminals/{id}/commands");
    let button = |kind: &str, label: &str, fields: Markup| {
        html! {
            form method="post" action=(action) id={ "form-" (kind) } {
                (token.field())
                input type="hidden" name="kind" value=(kind);
                (fields)
                button type="submit" id={ "cmd-" (kind) } { (label) }
            }
        }
    };
    let minutes = |default: u32| {
        html! {
            input type="number" name="minutes" min="1" max=(MINUTES_MAX) value=(default) aria-label="分钟";
            " 分钟"
        }
    };
    html! {
        div class="commands" {
            (button("screenshot", "截屏", html! {}))
            (button("self_test", "设备自检", html! {}))
            (button("collect_logs", "收集日志", minutes(30)))
            (button("log_level", "调试日志", html! {
                select name="level" aria-label="级别" {
                    option value="debug" { "debug" }
                    option value="trace" { "trace" }
                }
                (minutes(30))
            }))
            (button("notice", "显示维护公告", html! {
                input type="text" name="text" maxlength=(NOTICE_MAX_CHARS) placeholder="例如：设备维护中，请到窗口办理" aria-label="公告内容";
                (minutes(60))
            }))
            (button("notice_off", "撤下公告", html! {}))
            (button("restart_ui", "重启界面", html! {}))
            (button("restart_agent", "重启终端程序", html! {}))
            (button("reboot", "重启终端", html! {}))
        }
    }
}

/// The commands; a result's file is a link (opened on purpose, audited) for those who may
/// command the terminal, and only named for others.
fn table(list: &[CommandRecord], may_open: bool) -> Markup {
    let time = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| {
                t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                    .format("%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|| "—".into())
    };
    html! {
        @if list.is_empty() {
            p id="no-commands" { "还没有发过指令。" }
        } @else {
            table id="commands" {
                thead { tr { th { "指令" } th { "状态" } th { "发出" } th { "结束" } th { "终端回报" } } }
                tbody {
                    @for c in list {
                        @let v = super::view(c);
                        tr class="command" data-id=(c.id) data-kind=(c.kind) data-state=(c.state.name()) {
                            td { (v["label"].as_str().unwrap_or_default()) }
                            td { span class={ "st " (c.state.name()) } { (c.state.label()) } }
                            td { (time(Some(c.created_ms))) " · " (c.created_by) }
                            td { (time(c.finished_ms)) }
                            td class="message" {
                                (c.message)
                                @if let Some(kind) = c.attachment_type.as_deref() {
                                    @let what = if kind == "image/png" { "截屏" } else { "日志" };
                                    br;
                                    @if may_open {
                                        a class="attachment" target="_blank" rel="noopener" href={ "/api/v1/admin/commands/" (c.id) "/attachment" } { "查看" (what) }
                                    } @else {
                                        span class="muted" { "有" (what) "（只有能维护这台终端的人可以查看）" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CommandForm {
    csrf: Option<String>,
    kind: String,
    minutes: Option<u32>,
    level: Option<String>,
    text: Option<String>,
}

impl CommandForm {
    fn command(&self) -> Result<Command, AppError> {
        let minutes = self.minutes.unwrap_or(30);
        Ok(match self.kind.as_str() {
            "screenshot" => Command::Screenshot,
            "self_test" => Command::SelfTest,
            "collect_logs" => Command::CollectLogs { minutes },
            "log_level" => Command::LogLevel {
                level: self.level.clone().unwrap_or_else(|| "debug".into()),
                minutes,
            },
            "notice" => Command::Notice {
                text: self.text.clone().unwrap_or_default(),
                minutes: self.minutes.unwrap_or(60),
            },
            "notice_off" => Command::Notice {
                text: String::new(),
                minutes: 0,
            },
            "restart_ui" => Command::RestartUi,
            "restart_agent" => Command::RestartAgent,
            "reboot" => Command::Reboot,
            _ => return Err(AppError::bad_request("没有这种指令")),
        })
    }
}

/// A command sent from the terminal's page: back to the page, where it shows as queued.
pub(super) async fn send(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CommandForm>,
) -> Response {
    let sent = (|| {
        check_form(&headers, f.csrf.as_ref())?;
        let device = super::live_device(&server, &s, &id)?;
        let op = super::commander(&server, &s, &device.hall, "command.queued")?.to_owned();
        let command = f.command()?;
        super::checked(&command)?;
        super::queue(&server, &device, &command.normalized(), &op)
    })();
    match sent {
        Ok(_) => Redirect::to(&format!(
            "/fleet/terminals/{}",
            menpai_model::percent_encode(&id)
        ))
        .into_response(),
        Err(e) => refusal(&s, e),
    }
}
