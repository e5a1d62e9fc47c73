//! The live hall monitor (大厅监控): who waits for what and how long, what each window is
//! doing, and alerts, on one page per hall that keeps itself current over the live channel.
//!
//! - `/monitor`: the halls the operator may read, each with its waiting and alerts.
//! - `/monitor/{hall}`: the hall's page, for a wall screen (1920×1080) or a phone. It fetches
//!   itself again when a `queue` note for the hall arrives (and every 15 s, for terminals'
//!   heartbeats), and four times a second re-reads the ages the server gave, so a wait crossing its
//!   service level turns its alert on with no event.
//! - `/api/v1/monitor/{hall}`: the same as JSON. Time-based alerts come with `age_s` and
//!   `limit_s`: they are on once the age passes the limit.
//!
//! A window is open once it handled a ticket today: serving (a ticket called or being served,
//! for how long) or idle (since its last ticket left); closed otherwise. Alerts: a wait over its
//! business's service level; a business with more than `monitor_waiting_over` waiting; a window
//! idle over `monitor_idle_after_s` while people wait for what it serves; a terminal of the hall
//! offline or out of paper.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::report::{DEFAULT_SERVICE_LEVEL_MIN, parse_stamp};
use super::scope;
use crate::Server;
use crate::clock::day;
use crate::error::AppError;
use crate::fleet::Status;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console, console_page, error_line, html,
};
use crate::operators::{PageSession, Session};
use crate::queue::HallInfo;
use crate::storage::StorageError;

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/monitor", get(index))
        .route("/monitor/{hall}", get(page))
        .route("/api/v1/monitor/{hall}", get(json))
}

