//! The windows' side: a staff page (plain HTML forms) and the same actions as a JSON API,
//! for operators with the queue_staff role. Every action is audited.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use menpai_model::queue::{QueueView, StaffAction, TicketStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{HallInfo, act, hall_of, status, view};
use crate::Server;
use crate::clock::day;
use crate::error::{AppError, JsonBody};
use crate::help;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console, console_page, error_line, hidden,
    html,
};
use crate::operators::{HallWork, PageSession, Role, Session};
use crate::storage::Operator;
use crate::web::FormToken;

type S = State<Arc<Server>>;

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/staff", get(page).post(page_action))
        .route("/api/v1/queue/{hall}", get(view_json))
        .route(
            "/api/v1/queue/{hall}/windows/{window}",
            get(window_json).post(action_json),
        )
        .route("/api/v1/queue/{hall}/tickets/{number}", get(ticket_json))
}

/// Window staff of `hall`: a queue_staff operator acts only in the halls they are assigned to.
pub fn staff_in<'a>(server: &Server, s: &'a Session, hall: &str) -> Result<&'a Operator, AppError> {
    s.in_hall(server, HallWork::Queue, hall)
}

async fn view_json(
    State(server): S,
    s: Session,
    Path(hall): Path<String>,
) -> Result<Json<QueueView>, AppError> {
    staff_in(&server, &s, &hall)?;
    let hall = hall_of(&server, &hall)?;
    Ok(Json(view(&server, &hall).map_err(AppError::internal)?))
}

/// The ticket at a window and who waits for it, in the order they will be called.
async fn window_json(
    State(server): S,
    s: Session,
    Path((hall, window)): Path<(String, u32)>,
) -> Result<Json<Value>, AppError> {
    staff_in(&server, &s, &hall)?;
    let hall = hall_of(&server, &hall)?;
    let serves = hall
        .windows
        .get(&window)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, format!("没有 {window} 号窗口")))?;
    let today = day(server.clock.local_now());
    let current = server
        .storage
        .at_window(&hall.id, &today, window)
        .map_err(AppError::internal)?
        .map(|t| status(&server, &hall, &t));
    let waiting: Vec<TicketStatus> = server
        .storage
        .waiting(&hall.id, &today, serves, 200)
        .map_err(AppError::internal)?
        .iter()
        .map(|t| status(&server, &hall, t))
        .collect();
    Ok(Json(json!({ "current": current, "waiting": waiting })))
}

async fn action_json(
    State(server): S,
    s: Session,
    Path((hall, window)): Path<(String, u32)>,
    JsonBody(action): JsonBody<StaffAction>,
) -> Result<Json<Value>, AppError> {
    let op = s.calls_tickets(&server, &hall)?.name.clone();
    let ticket = tokio::task::spawn_blocking(move || act(&server, &hall, window, &action, &op))
        .await
        .map_err(AppError::internal)??;
    Ok(Json(json!({ "ticket": ticket })))
}

async fn ticket_json(
    State(server): S,
    s: Session,
    Path((hall, number)): Path<(String, String)>,
) -> Result<Json<TicketStatus>, AppError> {
    staff_in(&server, &s, &hall)?;
    let hall = hall_of(&server, &hall)?;
    let t = server
        .storage
        .ticket(&hall.id, &day(server.clock.local_now()), &number)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, format!("今天没有 {number} 号")))?;
    Ok(Json(status(&server, &hall, &t)))
}

#[derive(Deserialize)]
struct Where {
    hall: Option<String>,
    window: Option<u32>,
}

#[derive(Deserialize)]
struct ActionForm {
    hall: String,
    window: u32,
    action: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    to_window: String,
}

