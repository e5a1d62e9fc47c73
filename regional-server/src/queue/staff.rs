//! The windows' side: a staff page (plain HTML forms) and the same actions as a JSON API,
//! for operators with the queue_staff role. Every action is audited.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use menpai_model::queue::{QueueView, StaffAction, TicketStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{HallInfo, act, day, hall_of, local_now, status, view};
use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::fleet::esc;
use crate::operators::{self, Role, Session};
use crate::storage::Operator;

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

fn staff(s: &Session) -> Result<&Operator, AppError> {
    s.require(Role::QueueStaff)
}

/// Window staff of `hall`: a queue_staff operator acts only in the halls they are assigned to.
pub fn staff_in<'a>(server: &Server, s: &'a Session, hall: &str) -> Result<&'a Operator, AppError> {
    let op = staff(s)?;
    if !op.acts_in(hall) {
        let _ = server
            .storage
            .audit(&op.name, "queue.access", hall, "forbidden");
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "你没有这个大厅的叫号权限",
        ));
    }
    Ok(op)
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
    let today = day(local_now());
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
    let op = staff_in(&server, &s, &hall)?.name.clone();
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
        .ticket(&hall.id, &day(local_now()), &number)
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

/// The operator of a browser session with the staff role, else where to send the browser.
fn page_operator(server: &Server, headers: &HeaderMap) -> Result<Operator, Box<Response>> {
    let op = operators::session_token(headers)
        .and_then(|t| {
            server
                .storage
                .session(&operators::sha256_hex(&t), chrono::Utc::now().timestamp())
                .ok()
                .flatten()
        })
        .ok_or_else(|| Box::new(Redirect::to("/login").into_response()))?;
    if !op.role.allows(Role::QueueStaff) {
        return Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                Html(shell("无权叫号", "<p>需要“queue_staff”角色。</p>")),
            )
                .into_response(),
        ));
    }
    Ok(op)
}

async fn page(State(server): S, headers: HeaderMap, Query(w): Query<Where>) -> Response {
    let op = match page_operator(&server, &headers) {
        Ok(op) => op,
        Err(r) => return *r,
    };
    match (w.hall, w.window) {
        (Some(h), Some(_)) if !op.acts_in(&h) => (
            StatusCode::FORBIDDEN,
            Html(shell("无权叫号", "<p>你没有这个大厅的叫号权限。</p>")),
        )
            .into_response(),
        (Some(h), Some(n)) => match hall_of(&server, &h) {
            Ok(hall) => Html(window_page(&server, &hall, n, &op.name, None)).into_response(),
            Err(e) => e.into_response(),
        },
        _ => Html(pick_page(&server, &op)).into_response(),
    }
}