/// A hall now.
#[derive(Debug, Clone, Serialize)]
pub struct HallMonitor {
    pub hall: String,
    pub name: String,
    /// The server's clock when this was read (`YYYY-MM-DD HH:MM:SS.mmm`, local time).
    pub now: String,
    pub waiting: u32,
    /// The longest current wait, in seconds, and since when.
    pub longest_wait_s: Option<u64>,
    pub longest_since: Option<String>,
    pub served_today: u64,
    pub businesses: Vec<BusinessNow>,
    pub windows: Vec<WindowState>,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BusinessNow {
    pub prefix: String,
    pub name: String,
    pub waiting: u32,
    /// Who has waited longest, since when and for how many seconds.
    pub oldest: Option<String>,
    pub oldest_since: Option<String>,
    pub longest_wait_s: Option<u64>,
    /// Its service level in seconds: a wait longer than this is over it.
    pub level_s: u64,
    pub windows: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowMode {
    /// No ticket handled today.
    Closed,
    Idle,
    Called,
    Serving,
}

impl WindowMode {
    fn label(self) -> &'static str {
        match self {
            WindowMode::Closed => "未开",
            WindowMode::Idle => "空闲",
            WindowMode::Called => "叫号中",
            WindowMode::Serving => "办理中",
        }
    }

    fn key(self) -> &'static str {
        match self {
            WindowMode::Closed => "closed",
            WindowMode::Idle => "idle",
            WindowMode::Called => "called",
            WindowMode::Serving => "serving",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WindowState {
    pub window: u32,
    /// Names of the businesses it serves.
    pub serves: Vec<String>,
    pub mode: WindowMode,
    pub number: Option<String>,
    /// Since when it is in this mode, and for how many seconds.
    pub since: Option<String>,
    pub for_s: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    OverLevel,
    TooMany,
    IdleWindow,
    TerminalOffline,
    OutOfPaper,
}

impl AlertKind {
    fn key(self) -> &'static str {
        match self {
            AlertKind::OverLevel => "over_level",
            AlertKind::TooMany => "too_many",
            AlertKind::IdleWindow => "idle_window",
            AlertKind::TerminalOffline => "terminal_offline",
            AlertKind::OutOfPaper => "out_of_paper",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub text: String,
    /// A time-based alert's clock: since when and seconds now; it is on once past `limit_s`.
    pub since: Option<String>,
    pub age_s: Option<u64>,
    pub limit_s: Option<u64>,
    pub on: bool,
}

fn age(now: NaiveDateTime, since: &str) -> Option<u64> {
    parse_stamp(since).map(|t| (now - t).num_seconds().max(0) as u64)
}

/// Seconds as people read them: 1小时5分, 12分30秒.
pub fn duration(s: u64) -> String {
    let (h, m, x) = (s / 3600, s % 3600 / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{x}秒"),
        (0, _) => format!("{m}分{x}秒"),
        _ => format!("{h}小时{m}分"),
    }
}

/// What the hall looks like on the server's clock now.
pub fn hall_now(server: &Server, hall: &HallInfo) -> Result<HallMonitor, StorageError> {
    let now = server.clock.local_now();
    let today = day(now);
    let waiting = server.storage.waiting_now(&hall.id, &today)?;
    let active = server.storage.windows_now(&hall.id, &today)?;
    let config = &server.config;
    let mut alerts = Vec::new();

    let businesses: Vec<BusinessNow> = hall
        .business_types
        .iter()
        .map(|b| {
            let mine: Vec<_> = waiting.iter().filter(|w| w.queue == b.prefix).collect();
            let oldest = mine.first();
            BusinessNow {
                prefix: b.prefix.clone(),
                name: b.name.clone(),
                waiting: mine.len() as u32,
                oldest: oldest.map(|w| w.number.clone()),
                oldest_since: oldest.map(|w| w.since.clone()),
                longest_wait_s: oldest.and_then(|w| age(now, &w.since)),
                level_s: u64::from(b.service_level_min.unwrap_or(DEFAULT_SERVICE_LEVEL_MIN)) * 60,
                windows: hall.windows_for(&b.prefix),
            }
        })
        .collect();
    for b in &businesses {
        if let (Some(a), Some(number)) = (b.longest_wait_s, &b.oldest) {
            alerts.push(Alert {
                kind: AlertKind::OverLevel,
                text: format!(
                    "{}：有人等候超过 {} 分钟时限（{number}）",
                    b.name,
                    b.level_s / 60
                ),
                since: b.oldest_since.clone(),
                age_s: Some(a),
                limit_s: Some(b.level_s),
                on: a > b.level_s,
            });
        }
        if b.waiting > config.monitor_waiting_over {
            alerts.push(Alert {
                kind: AlertKind::TooMany,
                text: format!(
                    "{}：{} 人在等，超过 {} 人",
                    b.name, b.waiting, config.monitor_waiting_over
                ),
                since: None,
                age_s: None,
                limit_s: None,
                on: true,
            });
        }
    }

    let windows: Vec<WindowState> = hall
        .windows
        .iter()
        .map(|(n, serves)| {
            let a = active.iter().find(|w| w.window == *n);
            let mode = match a.map(|w| w.state.as_str()) {
                None => WindowMode::Closed,
                Some("called") => WindowMode::Called,
                Some("serving") => WindowMode::Serving,
                Some(_) => WindowMode::Idle,
            };
            WindowState {
                window: *n,
                serves: serves
                    .iter()
                    .map(|p| {
                        hall.business(p)
                            .map(|b| b.name.clone())
                            .unwrap_or_else(|| p.clone())
                    })
                    .collect(),
                mode,
                number: a.and_then(|w| w.number.clone()),
                since: a.map(|w| w.since.clone()),
                for_s: a.and_then(|w| age(now, &w.since)),
            }
        })
        .collect();
    for w in windows.iter().filter(|w| w.mode == WindowMode::Idle) {
        let serves = &hall.windows[&w.window];
        // Idle while someone waits: counted from whichever began later.
        let longest = businesses
            .iter()
            .filter(|b| serves.contains(&b.prefix))
            .filter_map(|b| Some((b.longest_wait_s?, b.oldest_since.clone()?)))
            .max();
        if let (Some(idle), Some((wait, waiting_since))) = (w.for_s, longest) {
            let (a, since) = if idle <= wait {
                (idle, w.since.clone())
            } else {
                (wait, Some(waiting_since))
            };
            alerts.push(Alert {
                since,
                kind: AlertKind::IdleWindow,
                text: format!("{} 号窗口空闲，而有人在等它办理的业务", w.window),
                age_s: Some(a),
                limit_s: Some(config.monitor_idle_after_s),
                on: a > config.monitor_idle_after_s,
            });
        }
    }

    let fleet = server.fleet.view_of(
        server,
        server.clock.utc_now().timestamp_millis(),
        Some(std::slice::from_ref(&hall.id)),
    )?;
    for t in fleet.halls.iter().flat_map(|h| &h.terminals) {
        if t.status == Status::Offline {
            alerts.push(Alert {
                kind: AlertKind::TerminalOffline,
                text: format!("终端离线：{}（{}）", t.position_name, t.id),
                since: None,
                age_s: None,
                limit_s: None,
                on: true,
            });
        }
        if t.status != Status::Revoked && t.faults.iter().any(|f| f.contains("缺纸")) {
            alerts.push(Alert {
                kind: AlertKind::OutOfPaper,
                text: format!("打印机缺纸：{}（{}）", t.position_name, t.id),
                since: None,
                age_s: None,
                limit_s: None,
                on: true,
            });
        }
    }

    Ok(HallMonitor {
        hall: hall.id.clone(),
        name: hall.name.clone(),
        now: crate::clock::stamp(now),
        waiting: waiting.len() as u32,
        longest_wait_s: waiting.first().and_then(|w| age(now, &w.since)),
        longest_since: waiting.first().map(|w| w.since.clone()),
        served_today: server.storage.served_on(&hall.id, &today)?,
        businesses,
        windows,
        alerts,
    })
}

/// Prometheus lines per hall: waiting now, the longest current wait, served today.
pub fn metrics(server: &Server) -> String {
    let mut m = String::from(
        "# HELP menpai_hall_waiting People waiting in the hall now.\n# TYPE menpai_hall_waiting gauge\n\
         # HELP menpai_hall_longest_wait_seconds The longest current wait.\n# TYPE menpai_hall_longest_wait_seconds gauge\n\
         # HELP menpai_hall_served_today Tickets served in the hall today.\n# TYPE menpai_hall_served_today gauge\n",
    );
    for hall in server.halls.all() {
        let Ok(h) = hall_now(server, &hall) else {
            continue;
        };
        let label = format!("hall=\"{}\"", label_value(&h.hall));
        m.push_str(&format!("menpai_hall_waiting{{{label}}} {}\n", h.waiting));
        m.push_str(&format!(
            "menpai_hall_longest_wait_seconds{{{label}}} {}\n",
            h.longest_wait_s.unwrap_or(0)
        ));
        m.push_str(&format!(
            "menpai_hall_served_today{{{label}}} {}\n",
            h.served_today
        ));
    }
    m
}

/// A Prometheus label value: backslash, double quote and newline escaped.
pub fn label_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn readable_hall(server: &Server, s: &Session, hall: &str) -> Result<Arc<HallInfo>, AppError> {
    scope(server, s, Some(hall))?;
    server
        .halls
        .get(hall)
        .ok_or_else(|| AppError::new(axum::http::StatusCode::NOT_FOUND, "没有这个大厅"))
}

async fn json(
    State(server): State<Arc<Server>>,
    s: Session,
    Path(hall): Path<String>,
) -> Result<Json<HallMonitor>, AppError> {
    let hall = readable_hall(&server, &s, &hall)?;
    Ok(Json(hall_now(&server, &hall).map_err(AppError::internal)?))
}

fn refusal(s: &Session, e: AppError) -> Response {
    let body = html! { h1 { "大厅监控" } (error_line(&e.message)) };
    (e.status, console(&s.0, Section::Monitor, "大厅监控", body)).into_response()
}

async fn index(State(server): State<Arc<Server>>, PageSession(s): PageSession) -> Response {
    let halls = match scope(&server, &s, None) {
        Ok(h) => h,
        Err(e) => return refusal(&s, e),
    };
    let list: Vec<HallMonitor> = server
        .halls
        .all()
        .iter()
        .filter(|h| halls.as_ref().is_none_or(|hs| hs.contains(&h.id)))
        .filter_map(|h| hall_now(&server, h).ok())
        .collect();
    let body = html! {
        h1 { "大厅监控" }
        @if list.is_empty() {
            p class="muted" { "没有你可以查看的大厅。" }
        }
        div class="halls" id="halls" {
            @for h in &list {
                @let on = h.alerts.iter().filter(|a| a.on).count();
                a class={ "hall card" @if on > 0 { " alarm" } } href={ "/monitor/" (h.hall) }
                    data-hall=(h.hall) {
                    strong { (h.name) }
                    span { "等候 " b { (h.waiting) } " 人" }
                    span { "最长等候 " (h.longest_wait_s.map(duration).unwrap_or_else(|| "—".into())) }
                    span { "今日办结 " (h.served_today) }
                    span class="alerts" { "告警 " (on) }
                }
            }
        }
    };
    let page = Page::new("大厅监控 · 门牌", CONSOLE_STYLE).head(style());
    console_page(&s.0, Section::Monitor, page, body).into_response()
}

async fn page(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path(hall): Path<String>,
) -> Response {
    let hall = match readable_hall(&server, &s, &hall) {
        Ok(h) => h,
        Err(e) => return refusal(&s, e),
    };
    let m = match hall_now(&server, &hall) {
        Ok(m) => m,
        Err(e) => return refusal(&s, AppError::internal(e)),
    };
    let body = html! {
        div id="monitor" data-hall=(m.hall) data-src={ "/monitor/" (m.hall) } {
            div id="panel" { (panel(&m, server.config.monitor_waiting_over, server.config.monitor_idle_after_s)) }
        }
    };
    let title = format!("{} · 大厅监控", m.name);
    let page = Page::new(&title, CONSOLE_STYLE)
        .head(style())
        .script(SCRIPT);
    (
        [(header::CACHE_CONTROL, "no-store")],
        console_page(&s.0, Section::Monitor, page, body),
    )
        .into_response()
}

/// Seconds from `since` to `now` to the millisecond, for the page's clock.
fn exact(now: &str, since: Option<&str>) -> Option<String> {
    let (now, since) = (parse_stamp(now)?, parse_stamp(since?)?);
    Some(format!(
        "{:.3}",
        (now - since).num_milliseconds().max(0) as f64 / 1000.0
    ))
}

/// A duration the page keeps counting.
fn tick(now: &str, since: Option<&str>) -> Markup {
    html! {
        @match exact(now, since) {
            Some(a) => span class="tick" data-age-s=(a) {
                (duration(a.parse::<f64>().unwrap_or(0.0) as u64))
            },
            None => span { "—" },
        }
    }
}

/// The part of the page fetched again on every change.
fn panel(m: &HallMonitor, waiting_over: u32, idle_after_s: u64) -> Markup {
    let on = m.alerts.iter().filter(|a| a.on).count();
    html! {
        div class="head" {
            h1 { (m.name) " · 大厅监控" }
            span class="muted" id="read-at" { "更新于 " (m.now.get(11..19).unwrap_or_default()) }
        }
        div class="figures" {
            div class="figure" { span class="k" { "正在等候" } span class="v" id="waiting" { (m.waiting) } span class="u" { "人" } }
            div class="figure" { span class="k" { "最长等候" } span class="v" id="longest" { (tick(&m.now, m.longest_since.as_deref())) } }
            div class="figure" { span class="k" { "今日办结" } span class="v" id="served" { (m.served_today) } span class="u" { "人" } }
            div class="figure alerts-figure" { span class="k" { "告警" } span class="v" id="alert-count" { (on) } }
        }
        ul id="alerts" {
            @for a in &m.alerts {
                li data-kind=(a.kind.key()) data-on=(if a.on { "1" } else { "" })
                    data-age-s=[exact(&m.now, a.since.as_deref())] data-limit-s=[a.limit_s]
                    hidden[!a.on] { (a.text) }
            }
        }
        p id="no-alerts" class="ok" hidden[on > 0] { "一切正常" }
        div class="board" {
        section class="col" {
        h2 { "各业务等候" }
        div class="businesses" {
            @for b in &m.businesses {
                @let over = b.longest_wait_s.is_some_and(|a| a > b.level_s);
                div class={ "business card" @if over { " on" } } data-prefix=(b.prefix)
                    data-age-s=[exact(&m.now, b.oldest_since.as_deref())]
                    data-limit-s=[b.oldest_since.as_ref().map(|_| b.level_s)] {
                    div class="name" { (b.name) " " span class="muted" { (b.prefix) } }
                    div class="count" { b { (b.waiting) } " 人等候" }
                    div { "最长 " (tick(&m.now, b.oldest_since.as_deref())) @if let Some(n) = &b.oldest { " · " (n) } }
                    div class="muted" { "时限 " (b.level_s / 60) " 分钟 · 窗口 "
                        (b.windows.iter().map(u32::to_string).collect::<Vec<_>>().join("、")) }
                }
            }
        }
        }
        section class="col" {
        @let serving = m.windows.iter().filter(|w| matches!(w.mode, WindowMode::Called | WindowMode::Serving)).count();
        @let idle = m.windows.iter().filter(|w| w.mode == WindowMode::Idle).count();
        h2 { "窗口 " span class="muted" id="window-counts" {
            "开 " (serving + idle) " · 办理 " (serving) " · 空闲 " (idle) " · 未开 " (m.windows.len() - serving - idle)
        } }
        div class="windows" {
            @for w in &m.windows {
                div class={ "window card " (w.mode.key()) } data-window=(w.window) {
                    div class="top" {
                        span class="name" { (w.window) " 号窗口" }
                        span class="mode" { (w.mode.label()) }
                    }
                    @if w.mode != WindowMode::Closed {
                        div {
                            @if let Some(n) = &w.number { b { (n) } " " }
                            "已 " (tick(&m.now, w.since.as_deref()))
                        }
                    }
                    div class="muted" { (w.serves.join("、")) }
                }
            }
        }
        }
        }
        p class="muted" {
            "告警：等候超过业务时限；某项业务超过 " (waiting_over) " 人在等；窗口空闲超过 "
            (idle_after_s) " 秒而有人在等它办理的业务；本厅终端离线或打印机缺纸。"
        }
    }
}

fn style() -> Markup {
    html! { style { (PreEscaped(STYLE)) } }
}

/// Large type on a wall screen, cards that wrap on a phone.
const STYLE: &str = "main{max-width:none}\
.head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px}\
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:8px 0}\
.figure{background:#fff;border-radius:10px;padding:10px 14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}\
.figure .k{display:block;color:#5b6570;font-size:15px}.figure .v{font-size:34px;font-weight:bold;color:#0e3f7e}.figure .u{margin-left:4px}\
body.alarm .alerts-figure{background:#fdecea}body.alarm .alerts-figure .v{color:#b71c1c}\
#alerts{list-style:none;padding:0;margin:8px 0}#alerts li{background:#b71c1c;color:#fff;font-weight:bold;border-radius:8px;padding:8px 12px;margin:6px 0}\
#alerts li[hidden]{display:none}p.ok{padding:6px 12px;border-radius:8px}\
.businesses,.windows{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px}\
.windows{grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}.window.card{padding:8px 10px}\
.halls{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}\
.halls a.card{display:flex;flex-direction:column;color:inherit;text-decoration:none;gap:2px}.halls a.card.alarm{border-left:6px solid #b71c1c}\
.card{margin:0}.business .count b{font-size:30px;color:#0e3f7e}.business.on{background:#fdecea;color:#b71c1c;border:2px solid #b71c1c}\
.window .name,.business .name{font-weight:bold;font-size:18px}.window .top{display:flex;justify-content:space-between;gap:6px;flex-wrap:wrap}.window.serving,.window.called{border-left:6px solid #1b5e20}\
.window.idle{border-left:6px solid #e0a800}.window.closed{opacity:.6}\
@media (min-width:1500px){body{font-size:22px}h1{font-size:34px;margin:4px 0}h2{font-size:28px;margin:10px 0 6px}\
.figure .k{font-size:22px}.figure .v{font-size:56px;line-height:1.1}#alerts li{font-size:28px;padding:10px 18px}\
.board{display:grid;grid-template-columns:1fr 1fr;gap:20px}.business .count b{font-size:44px}.business .name{font-size:26px}\
.businesses{grid-template-columns:repeat(3,1fr)}.windows{grid-template-columns:repeat(5,1fr)}\
.window.card{padding:4px 10px;line-height:1.3}.window .name{font-size:22px}.window .muted{font-size:15px}.muted{font-size:18px}}\
@media (max-width:700px){.figure .v{font-size:28px}.figures{grid-template-columns:repeat(2,1fr)}\
.businesses{grid-template-columns:repeat(2,1fr);gap:8px}.business.card{padding:8px 10px}.business .name{font-size:16px}\
.business .count b{font-size:24px}.windows{grid-template-columns:repeat(2,1fr)}.business .muted,.window .muted{font-size:13px}}";

/// Re-reads ages four times a second (alerts turn on as a wait crosses its limit) and fetches the
/// panel again when the hall's queue changes.
const SCRIPT: &str = "(function(){var box=document.getElementById('monitor');if(!box)return;\
var hall=box.dataset.hall,src=box.dataset.src,base=performance.now(),busy=false,again=false;\
function fmt(s){s=Math.max(0,Math.floor(s));var h=Math.floor(s/3600),m=Math.floor(s%3600/60),x=s%60;\
return h?h+'小时'+m+'分':m?m+'分'+x+'秒':x+'秒'}\
function tick(){var el=(performance.now()-base)/1000,n=0;\
box.querySelectorAll('[data-age-s]').forEach(function(e){var a=+e.dataset.ageS+el;\
if(e.classList.contains('tick'))e.textContent=fmt(a);\
if(e.dataset.limitS){var on=a>+e.dataset.limitS;e.classList.toggle('on',on);\
if(e.tagName==='LI'){e.hidden=!on;e.dataset.on=on?'1':''}}});\
box.querySelectorAll('#alerts li').forEach(function(e){if(!e.hidden)n++});\
var c=document.getElementById('alert-count');if(c)c.textContent=n;\
var ok=document.getElementById('no-alerts');if(ok)ok.hidden=n>0;\
document.body.classList.toggle('alarm',n>0)}\
function load(){if(busy){again=true;return}busy=true;\
fetch(src,{credentials:'same-origin',cache:'no-store'}).then(function(r){if(!r.ok)throw r;return r.text()})\
.then(function(t){var p=new DOMParser().parseFromString(t,'text/html').getElementById('panel');\
if(p){document.getElementById('panel').innerHTML=p.innerHTML;base=performance.now();tick()}})\
.catch(function(){}).then(function(){busy=false;if(again){again=false;load()}})}\
var es=window.monitorLive=new EventSource('/console/live?topics=queue');\
es.addEventListener('queue',function(e){try{if(JSON.parse(e.data).hall!==hall)return}catch(x){}load()});\
es.addEventListener('lagged',load);setInterval(tick,250);setInterval(load,15000);tick()})();";

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use menpai_model::ContentPack;
    use menpai_model::queue::{Priority, StaffAction};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    use crate::config::Config;
    use crate::operators::{hash_password, open_session};
    use crate::storage::{NewTicket, Role};
    use crate::{admin_router, content, queue};

    const HALL: &str = "hall-futian";
    const OTHER_HALL: &str = "hall-civic";

    fn server() -> (Arc<Server>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            monitor_waiting_over: 1,
            ..Config::default()
        };
        let server = Server::open(config).unwrap();
        // Mid-morning of today: a wait moved on by minutes never crosses midnight, whenever
        // the tests run.
        let morning = crate::clock::local_now()
            .date()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        server.clock.stop_at(morning);
        let pack: ContentPack =
            menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
        content::publish(
            server.storage.as_ref(),
            &server.content_key,
            pack.clone(),
            "t",
        )
        .unwrap();
        server.halls.replace_with(queue::Halls::from_pack(&pack));
        let hash = hash_password("a password nobody types").unwrap();
        server
            .storage
            .create_operator("viewer-a", "赵六", Role::Viewer, &hash, &[HALL.to_owned()])
            .unwrap();
        (Arc::new(server), dir)
    }

    async fn get(server: &Arc<Server>, path: &str) -> (StatusCode, String) {
        let op = server
            .storage
            .operator_by_name("viewer-a")
            .unwrap()
            .unwrap();
        let token = open_session(server, &op).unwrap();
        let req = Request::builder()
            .uri(path)
            .header("host", "localhost")
            .header("cookie", format!("menpai_session={token}"))
            .body(Body::empty())
            .unwrap();
        let res = admin_router(server.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    static TAKEN: AtomicUsize = AtomicUsize::new(0);

    fn take(server: &Server, prefix: &str, business: &str, n: usize) {
        let now = server.clock.local_now();
        let (today, at) = (day(now), crate::clock::stamp(now));
        for i in 0..n {
            server
                .storage
                .issue_ticket(&NewTicket {
                    hall: HALL,
                    day: &today,
                    prefix,
                    business,
                    priority: Priority::Normal,
                    issued_at: Some(&at),
                    device: "dev-test",
                    request_id: &format!("{prefix}-{i}-{}", TAKEN.fetch_add(1, Ordering::Relaxed)),
                    appointment_id: None,
                })
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_viewer_of_one_hall_cannot_open_another_halls_monitor_and_is_audited() {
        let (server, _dir) = server();
        for path in [
            format!("/api/v1/monitor/{OTHER_HALL}"),
            format!("/monitor/{OTHER_HALL}"),
            format!("/statistics/charts/arrivals.svg?hall={OTHER_HALL}"),
        ] {
            let (st, body) = get(&server, &path).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {body}");
            assert!(
                !body.contains("综合受理"),
                "{path} shows nothing of the hall"
            );
        }
        let refused: Vec<_> = server
            .storage
            .audit_entries(50)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "statistics.access" && e.outcome == "forbidden")
            .collect();
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(
            refused
                .iter()
                .all(|e| e.operator == "viewer-a" && e.hall == OTHER_HALL)
        );

        let (st, body) = get(&server, &format!("/api/v1/monitor/{HALL}")).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let (st, body) = get(&server, "/monitor").await;
        assert_eq!(st, StatusCode::OK);
        assert!(body.contains("/monitor/hall-futian") && !body.contains("/monitor/hall-civic"));
        let (st, body) = get(&server, "/api/v1/monitor/hall-nowhere").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    }

    #[tokio::test]
    async fn a_wait_crossing_its_service_level_on_the_servers_clock_turns_its_alert_on() {
        let (server, _dir) = server();
        take(&server, "E", "公积金", 2);
        let (st, body) = get(&server, &format!("/api/v1/monitor/{HALL}")).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let m: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(m["waiting"], 2);
        let alert = |m: &serde_json::Value, kind: &str| {
            m["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["kind"] == kind)
                .cloned()
        };
        let over = alert(&m, "over_level").expect("a pending alert for 公积金");
        assert_eq!(
            (over["on"].as_bool(), over["limit_s"].as_u64()),
            (Some(false), Some(1200))
        );
        assert!(
            alert(&m, "too_many").unwrap()["text"]
                .as_str()
                .unwrap()
                .contains("公积金：2 人在等")
        );

        server.clock.advance(chrono::Duration::minutes(21));
        let (_, body) = get(&server, &format!("/api/v1/monitor/{HALL}")).await;
        let m: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(alert(&m, "over_level").unwrap()["on"], true);
        assert!(m["longest_wait_s"].as_u64().unwrap() >= 21 * 60);
        let e = m["businesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["prefix"] == "E")
            .unwrap();
        assert_eq!(e["waiting"], 2);
        assert_eq!(e["oldest"], "E001");

        let (_, page) = get(&server, &format!("/monitor/{HALL}")).await;
        assert!(
            page.contains("data-kind=\"over_level\" data-on=\"1\""),
            "{page}"
        );
        let lines = metrics(&server);
        assert!(
            lines.contains("menpai_hall_waiting{hall=\"hall-futian\"} 2\n"),
            "{lines}"
        );
        assert!(lines.contains("menpai_hall_served_today{hall=\"hall-futian\"} 0\n"));
        assert!(lines.contains("menpai_hall_waiting{hall=\"hall-civic\"} 0\n"));
    }

    fn enroll(server: &Server, id: &str) {
        let token = format!("token-{id}");
        server
            .storage
            .create_enrollment_token(
                &token,
                &crate::storage::EnrollmentToken {
                    hall: HALL.into(),
                    position: "entrance".into(),
                    expires_at: i64::MAX / 2,
                    used: false,
                },
                "test",
            )
            .unwrap();
        let device = crate::storage::Device {
            id: id.into(),
            hall: HALL.into(),
            position: "entrance".into(),
            cert_sha256: format!("cert-{id}"),
            enrolled_at: "2026-11-29T00:00:00Z".into(),
            revoked_at: None,
            training: false,
        };
        assert!(
            server
                .storage
                .redeem_enrollment(&token, 0, &device)
                .unwrap()
        );
    }

    fn beat(
        printer: menpai_model::api::DeviceState,
        detail: &str,
    ) -> menpai_model::sync::Heartbeat {
        menpai_model::sync::Heartbeat {
            agent_version: "1".into(),
            uptime_s: 1,
            content_version: None,
            outbox_depth: 0,
            last_sync: None,
            devices: [(
                "printer".to_owned(),
                menpai_model::api::DeviceHealth {
                    backend: "simulated".into(),
                    state: printer,
                    detail: detail.into(),
                    reconnects: 0,
                },
            )]
            .into(),
            cpu_temp_c: None,
            disk_free_mb: None,
            mem_available_mb: None,
            ui_alive: true,
            network: None,
        }
    }

    fn kinds_on(m: &HallMonitor) -> Vec<AlertKind> {
        m.alerts.iter().filter(|a| a.on).map(|a| a.kind).collect()
    }

    #[tokio::test]
    async fn an_idle_window_while_people_wait_and_terminals_offline_or_out_of_paper_are_alerts() {
        let (server, _dir) = server();
        let hall = server.halls.get(HALL).unwrap();
        take(&server, "E", "公积金", 1);
        let window = hall.windows_for("E")[0];
        for a in [
            StaffAction::CallNext,
            StaffAction::Finish,
            StaffAction::CallNext,
        ] {
            queue::act(&server, HALL, window, &a, "staff").unwrap();
        }
        let m = hall_now(&server, &hall).unwrap();
        let w = m.windows.iter().find(|w| w.window == window).unwrap();
        assert_eq!(w.mode, WindowMode::Idle, "nobody left to call");
        assert_eq!(m.served_today, 1);
        assert!(kinds_on(&m).is_empty(), "{:?}", m.alerts);

        // Someone waits for it; after the idle limit the window is flagged.
        take(&server, "E", "公积金", 1);
        let m = hall_now(&server, &hall).unwrap();
        let idle = m
            .alerts
            .iter()
            .find(|a| a.kind == AlertKind::IdleWindow)
            .unwrap();
        assert_eq!((idle.on, idle.limit_s), (false, Some(120)));
        server.clock.advance(chrono::Duration::seconds(121));
        let m = hall_now(&server, &hall).unwrap();
        assert_eq!(kinds_on(&m), [AlertKind::IdleWindow]);

        // One terminal silent for long, another with its printer out of paper.
        enroll(&server, "dev-silent");
        enroll(&server, "dev-paper");
        let now = server.clock.utc_now().timestamp_millis();
        server.fleet.record(
            "dev-silent",
            now - 3_600_000,
            beat(menpai_model::api::DeviceState::Ok, ""),
        );
        server.fleet.record(
            "dev-paper",
            now,
            beat(menpai_model::api::DeviceState::Down, "缺纸"),
        );
        let m = hall_now(&server, &hall).unwrap();
        let on = kinds_on(&m);
        assert!(
            on.contains(&AlertKind::TerminalOffline) && on.contains(&AlertKind::OutOfPaper),
            "{on:?}"
        );
        let texts: Vec<&str> = m.alerts.iter().map(|a| a.text.as_str()).collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("终端离线：") && t.contains("dev-silent")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("打印机缺纸：") && t.contains("dev-paper")),
            "{texts:?}"
        );
    }

    #[tokio::test]
    async fn charts_are_svg_and_unknown_ones_are_not_found() {
        let (server, _dir) = server();
        take(&server, "E", "公积金", 2);
        for chart in crate::statistics::charts::CHARTS {
            let (st, body) = get(
                &server,
                &format!("/statistics/charts/{chart}.svg?hall={HALL}"),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{chart}: {body}");
            assert!(
                body.starts_with("<svg") && body.contains("福田区政务服务中心"),
                "{chart}"
            );
        }
        let (st, _) = get(&server, "/statistics/charts/secrets.svg").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = get(
            &server,
            "/statistics/charts/arrivals.svg?from=2026-12-05&to=2026-12-01",
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(5), "5秒");
        assert_eq!(duration(125), "2分5秒");
        assert_eq!(duration(3900), "1小时5分");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
