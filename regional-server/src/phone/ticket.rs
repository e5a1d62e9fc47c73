//! `/t/{hall}/{yyyymmdd}/{number}`: the ticket's QR code opens its live position and the
//! estimated wait, refreshed by a few lines of script (or every 30 s by the page itself with
//! JavaScript off); once it is finished, the citizen rates the service (好差评).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use menpai_model::api::{RATING_COMMENT_CHARS, RATING_LEVELS, RATING_REASONS};
use menpai_model::queue::TicketState;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{message_page, private_page, url_day};
use crate::Server;
use crate::clock::{day, local_now, stamp};
use crate::error::AppError;
use crate::html::{Markup, Page, hidden, html};
use crate::operators::Session;
use crate::queue::HallInfo;
use crate::storage::ratings::{RatedTicket, RatingSource};
use crate::storage::{Rating, StorageError, Ticket};
use crate::web::{FormToken, check_form};

/// Days after its ticket a service can still be rated.
const RATE_WITHIN_DAYS: i64 = 7;

/// What the ticket page shows and its script refreshes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Live {
    pub number: String,
    pub business: String,
    /// 预约优先, 优先 …
    pub priority: Option<&'static str>,
    pub state: &'static str,
    pub headline: String,
    pub detail: String,
    pub window: Option<u32>,
    pub people_ahead: u32,
    pub estimated_wait_min: u32,
    /// Nothing more will change.
    pub finished: bool,
    /// The stars given, once rated.
    pub rated: Option<u8>,
    /// Whether it can be rated now.
    pub can_rate: bool,
    /// The hall's latest calls, `E003 → 5 号窗口`.
    pub calls: Vec<String>,
    pub updated: String,
}

fn live(server: &Server, hall: &HallInfo, date: NaiveDate, t: &Ticket) -> Live {
    let s = crate::queue::status(server, hall, t);
    let w = t.window.map(|w| w.to_string()).unwrap_or_default();
    let (headline, detail) = match t.state {
        TicketState::Waiting if s.people_ahead == 0 => {
            ("等候中".into(), "前面没有人了，请留意叫号".into())
        }
        TicketState::Waiting => (
            "等候中".into(),
            format!(
                "前面还有 {} 人，预计等候约 {} 分钟",
                s.people_ahead, s.estimated_wait_min
            ),
        ),
        TicketState::Called => (
            format!("请到 {w} 号窗口"),
            "正在叫您的号，请尽快前往".into(),
        ),
        TicketState::Serving => (format!("正在 {w} 号窗口办理"), String::new()),
        TicketState::Done => ("已办结".into(), "感谢您的耐心等候".into()),
        TicketState::NoShow => ("已过号".into(), "叫号时您不在，请到咨询台询问".into()),
        TicketState::Transferred => ("已转办".into(), "请留意新的叫号".into()),
        TicketState::Cancelled => ("已取消".into(), String::new()),
    };
    let finished = matches!(
        t.state,
        TicketState::Done | TicketState::NoShow | TicketState::Cancelled
    );
    let today = local_now().date();
    let rated = server
        .storage
        .rating(&hall.id, &date.to_string(), &t.number)
        .ok()
        .flatten();
    let calls = if date == today {
        server
            .storage
            .current_calls(&hall.id, &day(local_now()), 3)
            .unwrap_or_default()
            .into_iter()
            .map(|c| format!("{} → {} 号窗口", c.number, c.window))
            .collect()
    } else {
        Vec::new()
    };
    Live {
        number: t.number.clone(),
        business: t.business.clone(),
        priority: t.priority.label(),
        state: t.state.as_str(),
        headline,
        detail,
        window: t.window,
        people_ahead: s.people_ahead,
        estimated_wait_min: s.estimated_wait_min,
        finished,
        can_rate: t.state == TicketState::Done
            && rated.is_none()
            && (today - date).num_days() <= RATE_WITHIN_DAYS,
        rated,
        calls,
        updated: local_now().format("%H:%M:%S").to_string(),
    }
}

