//! Fleet health: the latest heartbeat of every terminal (kept in memory, saved every few
//! seconds), each terminal's status, the fleet view and `/metrics`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use menpai_model::api::DeviceState;
use menpai_model::sync::Heartbeat;
use serde::Serialize;

use crate::Server;
use crate::html::{CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console_page, html};
use crate::operators::hall_name;
use crate::storage::{Operator, Storage, StorageError};

#[derive(Debug, Default)]
pub struct Fleet {
    beats: Mutex<HashMap<String, (i64, Heartbeat)>>,
    dirty: Mutex<HashSet<String>>,
    /// The latest published version, cached for heartbeats.
    latest: Mutex<Option<Option<String>>>,
    /// When the heartbeats other replicas saved were last read (region on several replicas).
    refreshed: Mutex<Option<std::time::Instant>>,
}

/// Other replicas' heartbeats are read again at most this often for a view.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// Online, stale (late) or offline (gone), by the age of the last heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    Stale,
    Offline,
    /// Enrolled, never heard from.
    Never,
    Revoked,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Online => "在线",
            Status::Stale => "延迟",
            Status::Offline => "离线",
            Status::Never => "未上线",
            Status::Revoked => "已吊销",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TerminalView {
    pub id: String,
    pub hall: String,
    pub position: String,
    /// Where it stands, by the published floor plan (大厅入口); the position id without one.
    pub position_name: String,
    pub status: Status,
    pub last_heartbeat_age_s: Option<i64>,
    pub agent_version: Option<String>,
    pub content_version: Option<String>,
    pub outbox_depth: Option<u64>,
    pub last_sync: Option<String>,
    pub faults: Vec<String>,
    /// Help calls from it that nobody answered in time and are still open.
    pub escalated_calls: usize,
    /// The system it runs (RAUC's booted slot), as it last reported.
    pub system_version: Option<String>,
    pub slot: Option<String>,
    /// Its newest rollout's phase (`menpai_model::update::UpdatePhase` name) and rollout id.
    pub update_phase: Option<String>,
    pub update_rollout: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HallView {
    pub hall: String,
    /// The hall's Chinese name (福田区政务服务中心); the id when the content has none.
    pub name: String,
    pub terminals: Vec<TerminalView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetView {
    pub latest_version: Option<String>,
    pub counts: BTreeMap<String, usize>,
    pub halls: Vec<HallView>,
}

/// What is wrong with a terminal, in words for ops.
pub fn faults(b: &Heartbeat) -> Vec<String> {
    let mut out = Vec::new();
    for (name, h) in &b.devices {
        match h.state {
            DeviceState::Down => out.push(format!("{name} 故障：{}", h.detail)),
            DeviceState::Degraded => out.push(format!("{name}：{}", h.detail)),
            _ => {}
        }
    }
    if !b.ui_alive {
        out.push("界面程序无响应".into());
    }
    match b.network.as_deref() {
        Some("none") => out.push("网络：没有网络".into()),
        Some("portal") => out.push("网络：需要网页认证".into()),
        Some("limited") => out.push("网络：受限，连不上外网".into()),
        _ => {}
    }
    if b.outbox_depth > 1000 {
        out.push(format!("待上传事件 {} 条", b.outbox_depth));
    }
    if let Some(t) = b.cpu_temp_c
        && t > 80.0
    {
        out.push(format!("CPU 温度 {t:.0}℃"));
    }
    if let Some(d) = b.disk_free_mb
        && d < 500
    {
        out.push(format!("磁盘仅剩 {d} MB"));
    }
    out
}

impl Fleet {
    pub fn load(storage: &dyn Storage) -> Result<Fleet, StorageError> {
        let fleet = Fleet::default();
        let mut beats = fleet.beats.lock().unwrap_or_else(|e| e.into_inner());
        for (id, at, body) in storage.heartbeats()? {
            if let Ok(b) = serde_json::from_str(&body) {
                beats.insert(id, (at, b));
            }
        }
        drop(beats);
        Ok(fleet)
    }

    pub fn record(&self, device: &str, at_ms: i64, beat: Heartbeat) {
        self.beats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(device.to_owned(), (at_ms, beat));
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(device.to_owned());
    }

    pub fn latest_version(&self, storage: &dyn Storage) -> Option<String> {
        let mut cached = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if cached.is_none() {
            *cached = Some(storage.latest_version().ok().flatten().map(|v| v.version));
        }
        cached.clone().flatten()
    }

    /// Forgets the cached latest version (after a publish).
    pub fn published(&self, version: &str) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(Some(version.to_owned()));
    }

    /// Saves the heartbeats that changed since the last save.
    pub fn flush(&self, storage: &dyn Storage) -> Result<usize, StorageError> {
        let ids: Vec<String> = self
            .dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        let beats = self.beats.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(String, i64, String)> = ids
            .iter()
            .filter_map(|id| {
                beats.get(id).map(|(at, b)| {
                    (
                        id.clone(),
                        *at,
                        serde_json::to_string(b).unwrap_or_default(),
                    )
                })
            })
            .collect();
        drop(beats);
        // In one order on every replica: two flushes of the same terminals never deadlock.
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Err(e) = storage.save_heartbeats(&rows) {
            // Kept for the next flush.
            self.dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(ids);
            return Err(e);
        }
        Ok(rows.len())
    }

    /// Takes the heartbeats other replicas saved that are newer than this one's (terminals
    /// connected there): any replica's view shows every terminal.
    pub fn refresh(&self, storage: &dyn Storage) -> Result<(), StorageError> {
        {
            let mut at = self.refreshed.lock().unwrap_or_else(|e| e.into_inner());
            if at.is_some_and(|t| t.elapsed() < REFRESH_EVERY) {
                return Ok(());
            }
            *at = Some(std::time::Instant::now());
        }
        let saved = storage.heartbeats()?;
        let mut beats = self.beats.lock().unwrap_or_else(|e| e.into_inner());
        for (id, at, body) in saved {
            if beats.get(&id).is_some_and(|(mine, _)| *mine >= at) {
                continue;
            }
            if let Ok(b) = serde_json::from_str(&body) {
                beats.insert(id, (at, b));
            }
        }
        Ok(())
    }

    /// Every enrolled terminal by hall, with status and faults, at `now_ms`.
    pub fn view(&self, server: &Server, now_ms: i64) -> Result<FleetView, StorageError> {
        self.view_of(server, now_ms, None)
    }

    /// The terminals of `halls` (all when `None`), by hall, at `now_ms`.
    pub fn view_of(
        &self,
        server: &Server,
        now_ms: i64,
        halls: Option<&[String]>,
    ) -> Result<FleetView, StorageError> {
        if !server.config.database_url.is_empty() {
            self.refresh(server.storage.as_ref())?;
        }
        let mut devices = server.storage.devices()?;
        if let Some(halls) = halls {
            devices.retain(|d| halls.contains(&d.hall));
        }
        let places = position_names(server);
        let mut escalated: HashMap<String, usize> = HashMap::new();
        for call in server.storage.open_help_calls(halls, false, 1000)? {
            if call.stage == menpai_model::help::HelpStage::Escalated {
                *escalated.entry(call.device).or_default() += 1;
            }
        }
        let systems: HashMap<String, (String, String)> = server
            .storage
            .systems()?
            .into_iter()
            .map(|(d, version, slot, _)| (d, (version, slot)))
            .collect();
        let phases: HashMap<String, (String, menpai_model::update::UpdatePhase)> = server
            .storage
            .latest_phases()?
            .into_iter()
            .map(|(d, rollout, phase)| (d, (rollout, phase)))
            .collect();
        let beats = self.beats.lock().unwrap_or_else(|e| e.into_inner());
        let mut halls: BTreeMap<String, Vec<TerminalView>> = BTreeMap::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let c = &server.config;
        for d in devices {
            let beat = beats.get(&d.id);
            let age = beat.map(|(at, _)| (now_ms - at).max(0) / 1000);
            let status = match (d.revoked_at.is_some(), age) {
                (true, _) => Status::Revoked,
                (false, None) => Status::Never,
                (false, Some(a)) if a as u64 <= c.stale_after_s => Status::Online,
                (false, Some(a)) if a as u64 <= c.offline_after_s => Status::Stale,
                _ => Status::Offline,
            };
            *counts
                .entry(format!("{status:?}").to_lowercase())
                .or_default() += 1;
            let b = beat.map(|(_, b)| b);
            let position_name = places
                .get(&(d.hall.clone(), d.position.clone()))
                .cloned()
                .unwrap_or_else(|| d.position.clone());
            halls.entry(d.hall.clone()).or_default().push(TerminalView {
                hall: d.hall,
                position: d.position,
                position_name,
                status,
                last_heartbeat_age_s: age,
                agent_version: b.map(|b| b.agent_version.clone()),
                content_version: b.and_then(|b| b.content_version.clone()),
                outbox_depth: b.map(|b| b.outbox_depth),
                last_sync: b.and_then(|b| b.last_sync.clone()),
                faults: b.map(faults).unwrap_or_default(),
                escalated_calls: escalated.get(&d.id).copied().unwrap_or(0),
                system_version: systems.get(&d.id).map(|s| s.0.clone()),
                slot: systems.get(&d.id).map(|s| s.1.clone()),
                update_phase: phases.get(&d.id).map(|p| p.1.name().to_owned()),
                update_rollout: phases.get(&d.id).map(|p| p.0.clone()),
                id: d.id,
            });
        }
        drop(beats);
        Ok(FleetView {
            latest_version: self.latest_version(server.storage.as_ref()),
            counts,
            halls: halls
                .into_iter()
                .map(|(hall, terminals)| HallView {
                    name: hall_name(server, &hall),
                    hall,
                    terminals,
                })
                .collect(),
        })
    }
}

/// (hall, position id) → the position's name on the published floor plans.
fn position_names(server: &Server) -> HashMap<(String, String), String> {
    let Some(current) = server.phone.current() else {
        return HashMap::new();
    };
    current
        .pack
        .floor_plans
        .iter()
        .flat_map(|p| {
            p.floors.iter().flat_map(move |f| {
                f.kiosk_positions
                    .iter()
                    .map(move |k| ((p.hall.clone(), k.id.clone()), k.name.clone()))
            })
        })
        .collect()
}

/// Saves heartbeats every few seconds.
pub async fn flush_loop(server: Arc<Server>, mut stop: crate::shutdown::Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    // After the stop signal, one last flush keeps the latest heartbeats.
    while !stop.fired() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait() => {}
        }
        let s = server.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = s.fleet.flush(s.storage.as_ref()) {
                tracing::error!(error = %e, "Saving heartbeats failed.");
            }
        })
        .await;
    }
}

