//! Over-the-air updates (fleet care): admins upload signed RAUC bundles (`releases.rs`) and roll
//! one out in groups (`rollout.rs` has the rules); terminals learn of it, fetch the bundle with
//! ranges, install it into their other slot and report each step (`device.rs`); a group starts
//! when the one before reached the success threshold, and the rollout stops by itself when
//! failures pass the error threshold. Pause, resume and cancel; every action audited.

pub mod device;
mod pages;
pub mod releases;
pub mod rollout;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::sync::StreamEvent;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::{Role, Session};
use crate::shutdown::Shutdown;
use crate::storage::{Rollout, RolloutState};
use rollout::{Group, Next};

type S = State<Arc<Server>>;

/// How often running rollouts are looked at (a report moves its own rollout at once).
const TICK: Duration = Duration::from_secs(30);
/// How long an upload may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// The operators' routes.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/admin/releases", get(list_releases))
        .route("/api/v1/admin/rollouts", get(list_rollouts).post(create))
        .route("/api/v1/admin/rollouts/{id}", get(show))
        .route("/api/v1/admin/rollouts/{id}/{action}", post(act))
        .route("/fleet/updates", get(pages::page))
        .route("/fleet/updates/rollouts", post(pages::create))
        .route("/fleet/updates/rollouts/{id}/{action}", post(pages::change))
}

/// The upload of a bundle: its own limit (checked while it streams to disk) and time.
pub fn upload_routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/admin/releases", post(releases::upload))
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            UPLOAD_TIMEOUT,
        ))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Admins only (a training login never): refusals audited.
pub(crate) fn admin<'a>(
    server: &Server,
    s: &'a Session,
    action: &str,
) -> Result<&'a str, AppError> {
    s.require(Role::Admin)
        .map(|op| op.name.as_str())
        .inspect_err(|_| {
            let _ = server.storage.audit(&s.0.name, action, "", "forbidden");
        })
}