/// The staff page: a browser without a session goes to the login page, one whose password an
/// admin set to the password change (the session extractor); other roles and halls get a 403.
async fn page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Query(w): Query<Where>,
) -> Response {
    let op = match s.require(Role::QueueStaff) {
        Ok(op) => op,
        Err(_) => {
            return refusal(
                &s.0,
                StatusCode::FORBIDDEN,
                "你的角色不能使用窗口叫号，请联系管理员。",
            );
        }
    };
    // The help calls' buttons are forms: they carry the anti-forgery token.
    let token = FormToken::of(&headers);
    let mut res = match (w.hall, w.window) {
        (Some(h), Some(n)) => {
            if let Err(e) = staff_in(&server, &s, &h) {
                return refusal(op, e.status, &e.message);
            }
            match hall_of(&server, &h) {
                Ok(hall) => {
                    let help = help::duty::staff_section(&server, op, Some(&hall.id), &token);
                    window_page(&server, &hall, n, op, None, help).into_response()
                }
                Err(e) => return refusal(op, e.status, &e.message),
            }
        }
        _ => {
            let help = help::duty::staff_section(&server, op, None, &token);
            pick_page(&server, op, help).into_response()
        }
    };
    token.set_on(&mut res);
    res
}

/// A refusal inside the console (403 for another role or hall), with why, in Chinese.
fn refusal(op: &Operator, status: StatusCode, why: &str) -> Response {
    let title = if status == StatusCode::FORBIDDEN {
        "无权叫号"
    } else {
        "无法打开"
    };
    let body = html! { h1 { (title) } (error_line(why)) };
    (status, console(op, Section::Staff, title, body)).into_response()
}