/// The fleet view's own look, on top of the console's.
const STYLE: &str = ".s{font-weight:bold;border-radius:12px;padding:2px 10px;color:#fff;white-space:nowrap}\
.online{background:#2e7d32}.stale{background:#b26a00}.offline{background:#c62828}\
.never{background:#5b6570}.revoked{background:#1b1f24}.fault{color:#c62828}\
.summary{display:flex;flex-wrap:wrap;gap:8px}.summary span{background:#fff;border-radius:8px;padding:4px 12px}";

/// The status counts in words, in a fixed order: 在线 3 · 离线 1.
const COUNTED: [Status; 5] = [
    Status::Online,
    Status::Stale,
    Status::Offline,
    Status::Never,
    Status::Revoked,
];

/// The fleet view for `op`: halls → terminals by their Chinese names, refreshing itself.
pub fn page(v: &FleetView, op: &Operator) -> Markup {
    let dash = |s: Option<String>| s.unwrap_or_else(|| "—".into());
    let body = html! {
        h1 { "终端运行状态" }
        p class="muted" {
            "最新内容版本 " b id="latest" { (v.latest_version.as_deref().unwrap_or("—")) }
            @if op.reads_halls().is_some() { " · 只显示你所在的大厅" }
            " · 每 5 秒刷新 · "
            a id="updates-link" href="/fleet/updates" { "系统更新" }
        }
        p class="summary" {
            @for st in COUNTED {
                @let key = format!("{st:?}").to_lowercase();
                @if let Some(n) = v.counts.get(&key) {
                    span id={ "count-" (key) } { (st.label()) " " (n) }
                }
            }
        }
        @if v.halls.is_empty() {
            p { "还没有登记的终端。" }
        }
        @for hall in &v.halls {
            h2 class="hall" data-hall=(hall.hall) { (hall.name) }
            table {
                thead { tr {
                    th { "终端" } th { "位置" } th { "状态" } th { "上次心跳" }
                    th { "内容版本" } th { "程序版本" } th { "系统版本（分区）" } th { "更新" }
                    th { "待上传" } th { "故障" }
                } }
                tbody {
                    @for t in &hall.terminals {
                        @let status = format!("{:?}", t.status).to_lowercase();
                        tr class={ "terminal" @if t.escalated_calls > 0 { " escalated" } } data-id=(t.id) data-status=(status) {
                            td class="id muted" { a href={ "/fleet/terminals/" (menpai_model::percent_encode(&t.id)) } { (t.id) } }
                            td class="place" { (hall.name) " · " (t.position_name) }
                            td { span class={ "s " (status) } { (t.status.label()) } }
                            td data-label="上次心跳" { (dash(t.last_heartbeat_age_s.map(|a| format!("{a} 秒前")))) }
                            td data-label="内容版本" { (t.content_version.as_deref().unwrap_or("—")) }
                            td data-label="程序版本" { (t.agent_version.as_deref().unwrap_or("—")) }
                            td class="system" data-label="系统版本（分区）" {
                                (t.system_version.as_deref().unwrap_or("—"))
                                @if let Some(slot) = t.slot.as_deref().filter(|s| !s.is_empty()) { "（" (slot) "）" }
                            }
                            td class="update" data-label="更新" data-phase=[t.update_phase.as_deref()] {
                                (t.update_phase.as_deref().and_then(menpai_model::update::UpdatePhase::of).map(|p| p.label()).unwrap_or("—"))
                            }
                            td data-label="待上传" { (dash(t.outbox_depth.map(|d| d.to_string()))) }
                            td class="fault" {
                                @if t.escalated_calls > 0 {
                                    b class="help-escalated" { "呼叫工作人员无人应答（" (t.escalated_calls) "）" }
                                    @if !t.faults.is_empty() { "；" }
                                }
                                (t.faults.join("；"))
                            }
                        }
                    }
                }
            }
        }
    };
    let page = Page::new("终端运行状态 · 门牌", CONSOLE_STYLE).head(html! {
        meta http-equiv="refresh" content="5";
        style { (PreEscaped(STYLE)) }
    });
    console_page(op, Section::Fleet, page, body)
}