async fn list_releases(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    s.require(Role::Viewer)?;
    let list = server.storage.releases().map_err(AppError::internal)?;
    Ok(Json(
        json!({ "releases": list.iter().map(releases::view).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRollout {
    pub release: String,
    pub name: String,
    pub groups: Vec<Group>,
    /// A group starts when this percent of the one before succeeded.
    pub success_pct: u32,
    /// The rollout stops when more than this percent of the started groups failed.
    pub error_pct: u32,
}

async fn create(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewRollout>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    crate::web::check_json_change(&headers)?;
    let op = admin(&server, &s, "rollout.create")?.to_owned();
    let srv = server.clone();
    let id = tokio::task::spawn_blocking(move || start_rollout(&srv, &op, &req))
        .await
        .map_err(AppError::internal)??;
    Ok((StatusCode::CREATED, Json(detail(&server, &id, None)?)))
}

/// Starts a rollout of a release to the terminals that take it (their `compatible`), in
/// groups; terminals still in another active rollout are left out. Its id.
pub fn start_rollout(server: &Server, op: &str, req: &NewRollout) -> Result<String, AppError> {
    rollout::check(&req.groups, req.success_pct, req.error_pct).map_err(AppError::bad_request)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::bad_request("发布计划要有名称（最多 60 字）"));
    }
    for g in &req.groups {
        if let Some(h) = g.halls.iter().find(|h| server.halls.get(h).is_none()) {
            return Err(AppError::bad_request(format!("没有大厅 {h}")));
        }
    }
    let release = server
        .storage
        .release_by_id(&req.release)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个更新包"))?;
    let busy = server
        .storage
        .devices_in_active_rollouts()
        .map_err(AppError::internal)?;
    let compatible: std::collections::HashSet<String> = server
        .storage
        .systems()
        .map_err(AppError::internal)?
        .into_iter()
        .filter(|(_, _, _, c)| *c == release.compatible)
        .map(|(d, _, _, _)| d)
        .collect();
    let eligible: Vec<(String, String)> = server
        .storage
        .devices()
        .map_err(AppError::internal)?
        .into_iter()
        .filter(|d| d.revoked_at.is_none() && compatible.contains(&d.id) && !busy.contains(&d.id))
        .map(|d| (d.id, d.hall))
        .collect();
    let id = format!("ro-{}", &crate::web::random_token()[..12]);
    let terminals = rollout::assign(&req.groups, &eligible, &id);
    if terminals.is_empty() {
        return Err(AppError::bad_request(format!(
            "没有终端可以装这个包（{}）：分组里没有终端，或它们不是这个型号，或正在别的发布里",
            release.compatible
        )));
    }
    let now = now_ms();
    let r = Rollout {
        id: id.clone(),
        release: release.id.clone(),
        name: name.to_owned(),
        state: RolloutState::Running,
        success_pct: req.success_pct,
        error_pct: req.error_pct,
        groups: serde_json::to_string(&req.groups).expect("groups serialise"),
        open_groups: 1,
        failure_baseline: 0,
        reason: String::new(),
        created_by: op.to_owned(),
        created_ms: now,
        updated_ms: now,
    };
    server
        .storage
        .add_rollout(&r, &terminals)
        .map_err(AppError::internal)?;
    let _ = server.storage.audit(
        op,
        "rollout.create",
        &format!(
            "{id} {} {} 台终端 {} 组",
            release.version,
            terminals.len(),
            req.groups.len()
        ),
        "ok",
    );
    advance(server, &id);
    tell(server);
    Ok(id)
}

async fn list_rollouts(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    s.require(Role::Viewer)?;
    let list = server.storage.rollouts().map_err(AppError::internal)?;
    let mut out = Vec::with_capacity(list.len());
    for r in &list {
        out.push(detail(&server, &r.id, s.0.reads_halls())?);
    }
    Ok(Json(json!({ "rollouts": out })))
}

async fn show(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    s.require(Role::Viewer)?;
    Ok(Json(detail(&server, &id, s.0.reads_halls())?))
}

/// Pause, resume or cancel.
async fn act(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Value>, AppError> {
    crate::web::check_json_change(&headers)?;
    known_action(&action)?;
    let op = admin(&server, &s, &format!("rollout.{action}"))?.to_owned();
    let srv = server.clone();
    let rid = id.clone();
    tokio::task::spawn_blocking(move || change(&srv, &op, &rid, &action))
        .await
        .map_err(AppError::internal)??;
    Ok(Json(detail(&server, &id, None)?))
}

/// Only the three actions there are (an unknown one is not even audited under its name).
pub(crate) fn known_action(action: &str) -> Result<(), AppError> {
    match action {
        "pause" | "resume" | "cancel" => Ok(()),
        _ => Err(AppError::new(StatusCode::NOT_FOUND, "没有这个操作")),
    }
}

/// Pauses, resumes (also a rollout that stopped itself) or cancels rollout `id`, audited.
pub fn change(server: &Server, op: &str, id: &str, action: &str) -> Result<(), AppError> {
    let r = server
        .storage
        .rollout(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个发布计划"))?;
    let to = match (action, r.state) {
        ("pause", RolloutState::Running) => RolloutState::Paused,
        ("resume", RolloutState::Paused | RolloutState::Stopped) => RolloutState::Running,
        ("cancel", st) if st.is_active() || st == RolloutState::Stopped => RolloutState::Cancelled,
        ("pause" | "resume" | "cancel", st) => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                format!("发布计划{}，不能这样操作", st.label()),
            ));
        }
        _ => return Err(AppError::new(StatusCode::NOT_FOUND, "没有这个操作")),
    };
    let now = now_ms();
    if r.state == RolloutState::Stopped && to == RolloutState::Running {
        // Resumed after it stopped itself: the failures so far are known; new ones count.
        let groups = serde_json::from_str::<Vec<Group>>(&r.groups)
            .map(|g| g.len())
            .unwrap_or(0);
        let terminals = server
            .storage
            .rollout_terminals(id)
            .map_err(AppError::internal)?;
        let tallies = rollout::tally(groups, terminals.iter().map(|t| (t.group, t.phase)));
        server
            .storage
            .set_failure_baseline(id, rollout::failures(r.open_groups, &tallies))
            .map_err(AppError::internal)?;
    }
    let moved = server
        .storage
        .move_rollout(id, (r.state, r.open_groups), (to, r.open_groups), "", now)
        .map_err(AppError::internal)?;
    if !moved {
        let _ = server
            .storage
            .audit(op, &format!("rollout.{action}"), id, "conflict");
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "发布计划刚被改过，请刷新后再试",
        ));
    }
    if to == RolloutState::Cancelled {
        server
            .storage
            .cancel_open_terminals(id, now)
            .map_err(AppError::internal)?;
    }
    let _ = server
        .storage
        .audit(op, &format!("rollout.{action}"), id, "ok");
    if to == RolloutState::Running {
        advance(server, id);
    }
    tell(server);
    Ok(())
}

