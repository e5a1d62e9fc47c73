//! Menpai edge agent: owns the terminal's store and content, answers the kiosk UI on loopback.
//!
//! `main.rs` is thin: it loads the config, opens the [`Agent`] and calls [`serve`].

pub mod api;
pub use menpai_search::ask;
pub mod catalog;
pub mod config;
pub mod devices;
pub mod handwriting;
pub mod host;
pub mod local_only;
pub mod log_level;
pub mod maintenance;
pub mod markers;
pub mod queue;
pub mod read_aloud;
pub mod screenshots;
pub use menpai_search as search;
pub mod selftest;
pub mod shutdown;
pub mod store;
pub mod sync;
pub mod systemd;
pub mod ticket_rate;
pub mod training;
pub mod update;
pub mod usage;

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use anyhow::Context;
use menpai_model::ValidationError;
use menpai_model::api::AgentEvent;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::store::{Store, StoreError, VersionInfo};

/// The running agent's shared state.
#[derive(Debug)]
pub struct Agent {
    pub config: Config,
    pub store: Store,
    pub devices: devices::Devices,
    catalog: RwLock<Option<Arc<Catalog>>>,
    events: broadcast::Sender<AgentEvent>,
    started: Instant,
    /// Sync with the regional server, when enrolled.
    pub regional: std::sync::Mutex<Option<menpai_model::api::RegionalStatus>>,
    /// Kiosk UIs following the event stream (the heartbeat's "UI alive").
    pub ui_clients: std::sync::atomic::AtomicUsize,
    /// The hall's queue as the regional server last pushed it.
    pub hall_queue: std::sync::Mutex<Option<menpai_model::queue::QueueView>>,
    /// The regional server's queue, when enrolled.
    pub queue_link: std::sync::OnceLock<sync::queue::QueueLink>,
    /// Network, kiosk UI and reboot, from D-Bus.
    pub host: host::Host,
    /// Tickets handed out at most this fast.
    pub ticket_rate: ticket_rate::TicketRate,
    /// This terminal's ticket key (from enrollment), for the secret in each ticket's link.
    pub ticket_key: Option<[u8; 32]>,
    /// The background loops, and the signal that stops them (and the event streams).
    pub tasks: shutdown::Tasks,
    /// Whether the regional server put this terminal in training mode.
    pub training: training::Training,
    /// A maintenance notice an operator put on the plate.
    pub maintenance: maintenance::Maintenance,
    /// Screenshots asked of the UI, by id.
    pub screenshots: screenshots::Screenshots,
    /// Anonymous usage counts for the hall's statistics.
    pub usage: usage::Usage,
    /// Holds an update's reboot while a print runs or a citizen uses the plate.
    pub update_lock: update::lock::UpdateLock,
    /// Handwriting recognition for the kiosk's writing pad.
    pub handwriting: handwriting::Recogniser,
}

