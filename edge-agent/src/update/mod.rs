//! Over-the-air updates: the agent is RAUC's update client. It learns of a rollout from the
//! regional server, downloads the bundle resumably (`download.rs`), has RAUC verify and install
//! it into the other slot over D-Bus (`rauc.rs`), restarts at a quiet moment (`lock.rs`), and
//! after the boot keeps the new slot only when its health gate passes (`gate.rs`); otherwise it
//! marks the slot bad and restarts, and the bootloader returns to the old one. Each step is
//! reported, and the version the terminal ended on. What is under way is kept in the data
//! directory, so a cut link, a restart or a reboot resumes it.

pub mod download;
pub mod gate;
pub mod lock;
pub mod rauc;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use menpai_model::update::{SystemInfo, UpdateAnswer, UpdateOffer, UpdatePhase, UpdateReport};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::Agent;
use crate::devices::backoff::Backoff;
use crate::markers;
use crate::sync::client::Client;

/// How long one request to the server may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a reboot may take to happen once asked for.
const REBOOT_GRACE: Duration = Duration::from_secs(180);
/// How often an installed update looks for its quiet moment.
const QUIET_CHECK: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfig {
    /// Take updates through RAUC on the system bus.
    pub rauc: bool,
    /// Asks the server for an update at least this often, in seconds.
    pub poll_s: u64,
    /// After the server says rollouts changed, waits up to this long (random) before asking,
    /// so a hall's terminals do not all ask at once, in seconds.
    pub stream_jitter_s: u64,
    /// Restarts into a new version only after nobody used the plate for this long, in seconds.
    pub quiet_s: u64,
    /// How long the health gate waits for everything to work after the boot, in seconds.
    pub gate_timeout_s: u64,
    /// The version of a slot written at the factory (RAUC knows only what it installed).
    pub release_file: PathBuf,
}

impl UpdateConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.poll_s == 0 || self.gate_timeout_s == 0 {
            return Err("update.poll_s and update.gate_timeout_s must be at least 1".into());
        }
        Ok(())
    }
}

/// Where an update is, across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    Downloading,
    /// In the other slot; waiting for a quiet moment.
    Installed,
    /// The reboot into the new slot was asked for.
    Rebooting,
    /// The new slot failed its gate; the reboot back was asked for.
    GateFailed,
}

/// An update under way.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    offer: UpdateOffer,
    stage: Stage,
    /// The slot booted when it began.
    from_slot: String,
    #[serde(default)]
    before: gate::Snapshot,
    /// The process that asked for the reboot (`markers::instance`).
    #[serde(default)]
    instance: String,
    #[serde(default)]
    at_ms: i64,
    /// Why the gate failed.
    #[serde(default)]
    why: String,
}

fn dir(agent: &Agent) -> PathBuf {
    agent.config.data_dir.join("update")
}

fn state_path(agent: &Agent) -> PathBuf {
    dir(agent).join("state.json")
}

