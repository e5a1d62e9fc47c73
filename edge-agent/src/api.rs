//! The local HTTP + WebSocket API the kiosk UI calls on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDateTime;
use menpai_model::api::{
    AgentEvent, AudienceCounts, Checklist, DeviceList, FaqList, FloorPlanView, Guide, HallInfo,
    Health, HelpRequest, Home, ItemList, OutletList, RatingRequest, RegionInfo, SearchHit,
    SearchResponse, YouAreHere,
};
use menpai_model::geo::GeoPoint;
use menpai_model::{Audience, OutletKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use menpai_model::appointment::{TokenError, token_in_scan, verify, verifying_key};
use menpai_model::queue::{
    CheckIn, CheckedIn, DeviceTicketRequest, IssuedTicket, Priority, QueueView, TakeTicket,
    WindowCall,
};

use crate::catalog::{BrowseFilter, Catalog};
use crate::queue::{self, QueueError};
use crate::search::MAX_QUERY_CHARS;
use crate::sync::queue::LinkError;
use crate::{Agent, ImportError};

type AgentState = State<Arc<Agent>>;

/// The API's routes, with the body limit of the config.
pub fn router(agent: Arc<Agent>) -> Router {
    let limit = agent.config.max_body_bytes;
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/home", get(home))
        .route("/api/v1/categories", get(categories))
        .route("/api/v1/items", get(browse))
        .route("/api/v1/items/{id}", get(guide))
        .route(
            "/api/v1/items/{id}/checklist",
            get(checklist_get).post(checklist_post),
        )
        .route("/api/v1/items/{id}/outlets", get(item_outlets))
        .route("/api/v1/outlets", get(outlets))
        .route("/api/v1/outlets/{id}", get(outlet))
        .route("/api/v1/halls/{id}/floorplan", get(floor_plan))
        .route("/api/v1/faqs", get(faqs))
        .route("/api/v1/search", get(search))
        .route("/api/v1/events", get(events))
        .route("/api/v1/ui/alive", post(ui_alive))
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/help", post(help))
        .route("/api/v1/ratings", post(rate))
        .route("/api/v1/print/checklist", post(print_checklist))
        .route("/api/v1/print/ticket", post(print_ticket))
        .route("/api/v1/queue", get(queue_view))
        .route("/api/v1/queue/tickets", post(take_ticket))
        .route("/api/v1/appointments/check-in", post(check_in))
        .route("/api/v1/sim/queue/call", post(sim_call))
        .route("/api/v1/sim/scanner", post(sim_scan))
        .route(
            "/api/v1/sim/printer",
            get(sim_printer).post(sim_printer_status),
        )
        .route("/api/v1/sim/led", get(sim_led))
        .route("/api/v1/sim/voice", get(sim_voice))
        .route("/api/v1/sim/gpio", get(sim_gpio_levels).post(sim_gpio))
        .route("/api/v1/admin/content/import", post(admin_import))
        .route("/api/v1/admin/content/rollback", post(admin_rollback))
        .route("/api/v1/admin/content/versions", get(admin_versions))
        .route("/api/v1/admin/selftest", post(admin_selftest))
        .fallback(|| async { AppError::new(StatusCode::NOT_FOUND, "没有这个接口") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(crate::local_only::guard))
        .with_state(agent)
}

/// An error fit for the kiosk to show: a status and a plain message, never internals.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    message: String,
    details: Option<Value>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            details: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "Request failed inside the agent.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "终端内部错误，请稍后再试",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        (self.status, Json(body)).into_response()
    }
}

/// Query parameters whose rejection is a 400 with the reason.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e: QueryRejection| {
                AppError::bad_request(format!("参数错误：{}", e.body_text()))
            })
    }
}

/// A JSON body whose rejection (malformed, too large, wrong type) keeps its status and reason.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|j| Body(j.0))
            .map_err(|e: JsonRejection| {
                let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "请求内容太大".to_owned()
                } else {
                    format!("请求内容有误：{}", e.body_text())
                };
                AppError::new(e.status(), message)
            })
    }
}

fn active(agent: &Agent) -> Result<Arc<Catalog>, AppError> {
    agent.catalog().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "终端还没有办事指南内容，请联系工作人员",
        )
    })
}

/// China Standard Time (no daylight saving), or the `at` parameter when a caller fixes the time.
fn local_time(at: Option<&str>) -> Result<NaiveDateTime, AppError> {
    match at {
        Some(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| {
                AppError::bad_request(format!(
                    "参数错误：at `{s}` 应为 2026-11-23T10:00 这样的时间"
                ))
            }),
        None => Ok(menpai_model::queue::china_now()),
    }
}

