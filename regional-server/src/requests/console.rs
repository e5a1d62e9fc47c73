//! The staff's work queue in the console: the hall's requests and consultations, newest first,
//! updated live; a request's page where staff take it, call back (the phone shown only to
//! whoever took it, audited), answer and close it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use menpai_model::assist::{Author, MAX_REPLY_CHARS, RequestKind, RequestState};
use serde::Deserialize;

use super::{Act, RequestView, act, load, reveal_phone, view};
use crate::Server;
use crate::error::AppError;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, Section, console, console_page, error_line, html, tel_link,
};
use crate::operators::{HallWork, PageSession, Session, display_name};
use crate::storage::Operator;
use crate::storage::requests::RequestFilter;
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/requests", get(list_page))
        .route("/requests/{id}", get(detail_page).post(detail_action))
        .route("/requests/{id}/phone", post(show_phone))
}

/// Reloads the part of the page marked `#live` when a request of the operator's halls changes
/// (on a request's page, only when it is that request).
const LIVE_SCRIPT: &str = "(function(){var es=new EventSource('/console/live?topics=request');\
function re(){fetch(location.pathname+location.search,{credentials:'same-origin'}).then(function(r){return r.text()}).then(function(t){\
var d=new DOMParser().parseFromString(t,'text/html');var n=d.getElementById('live');var o=document.getElementById('live');if(n&&o)o.replaceWith(n);});}\
es.addEventListener('request',function(e){var o=document.getElementById('live');var id=o&&o.dataset.request;\
try{if(id&&JSON.parse(e.data).id!==id)return;}catch(x){}re();});es.addEventListener('lagged',re);})();";

/// The page's operator when their role works on requests; else the 403 page, in Chinese. (A
/// browser without a session, or with an admin-set password, was sent on by [`PageSession`].)
fn page_operator(s: PageSession) -> Result<Session, Box<Response>> {
    let PageSession(s) = s;
    match s.require(HallWork::Requests.role()) {
        Ok(_) => Ok(s),
        Err(_) => {
            let no = AppError::new(
                StatusCode::FORBIDDEN,
                "你的角色不能处理帮办和咨询，请联系管理员。",
            );
            Err(Box::new(refusal(&s.0, &no)))
        }
    }
}

/// Who took a request, by display name (李四); the login name of an operator since removed.
fn taker_name(server: &Server, taken_by: Option<&str>) -> String {
    taken_by.map_or_else(String::new, |name| display_name(server, name))
}