/// The hall, the day and the ticket of a URL.
fn find(
    server: &Server,
    hall: &str,
    day_in_url: &str,
    number: &str,
) -> std::result::Result<(Arc<HallInfo>, NaiveDate, Ticket), Box<Response>> {
    let unknown = || Box::new(super::not_found("这张排队号", None));
    let (Some(h), Some(date)) = (server.halls.get(hall), url_day(day_in_url)) else {
        return Err(unknown());
    };
    let valid = number.len() <= 8 && number.bytes().all(|b| b.is_ascii_alphanumeric());
    let t = valid
        .then(|| server.storage.ticket(&h.id, &date.to_string(), number))
        .transpose()
        .map_err(|e| Box::new(AppError::internal(e).into_response()))?
        .flatten();
    match t {
        Some(t) => Ok((h, date, t)),
        // A ticket taken while the terminal was offline arrives when it reconnects.
        None if valid && date == local_now().date() => {
            let body = html! {
                h1 { "暂时查不到 " (number) " 号" }
                div class="card" {
                    p { "如果是在终端断网时取的号，终端联网后就能查到，本页每 30 秒自动刷新。" }
                    p class="muted" { "请留意大厅的叫号屏和广播。" }
                    p { a href={ "/h/" (h.id) } { (h.name) } }
                }
            };
            let page = Page::phone("暂时查不到")
                .head(html! { meta http-equiv="refresh" content="30"; })
                .render(body);
            Err(Box::new(private_page(StatusCode::NOT_FOUND, page, "")))
        }
        None => Err(unknown()),
    }
}

/// Polls the live state every 5 s and updates the page in place; vibrates when called; shows
/// the rating form when the ticket is finished.
const SCRIPT: &str = "(function(){var $=function(i){return document.getElementById(i);},\
u=location.pathname.replace(/\\/$/,'')+'/live',w=$('ticket'),s=w.dataset.state;function t(i,v){var e=$(i);if(e&&e.textContent!==v)e.textContent=v;}\
function tick(){var x=new XMLHttpRequest();x.open('GET',u);x.setRequestHeader('Accept','application/json');\
x.onload=function(){if(x.status!==200)return;var d=JSON.parse(x.responseText);t('headline',d.headline);t('detail',d.detail);\
t('updated',d.updated);var c=$('calls');if(c){c.textContent='';d.calls.forEach(function(k){var l=document.createElement('li');\
l.textContent=k;c.appendChild(l);});if(!d.calls.length){var n=document.createElement('li');n.textContent='暂无';c.appendChild(n);}}if(d.state!==s){if(d.state==='called'&&navigator.vibrate)navigator.vibrate([300,150,300]);\
s=d.state;w.dataset.state=s;}var r=$('rate');if(r)r.hidden=!d.can_rate;if(d.finished)clearInterval(k);};x.send();}\
var k=setInterval(tick,5000);})();";

/// The ticket's secret, as its printed QR link carries it.
#[derive(Debug, Deserialize)]
pub(super) struct Holder {
    #[serde(default)]
    k: String,
}

/// Whether `given` is the secret of ticket `t` (only the slip's holder has it).
fn holds(server: &Server, hall: &str, date: NaiveDate, t: &Ticket, given: &str) -> bool {
    let Some(device) = &t.device else {
        return false;
    };
    server
        .ticket_keys
        .matches(device, hall, &date.to_string(), &t.number, given)
}