fn parse_audience(s: Option<&str>) -> Result<Option<Audience>, AppError> {
    s.map(|a| {
        Audience::from_label(a).ok_or_else(|| {
            AppError::bad_request(format!("参数错误：audience `{a}` 应为 个人 或 法人"))
        })
    })
    .transpose()
}

fn check_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize, AppError> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        n => Err(AppError::bad_request(format!(
            "参数错误：limit {n} 应在 1 到 {max} 之间"
        ))),
    }
}

/// The kiosk UI says it is alive (from its frame loop, so a frozen UI goes silent).
async fn ui_alive(State(agent): AgentState) -> StatusCode {
    agent.host.ui_alive();
    StatusCode::NO_CONTENT
}

async fn health(State(agent): AgentState) -> Json<Health> {
    let catalog = agent.catalog();
    Json(Health {
        status: if catalog.is_some() {
            "ok".into()
        } else {
            "no_content".into()
        },
        agent_version: env!("CARGO_PKG_VERSION").into(),
        content_version: catalog.as_ref().map(|c| c.version.version.clone()),
        region: catalog.as_ref().map(|c| c.region.name.clone()),
        items: catalog.as_ref().map_or(0, |c| c.item_count()),
        uptime_s: agent.uptime_s(),
        outbox_depth: agent.store.outbox_depth().unwrap_or_default(),
        regional: agent
            .regional
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
        host: agent.host_status(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    at: Option<String>,
}

async fn home(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
) -> Result<Json<Home>, AppError> {
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    let hall = c.outlet(&agent.config.terminal.hall).map(|o| {
        let summary = c.outlet_summary(o, o.location, now);
        HallInfo {
            id: o.id.clone(),
            name: o.name.clone(),
            address: o.address.clone(),
            phone: o.phone.clone(),
            hours_today: summary.hours_today,
            open_now: summary.open_now,
            hours_note: o.hours.note.clone(),
            business_types: o.business_types.clone(),
        }
    });
    let audiences = [Audience::Personal, Audience::Legal]
        .into_iter()
        .map(|a| AudienceCounts {
            audience: a,
            counts: c.category_counts(a),
        })
        .collect();
    let r = &c.region;
    Ok(Json(Home {
        region: RegionInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            demo: r.demo,
            notice: r.notice.clone(),
            hotline: r.hotline.clone(),
        },
        content_version: c.version.version.clone(),
        phone_base_url: agent.config.phone_base_url.trim_end_matches('/').to_owned(),
        now: now.format("%Y-%m-%dT%H:%M").to_string(),
        hall,
        audiences,
        featured: c.featured(),
        slides: c.slides.clone(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryParams {
    audience: Option<String>,
}

async fn categories(
    State(agent): AgentState,
    Params(p): Params<CategoryParams>,
) -> Result<Json<Value>, AppError> {
    let c = active(&agent)?;
    let audience = parse_audience(p.audience.as_deref())?;
    let wanted = |a: Audience| audience.is_none_or(|x| x == a);
    let topics: Vec<_> = c
        .region
        .topics
        .iter()
        .filter(|t| wanted(t.audience))
        .collect();
    let life_events: Vec<_> = c
        .region
        .life_events
        .iter()
        .filter(|t| wanted(t.audience))
        .collect();
    Ok(Json(json!({
        "topics": topics,
        "life_events": life_events,
        "target_groups": c.region.target_groups,
        "departments": c.region.departments,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BrowseParams {
    audience: Option<String>,
    topic: Option<String>,
    life_event: Option<String>,
    target_group: Option<String>,
    department: Option<String>,
    outlet: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn browse(
    State(agent): AgentState,
    Params(p): Params<BrowseParams>,
) -> Result<Json<ItemList>, AppError> {
    let c = active(&agent)?;
    let region = &c.region;
    if let Some(t) = &p.topic
        && !region.topics.iter().any(|x| &x.name == t)
    {
        return Err(AppError::bad_request(format!("参数错误：没有主题 `{t}`")));
    }
    if let Some(e) = &p.life_event
        && !region.life_events.iter().any(|x| &x.name == e)
    {
        return Err(AppError::bad_request(format!(
            "参数错误：没有人生事件 `{e}`"
        )));
    }
    if let Some(g) = &p.target_group
        && !region.target_groups.contains(g)
    {
        return Err(AppError::bad_request(format!(
            "参数错误：没有特定人群 `{g}`"
        )));
    }
    if let Some(d) = &p.department
        && !region.departments.iter().any(|x| &x.name == d)
    {
        return Err(AppError::bad_request(format!("参数错误：没有部门 `{d}`")));
    }
    if let Some(o) = &p.outlet
        && c.outlet(o).is_none()
    {
        return Err(AppError::bad_request(format!("参数错误：没有网点 `{o}`")));
    }
    let filter = BrowseFilter {
        audience: parse_audience(p.audience.as_deref())?,
        topic: p.topic,
        life_event: p.life_event,
        target_group: p.target_group,
        department: p.department,
        outlet: p.outlet,
    };
    let limit = check_limit(p.limit, 50, 500)?;
    let all = c.browse(&filter);
    let total = all.len();
    let items = all
        .into_iter()
        .skip(p.offset.unwrap_or(0))
        .take(limit)
        .collect();
    Ok(Json(ItemList { total, items }))
}

async fn guide(
    State(agent): AgentState,
    Path(id): Path<String>,
    Params(p): Params<AtParams>,
) -> Result<Json<Guide>, AppError> {
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    let item = agent
        .store
        .item(c.version.id, &id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found(format!("没有找到事项 {id}")))?;
    Ok(Json(c.guide(item, &agent.config.terminal.hall, now)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistParams {
    /// Comma-separated situation ids.
    situations: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistBody {
    situations: Vec<String>,
}

async fn checklist_get(
    State(agent): AgentState,
    Path(id): Path<String>,
    Params(p): Params<ChecklistParams>,
) -> Result<Json<Checklist>, AppError> {
    let chosen: Vec<String> = p
        .situations
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    make_checklist(&agent, &id, &chosen)
}

async fn checklist_post(
    State(agent): AgentState,
    Path(id): Path<String>,
    Body(body): Body<ChecklistBody>,
) -> Result<Json<Checklist>, AppError> {
    make_checklist(&agent, &id, &body.situations)
}

fn make_checklist(agent: &Agent, id: &str, chosen: &[String]) -> Result<Json<Checklist>, AppError> {
    if chosen.len() > 16 {
        return Err(AppError::bad_request("参数错误：最多选择 16 个情形"));
    }
    let c = active(agent)?;
    let item = agent
        .store
        .item(c.version.id, id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found(format!("没有找到事项 {id}")))?;
    Checklist::of(&item, chosen)
        .map(Json)
        .map_err(AppError::bad_request)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutletParams {
    kind: Option<String>,
    item: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    at: Option<String>,
    limit: Option<usize>,
}

/// The point distances are measured from: the caller's, else this terminal's hall.
fn origin(
    agent: &Agent,
    c: &Catalog,
    lat: Option<f64>,
    lon: Option<f64>,
) -> Result<GeoPoint, AppError> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => {
            let p = GeoPoint::new(lat, lon);
            if p.is_valid() {
                Ok(p)
            } else {
                Err(AppError::bad_request("参数错误：lat/lon 不是有效的经纬度"))
            }
        }
        (None, None) => Ok(c
            .outlet(&agent.config.terminal.hall)
            .map(|o| o.location)
            .unwrap_or(c.region.center)),
        _ => Err(AppError::bad_request("参数错误：lat 和 lon 要一起给出")),
    }
}

async fn outlets(
    State(agent): AgentState,
    Params(p): Params<OutletParams>,
) -> Result<Json<OutletList>, AppError> {
    let c = active(&agent)?;
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            OutletKind::from_label(k)
                .ok_or_else(|| AppError::bad_request(format!("参数错误：没有网点类型 `{k}`")))
        })
        .transpose()?;
    if let Some(id) = &p.item
        && c.meta(id).is_none()
    {
        return Err(AppError::bad_request(format!("参数错误：没有事项 `{id}`")));
    }
    let from = origin(&agent, &c, p.lat, p.lon)?;
    let now = local_time(p.at.as_deref())?;
    let limit = check_limit(p.limit, 50, 200)?;
    let mut outlets = c.outlets_near(from, now, kind, p.item.as_deref());
    outlets.truncate(limit);
    Ok(Json(OutletList {
        from,
        outlets,
        base_map: c.base_map.clone(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemOutletParams {
    lat: Option<f64>,
    lon: Option<f64>,
    at: Option<String>,
}

async fn item_outlets(
    State(agent): AgentState,
    Path(id): Path<String>,
    Params(p): Params<ItemOutletParams>,
) -> Result<Json<OutletList>, AppError> {
    let c = active(&agent)?;
    if c.meta(&id).is_none() {
        return Err(AppError::not_found(format!("没有找到事项 {id}")));
    }
    let from = origin(&agent, &c, p.lat, p.lon)?;
    let now = local_time(p.at.as_deref())?;
    let outlets = c.outlets_near(from, now, None, Some(&id));
    Ok(Json(OutletList {
        from,
        outlets,
        base_map: None,
    }))
}

async fn outlet(
    State(agent): AgentState,
    Path(id): Path<String>,
    Params(p): Params<AtParams>,
) -> Result<Json<Value>, AppError> {
    let c = active(&agent)?;
    let o = c
        .outlet(&id)
        .ok_or_else(|| AppError::not_found(format!("没有找到网点 {id}")))?;
    let now = local_time(p.at.as_deref())?;
    let from = origin(&agent, &c, None, None)?;
    Ok(Json(json!({
        "outlet": o,
        "summary": c.outlet_summary(o, from, now),
        "items": c.items_at(&id),
        "has_floor_plan": c.floor_plan(&id).is_some(),
    })))
}

async fn floor_plan(
    State(agent): AgentState,
    Path(id): Path<String>,
) -> Result<Json<FloorPlanView>, AppError> {
    let c = active(&agent)?;
    let plan = c
        .floor_plan(&id)
        .ok_or_else(|| AppError::not_found(format!("{id} 没有平面图")))?;
    let terminal = &agent.config.terminal;
    let you_are_here = (id == terminal.hall)
        .then(|| {
            plan.floors.iter().find_map(|f| {
                let k = f
                    .kiosk_positions
                    .iter()
                    .find(|k| k.id == terminal.position)?;
                Some(YouAreHere {
                    floor: f.level,
                    position: k.clone(),
                })
            })
        })
        .flatten();
    Ok(Json(FloorPlanView {
        plan: plan.clone(),
        you_are_here,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqParams {
    category: Option<String>,
    item: Option<String>,
    q: Option<String>,
}

async fn faqs(
    State(agent): AgentState,
    Params(p): Params<FaqParams>,
) -> Result<Json<FaqList>, AppError> {
    let c = active(&agent)?;
    if p.q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        return Err(AppError::bad_request(format!(
            "参数错误：q 最多 {MAX_QUERY_CHARS} 个字"
        )));
    }
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for f in &c.faqs {
        *categories.entry(f.category.clone()).or_default() += 1;
    }
    let faqs = c
        .faqs
        .iter()
        .filter(|f| p.category.as_ref().is_none_or(|x| &f.category == x))
        .filter(|f| p.item.as_ref().is_none_or(|x| f.items.contains(x)))
        .filter(|f| {
            p.q.as_ref()
                .is_none_or(|q| f.question.contains(q.as_str()) || f.answer.contains(q.as_str()))
        })
        .cloned()
        .collect();
    Ok(Json(FaqList { categories, faqs }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    limit: Option<usize>,
}

async fn search(
    State(agent): AgentState,
    Params(p): Params<SearchParams>,
) -> Result<Json<SearchResponse>, AppError> {
    if p.q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::bad_request(format!(
            "参数错误：q 最多 {MAX_QUERY_CHARS} 个字"
        )));
    }
    let limit = check_limit(p.limit, 10, 50)?;
    let c = active(&agent)?;
    let hits = c
        .search
        .search(&p.q, limit)
        .into_iter()
        .map(|h| SearchHit {
            item: c.meta_at(h.doc).summary.clone(),
            score: h.score,
            matched: h.matched,
        })
        .collect();
    Ok(Json(SearchResponse { query: p.q, hits }))
}

async fn events(State(agent): AgentState, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| stream_events(agent, socket))
}

/// Sends a hello, then every agent event, until the UI goes away.
async fn stream_events(agent: Arc<Agent>, socket: WebSocket) {
    use std::sync::atomic::Ordering;
    agent.ui_clients.fetch_add(1, Ordering::Relaxed);
    follow(&agent, socket).await;
    agent.ui_clients.fetch_sub(1, Ordering::Relaxed);
}

async fn follow(agent: &Arc<Agent>, mut socket: WebSocket) {
    let mut rx = agent.subscribe();
    let hello = AgentEvent::Hello {
        content_version: agent.catalog().map(|c| c.version.version.clone()),
    };
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(e) => if send(&mut socket, &e).await.is_err() { return },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "The UI fell behind the event stream.");
                }
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(socket: &mut WebSocket, event: &impl Serialize) -> Result<(), axum::Error> {
    let text = serde_json::to_string(event).expect("events serialise");
    socket.send(Message::Text(text.into())).await
}

/// Checks the technician credential and records the attempt.
fn authorize(agent: &Agent, headers: &HeaderMap, action: &str) -> Result<(), AppError> {
    let expected = agent.config.admin.token_sha256.to_ascii_lowercase();
    if expected.is_empty() {
        let _ = agent
            .store
            .audit(action, "admin routes disabled", "refused");
        return Err(AppError::new(StatusCode::FORBIDDEN, "本终端未启用管理接口"));
    }
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| hex::encode(Sha256::digest(t.trim().as_bytes())));
    let ok =
        presented.is_some_and(|p| menpai_model::secret::same(p.as_bytes(), expected.as_bytes()));
    if !ok {
        let _ = agent
            .store
            .audit(action, "bad or missing technician credential", "refused");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "需要有效的技术员凭证",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    /// A content pack directory on this terminal.
    dir: std::path::PathBuf,
}

/// The technician's hardware self-test (waits for the test scan).
async fn admin_selftest(
    State(agent): AgentState,
    headers: HeaderMap,
    Body(request): Body<menpai_model::api::SelfTestRequest>,
) -> Result<Json<menpai_model::api::SelfTestReport>, AppError> {
    authorize(&agent, &headers, "device.selftest")?;
    let report = crate::selftest::run(&agent, &request).await;
    let failed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| s.outcome == menpai_model::api::SelfTestOutcome::Fail)
        .map(|s| s.step.as_str())
        .collect();
    let outcome = if failed.is_empty() {
        "passed".to_owned()
    } else {
        format!("failed: {}", failed.join(", "))
    };
    let _ = agent.store.audit("device.selftest", "", &outcome);
    Ok(Json(report))
}

async fn admin_import(
    State(agent): AgentState,
    headers: HeaderMap,
    Body(body): Body<ImportBody>,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.import")?;
    let dir = body.dir.clone();
    let worker = agent.clone();
    let result = tokio::task::spawn_blocking(move || worker.import_dir(&dir))
        .await
        .map_err(AppError::internal)?;
    let detail = body.dir.display().to_string();
    match result {
        Ok(v) => {
            let _ = agent.store.audit(
                "content.import",
                &detail,
                &format!("activated {}", v.version),
            );
            Ok(Json(json!({ "activated": v })))
        }
        Err(ImportError::Invalid(errors)) => {
            let _ = agent.store.audit(
                "content.import",
                &detail,
                &format!("refused: {} problem(s)", errors.len()),
            );
            let mut e = AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("内容包有 {} 处错误，未启用；当前版本不变", errors.len()),
            );
            e.details = Some(json!(errors));
            Err(e)
        }
        Err(ImportError::Store(e)) => {
            let _ = agent.store.audit("content.import", &detail, "failed");
            Err(AppError::internal(e))
        }
    }
}

async fn admin_rollback(
    State(agent): AgentState,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.rollback")?;
    match agent.rollback() {
        Ok(v) => {
            let _ = agent
                .store
                .audit("content.rollback", "", &format!("activated {}", v.version));
            Ok(Json(json!({ "activated": v })))
        }
        Err(crate::store::StoreError::NoPrevious) => {
            let _ = agent
                .store
                .audit("content.rollback", "", "refused: no previous version");
            Err(AppError::new(
                StatusCode::CONFLICT,
                "没有可以回退的上一个版本",
            ))
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

async fn admin_versions(
    State(agent): AgentState,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    authorize(&agent, &headers, "content.versions")?;
    let versions = agent.store.versions().map_err(AppError::internal)?;
    let audit = agent.store.audit_entries(50).map_err(AppError::internal)?;
    Ok(Json(json!({ "versions": versions, "audit": audit })))
}

async fn devices(State(agent): AgentState) -> Json<DeviceList> {
    Json(DeviceList {
        devices: agent.devices.health(),
    })
}

/// Local time as printed on slips.
fn printed_at() -> String {
    local_time(None)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A failed print as the kiosk needs it: the reason, and the QR to offer instead.
fn print_failed(reason: String, fallback_url: String) -> AppError {
    let mut e = AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{reason}，请扫码保存到手机"),
    );
    e.details = Some(json!({ "fallback_qr": fallback_url }));
    e
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintChecklistBody {
    item: String,
    situations: Vec<String>,
}

async fn print_checklist(
    State(agent): AgentState,
    Body(body): Body<PrintChecklistBody>,
) -> Result<Json<Value>, AppError> {
    if body.situations.len() > 16 {
        return Err(AppError::bad_request("参数错误：最多选择 16 个情形"));
    }
    let c = active(&agent)?;
    let item = agent
        .store
        .item(c.version.id, &body.item)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found(format!("没有找到事项 {}", body.item)))?;
    let list = Checklist::of(&item, &body.situations).map_err(AppError::bad_request)?;
    let now = local_time(None)?;
    let guide = c.guide(item, &agent.config.terminal.hall, now);
    let url = format!(
        "{}/c/{}?s={}&h={}",
        agent.config.phone_base_url.trim_end_matches('/'),
        guide.item.id,
        body.situations.join(","),
        agent.config.terminal.hall
    );
    let slip = menpai_drivers::escpos::ChecklistSlip {
        item_name: guide.item.name.clone(),
        situations: list.situations.clone(),
        lines: list
            .materials
            .iter()
            .map(|l| menpai_drivers::escpos::ChecklistLine {
                name: l.material.name.clone(),
                form: l.material.form.label().to_owned(),
                copies: l.material.copies,
                condition: if l.material.required {
                    None
                } else {
                    l.material.condition.clone()
                },
            })
            .collect(),
        where_to_go: guide
            .halls
            .iter()
            .take(2)
            .map(|h| {
                let numbers: Vec<String> = h.windows.iter().map(|w| w.number.to_string()).collect();
                format!("{} {}号窗口", h.name, numbers.join("、"))
            })
            .collect(),
        promised: guide.promised.clone(),
        follow_url: url.clone(),
        printed_at: printed_at(),
    };
    let job = slip.job(agent.devices.columns()).into_bytes();
    match agent.devices.print(job).await {
        Ok(()) => Ok(Json(json!({ "printed": true, "qr": url }))),
        Err(e) => Err(print_failed(e.reason, url)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrintTicketBody {
    number: String,
    business: String,
    people_ahead: u32,
    estimated_wait_min: Option<u32>,
    priority: Option<String>,
    follow_url: String,
}

async fn print_ticket(
    State(agent): AgentState,
    Body(b): Body<PrintTicketBody>,
) -> Result<Json<Value>, AppError> {
    let valid_number =
        (2..=8).contains(&b.number.len()) && b.number.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid_number {
        return Err(AppError::bad_request(
            "参数错误：number 应为 A023 这样的票号",
        ));
    }
    if b.business.chars().count() > 32
        || b.priority.as_ref().is_some_and(|p| p.chars().count() > 16)
    {
        return Err(AppError::bad_request("参数错误：业务名称或优先说明太长"));
    }
    // The slip's QR code may only lead to this region's phone pages.
    let ours = format!("{}/t/", agent.config.phone_base_url.trim_end_matches('/'));
    if !b.follow_url.starts_with("https://")
        || !b.follow_url.starts_with(&ours)
        || b.follow_url.len() > 256
    {
        return Err(AppError::bad_request(format!(
            "参数错误：follow_url 应为本地区手机页的排队链接（{ours}…）"
        )));
    }
    let c = active(&agent)?;
    let hall = c
        .outlet(&agent.config.terminal.hall)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let ticket = menpai_drivers::escpos::Ticket {
        hall,
        number: b.number,
        business: b.business,
        people_ahead: b.people_ahead,
        estimated_wait_min: b.estimated_wait_min,
        priority: b.priority,
        follow_url: b.follow_url.clone(),
        issued_at: printed_at(),
    };
    let job = ticket.job(agent.devices.columns()).into_bytes();
    match agent.devices.print(job).await {
        Ok(()) => Ok(Json(json!({ "printed": true }))),
        Err(e) => Err(print_failed(e.reason, b.follow_url)),
    }
}

impl From<QueueError> for AppError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::NoSuchBusiness(_) => AppError::bad_request(e.to_string()),
            QueueError::Closed(_) | QueueError::Exhausted(_) => {
                AppError::new(StatusCode::CONFLICT, e.to_string())
            }
            QueueError::Refused(code, message) => AppError::new(
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
                message,
            ),
            QueueError::Store(e) => AppError::internal(e),
        }
    }
}

/// The hall this terminal stands in.
fn this_hall<'c>(agent: &Agent, c: &'c Catalog) -> Result<queue::Hall<'c>, AppError> {
    let outlet = c.outlet(&agent.config.terminal.hall).ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "终端所在大厅不在办事指南内容里，请联系工作人员",
        )
    })?;
    Ok(queue::Hall {
        outlet,
        plan: c.floor_plan(&outlet.id),
    })
}

/// Why tickets cannot be taken now, if they cannot.
fn closed_reason(
    agent: &Agent,
    c: &Catalog,
    hall: queue::Hall,
    now: NaiveDateTime,
) -> Option<String> {
    if agent.config.queue.allow_outside_hours {
        return None;
    }
    let s = c.outlet_summary(hall.outlet, hall.outlet.location, now);
    (!s.open_now).then(|| {
        format!(
            "现在不是办公时间（今日{}），请在办公时间内取号",
            s.hours_today
        )
    })
}

async fn queue_view(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
) -> Result<Json<QueueView>, AppError> {
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    let hall = this_hall(&agent, &c)?;
    // Enrolled: the hall's queue as the server last pushed it; else this terminal's own.
    let pushed = agent
        .hall_queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut view = match pushed {
        Some(v) => v,
        None => {
            queue::view(&agent.store, hall, now, &agent.config.queue).map_err(AppError::internal)?
        }
    };
    view.closed_reason = closed_reason(&agent, &c, hall, now);
    view.taking = view.closed_reason.is_none();
    Ok(Json(view))
}

/// Takes a ticket and prints it; a ticket that could not be printed is still valid and says why.
async fn take_ticket(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
    Body(b): Body<TakeTicket>,
) -> Result<(StatusCode, Json<IssuedTicket>), AppError> {
    if b.prefix.len() != 1 || !b.prefix.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(AppError::bad_request(
            "参数错误：prefix 应为一个大写字母，如 E",
        ));
    }
    if b.priority == Priority::Appointment {
        return Err(AppError::bad_request("预约优先号请扫预约二维码签到领取"));
    }
    paced(&agent)?;
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    let hall = this_hall(&agent, &c)?;
    if let Some(reason) = closed_reason(&agent, &c, hall, now) {
        return Err(AppError::new(StatusCode::CONFLICT, reason));
    }
    let request = queue::TicketRequest {
        prefix: &b.prefix,
        priority: b.priority,
        appointment: None,
        now,
        phone_base_url: &agent.config.phone_base_url,
        ticket_key: agent.ticket_key.as_ref(),
    };
    let mut ticket = issue_ticket(&agent, hall, &request).await?;
    agent.notify(AgentEvent::QueueChanged);
    print_issued(&agent, &hall.outlet.name, &mut ticket, None).await;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Refuses a ticket while this terminal hands them out faster than its configured rate.
fn paced(agent: &Agent) -> Result<(), AppError> {
    agent
        .ticket_rate
        .take(std::time::Instant::now())
        .map_err(|wait| {
            tracing::warn!("Tickets were asked for faster than this terminal hands them out.");
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("取号的人太多，请 {} 秒后再试", wait.as_secs().max(1)),
            )
        })
}

/// Issues a ticket: from the regional server when enrolled and it answers, else from a block
/// it leased to this terminal; from the terminal's own numbers when it stands alone.
async fn issue_ticket(
    agent: &Agent,
    hall: queue::Hall<'_>,
    r: &queue::TicketRequest<'_>,
) -> Result<IssuedTicket, QueueError> {
    let cfg = &agent.config.queue;
    let Some(link) = agent.queue_link.get() else {
        return queue::issue(&agent.store, hall, r, cfg, &queue::Numbering::Local);
    };
    let appointment_id = r.appointment.map(|a| a.id.clone());
    if let Some(id) = &appointment_id {
        // Checked in here before (perhaps offline): refuse without asking.
        if let Some(number) = queue::checked_in(&agent.store, id)? {
            return Err(QueueError::Refused(
                409,
                format!("这个预约已经签到过了，票号 {number}"),
            ));
        }
    }
    let mut replaces = None;
    if link.reachable() {
        let request = DeviceTicketRequest {
            request_id: link.request_id(),
            prefix: r.prefix.to_owned(),
            priority: r.priority,
            appointment_id: appointment_id.clone(),
        };
        match link.take(&request).await {
            Ok(mut t) => {
                t.follow_url = queue::follow_url(
                    &agent.config.phone_base_url,
                    &hall.outlet.id,
                    t.issued_at.get(..10).unwrap_or_default(),
                    &t.number,
                    r.ticket_key,
                );
                queue::record_online(&agent.store, &hall.outlet.id, &t, appointment_id.as_deref())?;
                return Ok(t);
            }
            Err(LinkError::Refused(code, message)) => {
                return Err(QueueError::Refused(code, message));
            }
            Err(e) => {
                tracing::warn!(error = %e, "The regional server gave no ticket; issuing from a leased block.");
                replaces = Some(request.request_id);
            }
        }
    }
    queue::issue(
        &agent.store,
        hall,
        r,
        cfg,
        &queue::Numbering::Leased { replaces },
    )
}

/// Prints a ticket; a failure is recorded on it in plain words.
async fn print_issued(agent: &Agent, hall: &str, ticket: &mut IssuedTicket, holder: Option<&str>) {
    let priority = ticket.priority.label().map(|l| match holder {
        Some(h) => format!("{l} {h}"),
        None => l.to_owned(),
    });
    let slip = menpai_drivers::escpos::Ticket {
        hall: hall.to_owned(),
        number: ticket.number.clone(),
        business: ticket.business.clone(),
        people_ahead: ticket.people_ahead,
        estimated_wait_min: Some(ticket.estimated_wait_min),
        priority,
        follow_url: ticket.follow_url.clone(),
        issued_at: ticket.issued_at.clone(),
    };
    match agent
        .devices
        .print(slip.job(agent.devices.columns()).into_bytes())
        .await
    {
        Ok(()) => ticket.printed = true,
        Err(e) => ticket.print_error = Some(format!("{}，请记下票号或扫码用手机查看", e.reason)),
    }
}

/// Checks in an appointment by the token its QR code carries, and issues its priority ticket.
async fn check_in(
    State(agent): AgentState,
    Params(p): Params<AtParams>,
    Body(b): Body<CheckIn>,
) -> Result<Json<CheckedIn>, AppError> {
    let token = token_in_scan(&b.token)
        .ok_or_else(|| AppError::bad_request(TokenError::NotAToken.to_string()))?;
    let key = verifying_key(&agent.config.queue.appointment_public_key).ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "本终端暂不能签到预约，请到咨询台办理",
        )
    })?;
    let claims = verify(token, &key).map_err(|e| match e {
        TokenError::BadSignature => {
            tracing::warn!("An appointment token with a bad signature was scanned.");
            AppError::new(StatusCode::FORBIDDEN, e.to_string())
        }
        _ => AppError::bad_request(e.to_string()),
    })?;
    let c = active(&agent)?;
    let now = local_time(p.at.as_deref())?;
    let hall = this_hall(&agent, &c)?;
    let other = c.outlet(&claims.hall).map(|o| o.name.as_str());
    queue::check_appointment(&claims, hall, other, now, &agent.config.queue)?;
    paced(&agent)?;
    let request = queue::TicketRequest {
        prefix: &claims.prefix,
        priority: Priority::Appointment,
        appointment: Some(&claims),
        now,
        phone_base_url: &agent.config.phone_base_url,
        ticket_key: agent.ticket_key.as_ref(),
    };
    let mut ticket = issue_ticket(&agent, hall, &request).await?;
    agent.notify(AgentEvent::QueueChanged);
    print_issued(&agent, &hall.outlet.name, &mut ticket, Some(&claims.holder)).await;
    Ok(Json(CheckedIn {
        item_name: claims.item_name.clone(),
        holder: claims.holder.clone(),
        slot: claims.slot_label(),
        ticket,
    }))
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
    let hall = this_hall(&agent, &c)?;
    let call = queue::call_next(&agent.store, hall, b.window, now)?
        .ok_or_else(|| AppError::not_found(format!("{} 号窗口没有等候的号", b.window)))?;
    agent.announce_call(&call);
    Ok(Json(call))
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
}

fn yes() -> bool {
    true
}

/// Changes the simulated printer's paper and cover.
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

/// A citizen asks for staff: queued for the regional server and told to the hall at once.
async fn help(
    State(agent): AgentState,
    Body(b): Body<HelpRequest>,
) -> Result<Json<Value>, AppError> {
    if b.context.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(AppError::bad_request("参数错误：context 最多 64 个字"));
    }
    let body = json!({ "hall": agent.config.terminal.hall, "position": agent.config.terminal.position, "context": b.context });
    agent
        .store
        .enqueue("help_request", &body)
        .map_err(AppError::internal)?;
    agent.notify(AgentEvent::HelpRequested);
    Ok(Json(json!({ "called": true })))
}

/// A rating (好差评), queued for the regional server.
async fn rate(
    State(agent): AgentState,
    Body(r): Body<RatingRequest>,
) -> Result<Json<Value>, AppError> {
    if !(1..=5).contains(&r.level) {
        return Err(AppError::bad_request("参数错误：level 应在 1 到 5 之间"));
    }
    if r.reasons.len() > 8
        || r.reasons
            .iter()
            .any(|x| x.is_empty() || x.chars().count() > 16)
    {
        return Err(AppError::bad_request(
            "参数错误：最多 8 条原因，每条 1 到 16 个字",
        ));
    }
    let c = active(&agent)?;
    if let Some(id) = &r.item
        && c.meta(id).is_none()
    {
        return Err(AppError::bad_request(format!("参数错误：没有事项 `{id}`")));
    }
    let body = json!({ "hall": agent.config.terminal.hall, "level": r.level, "reasons": r.reasons, "item": r.item });
    let key = agent
        .store
        .enqueue("rating", &body)
        .map_err(AppError::internal)?;
    Ok(Json(json!({ "recorded": key })))
}