fn bundle_path(agent: &Agent) -> PathBuf {
    dir(agent).join("bundle.raucb")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Starts the update loop of an enrolled terminal: `kick` wakes it (the stream said rollouts
/// changed, or it opened).
pub fn start(agent: Arc<Agent>, client: Arc<Client>, kick: Arc<Notify>, max: Duration) {
    if !agent.config.update.rauc {
        return;
    }
    let stop = agent.tasks.shutdown();
    agent.clone().tasks.spawn("update", async move {
        let mut backoff = Backoff::new(Duration::from_secs(1), max);
        let mut told = Told::default();
        let poll = Duration::from_secs(agent.config.update.poll_s);
        let mut warned = false;
        loop {
            let bus = match stop.unless_stopped(crate::host::system_bus()).await {
                None => return,
                Some(Ok(bus)) => Some(bus),
                Some(Err(e)) => {
                    if !std::mem::replace(&mut warned, true) {
                        tracing::warn!(error = %e, "No system D-Bus for RAUC; updates wait.");
                    }
                    None
                }
            };
            let wait = match bus {
                None => backoff.next_delay(),
                Some(bus) => match stop
                    .unless_stopped(round(&agent, &client, &bus, &mut told))
                    .await
                {
                    None => return,
                    Some(Ok(Some(soon))) => soon,
                    Some(Ok(None)) => {
                        backoff.reset();
                        poll
                    }
                    Some(Err(e)) => {
                        // RAUC missing (a laptop, a test) is said once; other failures each time.
                        let missing = e.starts_with("RAUC did not answer");
                        if !missing || !std::mem::replace(&mut warned, true) {
                            tracing::warn!(error = %e, "The update round stopped; it will go on.");
                        }
                        backoff.next_delay()
                    }
                },
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = kick.notified() => {
                    let jitter = agent.config.update.stream_jitter_s;
                    if jitter > 0 && stop.sleep(random_wait(jitter)).await {
                        return;
                    }
                }
                () = stop.requested() => return,
            }
        }
    });
}

fn random_wait(max_s: u64) -> Duration {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap_or_default();
    Duration::from_millis(u64::from_le_bytes(b) % (max_s * 1000))
}

/// What the loop remembers between rounds: the last step reported (a wait is told once, not
/// every few seconds), and whether this boot's slot was marked good.
#[derive(Debug, Default)]
struct Told {
    last: Option<(Option<UpdatePhase>, String)>,
    marked_good: bool,
}

/// Why a report did not land.
#[derive(Debug)]
enum Sent {
    Landed,
    /// The server refused it for good (no longer in that rollout).
    Refused,
}

async fn report(
    client: &Client,
    rollout: Option<&str>,
    phase: Option<UpdatePhase>,
    detail: &str,
    system: &SystemInfo,
) -> Result<Sent, String> {
    let body = UpdateReport {
        rollout: rollout.map(str::to_owned),
        phase,
        detail: detail
            .chars()
            .take(menpai_model::update::DETAIL_MAX_CHARS)
            .collect(),
        system: system.clone(),
    };
    let r = client
        .request(
            "POST",
            "/device/v1/update",
            &[],
            serde_json::to_vec(&body).expect("reports serialise"),
            TIMEOUT,
        )
        .await
        .map_err(|e| e.to_string())?;
    match r.status {
        200 => Ok(Sent::Landed),
        400 | 403 | 404 | 409 => {
            tracing::warn!(status = r.status, error = %r.error_text(), "An update report was refused.");
            Ok(Sent::Refused)
        }
        s => Err(format!("the server answered {s} to an update report")),
    }
}

/// Reports a step of `p` (once per distinct step and words).
async fn step(
    client: &Client,
    told: &mut Told,
    p: &Pending,
    phase: UpdatePhase,
    detail: &str,
    system: &SystemInfo,
) -> Result<Sent, String> {
    let key = (Some(phase), detail.to_owned());
    if told.last.as_ref() == Some(&key) {
        return Ok(Sent::Landed);
    }
    tracing::info!(phase = phase.name(), detail, rollout = %p.offer.rollout, "Update step.");
    let sent = report(client, Some(&p.offer.rollout), Some(phase), detail, system).await?;
    told.last = Some(key);
    Ok(sent)
}

fn save(agent: &Agent, p: &Pending) -> Result<(), String> {
    std::fs::create_dir_all(dir(agent)).map_err(|e| e.to_string())?;
    markers::save(&state_path(agent), p).map_err(|e| format!("保存更新状态失败：{e}"))
}

fn clear(agent: &Agent) {
    let _ = std::fs::remove_file(state_path(agent));
    let _ = std::fs::remove_file(bundle_path(agent));
}

fn factory_version(agent: &Agent) -> String {
    std::fs::read_to_string(&agent.config.update.release_file)
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.trim().chars().take(64).collect())
        })
        .unwrap_or_else(|| "出厂版本".into())
}

