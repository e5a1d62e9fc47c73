//! The terminal's host over D-Bus: network connectivity from NetworkManager, restarting the
//! kiosk UI's unit through systemd when the UI stops answering, and the nightly reboot through
//! logind; the journal for a remote "collect logs". Tests point `DBUS_SYSTEM_BUS_ADDRESS` at a private bus with fake services.

pub mod journal;
pub mod network;
pub mod reboot;
pub mod units;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use menpai_model::api::{HostStatus, NetworkStatus, UiStatus};
use serde::Deserialize;

use crate::Agent;
use crate::shutdown::Shutdown;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Talk to NetworkManager, systemd and logind on the system bus.
    pub dbus: bool,
    /// How often NetworkManager is asked, in seconds.
    pub network_poll_s: u64,
    /// The kiosk UI's systemd unit.
    pub ui_unit: String,
    /// Restart `ui_unit` when the UI has not said it is alive for this long, in seconds; 0 never.
    pub ui_silence_s: u64,
    /// Reboot every day at this time (China Standard Time, `HH:MM`); empty never.
    pub reboot_at: String,
    /// Where "collect logs" reads the journal: empty the system's own; else a directory of
    /// journal files (a copied journal, tests).
    pub journal_dir: std::path::PathBuf,
}

impl HostConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.reboot_at.is_empty() && reboot::parse_hh_mm(&self.reboot_at).is_none() {
            return Err(format!(
                "host.reboot_at `{}` must be a time such as \"03:30\"",
                self.reboot_at
            ));
        }
        if self.network_poll_s == 0 {
            return Err("host.network_poll_s must be at least 1 second".into());
        }
        if self.ui_silence_s != 0 && self.ui_silence_s < 3 {
            return Err("host.ui_silence_s must be 0 (never restart) or at least 3 seconds".into());
        }
        Ok(())
    }
}

