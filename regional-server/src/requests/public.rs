//! The citizens' side on the phone pages: the 帮代办 / 上门取件 form, the question box of
//! 在线咨询, and the private link where a request is followed (`/r/{token}`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use menpai_model::assist::{
    Author, HELP_CHOICES, MAX_NAME_CHARS, MAX_TEXT_CHARS, RequestKind, RequestState, TIMES,
};
use menpai_model::queue::mask_name;

use super::{Channel, RequestView, Submission, by_token, submit, view};
use crate::Server;
use crate::error::AppError;
use crate::html::{Markup, Page, error_line, html};
use crate::phone::{message_page, not_found, private_page};
use crate::ratelimit::address_key;
use crate::web::{FormToken, check_form};

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/ask/{hall}", get(form_page).post(form_post))
        .route("/r/{token}", get(follow_page))
}

/// What the form was filled with (kept when it comes back with an error).
#[derive(Debug, Default, Clone)]
struct Filled {
    kind: RequestKind,
    item: String,
    text: String,
    name: String,
    phone: String,
    time: String,
}

impl Filled {
    fn of(f: &HashMap<String, String>) -> Filled {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        Filled {
            kind: RequestKind::parse(&get("kind")).unwrap_or_default(),
            item: get("item"),
            text: get("text"),
            name: get("name"),
            phone: get("phone"),
            time: get("time"),
        }
    }
}

fn title(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Consult => "在线咨询",
        _ => "帮办代办",
    }
}

/// The form: 帮代办 / 上门取件, or the question box of 在线咨询.
fn form_html(
    server: &Server,
    hall: &str,
    f: &Filled,
    csrf: &Markup,
    error: Option<&str>,
) -> Option<Markup> {
    let h = server.halls.get(hall)?;
    let mut items: Vec<(&String, &String)> = h.items.iter().map(|(id, (n, _))| (id, n)).collect();
    items.sort_by(|a, b| a.1.cmp(b.1));
    let consult = f.kind == RequestKind::Consult;
    let body = html! {
        p { a href={ "/h/" (h.id) } { "‹ " (h.name) } }
        h1 { (title(f.kind)) }
        p class="muted" {
            @if consult { "写下您的问题，工作人员会在这里答复。" }
            @else { "工作人员会按您留的电话联系您，帮您办理或上门收取材料。" }
        }
        @if let Some(e) = error { (error_line(e)) }
        form method="post" action={ "/ask/" (h.id) } id="ask" {
            (csrf)
            @if consult {
                input type="hidden" name="kind" value="consult";
            } @else {
                p { "需要什么服务" }
                @for k in [RequestKind::Assist, RequestKind::Pickup] {
                    label class="slot" {
                        input type="radio" name="kind" value=(k.as_str()) checked[f.kind == k] required;
                        " " (k.label())
                    }
                }
            }
            label {
                "事项（可不选）"
                select name="item" id="item" {
                    option value="" { "不确定 / 其他" }
                    @for (id, name) in &items {
                        option value=(id) selected[f.item == **id] { (name) }
                    }
                }
            }
            label {
                @if consult { "您的问题" } @else { "需要什么帮助" }
                textarea name="text" id="text" rows="4" maxlength=(MAX_TEXT_CHARS) required
                    placeholder=(if consult { "例如：异地就医备案需要什么材料？" } else { HELP_CHOICES[0] }) { (f.text) }
            }
            label {
                "姓名或称呼（可不填）"
                input type="text" name="name" id="name" maxlength=(MAX_NAME_CHARS) value=(f.name) autocomplete="name";
            }
            label {
                @if consult { "手机号（可不填）" } @else { "手机号" }
                input type="tel" name="phone" id="phone" maxlength="11" inputmode="numeric"
                    autocomplete="tel" value=(f.phone) required[!consult];
            }
            @if !consult {
                p { "希望什么时候联系您" }
                @for t in TIMES {
                    label class="slot" {
                        input type="radio" name="time" value=(t) checked[f.time == t] required;
                        " " (t)
                    }
                }
            }
            button id="submit" type="submit" { "提交" }
        }
        p class="muted" { "姓名和手机号加密保存，只给受理的工作人员回电时使用，页面上只显示部分号码。" }
    };
    Some(Page::phone(&format!("{} · {}", title(f.kind), h.name)).render(body))
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct FormQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    item: Option<String>,
}

/// `/ask/{hall}?kind=assist|pickup|consult&item=…`.
async fn form_page(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    Path(hall): Path<String>,
    Query(q): Query<FormQuery>,
) -> Response {
    let f = Filled {
        kind: q
            .kind
            .as_deref()
            .and_then(RequestKind::parse)
            .unwrap_or_default(),
        item: q.item.unwrap_or_default(),
        ..Filled::default()
    };
    let token = FormToken::of(&headers);
    let Some(html) = form_html(&server, &hall, &f, &token.field(), None) else {
        return not_found("这个服务大厅", None);
    };
    let mut response = private_page(StatusCode::OK, html, "");
    token.set_on(&mut response);
    response
}