async fn page_action(State(server): S, s: Session, Form(f): Form<ActionForm>) -> Response {
    let op = match staff_in(&server, &s, &f.hall) {
        Ok(op) => op.name.clone(),
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
    let back = format!("/staff?hall={}&window={window}", urlencode(&f.hall));
    match r {
        Ok(Ok(_)) => (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response(),
        Ok(Err(e)) => match hall_of(&server, &f.hall) {
            Ok(hall) => (
                e.status,
                Html(window_page(
                    &server,
                    &hall,
                    window,
                    &s.0.name,
                    Some(&e.message),
                )),
            )
                .into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => AppError::internal(e).into_response(),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:24px;color:#1b1f24;background:#f2f5fa}\
h1{color:#0e3f7e;margin:0 0 12px}.now{background:#fff;border-radius:16px;padding:20px;margin:12px 0}\
.num{font-size:64px;font-weight:bold;color:#0e3f7e}.state{font-size:22px;margin-left:16px}\
.acts button{font-size:20px;padding:12px 20px;margin:4px;border:0;border-radius:10px;background:#1a5fb4;color:#fff}\
.acts button.quiet{background:#5b6570}.err{color:#c62828;font-weight:bold}.tag{border-radius:8px;padding:1px 8px;background:#e8eef7;margin-left:6px}\
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:8px 12px;border-bottom:1px solid #d8dee6;text-align:left}";

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{} · 门牌叫号</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// Which hall and window: links to every window of the operator's halls.
fn pick_page(server: &Server, op: &Operator) -> String {
    let mut b = String::from("<h1>选择窗口</h1>");
    let halls: Vec<_> = server
        .halls
        .all()
        .into_iter()
        .filter(|h| op.acts_in(&h.id))
        .collect();
    if halls.is_empty() {
        b.push_str("<p>还没有给你分配大厅，请联系管理员。</p>");
    }
    for hall in halls {
        b.push_str(&format!("<h2>{}</h2><p>", esc(&hall.name)));
        for n in hall.windows.keys() {
            b.push_str(&format!(
                "<a class=\"tag\" href=\"/staff?hall={}&amp;window={n}\">{n} 号窗口</a> ",
                urlencode(&hall.id)
            ));
        }
        b.push_str("</p>");
    }
    shell("选择窗口", &b)
}

fn button(action: &str, label: &str, quiet: bool) -> String {
    format!(
        "<button id=\"{}\" name=\"action\" value=\"{action}\"{}>{label}</button>",
        action.replace('_', "-"),
        if quiet { " class=\"quiet\"" } else { "" }
    )
}

/// One window: the ticket at it, the actions, and who waits, in the order they will be called.
fn window_page(
    server: &Server,
    hall: &HallInfo,
    window: u32,
    operator: &str,
    error: Option<&str>,
) -> String {
    let Some(serves) = hall.windows.get(&window) else {
        return shell(
            "没有这个窗口",
            &format!(
                "<p class=\"err\">{} 没有 {window} 号窗口</p>",
                esc(&hall.name)
            ),
        );
    };
    let today = day(local_now());
    let names: Vec<String> = serves
        .iter()
        .filter_map(|p| hall.business(p).map(|b| format!("{p} {}", b.name)))
        .collect();
    let mut b = format!(
        "<h1>{} · {window} 号窗口</h1><p>办理：{} · 操作员 {}</p>",
        esc(&hall.name),
        esc(&names.join("、")),
        esc(operator)
    );
    if let Some(e) = error {
        b.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    let current = server
        .storage
        .at_window(&hall.id, &today, window)
        .ok()
        .flatten();
    b.push_str("<div class=\"now\">");
    match &current {
        Some(t) => {
            let tags = [
                t.priority.label().map(str::to_owned),
                t.offline.then(|| "离线取号".to_owned()),
                (t.recalls > 0).then(|| format!("已重呼 {} 次", t.recalls)),
                t.conflict.as_ref().map(|c| format!("⚠ {c}")),
            ];
            b.push_str(&format!(
                "<span class=\"num\" id=\"current\">{}</span><span class=\"state\" id=\"current-state\">{} · {}</span>",
                esc(&t.number),
                esc(&t.business),
                t.state.label()
            ));
            for tag in tags.into_iter().flatten() {
                b.push_str(&format!("<span class=\"tag\">{}</span>", esc(&tag)));
            }
        }
        None => b.push_str("<span class=\"state\" id=\"current\">窗口空闲</span>"),
    }
    b.push_str("</div>");
    let hidden = format!(
        "<input type=\"hidden\" name=\"hall\" value=\"{}\"><input type=\"hidden\" name=\"window\" value=\"{window}\">",
        esc(&hall.id)
    );
    b.push_str(&format!(
        "<form method=\"post\" action=\"/staff\" class=\"acts\">{hidden}{}{}{}{}{}</form>",
        button("call_next", "叫下一位", false),
        button("recall", "重呼", true),
        button("serve", "开始办理", true),
        button("finish", "办结", true),
        button("no_show", "过号", true),
    ));
    let options: String = hall
        .business_types
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{}\">{} {}</option>",
                esc(&t.prefix),
                esc(&t.prefix),
                esc(&t.name)
            )
        })
        .collect();
    b.push_str(&format!(
        "<form method=\"post\" action=\"/staff\" class=\"acts\">{hidden}转到 <select name=\"prefix\" id=\"transfer-to\">{options}</select> \
         窗口（可不填）<input name=\"to_window\" id=\"transfer-window\" size=\"3\" inputmode=\"numeric\"> {}</form>",
        button("transfer", "转移", true)
    ));
    let waiting = server
        .storage
        .waiting(&hall.id, &today, serves, 50)
        .unwrap_or_default();
    b.push_str(&format!("<h2>等候 <span id=\"waiting-count\">{}</span> 人</h2><table id=\"waiting\"><tr><th>票号</th><th>业务</th><th>优先</th><th>取号时间</th><th></th></tr>", waiting.len()));
    for t in &waiting {
        b.push_str(&format!(
            "<tr><td class=\"wnum\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(&t.number),
            esc(&t.business),
            t.priority.label().unwrap_or(""),
            esc(t.issued_at.get(11..16).unwrap_or_default()),
            if t.offline { "离线取号" } else { "" },
            t.conflict
                .as_ref()
                .map(|c| format!(" <span class=\"tag conflict\">⚠ {}</span>", esc(c)))
                .unwrap_or_default()
        ));
    }
    b.push_str("</table><script>setInterval(function(){if(!document.querySelector('select:focus,input:focus'))location.replace(location.pathname+location.search)},10000)</script>");
    shell(&format!("{window} 号窗口"), &b)
}
