//! Over-the-air updates: the agent is RAUC's update client. It learns of a rollout from the
//! regional server, downloads the bundle resumably (`download.rs`), has RAUC verify and install
//! it into the other slot over D-Bus (`rauc.rs`), restarts at a quiet moment (`lock.rs`), and
//! after the boot keeps the new slot only when its health gate passes (`gate.rs`); otherwise it
//! marks the slot bad and restarts, and the bootloader returns to the old one. Each step is
//! reported, and the version the terminal ended on. What is under way is kept in the data
//! directory, so a cut link, a restart or a reboot resumes it.

mod after_boot;
pub mod download;
pub mod gate;
pub mod lock;
mod pending;
pub mod rauc;
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use menpai_model::update::{SystemInfo, UpdateOffer, UpdatePhase};
use serde::Deserialize;
use tokio::sync::Notify;

use crate::Agent;
use crate::devices::backoff::Backoff;
use crate::sync::client::Client;
use pending::{Pending, Stage};
use report::{Sent, Told};

/// How often an installed update looks for its quiet moment.
const QUIET_CHECK: Duration = Duration::from_secs(2);
/// How often a waiting update asks the server whether it still stands (paused, cancelled).
const STILL_OFFERED: Duration = Duration::from_secs(60);

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
    /// Restarts into a new version only when no print runs and the kiosk has not reported a
    /// citizen using the plate for this long, in seconds.
    pub quiet_s: u64,
    /// How long the health gate waits for everything to work after the boot, in seconds.
    pub gate_timeout_s: u64,
    /// How long the gate waits for a regional server that is away (no route, no answer)
    /// before it counts that against the new version, in seconds.
    pub server_wait_s: u64,
    /// The largest bundle taken, in bytes.
    pub max_bundle_bytes: u64,
    /// The version of a slot written at the factory (RAUC knows only what it installed).
    pub release_file: PathBuf,
    /// Where this boot's id is read (a reboot changes it; an agent restart does not).
    pub boot_id_file: PathBuf,
}

impl UpdateConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.poll_s == 0 || self.gate_timeout_s == 0 {
            return Err("update.poll_s and update.gate_timeout_s must be at least 1".into());
        }
        Ok(())
    }
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

/// What became of an offer still under way when asked again.
enum Standing {
    Offered,
    Paused,
    /// Cancelled, finished, or another one now.
    Gone,
}

async fn standing(client: &Client, p: &Pending) -> Result<Standing, String> {
    let answer = report::offer(client).await?;
    Ok(match answer.offer {
        Some(o) if o == p.offer => Standing::Offered,
        _ if answer.paused => Standing::Paused,
        _ => Standing::Gone,
    })
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
    let mut pending = pending::load(agent);
    if let Some(p) = &mut pending {
        // Booted into the new slot without the reboot this agent asked for (a power cut, the
        // nightly reboot, a RAUC that activates what it installs): the gate decides all the same.
        if matches!(p.stage, Stage::Downloading | Stage::Installed)
            && system.slot != p.from_slot
            && !p.from_slot.is_empty()
        {
            p.stage = Stage::Rebooting;
        }
        if matches!(
            p.stage,
            Stage::Rebooting | Stage::GateFailed | Stage::Committed
        ) {
            return after_boot::resume(agent, client, bus, told, p.clone(), &system).await;
        }
    }
    // No update being checked: this boot's slot is good (GRUB counts every boot as a try, as
    // RAUC's integration does; a slot not marked good is passed over at the next boot).
    if !told.marked_good {
        rauc::mark(bus, "good", "booted").await?;
        told.marked_good = true;
    }
    report::system(client, told, &system).await?;
    let answer = report::offer(client).await?;
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
            pending::clear(agent);
            Pending::new(offer, &system.slot)
        }
    };
    if let Some(why) = refusal(agent, &p.offer, &system) {
        let phase = if p.offer.version == system.version {
            UpdatePhase::Done
        } else {
            UpdatePhase::Failed
        };
        report::step(client, told, &p, phase, &why, &system).await?;
        pending::clear(agent);
        return Ok(None);
    }
    if p.stage == Stage::Downloading
        && !fetch_and_install(agent, client, bus, told, &mut p, &system).await?
    {
        return Ok(None);
    }
    reboot_when_quiet(agent, client, bus, told, p, &system).await
}

/// Why this terminal does not take `offer` (or has it already).
fn refusal(agent: &Agent, offer: &UpdateOffer, system: &SystemInfo) -> Option<String> {
    if offer.version == system.version {
        return Some("已经是这个版本".into());
    }
    if !system.compatible.is_empty() && offer.compatible != system.compatible {
        return Some(format!(
            "更新包是给 {} 的，本机是 {}",
            offer.compatible, system.compatible
        ));
    }
    if !pending::is_newer(&offer.version, &system.version) {
        return Some(format!(
            "{} 比本机的 {} 旧，不降级",
            offer.version, system.version
        ));
    }
    if offer.size > agent.config.update.max_bundle_bytes {
        return Some(format!("更新包 {} MB，超过本机上限", offer.size >> 20));
    }
    None
}