async fn form_post(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(hall): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let refused = |e: &AppError| {
        message_page(
            e.status,
            "没有提交成功",
            &e.message,
            Some((&format!("/ask/{hall}"), "重新填写")),
        )
    };
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return refused(&e);
    }
    // Its own bucket of the booking pages' per-address limit.
    if let Err(e) =
        crate::booking_codes::admit(&server, &format!("request {}", address_key(peer.ip())))
    {
        return refused(&e);
    }
    let filled = Filled::of(&f);
    let s = Submission {
        kind: filled.kind,
        hall: hall.clone(),
        item: Some(filled.item.clone()),
        text: filled.text.clone(),
        name: filled.name.clone(),
        phone: filled.phone.clone(),
        time: filled.time.clone(),
        channel: Channel::Phone,
        device: None,
        training: false,
    };
    let s2 = server.clone();
    match tokio::task::spawn_blocking(move || submit(&s2, &s)).await {
        // The private link is the only page with the token in its path.
        Ok(Ok(done)) => Redirect::to(&format!("/r/{}", done.token)).into_response(),
        Ok(Err(e)) if e.status == StatusCode::BAD_REQUEST => {
            let csrf = FormToken::of(&headers).field();
            match form_html(&server, &hall, &filled, &csrf, Some(&e.message)) {
                Some(html) => private_page(e.status, html, ""),
                None => refused(&e),
            }
        }
        Ok(Err(e)) => refused(&e),
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// The steps of a request, the current one marked.
fn steps(v: &RequestView) -> Markup {
    let steps = RequestState::steps(v.kind);
    let at = steps.iter().position(|s| *s == v.state).unwrap_or(0);
    html! {
        ol id="steps" {
            @for (i, s) in steps.iter().enumerate() {
                li {
                    @if i == at { b { (s.label()) } " ◀" }
                    @else if i < at { span class="open" { "✓ " (s.label()) } }
                    @else { span class="muted" { (s.label()) } }
                }
            }
        }
    }
}

/// `/r/{token}`: where the citizen follows a request and reads staff's answers.
async fn follow_page(State(server): State<Arc<Server>>, Path(token): Path<String>) -> Response {
    let s2 = server.clone();
    let found = tokio::task::spawn_blocking(move || {
        by_token(&s2, &token)?
            .map(|r| view(&s2, &r, true))
            .transpose()
    })
    .await;
    let v = match found {
        Ok(Ok(Some(v))) => v,
        Ok(Ok(None)) => return not_found("这条请求", None),
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return AppError::internal(e).into_response(),
    };
    let mut thread = v.messages.iter();
    let first = thread.next();
    let body = html! {
        h1 { (v.kind_label) }
        div class="card" id="request" data-state=(v.state.as_str()) {
            p { "当前状态：" b id="state" { (v.state_label) } }
            (steps(&v))
            p { (v.hall_name) }
            @if !v.item_name.is_empty() { p { "事项：" (v.item_name) } }
            @if !v.preferred_time.is_empty() { p { "希望联系时间：" (v.preferred_time) } }
            @if !v.phone.is_empty() || !v.name.is_empty() {
                p id="contact" { "联系人：" (v.name) " " (v.phone) }
            }
            p class="muted" { "提交于 " (v.created_at.get(..16).unwrap_or(&v.created_at)) }
        }
        @if let Some(m) = first {
            div class="card" {
                p { b { (if v.kind == RequestKind::Consult { "您的问题" } else { "需要的帮助" }) } }
                p id="question" { (m.body) }
            }
        }
        @for m in thread {
            div class="card answer" {
                p {
                    b {
                        @match m.author {
                            Author::Auto => { "自动答复（仅供参考）" }
                            Author::Staff => {
                                // A login name (ascii) says nothing to a citizen.
                                "工作人员 " @if !m.by.is_ascii() { (mask_name(&m.by)) }
                            }
                            Author::Citizen => { "您补充" }
                        }
                    }
                    " " span class="muted" { (m.at.get(..16).unwrap_or(&m.at)) }
                }
                p class="reply" { (m.body) }
            }
        }
        @if let Some(o) = &v.outcome {
            div class="card" id="outcome" { p { b { "办理结果" } } p { (o) } }
        }
        p class="muted" { "本页会自动刷新。请收藏本页查看进度，不要把地址转发给他人。" }
    };
    let page = Page::phone(&format!("{} · 进度", v.kind_label))
        .head(html! { meta http-equiv="refresh" content="30"; })
        .render(body);
    private_page(StatusCode::OK, page, "")
}