async fn page_action(State(server): S, s: Session, Form(f): Form<ActionForm>) -> Response {
    let op = match s.calls_tickets(&server, &f.hall) {
        Ok(op) => op.name.clone(),
        Err(e) if s.training() => return refusal(&s.0, e.status, &e.message),
        Err(e) => return e.into_response(),
    };
    let action = match f.action.as_str() {
        "call_next" => StaffAction::CallNext,
        "recall" => StaffAction::Recall,
        "serve" => StaffAction::Serve,
        "finish" => StaffAction::Finish,
        "no_show" => StaffAction::NoShow,
        "transfer" => StaffAction::Transfer {
            prefix: f.prefix.clone(),
            window: f.to_window.trim().parse().ok(),
        },
        other => return AppError::bad_request(format!("未知操作 {other}")).into_response(),
    };
    let (hall, window) = (f.hall.clone(), f.window);
    let s2 = server.clone();
    let r = tokio::task::spawn_blocking(move || act(&s2, &hall, window, &action, &op)).await;
    let back = format!(
        "/staff?hall={}&window={window}",
        menpai_model::percent_encode(&f.hall)
    );
    match r {
        Ok(Ok(_)) => (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response(),
        Ok(Err(e)) => match hall_of(&server, &f.hall) {
            Ok(hall) => (
                e.status,
                window_page(&server, &hall, window, &s.0, Some(&e.message), html! {}),
            )
                .into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// The staff page's own look, over the console's.
const STYLE: &str = ".now{background:#fff;border-radius:16px;padding:20px;margin:12px 0}\
.num{font-size:64px;font-weight:bold;color:#0e3f7e}.state{font-size:22px;margin-left:16px}\
.acts button{font-size:20px;padding:12px 20px;margin:4px;border:0;border-radius:10px;background:#1a5fb4;color:#fff}\
.acts button.quiet{background:#5b6570}.tag{border-radius:8px;padding:1px 8px;background:#e8eef7;margin-left:6px;display:inline-block}";

/// Reloads the window page every 10 s, unless the operator is typing in its form.
const REFRESH: &str = "setInterval(function(){if(!document.querySelector('select:focus,input:focus'))location.replace(location.pathname+location.search)},10000)";

/// A staff page in the console shell, with its own style and, on a window, the reload.
fn shell(op: &Operator, title: &str, script: &'static str, body: Markup) -> Markup {
    let title = format!("{title} · 门牌叫号");
    let page = Page::new(&title, CONSOLE_STYLE)
        .head(html! { style { (PreEscaped(STYLE)) } })
        .script(script);
    console_page(op, Section::Staff, page, body)
}

/// Which hall and window: links to every window of the operator's halls.
fn pick_page(server: &Server, op: &Operator, help: Markup) -> Markup {
    let halls: Vec<_> = server
        .halls
        .all()
        .into_iter()
        .filter(|h| op.acts_in(&h.id))
        .collect();
    let body = html! {
        h1 { "选择窗口" }
        @if halls.is_empty() {
            p { "还没有给你分配大厅，请联系管理员。" }
        }
        @for hall in &halls {
            h2 { (hall.name) }
            p {
                @for n in hall.windows.keys() {
                    a class="tag" href={ "/staff?hall=" (menpai_model::percent_encode(&hall.id)) "&window=" (n) } {
                        (n) " 号窗口"
                    }
                    " "
                }
            }
        }
    };
    shell(op, "选择窗口", "", html! { (body) (help) })
}

fn button(action: &str, label: &str, quiet: bool) -> Markup {
    html! {
        button id=(action.replace('_', "-")) name="action" value=(action)
            class=[quiet.then_some("quiet")] { (label) }
    }
}

/// One window: the ticket at it, the actions, and who waits, in the order they will be called.
fn window_page(
    server: &Server,
    hall: &HallInfo,
    window: u32,
    op: &Operator,
    error: Option<&str>,
    help: Markup,
) -> Markup {
    let Some(serves) = hall.windows.get(&window) else {
        return shell(
            op,
            "没有这个窗口",
            "",
            html! { p class="err" { (hall.name) " 没有 " (window) " 号窗口" } },
        );
    };
    let today = day(server.clock.local_now());
    let names: Vec<String> = serves
        .iter()
        .filter_map(|p| hall.business(p).map(|b| format!("{p} {}", b.name)))
        .collect();
    let current = server
        .storage
        .at_window(&hall.id, &today, window)
        .ok()
        .flatten();
    let waiting = server
        .storage
        .waiting(&hall.id, &today, serves, 50)
        .unwrap_or_default();
    let this_window = html! {
        (hidden("hall", &hall.id))
        (hidden("window", &window.to_string()))
    };
    let body = html! {
        h1 { (hall.name) " · " (window) " 号窗口" }
        p { "办理：" (names.join("、")) " · 操作员 " (op.display_name) }
        @if let Some(e) = error { (error_line(e)) }
        @if op.training {
            p class="muted" id="training-queue" {
                "培训登录只能看排队情况，叫号、办结等按钮不可用：群众的号码不能用来练习。"
            }
        }
        div class="now" {
            @match &current {
                Some(t) => {
                    span class="num" id="current" { (t.number) }
                    span class="state" id="current-state" { (t.business) " · " (t.state.label()) }
                    @let tags = [
                        t.priority.label().map(str::to_owned),
                        t.offline.then(|| "离线取号".to_owned()),
                        (t.recalls > 0).then(|| format!("已重呼 {} 次", t.recalls)),
                        t.conflict.as_ref().map(|c| format!("⚠ {c}")),
                    ];
                    @for tag in tags.into_iter().flatten() {
                        span class="tag" { (tag) }
                    }
                }
                None => span class="state" id="current" { "窗口空闲" },
            }
        }
        form method="post" action="/staff" class="acts" {
            (this_window)
            (button("call_next", "叫下一位", false))
            (button("recall", "重呼", true))
            (button("serve", "开始办理", true))
            (button("finish", "办结", true))
            (button("no_show", "过号", true))
        }
        form method="post" action="/staff" class="acts" {
            (this_window)
            "转到 "
            select name="prefix" id="transfer-to" {
                @for t in &hall.business_types {
                    option value=(t.prefix) { (t.prefix) " " (t.name) }
                }
            }
            " 窗口（可不填）"
            input name="to_window" id="transfer-window" size="3" inputmode="numeric";
            " " (button("transfer", "转移", true))
        }
        h2 { "等候 " span id="waiting-count" { (waiting.len()) } " 人" }
        table id="waiting" {
            tr { th { "票号" } th { "业务" } th { "优先" } th { "取号时间" } th {} }
            @for t in &waiting {
                tr {
                    td class="wnum" { (t.number) }
                    td { (t.business) }
                    td { (t.priority.label().unwrap_or("")) }
                    td { (t.issued_at.get(11..16).unwrap_or_default()) }
                    td {
                        @if t.offline { "离线取号" }
                        @if let Some(c) = &t.conflict {
                            " " span class="tag conflict" { "⚠ " (c) }
                        }
                    }
                }
            }
        }
        (help)
    };
    shell(op, &format!("{window} 号窗口"), REFRESH, body)
}