/// What the agent knows of its host.
#[derive(Debug)]
pub struct Host {
    network: Mutex<NetworkStatus>,
    /// When the kiosk UI last said it was alive.
    ui_seen: Mutex<Option<Instant>>,
    ui_restarts: AtomicU32,
    /// When the agent last restarted the UI's unit.
    ui_restarted: Mutex<Option<Instant>>,
    reboot_at: Mutex<Option<String>>,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            network: Mutex::new(NetworkStatus {
                connectivity: "unknown".into(),
                detail: "尚未查询网络状态".into(),
                ..Default::default()
            }),
            ui_seen: Mutex::new(None),
            ui_restarts: AtomicU32::new(0),
            ui_restarted: Mutex::new(None),
            reboot_at: Mutex::new(None),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Host {
    /// The kiosk UI said it is alive.
    pub fn ui_alive(&self) {
        *lock(&self.ui_seen) = Some(Instant::now());
    }

    pub fn network(&self) -> NetworkStatus {
        lock(&self.network).clone()
    }

    /// The UI answers: it said so within `silence` (when it has ever said so), and follows the
    /// event stream.
    pub fn ui_answers(&self, silence: Duration, stream_clients: usize) -> bool {
        let fresh = lock(&self.ui_seen).is_none_or(|t| silence.is_zero() || t.elapsed() < silence);
        fresh && stream_clients > 0
    }

    pub fn status(&self, silence: Duration, stream_clients: usize) -> HostStatus {
        HostStatus {
            network: self.network(),
            ui: UiStatus {
                alive: self.ui_answers(silence, stream_clients),
                last_seen_s: lock(&self.ui_seen).map(|t| t.elapsed().as_secs()),
                restarts: self.ui_restarts.load(Ordering::Relaxed),
            },
            reboot_at: lock(&self.reboot_at).clone(),
        }
    }
}

/// Connects to the system bus (or `DBUS_SYSTEM_BUS_ADDRESS`).
pub async fn system_bus() -> zbus::Result<zbus::Connection> {
    zbus::Connection::system().await
}

/// Starts the host loops when `host.dbus` is on, as the agent's tasks.
pub fn start(agent: Arc<Agent>) {
    let config = agent.config.host.clone();
    if !config.dbus {
        lock(&agent.host.network).detail = "未启用 D-Bus（host.dbus = false）".into();
        return;
    }
    if (1..90).contains(&config.ui_silence_s) {
        tracing::warn!(
            silence_s = config.ui_silence_s,
            "host.ui_silence_s is shorter than the idle UI's once-a-minute beacon: an idle UI will be restarted."
        );
    }
    let stop = agent.tasks.shutdown();
    agent.clone().tasks.spawn("host", async move {
        let mut warned = false;
        let bus = loop {
            let Some(connected) = stop.unless_stopped(system_bus()).await else {
                return;
            };
            match connected {
                Ok(bus) => break bus,
                Err(e) => {
                    lock(&agent.host.network).detail = format!("连不上系统 D-Bus：{e}");
                    if !warned {
                        tracing::warn!(error = %e, "No system D-Bus; retrying.");
                        warned = true;
                    }
                    if stop.sleep(Duration::from_secs(config.network_poll_s)).await {
                        return;
                    }
                }
            }
        };
        tracing::info!("Connected to the system D-Bus.");
        let tasks = &agent.tasks;
        tasks.spawn(
            "network",
            until_stopped(&stop, network_loop(agent.clone(), bus.clone())),
        );
        if config.ui_silence_s > 0 {
            tasks.spawn(
                "ui-watch",
                until_stopped(&stop, ui_watch(agent.clone(), bus.clone())),
            );
        }
        if let Some(at) = reboot::parse_hh_mm(&config.reboot_at) {
            let schedule = reboot::schedule_loop(agent.clone(), bus, at);
            tasks.spawn("reboot", until_stopped(&stop, schedule));
        }
    });
}

/// Runs a host loop until the agent stops; they only read D-Bus or ask it between waits.
fn until_stopped(
    stop: &Shutdown,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let stop = stop.clone();
    async move {
        stop.unless_stopped(work).await;
    }
}

async fn network_loop(agent: Arc<Agent>, bus: zbus::Connection) {
    let every = Duration::from_secs(agent.config.host.network_poll_s);
    loop {
        let now = network::read(&bus).await;
        let changed = {
            let mut current = lock(&agent.host.network);
            let changed = current.connectivity != now.connectivity;
            *current = now.clone();
            changed
        };
        if changed {
            tracing::info!(connectivity = %now.connectivity, detail = %now.detail, "Network connectivity changed.");
        }
        tokio::time::sleep(every).await;
    }
}

/// Restarts the UI's unit when the UI has been silent too long; then gives it the same time
/// to come back before trying again.
async fn ui_watch(agent: Arc<Agent>, bus: zbus::Connection) {
    let silence = Duration::from_secs(agent.config.host.ui_silence_s);
    let unit = agent.config.host.ui_unit.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let (seen, restarted) = (*lock(&agent.host.ui_seen), *lock(&agent.host.ui_restarted));
        let Some(seen) = seen.filter(|t| t.elapsed() >= silence) else {
            continue;
        };
        // A UI restarted and still silent gets another full window before the next try.
        if restarted.is_some_and(|r| r > seen && r.elapsed() < silence) {
            continue;
        }
        let silent_for = seen.elapsed();
        tracing::warn!(unit = %unit, silent_s = silent_for.as_secs(), "The kiosk UI stopped answering; restarting its unit.");
        let outcome = match units::restart(&bus, &unit).await {
            Ok(job) => {
                agent.host.ui_restarts.fetch_add(1, Ordering::Relaxed);
                format!("restarted ({job})")
            }
            Err(e) => {
                tracing::error!(unit = %unit, error = %e, "Restarting the UI unit failed.");
                format!("failed: {e}")
            }
        };
        let detail = format!("{unit}: silent {} s", silent_for.as_secs());
        let _ = agent.store.audit("host.ui_restart", &detail, &outcome);
        *lock(&agent.host.ui_restarted) = Some(Instant::now());
    }
}