fn refusal(op: &Operator, e: &AppError) -> Response {
    (
        e.status,
        console(
            op,
            Section::Requests,
            "帮办与咨询",
            html! { p class="err" id="error" { (e.message) } },
        ),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct Filters {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    hall: String,
}

fn summary(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// `/requests`: the work queue.
async fn list_page(State(server): S, ps: PageSession, Query(f): Query<Filters>) -> Response {
    let s = match page_operator(ps) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let halls = match s.halls_for(HallWork::Requests) {
        Ok(h) => h.map(<[String]>::to_vec),
        Err(e) => return refusal(&s.0, &e),
    };
    let halls = if f.hall.is_empty() {
        halls
    } else {
        if let Err(e) = s.in_hall(&server, HallWork::Requests, &f.hall) {
            return refusal(&s.0, &e);
        }
        Some(vec![f.hall.clone()])
    };
    let filter = RequestFilter {
        halls,
        kind: RequestKind::parse(&f.kind),
        state: RequestState::parse(&f.state),
        training_only: s.training(),
        limit: 200,
    };
    let s2 = server.clone();
    let listed = tokio::task::spawn_blocking(move || {
        let rows = s2.storage.requests(&filter).map_err(AppError::internal)?;
        rows.iter()
            .map(|r| view(&s2, r, false))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    let rows = match listed {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => return refusal(&s.0, &e),
        Err(e) => return AppError::internal(e).into_response(),
    };
    let op = &s.0;
    let hall_choices: Vec<(String, String)> = op
        .halls
        .iter()
        .map(|h| {
            (
                h.clone(),
                server
                    .halls
                    .get(h)
                    .map(|i| i.name.clone())
                    .unwrap_or_else(|| h.clone()),
            )
        })
        .collect();
    let body = html! {
        h1 { "帮办与咨询" }
        form method="get" action="/requests" class="card" id="filters" {
            select name="kind" aria-label="类别" {
                option value="" { "全部类别" }
                @for k in RequestKind::ALL { option value=(k.as_str()) selected[f.kind == k.as_str()] { (k.label()) } }
            }
            " "
            select name="state" aria-label="状态" {
                option value="" { "全部状态" }
                @for st in RequestState::ALL { option value=(st.as_str()) selected[f.state == st.as_str()] { (st.label()) } }
            }
            @if hall_choices.len() > 1 {
                " "
                select name="hall" aria-label="大厅" {
                    option value="" { "全部大厅" }
                    @for (id, name) in &hall_choices { option value=(id) selected[f.hall == *id] { (name) } }
                }
            }
            " " button type="submit" { "筛选" }
        }
        div id="live" {
            p class="muted" id="count" { "共 " (rows.len()) " 条，最新的在前；有新请求时本页自动更新。" }
            table id="list" {
                thead { tr { th { "提交时间" } th { "类别" } th { "大厅" } th { "事项" } th { "内容" } th { "联系人" } th { "状态" } th { "受理人" } } }
                tbody {
                    @for r in &rows {
                        tr class=(if r.state == RequestState::New { "red" } else { "" }) data-id=(r.id) {
                            td { a href={ "/requests/" (r.id) } { (r.created_at.get(5..16).unwrap_or(&r.created_at)) } }
                            td {
                                (r.kind_label) " · " (if r.channel == "kiosk" { "门牌" } else { "手机" })
                                @if r.training { " " span class="muted training" { "培训" } }
                            }
                            td { (r.hall_name) }
                            td { (r.item_name) }
                            td { a href={ "/requests/" (r.id) } { (summary(&r.text)) } }
                            td { (r.name) " " (r.phone) }
                            td class="state" { (r.state_label) }
                            td { (taker_name(&server, r.taken_by.as_deref())) }
                        }
                    }
                }
            }
            @if rows.is_empty() { p { "没有符合条件的请求。" } }
        }
    };
    let page = Page::new("帮办与咨询 · 门牌", CONSOLE_STYLE).script(LIVE_SCRIPT);
    console_page(op, Section::Requests, page, body).into_response()
}

fn thread(v: &RequestView) -> Markup {
    html! {
        @for (i, m) in v.messages.iter().enumerate() {
            div class="card message" {
                p class="muted" {
                    @match m.author {
                        Author::Citizen => { (if i == 0 { "市民" } else { "市民补充" }) }
                        Author::Auto => { "自动答复" }
                        Author::Staff => { "工作人员 " (m.by) }
                    }
                    " · " (m.at.get(..16).unwrap_or(&m.at))
                }
                p { (m.body) }
            }
        }
    }
}

/// The actions open to `op` on `v`, as forms; `op` may use now; `taker` is who took the request, by display name.
fn actions(v: &RequestView, op: &Operator, taker: &str, csrf: &Markup) -> Markup {
    use RequestState::*;
    let consult = v.kind == RequestKind::Consult;
    let mine = v.taken_by.as_deref() == Some(op.name.as_str());
    let action = format!("/requests/{}", v.id);
    let text_form = |act: &str, label: &str, button: &str, id: &str| {
        html! {
            form method="post" action=(action) class="card" id=(id) {
                (csrf)
                input type="hidden" name="action" value=(act);
                label { (label) br; textarea name="text" rows="3" cols="50" maxlength=(MAX_REPLY_CHARS) required {} }
                br; button type="submit" { (button) }
            }
        }
    };
    html! {
        @if !consult && v.state == New {
            form method="post" action=(action) class="card" id="take" {
                (csrf) input type="hidden" name="action" value="take";
                button type="submit" { "受理" }
            }
        }
        @if !consult && matches!(v.state, Taken | CalledBack) {
            @if mine {
                form method="post" action={ (action) "/phone" } class="card" id="reveal" {
                    (csrf)
                    button type="submit" { "显示电话" }
                    " " span class="muted" { "回电时查看，查看会记入操作日志" }
                }
            } @else {
                p class="muted" { "由 " (taker) " 受理，只有受理人可以查看电话。" }
            }
            (text_form("called_back", "回电情况（市民可在进度页看到）", "登记回电", "called-back"))
            (text_form("close", "办理结果（市民可在进度页看到）", "办结", "close"))
        }
        @if consult && matches!(v.state, New | Answered) {
            (text_form("answer", "答复（市民在进度页阅读）", "发送答复", "answer"))
        }
        @if consult && v.state == Answered {
            (text_form("close", "办结说明", "办结", "close"))
        }
    }
}

fn detail_html(
    server: &Server,
    op: &Operator,
    v: &RequestView,
    csrf: &Markup,
    phone: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let taker = taker_name(server, v.taken_by.as_deref());
    let body = html! {
        p { a href="/requests" { "‹ 返回列表" } }
        h1 { (v.kind_label) " · " (v.hall_name) }
        @if let Some(e) = error { (error_line(e)) }
        @if v.training { p class="muted" id="training" { "培训模式终端提交的练习请求：不是真实请求，不回电。" } }
        div id="live" data-request=(v.id) {
            div class="card" id="info" data-state=(v.state.as_str()) {
                p { "状态：" b id="state" { (v.state_label) } @if v.taken_by.is_some() { "（受理人 " (taker) "）" } }
                @if !v.item_name.is_empty() { p { "事项：" (v.item_name) } }
                p { "联系人：" span id="contact" { (v.name) " " (v.phone) } }
                @if !v.preferred_time.is_empty() { p { "希望联系时间：" (v.preferred_time) } }
                p class="muted" { "来自" (if v.channel == "kiosk" { "门牌终端" } else { "手机页面" }) " · 提交于 " (v.created_at.get(..16).unwrap_or(&v.created_at)) }
                @if let Some(o) = &v.outcome { p id="outcome" { "办理结果：" (o) } }
            }
            @if let Some(p) = phone {
                p class="card" id="phone-shown" { "电话：" (tel_link(p)) " " span class="muted" { "（已记入操作日志）" } }
            }
            (thread(v))
        }
        (actions(v, op, &taker, csrf))
    };
    let title = format!("{} · 门牌", v.kind_label);
    console_page(
        op,
        Section::Requests,
        Page::new(&title, CONSOLE_STYLE).script(LIVE_SCRIPT),
        body,
    )
}

/// A page that shows personal data: never kept by caches.
fn no_store(status: StatusCode, html: Markup) -> Response {
    let mut r = (status, html).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Renders a request's page for `s` (with the phone when it was just revealed).
async fn render(
    server: Arc<Server>,
    s: Session,
    id: String,
    headers: &HeaderMap,
    status: StatusCode,
    phone: Option<String>,
    error: Option<String>,
) -> Response {
    let s2 = server.clone();
    let op = s.0.clone();
    let found = tokio::task::spawn_blocking(move || {
        let r = load(&s2, &s, &id)?;
        view(&s2, &r, true)
    })
    .await;
    let v = match found {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return refusal(&op, &e),
        Err(e) => return AppError::internal(e).into_response(),
    };
    let token = FormToken::of(headers);
    let html = detail_html(
        &server,
        &op,
        &v,
        &token.field(),
        phone.as_deref(),
        error.as_deref(),
    );
    let mut response = no_store(status, html);
    token.set_on(&mut response);
    response
}

async fn detail_page(
    State(server): S,
    ps: PageSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match page_operator(ps) {
        Ok(s) => render(server, s, id, &headers, StatusCode::OK, None, None).await,
        Err(r) => *r,
    }
}

async fn detail_action(
    State(server): S,
    headers: HeaderMap,
    s: Session,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return refusal(&s.0, &e);
    }
    let parsed = Act::parse(
        f.get("action").map(String::as_str).unwrap_or(""),
        f.get("text").map(String::as_str).unwrap_or(""),
    );
    let (s2, s3, id2) = (server.clone(), s.clone(), id.clone());
    let done = tokio::task::spawn_blocking(move || {
        let r = load(&s2, &s3, &id2)?;
        act(&s2, &r, &s3.0, &parsed?)
    })
    .await;
    match done {
        Ok(Ok(())) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Ok(Err(e)) if matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            render(server, s, id, &headers, e.status, None, Some(e.message)).await
        }
        Ok(Err(e)) => refusal(&s.0, &e),
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// 显示电话: the number, to the member of staff who took the request; audited.
async fn show_phone(
    State(server): S,
    headers: HeaderMap,
    s: Session,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return refusal(&s.0, &e);
    }
    let (s2, s3, id2) = (server.clone(), s.clone(), id.clone());
    let shown = tokio::task::spawn_blocking(move || {
        let r = load(&s2, &s3, &id2)?;
        reveal_phone(&s2, &r, &s3.0)
    })
    .await;
    match shown {
        Ok(Ok(phone)) => render(server, s, id, &headers, StatusCode::OK, Some(phone), None).await,
        Ok(Err(e)) if e.status == StatusCode::FORBIDDEN && e.message.starts_with("只有") => {
            render(server, s, id, &headers, e.status, None, Some(e.message)).await
        }
        Ok(Err(e)) => refusal(&s.0, &e),
        Err(e) => AppError::internal(e).into_response(),
    }
}