/// Prometheus text exposition.
pub fn metrics(server: &Server, v: &FleetView) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let c = &server.counters;
    let mut m = String::new();
    m.push_str("# HELP menpai_terminals Terminals by status.\n# TYPE menpai_terminals gauge\n");
    for s in ["online", "stale", "offline", "never", "revoked"] {
        m.push_str(&format!(
            "menpai_terminals{{status=\"{s}\"}} {}\n",
            v.counts.get(s).copied().unwrap_or(0)
        ));
    }
    m.push_str("# HELP menpai_terminal_up 1 online, 0.5 stale, 0 otherwise.\n# TYPE menpai_terminal_up gauge\n");
    m.push_str("# HELP menpai_terminal_outbox_depth Events waiting on a terminal.\n# TYPE menpai_terminal_outbox_depth gauge\n");
    m.push_str("# HELP menpai_terminal_faults Faults a terminal reports.\n# TYPE menpai_terminal_faults gauge\n");
    for hall in &v.halls {
        for t in &hall.terminals {
            let labels = format!("device=\"{}\",hall=\"{}\"", t.id, t.hall);
            let up = match t.status {
                Status::Online => "1",
                Status::Stale => "0.5",
                _ => "0",
            };
            m.push_str(&format!("menpai_terminal_up{{{labels}}} {up}\n"));
            m.push_str(&format!(
                "menpai_terminal_outbox_depth{{{labels}}} {}\n",
                t.outbox_depth.unwrap_or(0)
            ));
            m.push_str(&format!(
                "menpai_terminal_faults{{{labels}}} {}\n",
                t.faults.len()
            ));
        }
    }
    for (name, help, value) in [
        (
            "menpai_heartbeats_total",
            "Heartbeats received.",
            c.heartbeats.load(Relaxed),
        ),
        (
            "menpai_events_new_total",
            "Events held for the first time.",
            c.events_new.load(Relaxed),
        ),
        (
            "menpai_events_duplicate_total",
            "Events sent again and not counted twice.",
            c.events_duplicate.load(Relaxed),
        ),
        (
            "menpai_blob_bytes_served_total",
            "Content bytes sent to terminals.",
            c.blob_bytes_served.load(Relaxed),
        ),
        (
            "menpai_enrollments_total",
            "Terminals enrolled since start.",
            c.enrollments.load(Relaxed),
        ),
    ] {
        m.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    }
    if let Some(version) = &v.latest_version {
        m.push_str(&format!(
            "# HELP menpai_content_version_info The latest published version.\n# TYPE menpai_content_version_info gauge\nmenpai_content_version_info{{version=\"{version}\"}} 1\n"
        ));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Role;

    #[test]
    fn the_fleet_page_names_places_in_chinese_and_escapes_what_terminals_report() {
        let terminal = TerminalView {
            id: "\"><script>".into(),
            hall: "<h>".into(),
            position: "entrance".into(),
            position_name: "<p>入口".into(),
            status: Status::Online,
            last_heartbeat_age_s: Some(3),
            agent_version: None,
            content_version: None,
            outbox_depth: Some(2),
            last_sync: None,
            faults: vec!["<b>x".into(), "y".into()],
            escalated_calls: 0,
            system_version: Some("<2026.12.1>".into()),
            slot: Some("B".into()),
            update_phase: Some("rolled_back".into()),
            update_rollout: Some("ro-1".into()),
        };
        let v = FleetView {
            latest_version: Some("<v>".into()),
            counts: BTreeMap::from([("online".to_owned(), 3), ("offline".to_owned(), 1)]),
            halls: vec![HallView {
                hall: "<h>".into(),
                name: "<福田>".into(),
                terminals: vec![terminal],
            }],
        };
        let op = Operator {
            id: 1,
            name: "<op>".into(),
            role: Role::Viewer,
            password_hash: String::new(),
            halls: Vec::new(),
            disabled: false,
            display_name: "<op>".into(),
            must_change_password: false,
            training: false,
        };
        let page = page(&v, &op).into_string();
        for raw in ["<script>", "<op>", "<v>", "<h>", "<b>x", "<福田>", "<2026"] {
            assert!(!page.contains(raw), "{raw} went out unescaped: {page}");
        }
        assert!(page.contains(
            "<tr class=\"terminal\" data-id=\"&quot;&gt;&lt;script&gt;\" data-status=\"online\">\
             <td class=\"id muted\"><a href=\"/fleet/terminals/%22%3E%3Cscript%3E\">&quot;&gt;&lt;script&gt;</a></td><td class=\"place\">&lt;福田&gt; · &lt;p&gt;入口</td>\
             <td><span class=\"s online\">在线</span></td>\
             <td data-label=\"上次心跳\">3 秒前</td><td data-label=\"内容版本\">—</td>\
             <td data-label=\"程序版本\">—</td>\
             <td class=\"system\" data-label=\"系统版本（分区）\">&lt;2026.12.1&gt;（B）</td>\
             <td class=\"update\" data-label=\"更新\" data-phase=\"rolled_back\">已回退</td>\
             <td data-label=\"待上传\">2</td><td class=\"fault\">&lt;b&gt;x；y</td></tr>"
        ), "{page}");
        assert!(page.contains("<span id=\"count-online\">在线 3</span>"));
        assert!(page.contains("<span id=\"count-offline\">离线 1</span>"));
    }
}