/// Why importing a pack failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the content pack is invalid ({} problem(s)); the active version is unchanged", .0.len())]
    Invalid(Vec<ValidationError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Agent {
    /// Opens the store in `config.data_dir`, seeds it when empty, and loads the active content.
    pub fn open(config: Config) -> anyhow::Result<Agent> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let db = config.data_dir.join("menpai-agent.db");
        let store = Store::open(&db).with_context(|| format!("opening store {}", db.display()))?;
        let mut agent = Agent::with_store(config, store);
        agent.devices = devices::Devices::start(&agent.config.devices, agent.events.clone())
            .context("starting the devices")?;
        if agent.store.active()?.is_none()
            && let Some(seed) = agent.config.seed_pack.clone()
        {
            match agent.import_dir(&seed) {
                Ok(v) => {
                    tracing::info!(version = %v.version, pack = %seed.display(), "Seeded the store from the seed pack.")
                }
                Err(ImportError::Invalid(errors)) => {
                    for e in &errors {
                        tracing::error!(problem = %e, "Seed pack problem.");
                    }
                    tracing::error!(pack = %seed.display(), "The seed pack is invalid; starting without content.");
                }
                Err(e) => return Err(e.into()),
            }
        }
        agent.reload()?;
        Ok(agent)
    }

    /// An agent over an already opened store, without devices (tests, benchmarks).
    pub fn with_store(config: Config, store: Store) -> Agent {
        let (events, _) = broadcast::channel(256);
        let q = &config.queue;
        let ticket_rate = ticket_rate::TicketRate::new(q.tickets_burst, q.tickets_per_minute);
        let ticket_key = q.ticket_key();
        let handwriting = handwriting::Recogniser::new(config.handwriting.clone());
        Agent {
            handwriting,
            ticket_rate,
            ticket_key,
            config,
            training: training::Training::load(&store),
            maintenance: maintenance::Maintenance::default(),
            screenshots: screenshots::Screenshots::default(),
            store,
            devices: devices::Devices::disabled(),
            catalog: RwLock::new(None),
            events,
            started: Instant::now(),
            regional: std::sync::Mutex::new(None),
            ui_clients: std::sync::atomic::AtomicUsize::new(0),
            hall_queue: std::sync::Mutex::new(None),
            queue_link: std::sync::OnceLock::new(),
            host: host::Host::default(),
            tasks: shutdown::Tasks::default(),
            usage: usage::Usage::default(),
            update_lock: update::lock::UpdateLock::default(),
        }
    }

    /// Starts the devices the config names (tests that need them).
    pub fn start_devices(&mut self) -> anyhow::Result<()> {
        self.devices = devices::Devices::start(&self.config.devices, self.events.clone())?;
        Ok(())
    }

    /// The active content, if any.
    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Rebuilds the in-memory catalog from the store's active version.
    pub fn reload(&self) -> Result<Option<VersionInfo>, StoreError> {
        let Some(version) = self.store.active()? else {
            return Ok(None);
        };
        let catalog = Arc::new(Catalog::load(version.clone(), &self.store)?);
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Some(catalog);
        Ok(Some(version))
    }

    /// Loads, validates and activates a pack directory; the UI is told.
    pub fn import_dir(&self, dir: &Path) -> Result<VersionInfo, ImportError> {
        let pack = menpai_content::load_dir(dir).map_err(ImportError::Invalid)?;
        let version = self.store.import(&pack).map_err(|e| match e {
            StoreError::Invalid(errors) => ImportError::Invalid(errors),
            other => ImportError::Store(other),
        })?;
        self.activated(&version)?;
        Ok(version)
    }

    /// Validates and activates a pack (from a sync); the UI is told.
    pub fn import_pack(
        &self,
        pack: &menpai_model::ContentPack,
        version: &str,
    ) -> Result<VersionInfo, ImportError> {
        let version = self.store.import_as(pack, version).map_err(|e| match e {
            StoreError::Invalid(errors) => ImportError::Invalid(errors),
            other => ImportError::Store(other),
        })?;
        if let Err(e) = self.activated(&version) {
            // The new version cannot be loaded: go back to the one that worked.
            tracing::error!(error = %e, "The new version does not load; rolling back.");
            self.rollback()?;
            return Err(ImportError::Store(e));
        }
        Ok(version)
    }

    /// Makes the previous version active again.
    pub fn rollback(&self) -> Result<VersionInfo, StoreError> {
        let version = self.store.rollback()?;
        self.activated(&version)?;
        Ok(version)
    }

    fn activated(&self, version: &VersionInfo) -> Result<(), StoreError> {
        self.reload()?;
        tracing::info!(version = %version.version, "Content version activated.");
        // Nobody listening is fine: the UI fetches on connect.
        let _ = self.events.send(AgentEvent::ContentChanged {
            version: version.version.clone(),
        });
        Ok(())
    }

    /// Tells every UI on the event stream.
    pub fn notify(&self, event: AgentEvent) {
        let _ = self.events.send(event);
    }

    /// A window called a ticket: the LED bar shows it, the voice says it, every UI is told.
    pub fn announce_call(&self, call: &menpai_model::queue::WindowCall) {
        self.devices
            .show_on_led(menpai_drivers::led::LedMessage::Blink(format!(
                "请{}号到{}号窗口",
                call.number, call.window
            )));
        self.devices
            .say(menpai_drivers::voice::call(&call.number, call.window));
        self.notify(AgentEvent::QueueCalled { call: call.clone() });
        self.notify(AgentEvent::QueueChanged);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<AgentEvent> {
        self.events.subscribe()
    }

    /// The host's state for health and heartbeats.
    pub fn host_status(&self) -> menpai_model::api::HostStatus {
        self.host.status(
            std::time::Duration::from_secs(self.config.host.ui_silence_s),
            self.ui_clients.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// How long the background loops get to finish after the last request was answered.
const TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Serves the local API on `listener` until `shutdown` completes, then stops cleanly: the
/// background loops and event streams are told at once, requests in flight are answered,
/// the loops are awaited, and the device threads finish what they were writing.
pub async fn serve(
    agent: Arc<Agent>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = api::router(agent.clone());
    let stopping = agent.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("Stopping: answering the requests in flight.");
        stopping.tasks.request_stop();
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await;
    agent.tasks.stop(TASKS_GRACE).await;
    let devices = agent.clone();
    let _ = tokio::task::spawn_blocking(move || devices.devices.stop()).await;
    served
}