/// One round: finish what a reboot left, then take up what the server offers. `Some(wait)`
/// asks for the next round sooner than the usual poll.
async fn round(
    agent: &Arc<Agent>,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
) -> Result<Option<Duration>, String> {
    let system = rauc::system(bus, &factory_version(agent))
        .await
        .map_err(|e| format!("RAUC did not answer: {e}"))?;
    let pending: Option<Pending> = markers::load(&state_path(agent));
    if let Some(p) = &pending
        && matches!(p.stage, Stage::Rebooting | Stage::GateFailed)
    {
        return after_reboot(agent, client, bus, told, p.clone(), &system).await;
    }
    // No update being checked: this boot's slot is good (GRUB counts every boot as a try, as
    // RAUC's integration does; a slot not marked good is passed over at the next boot).
    if !told.marked_good {
        rauc::mark(bus, "good", "booted").await?;
        told.marked_good = true;
    }
    report(client, None, None, "", &system).await?;
    let r = client
        .request("GET", "/device/v1/update", &[], Vec::new(), TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!("the server answered {} for the update", r.status));
    }
    let answer: UpdateAnswer =
        serde_json::from_slice(&r.body).map_err(|e| format!("the update answer: {e}"))?;
    if answer.paused {
        return Ok(None);
    }
    let Some(offer) = answer.offer else {
        if let Some(p) = pending {
            abandon(agent, bus, &p).await;
        }
        return Ok(None);
    };
    let mut p = match pending {
        Some(p) if p.offer == offer => p,
        _ => {
            clear(agent);
            Pending {
                offer,
                stage: Stage::Downloading,
                from_slot: system.slot.clone(),
                before: gate::Snapshot::default(),
                instance: String::new(),
                at_ms: 0,
                why: String::new(),
            }
        }
    };
    if p.offer.version == system.version {
        step(
            client,
            told,
            &p,
            UpdatePhase::Done,
            "已经是这个版本",
            &system,
        )
        .await?;
        clear(agent);
        return Ok(None);
    }
    if !system.compatible.is_empty() && p.offer.compatible != system.compatible {
        let why = format!(
            "更新包是给 {} 的，本机是 {}",
            p.offer.compatible, system.compatible
        );
        step(client, told, &p, UpdatePhase::Failed, &why, &system).await?;
        clear(agent);
        return Ok(None);
    }
    if p.stage == Stage::Downloading {
        match fetch_and_install(agent, client, bus, told, &mut p, &system).await? {
            true => {}
            false => return Ok(None),
        }
    }
    // Installed: restart at a quiet moment.
    if let Some(why) = agent
        .update_lock
        .held(agent, Duration::from_secs(agent.config.update.quiet_s))
    {
        let detail = format!("等待空闲：{why}");
        step(client, told, &p, UpdatePhase::Installed, &detail, &system).await?;
        return Ok(Some(QUIET_CHECK));
    }
    p.before = gate::snapshot(agent);
    p.stage = Stage::Rebooting;
    p.instance = markers::instance().to_owned();
    p.at_ms = now_ms();
    save(agent, &p)?;
    step(
        client,
        told,
        &p,
        UpdatePhase::Rebooting,
        "重启进入新系统",
        &system,
    )
    .await?;
    tracing::warn!(version = %p.offer.version, "Rebooting into the updated slot.");
    crate::host::reboot::now(bus)
        .await
        .map_err(|e| format!("logind refused the reboot: {e}"))?;
    Ok(Some(Duration::from_secs(10)))
}

/// Downloads, checks and installs; false when the update ended here (reported).
async fn fetch_and_install(
    agent: &Arc<Agent>,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    p: &mut Pending,
    system: &SystemInfo,
) -> Result<bool, String> {
    save(agent, p)?;
    let part = bundle_path(agent);
    let held = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let start = if held > 0 {
        format!("从 {:.1} MB 处继续下载", held as f64 / 1e6)
    } else {
        format!("开始下载 {:.1} MB", p.offer.size as f64 / 1e6)
    };
    step(client, told, p, UpdatePhase::Downloading, &start, system).await?;
    let mut resumes = 0u32;
    let fetched = download::fetch(client, &p.offer, &part, |_| resumes += 1).await;
    match fetched {
        Ok(()) => {}
        Err(download::Failure::Link(e)) => return Err(format!("download: {e}")),
        Err(download::Failure::Gone(e)) => {
            let _ = std::fs::remove_file(&part);
            return Err(format!("download: {e}"));
        }
    }
    let sha = download::sha256_file(&part).map_err(|e| e.to_string())?;
    if sha != p.offer.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err("the downloaded bundle's SHA-256 differs; fetching it again".into());
    }
    let detail = format!("下载完成（续传 {resumes} 次），校验签名并写入备用分区");
    step(client, told, p, UpdatePhase::Installing, &detail, system).await?;
    let installed = rauc::install(bus, &part.to_string_lossy()).await;
    let _ = std::fs::remove_file(&part);
    if let Err(why) = installed {
        tracing::error!(error = %why, "RAUC refused the bundle.");
        step(client, told, p, UpdatePhase::Failed, &why, system).await?;
        clear(agent);
        return Ok(false);
    }
    p.stage = Stage::Installed;
    save(agent, p)?;
    step(
        client,
        told,
        p,
        UpdatePhase::Installed,
        "已写入备用分区",
        system,
    )
    .await?;
    Ok(true)
}