/// Downloads, checks and installs; false when the update ended here (reported or dropped).
async fn fetch_and_install(
    agent: &Arc<Agent>,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    p: &mut Pending,
    system: &SystemInfo,
) -> Result<bool, String> {
    pending::save(agent, p)?;
    let part = pending::bundle_path(agent);
    let held = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let start = if held > 0 {
        format!("从 {:.1} MB 处继续下载", held as f64 / 1e6)
    } else {
        format!("开始下载 {:.1} MB", p.offer.size as f64 / 1e6)
    };
    if report::step(client, told, p, UpdatePhase::Downloading, &start, system).await?
        == Sent::Refused
    {
        abandon(agent, bus, p).await;
        return Ok(false);
    }
    let mut resumes = 0u32;
    match download::fetch(client, &p.offer, &part, |_| resumes += 1).await {
        Ok(()) => {}
        Err(download::Failure::Link(e)) => return Err(format!("download: {e}")),
        Err(download::Failure::Gone(e)) => {
            let _ = std::fs::remove_file(&part);
            return Err(format!("download: {e}"));
        }
    }
    // Hundreds of megabytes: hashed off the runtime's threads, which serve the kiosk.
    let file = part.clone();
    let sha = tokio::task::spawn_blocking(move || download::sha256_file(&file))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if sha != p.offer.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err("the downloaded bundle's SHA-256 differs; fetching it again".into());
    }
    // Still wanted? (Paused or cancelled while it came down.)
    match standing(client, p).await? {
        Standing::Offered => {}
        Standing::Paused => return Ok(false),
        Standing::Gone => {
            abandon(agent, bus, p).await;
            return Ok(false);
        }
    }
    let detail = format!("下载完成（续传 {resumes} 次），校验签名并写入备用分区");
    report::step(client, told, p, UpdatePhase::Installing, &detail, system).await?;
    let installed = rauc::install(bus, &part.to_string_lossy()).await;
    let _ = std::fs::remove_file(&part);
    if let Err(why) = installed {
        tracing::error!(error = %why, "RAUC refused the bundle.");
        report::step(client, told, p, UpdatePhase::Failed, &why, system).await?;
        pending::clear(agent);
        return Ok(false);
    }
    p.stage = Stage::Installed;
    p.before = gate::snapshot(agent);
    pending::save(agent, p)?;
    report::step(
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

/// Waits here for a quiet moment (asking the server now and then whether the update still
/// stands), then makes the new slot the one to boot and reboots.
async fn reboot_when_quiet(
    agent: &Arc<Agent>,
    client: &Client,
    bus: &zbus::Connection,
    told: &mut Told,
    mut p: Pending,
    system: &SystemInfo,
) -> Result<Option<Duration>, String> {
    let quiet = Duration::from_secs(agent.config.update.quiet_s);
    let mut asked = tokio::time::Instant::now();
    loop {
        if asked.elapsed() >= STILL_OFFERED {
            asked = tokio::time::Instant::now();
            match standing(client, &p).await? {
                Standing::Offered => {}
                Standing::Paused => return Ok(None),
                Standing::Gone => {
                    abandon(agent, bus, &p).await;
                    return Ok(None);
                }
            }
        }
        match agent.update_lock.held(agent, quiet) {
            Some(why) => {
                let detail = format!("等待空闲：{why}");
                report::step(client, told, &p, UpdatePhase::Installed, &detail, system).await?;
                tokio::time::sleep(QUIET_CHECK).await;
            }
            None => break,
        }
    }
    if matches!(standing(client, &p).await?, Standing::Gone) {
        abandon(agent, bus, &p).await;
        return Ok(None);
    }
    p.before = gate::snapshot(agent);
    p.stage = Stage::Rebooting;
    p.boot_id = pending::boot_id(agent);
    p.at_ms = chrono::Utc::now().timestamp_millis();
    pending::save(agent, &p)?;
    // The report is best effort: the steps after the boot tell the rest.
    let _ = report::step(
        client,
        told,
        &p,
        UpdatePhase::Rebooting,
        "重启进入新系统",
        system,
    )
    .await;
    if agent.update_lock.held(agent, quiet).is_some() {
        // Someone came in the meantime: back to waiting.
        p.stage = Stage::Installed;
        pending::save(agent, &p)?;
        return Ok(Some(QUIET_CHECK));
    }
    rauc::mark(bus, "active", "other").await?;
    tracing::warn!(version = %p.offer.version, "Rebooting into the updated slot.");
    crate::host::reboot::now(bus)
        .await
        .map_err(|e| format!("logind refused the reboot: {e}"))?;
    Ok(Some(Duration::from_secs(10)))
}

/// The server no longer offers what is under way (cancelled): drop it; an installed slot is
/// not booted (the booted slot stays the one to boot).
async fn abandon(agent: &Agent, bus: &zbus::Connection, p: &Pending) {
    tracing::info!(rollout = %p.offer.rollout, "The update is no longer offered; dropped.");
    if p.stage == Stage::Installed
        && let Err(e) = rauc::mark(bus, "active", "booted").await
    {
        tracing::error!(error = %e, "The installed slot could not be set aside.");
        return;
    }
    pending::clear(agent);
}
