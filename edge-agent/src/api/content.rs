//! The plate's content: home, categories, browsing, guides and checklists, outlets, floor
//! plans, FAQs and search.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use menpai_model::api::{
    AudienceCounts, Checklist, FaqList, FloorPlanView, Guide, HallInfo, Home, ItemList, OutletList,
    RegionInfo, SearchHit, SearchResponse, YouAreHere,
};
use menpai_model::geo::GeoPoint;
use menpai_model::{Audience, OutletKind};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::AppError;
use super::extract::{Body, Params};
use super::{AgentState, AtParams, active, local_time};
use crate::Agent;
use crate::catalog::{BrowseFilter, Catalog};
use crate::search::MAX_QUERY_CHARS;
use crate::usage::UsageKind;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new()
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
        slides: c.slides_at(now),
        training: agent.training.on(),
        notices: c.notices_at(&agent.config.terminal.hall, now),
        maintenance: agent.maintenance.current(),
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
    let guide = c.guide(item, &agent.config.terminal.hall, now);
    agent.usage.used(&agent, UsageKind::Guide, &id);
    Ok(Json(guide))
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
    let hits: Vec<SearchHit> = c
        .search
        .search(&p.q, limit)
        .into_iter()
        .map(|h| SearchHit {
            item: c.meta_at(h.doc).summary.clone(),
            score: h.score,
            matched: h.matched,
        })
        .collect();
    agent.usage.searched(&agent, &p.q, hits.len());
    Ok(Json(SearchResponse { query: p.q, hits }))
}