/// The server no longer offers what is under way (cancelled): drop it; an installed slot is
/// not booted (the booted slot is made the one to boot again).
async fn abandon(agent: &Agent, bus: &zbus::Connection, p: &Pending) {
    tracing::info!(rollout = %p.offer.rollout, "The update is no longer offered; dropped.");
    if p.stage == Stage::Installed
        && let Err(e) = rauc::mark(bus, "active", "booted").await
    {
        tracing::error!(error = %e, "The installed slot could not be set aside.");
        return;
    }
    clear(agent);
}

/// After the reboot (or while waiting for it): the health gate in the new slot, or the report
/// of a return to the old one.
async fn after_reboot(
    agent: &Arc<Agent>,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    mut p: Pending,
    system: &SystemInfo,
) -> Result<Option<Duration>, String> {
    if p.instance == markers::instance() {
        // This process asked for the reboot: it has not happened yet.
        if now_ms() - p.at_ms < REBOOT_GRACE.as_millis() as i64 {
            return Ok(Some(Duration::from_secs(10)));
        }
        if p.stage == Stage::Rebooting {
            let why = "已请求重启，但终端没有重启";
            let _ = rauc::mark(bus, "active", "booted").await;
            step(client, told, &p, UpdatePhase::Failed, why, system).await?;
            clear(agent);
            return Ok(None);
        }
    }
    if system.slot == p.from_slot {
        let why = match p.stage {
            Stage::GateFailed => format!("新系统健康检查未通过（{}），已回到原系统", p.why),
            _ => "新系统没能正常启动，已回到原系统".to_owned(),
        };
        tracing::warn!(%why, "Back on the old slot.");
        step(client, told, &p, UpdatePhase::RolledBack, &why, system).await?;
        clear(agent);
        // The next round marks this slot good.
        return Ok(Some(Duration::from_secs(1)));
    }
    if p.stage == Stage::GateFailed {
        // Still in the new slot after the failed gate: ask for the reboot again.
        p.instance = markers::instance().to_owned();
        p.at_ms = now_ms();
        save(agent, &p)?;
        crate::host::reboot::now(bus)
            .await
            .map_err(|e| format!("logind refused the reboot: {e}"))?;
        return Ok(Some(Duration::from_secs(10)));
    }
    // The gate: everything that worked before works again within the time allowed.
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(agent.config.update.gate_timeout_s);
    let mut reached = false;
    let problems = loop {
        if !reached {
            reached = step(
                client,
                told,
                &p,
                UpdatePhase::Checking,
                "新系统已启动，正在检查",
                system,
            )
            .await
            .is_ok();
        }
        let problems = gate::problems(agent, &p.before, reached);
        if problems.is_empty() || tokio::time::Instant::now() >= deadline {
            break problems;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if problems.is_empty() {
        rauc::mark(bus, "good", "booted").await?;
        told.marked_good = true;
        tracing::info!(version = %system.version, "The updated slot passed its health gate; marked good.");
        step(
            client,
            told,
            &p,
            UpdatePhase::Done,
            "健康检查通过，新系统已确认",
            system,
        )
        .await?;
        clear(agent);
        return Ok(None);
    }
    p.why = problems.join("；");
    tracing::error!(problems = %p.why, "The updated slot failed its health gate; going back.");
    p.stage = Stage::GateFailed;
    p.instance = markers::instance().to_owned();
    p.at_ms = now_ms();
    save(agent, &p)?;
    let why = format!("健康检查未通过：{}；回到原系统", p.why);
    let _ = step(client, told, &p, UpdatePhase::Failed, &why, system).await;
    rauc::mark(bus, "bad", "booted").await?;
    crate::host::reboot::now(bus)
        .await
        .map_err(|e| format!("logind refused the reboot: {e}"))?;
    Ok(Some(Duration::from_secs(10)))
}