pub(super) async fn page(
    State(server): State<Arc<Server>>,
    Path((hall, day_in_url, number)): Path<(String, String, String)>,
    Query(holder): Query<Holder>,
    headers: HeaderMap,
) -> Response {
    let s2 = server.clone();
    let found = tokio::task::spawn_blocking(move || {
        find(&s2, &hall, &day_in_url, &number).map(|(h, d, t)| {
            let l = live(&s2, &h, d, &t);
            let holds = holds(&s2, &h.id, d, &t, &holder.k);
            // The hall's reply to a poor rating is for the slip's holder only.
            let reply = holds
                .then(|| {
                    s2.storage
                        .ticket_reply(&h.id, &d.to_string(), &t.number)
                        .ok()
                        .flatten()
                })
                .flatten();
            (h, d, l, holds.then_some(holder.k), reply)
        })
    })
    .await;
    let (h, date, l, secret, reply) = match found {
        Ok(Ok(x)) => x,
        Ok(Err(r)) => return *r,
        Err(e) => return AppError::internal(e).into_response(),
    };
    let token = FormToken::of(&headers);
    let today = date == local_now().date();
    let may_rate = (local_now().date() - date).num_days() <= RATE_WITHIN_DAYS;
    let body = html! {
        div id="ticket" data-state=(l.state) {
            p class="muted" { (h.name) }
            h1 id="number" style="font-size:56px;margin:0" { (l.number) }
            p {
                (l.business)
                @if let Some(p) = l.priority { " · " (p) }
            }
            div class="card now" {
                p id="headline" style="font-size:24px;font-weight:bold;margin:0" { (l.headline) }
                p id="detail" { (l.detail) }
                p class="muted" { "更新于 " span id="updated" { (l.updated) } }
            }
            @if today {
                div class="card" {
                    h2 { "正在叫号" }
                    ul id="calls" {
                        @for c in &l.calls { li { (c) } }
                        @if l.calls.is_empty() { li { "暂无" } }
                    }
                }
            }
            @if let Some(stars) = l.rated {
                div class="card" id="rated" {
                    p { "您的评价：" ("★".repeat(stars as usize)) "（" (crate::cases::level_label(stars)) "）" }
                    p { "谢谢您，我们会认真改进。" }
                    @if let Some(r) = &reply {
                        h2 { "大厅的回复" }
                        p id="reply" style="white-space:pre-wrap" { (r) }
                    } @else if stars <= 2 {
                        p class="muted" id="reply-pending" { "大厅负责人会在 " (crate::cases::WORKING_DAYS) " 个工作日内处理并在这里回复您。" }
                    }
                }
            } @else if may_rate {
                @match &secret {
                    Some(k) => (rating_form(&h.id, date, &l.number, k, &token, !l.can_rate)),
                    None => p class="muted" id="rate-hint" { "办结后，用取号单上的二维码打开本页即可评价。" },
                }
            }
            p { a href={ "/h/" (h.id) } { "‹ " (h.name) "的门牌" } }
        }
    };
    let title = format!("{} 号 · {}", l.number, h.name);
    let html = Page::phone(&title)
        .head(html! { noscript { meta http-equiv="refresh" content="30"; } })
        .script(SCRIPT)
        .render(body);
    let mut response = private_page(StatusCode::OK, html, SCRIPT);
    token.set_on(&mut response);
    response
}

fn rating_form(
    hall: &str,
    date: NaiveDate,
    number: &str,
    secret: &str,
    token: &FormToken,
    hidden_now: bool,
) -> Markup {
    html! {
        form method="post" action={ "/t/" (hall) "/" (date.format("%Y%m%d")) "/" (number) "/rate" }
            id="rate" class="card" hidden[hidden_now] {
            h2 { "请为这次服务评价" }
            @for (i, label) in RATING_LEVELS.iter().enumerate() {
                @let stars = 5 - i;
                label {
                    input type="radio" name="stars" value=(stars) required;
                    " " ("★".repeat(stars)) " " (label)
                }
            }
            p { "哪里不满意？（可多选，选填）" }
            @for r in RATING_REASONS {
                label style="display:inline-block;margin:4px 12px 4px 0" {
                    input type="checkbox" name="reason" value=(r); " " (r)
                }
            }
            label {
                "想说的话（选填）"
                textarea name="comment" maxlength=(RATING_COMMENT_CHARS) rows="3" placeholder="请勿填写姓名、电话等个人信息" {}
            }
            (token.field())
            (hidden("k", secret))
            button type="submit" id="send" { "提交评价" }
        }
    }
}