/// A rollout with its release, groups and each terminal's phase; only the terminals of
/// `halls` when given (a hall-bound operator's view).
pub fn detail(server: &Server, id: &str, halls: Option<&[String]>) -> Result<Value, AppError> {
    let r = server
        .storage
        .rollout(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个发布计划"))?;
    let release = server
        .storage
        .release_by_id(&r.release)
        .map_err(AppError::internal)?;
    let groups: Vec<Group> = serde_json::from_str(&r.groups).unwrap_or_default();
    let mut terminals = server
        .storage
        .rollout_terminals(id)
        .map_err(AppError::internal)?;
    if let Some(halls) = halls {
        terminals.retain(|t| halls.contains(&t.hall));
    }
    let tallies = rollout::tally(groups.len(), terminals.iter().map(|t| (t.group, t.phase)));
    Ok(json!({
        "id": r.id,
        "name": r.name,
        "release": release.as_ref().map(releases::view),
        "state": r.state.name(),
        "state_label": r.state.label(),
        "reason": r.reason,
        "success_pct": r.success_pct,
        "error_pct": r.error_pct,
        "open_groups": r.open_groups,
        "created_by": r.created_by,
        "created_ms": r.created_ms,
        "groups": groups.iter().zip(&tallies).enumerate().map(|(i, (g, t))| json!({
            "name": g.name,
            "halls": g.halls,
            "percent": g.percent,
            "started": i < r.open_groups,
            "size": t.size,
            "done": t.done,
            "failed": t.failed,
            "finished": t.finished,
        })).collect::<Vec<_>>(),
        "terminals": terminals.iter().map(|t| json!({
            "device": t.device,
            "hall": t.hall,
            "group": t.group,
            "phase": t.phase.name(),
            "phase_label": t.phase.label(),
            "detail": t.detail,
            "updated_ms": t.updated_ms,
        })).collect::<Vec<_>>(),
    }))
}

/// Tells every terminal's stream, here and on the other replicas, that rollouts changed.
pub fn tell(server: &Server) {
    let _ = server.stream.send(StreamEvent::Updates);
    crate::bus::tell(server, crate::bus::Signal::Updates);
}

/// Moves a running rollout on: starts the next groups when their turn came, stops it when
/// failures passed the threshold, finishes it when everyone finished. Each move audited.
pub fn advance(server: &Server, id: &str) {
    if let Err(e) = try_advance(server, id) {
        tracing::warn!(rollout = %id, error = %e, "A rollout could not be moved on.");
    }
}

fn try_advance(server: &Server, id: &str) -> crate::storage::Result<()> {
    let Some(r) = server.storage.rollout(id)? else {
        return Ok(());
    };
    if r.state != RolloutState::Running {
        return Ok(());
    }
    let groups = serde_json::from_str::<Vec<Group>>(&r.groups)
        .map(|g| g.len())
        .unwrap_or(0);
    let terminals = server.storage.rollout_terminals(id)?;
    let tallies = rollout::tally(groups, terminals.iter().map(|t| (t.group, t.phase)));
    let from = (r.state, r.open_groups);
    let now = now_ms();
    match rollout::next(
        r.open_groups,
        &tallies,
        r.success_pct,
        r.error_pct,
        r.failure_baseline,
    ) {
        Next::Nothing => {}
        Next::Open(n) => {
            if server
                .storage
                .move_rollout(id, from, (RolloutState::Running, n), "", now)?
            {
                let _ = server.storage.audit(
                    "system",
                    "rollout.group_started",
                    &format!("{id} 第 {n} 组"),
                    "ok",
                );
                tell(server);
            }
        }
        Next::Stop(why) => {
            if server.storage.move_rollout(
                id,
                from,
                (RolloutState::Stopped, r.open_groups),
                &why,
                now,
            )? {
                let _ = server.storage.audit(
                    "system",
                    "rollout.stopped",
                    &format!("{id} {why}"),
                    "failed",
                );
                tell(server);
            }
        }
        Next::Finish => {
            if server.storage.move_rollout(
                id,
                from,
                (RolloutState::Finished, r.open_groups),
                "",
                now,
            )? {
                let _ = server.storage.audit("system", "rollout.finished", id, "ok");
            }
        }
    }
    Ok(())
}

/// Looks at every running rollout every half minute (a report on another replica, a lost move).
pub async fn advance_loop(server: Arc<Server>, mut stop: Shutdown) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        let s = server.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let running = s.storage.rollouts().unwrap_or_default();
            for r in running.iter().filter(|r| r.state == RolloutState::Running) {
                advance(&s, &r.id);
            }
        })
        .await;
    }
}
