//! What every device thread is given: its health reporter, the event stream and the stop flag.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use menpai_drivers::serial;
use menpai_model::api::{AgentEvent, DeviceHealth, DeviceState};
use tokio::sync::broadcast;

use super::backend::Backend;
use super::backoff::Backoff;

/// First and longest wait between reconnection attempts.
const RECONNECT_BASE: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// A device up this long counts as reconnected for good: the backoff starts over.
pub(super) const STABLE_AFTER: Duration = Duration::from_secs(5);

pub(super) type HealthMap = Arc<Mutex<BTreeMap<&'static str, DeviceHealth>>>;

/// The backoff between reconnection attempts of a device.
pub(super) fn reconnect_backoff() -> Backoff {
    Backoff::new(RECONNECT_BASE, RECONNECT_MAX)
}

/// Shared by the device threads: health, events, the stop flag and the threads to join.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) health: HealthMap,
    /// Devices that have worked at least once since the agent started.
    ever_up: Arc<Mutex<BTreeSet<&'static str>>>,
    pub(super) events: broadcast::Sender<AgentEvent>,
    pub(super) stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("health", &self.health).finish()
    }
}

impl Ctx {
    pub(super) fn new(events: broadcast::Sender<AgentEvent>) -> Self {
        Ctx {
            health: HealthMap::default(),
            ever_up: Arc::default(),
            events,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Arc::default(),
        }
    }

    pub(super) fn reporter(&self, device: &'static str, backend: Backend) -> Reporter {
        Reporter {
            device,
            backend: backend.name(),
            health: self.health.clone(),
            ever_up: self.ever_up.clone(),
            events: self.events.clone(),
        }
    }

    /// Runs `run` on a named thread the manager joins when it stops.
    pub(super) fn thread(
        &self,
        name: &str,
        run: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let handle = std::thread::Builder::new().name(name.into()).spawn(run)?;
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
        Ok(())
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Asks every thread to stop and waits until each has finished what it was doing.
    pub(super) fn stop_and_join(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let threads: Vec<_> = self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for t in threads {
            let _ = t.join();
        }
    }

    /// Sleeps in short slices so a stop request is honoured quickly.
    pub(super) fn pause(&self, total: Duration) {
        let end = Instant::now() + total;
        while !self.stopping() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
        }
    }
}

/// Updates one device's health and tells the UI when it changes.
#[derive(Clone)]
pub(super) struct Reporter {
    device: &'static str,
    backend: &'static str,
    health: HealthMap,
    ever_up: Arc<Mutex<BTreeSet<&'static str>>>,
    events: broadcast::Sender<AgentEvent>,
}

impl Reporter {
    /// The device was opened: after the first time, that is a reconnection (a paper refill or
    /// a closed cover is not).
    pub(super) fn opened(&self) {
        let again = !self
            .ever_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.device);
        if again
            && let Some(h) = self
                .health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(self.device)
        {
            h.reconnects += 1;
        }
    }

    pub(super) fn set(&self, state: DeviceState, detail: impl Into<String>) {
        let detail = detail.into();
        let mut map = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(self.device).or_insert_with(|| DeviceHealth {
            backend: self.backend.into(),
            state: DeviceState::Disabled,
            detail: String::new(),
            reconnects: 0,
        });
        if entry.state == state && entry.detail == detail {
            return;
        }
        entry.state = state;
        entry.detail = detail;
        if state == DeviceState::Down {
            tracing::warn!(device = self.device, detail = %entry.detail, "Device down.");
        } else {
            tracing::info!(device = self.device, state = ?state, detail = %entry.detail, "Device state changed.");
        }
        let _ = self.events.send(AgentEvent::DeviceChanged {
            device: self.device.into(),
            health: entry.clone(),
        });
    }
}

/// The device path: configured, or found by USB id.
pub(super) fn resolve(path: &str, usb_id: &str) -> Result<String, String> {
    if !usb_id.is_empty() {
        let (vid, pid) = serial::parse_vid_pid(usb_id).map_err(|e| e.message)?;
        return serial::find_usb(vid, pid).ok_or_else(|| format!("未找到 USB 设备 {usb_id}"));
    }
    Ok(path.to_owned())
}