/// `…/live`: the state as JSON, for the page's script.
pub(super) async fn live_json(
    State(server): State<Arc<Server>>,
    Path((hall, day_in_url, number)): Path<(String, String, String)>,
) -> Response {
    let found = tokio::task::spawn_blocking(move || {
        find(&server, &hall, &day_in_url, &number).map(|(h, d, t)| live(&server, &h, d, &t))
    })
    .await;
    match found {
        Ok(Ok(l)) => ([(header::CACHE_CONTROL, "no-store")], Json(l)).into_response(),
        Ok(Err(_)) => AppError::new(StatusCode::NOT_FOUND, "查不到这张排队号").into_response(),
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// The rating form posted.
pub(super) async fn rate(
    State(server): State<Arc<Server>>,
    Path((hall, day_in_url, number)): Path<(String, String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let refuse = |status: StatusCode, why: &str| message_page(status, "没有提交成功", why, None);
    // Ticked reasons repeat their field; every other field is taken once.
    let mut reasons: Vec<String> = Vec::new();
    let mut f: HashMap<String, String> = HashMap::new();
    for (name, value) in fields {
        if name == "reason" {
            if !RATING_REASONS.contains(&value.as_str()) {
                return refuse(StatusCode::BAD_REQUEST, "请从列出的原因里选择");
            }
            if !reasons.contains(&value) {
                reasons.push(value);
            }
        } else {
            f.insert(name, value);
        }
    }
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return refuse(e.status, &e.message);
    }
    let Some(stars) = f
        .get("stars")
        .and_then(|s| s.parse::<u8>().ok())
        .filter(|s| (1..=5).contains(s))
    else {
        return refuse(StatusCode::BAD_REQUEST, "请选择一个评价等级");
    };
    let comment: String = f
        .get("comment")
        .map(|c| {
            c.trim()
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect()
        })
        .unwrap_or_default();
    if comment.chars().count() > RATING_COMMENT_CHARS {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("想说的话请在 {RATING_COMMENT_CHARS} 字以内"),
        );
    }
    let secret = f.get("k").cloned().unwrap_or_default();
    let back = format!(
        "/t/{hall}/{day_in_url}/{number}?k={}",
        super::urlencode(&secret)
    );
    let s2 = server.clone();
    let done = tokio::task::spawn_blocking(move || {
        let (h, date, t) = find(&s2, &hall, &day_in_url, &number)
            .map_err(|_| (StatusCode::NOT_FOUND, "查不到这张排队号".to_owned()))?;
        if !holds(&s2, &h.id, date, &t, &secret) {
            tracing::warn!(hall = %h.id, "A rating without the ticket's secret was refused.");
            return Err((
                StatusCode::FORBIDDEN,
                "请用取号单上的二维码打开本页再评价".to_owned(),
            ));
        }
        let l = live(&s2, &h, date, &t);
        if !l.can_rate {
            let why = if t.state == TicketState::Done {
                "这张号已经评价过了，谢谢您"
            } else {
                "办结以后才能评价"
            };
            return Err((StatusCode::CONFLICT, why.to_owned()));
        }
        let rating = Rating {
            hall: h.id.clone(),
            ticket: Some(RatedTicket {
                day: date.to_string(),
                number: t.number.clone(),
            }),
            business: t.business.clone(),
            window: t.window,
            item: None,
            stars,
            reasons,
            comment,
            source: RatingSource::Phone,
            device: None,
            rated_at: stamp(s2.clock.local_now()),
        };
        let rated = s2.storage.rate(&rating).map_err(|e| match e {
            StorageError::Conflict(m) => (StatusCode::CONFLICT, m),
            e => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        })?;
        // Which window was rated, and how; never what was written.
        tracing::info!(hall = %h.id, window = ?t.window, stars, "A service was rated.");
        if let Some(case) = rated.case {
            crate::cases::opened(&s2, &h.id, case, &rating.rated_at);
        }
        Ok(())
    })
    .await;
    match done {
        Ok(Ok(())) => Redirect::to(&back).into_response(),
        Ok(Err((status, why))) => {
            message_page(status, "没有提交成功", &why, Some((&back, "回到排队号")))
        }
        Err(e) => AppError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RatingsQuery {
    hall: String,
    #[serde(default)]
    days: Option<u32>,
}

/// `GET /api/v1/admin/ratings?hall=&days=30`: the hall's ratings per window and business.
pub(super) async fn ratings_json(
    State(server): State<Arc<Server>>,
    s: Session,
    Query(q): Query<RatingsQuery>,
) -> std::result::Result<Json<Value>, AppError> {
    crate::queue::staff::staff_in(&server, &s, &q.hall)?;
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let since = (local_now().date() - chrono::Duration::days(days as i64)).to_string();
    let (summary, comments) = server
        .storage
        .ratings(&q.hall, &since)
        .map_err(AppError::internal)?;
    Ok(Json(
        json!({ "hall": q.hall, "since": since, "windows": summary, "comments": comments }),
    ))
}
