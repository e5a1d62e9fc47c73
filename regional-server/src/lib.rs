//! Menpai regional server: the region's source of truth. Terminals enroll and then speak mTLS
//! (content bundles, events, heartbeats, a live stream); operators use the admin API and the
//! fleet view over TLS.

pub mod admin;
pub mod appointments;
pub mod booking_codes;
pub mod ca;
pub mod clock;
pub mod config;
pub mod content;
pub mod devices;
pub mod error;
pub mod fleet;
pub mod html;
pub mod login;
pub mod operators;
pub mod phone;
pub mod queue;
pub mod ratelimit;
pub mod sms;
pub mod storage;
pub mod tickets;
pub mod tls;
pub mod web;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use base64::Engine;
use ed25519_dalek::SigningKey;
use menpai_model::sync::StreamEvent;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::ca::Ca;
use crate::config::Config;
use crate::fleet::Fleet;
use crate::storage::{ContentStore, Sqlite, Storage};

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub heartbeats: AtomicU64,
    pub events_new: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub blob_bytes_served: AtomicU64,
    pub enrollments: AtomicU64,
}

/// The running server's shared state.
#[derive(Debug)]
pub struct Server {
    pub config: Config,
    pub storage: Arc<dyn Storage>,
    pub ca: Ca,
    /// Signs content manifests.
    pub content_key: SigningKey,
    /// Signs appointment tokens.
    pub appointment_key: SigningKey,
    /// Seals citizens' names and phone numbers at rest.
    pub sealer: appointments::Sealer,
    pub fleet: Fleet,
    /// Halls of the published content, for the queue.
    pub halls: queue::Halls,
    /// The published content the phone pages show.
    pub phone: phone::Published,
    /// Booking requests per client address and codes texted per number.
    pub code_limits: booking_codes::CodeLimits,
    /// Failed logins per address and account, and the password-hashing pool.
    pub login_guard: login::LoginGuard,
    /// Online tickets per terminal a minute.
    pub device_tickets: ratelimit::RateLimit,
    /// Derives each terminal's ticket key: the secret a ticket's link carries is made with it.
    pub ticket_keys: tickets::TicketKeys,
    pub sms: Box<dyn sms::SmsSender>,
    /// The address phones open: `public_url`, else learnt when the listener is bound.
    pub public_url: std::sync::OnceLock<String>,
    pub stream: broadcast::Sender<StreamEvent>,
    /// Ids of terminals just revoked: their open streams end at once.
    pub revoked: broadcast::Sender<String>,
    pub counters: Counters,
    /// A hash to verify against when a login names nobody, so both take as long.
    pub dummy_hash: String,
}

/// Loads a 32-byte secret from `path` (base64), or makes a random one there (mode 0600).
pub fn secret_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if !path.exists() {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| anyhow::anyhow!("{e}"))?;
        ca::write_private(path, &format!("{}\n", b64.encode(k)))?;
    }
    let text = std::fs::read_to_string(path)?;
    b64.decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{} is not a 32-byte key", path.display()))
}

/// Loads a signing key from `path`, or makes one there (mode 0600).
fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    Ok(SigningKey::from_bytes(&secret_key(path)?))
}

impl Server {
    /// Opens (or initialises) the server's data directory.
    pub fn open(config: Config) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let storage = Arc::new(Sqlite::open(&config.data_dir.join("menpai-server.db"))?);
        let ca = Ca::load_or_create(&config.data_dir, &config.region_name)?;
        let content_key = signing_key(&config.data_dir.join("content-signing.key"))?;
        let appointment_key = signing_key(&config.data_dir.join("appointment-signing.key"))?;
        let sealer =
            appointments::Sealer::load_or_create(&config.data_dir.join("personal-data.key"))?;
        let fleet = Fleet::load(storage.as_ref())?;
        let (halls, phone) = match content::latest_pack(storage.as_ref()) {
            Ok(Some(pack)) => {
                let version = storage
                    .latest_version()?
                    .map(|v| v.version)
                    .unwrap_or_default();
                (
                    queue::Halls::from_pack(&pack),
                    phone::Published::new(version, pack),
                )
            }
            Ok(None) => (queue::Halls::default(), phone::Published::default()),
            Err(e) => anyhow::bail!("the latest published content cannot be read: {e}"),
        };
        let (stream, _) = broadcast::channel(256);
        let (revoked, _) = broadcast::channel(64);
        let ticket_keys =
            tickets::TicketKeys::new(secret_key(&config.data_dir.join("ticket-secret.key"))?);
        let sms = sms::from_config(&config.sms_backend, &config.data_dir)?;
        let public_url = std::sync::OnceLock::new();
        if !config.public_url.is_empty() {
            let _ = public_url.set(config.public_url.trim_end_matches('/').to_owned());
        }
        Ok(Server {
            code_limits: booking_codes::CodeLimits::new(&config),
            login_guard: login::LoginGuard::new(&config),
            device_tickets: ratelimit::RateLimit::new(
                config.device_tickets_per_minute,
                std::time::Duration::from_secs(60),
            ),
            ticket_keys,
            revoked,
            sms,
            public_url,
            config,
            storage,
            ca,
            content_key,
            appointment_key,
            sealer,
            fleet,
            halls,
            phone,
            stream,
            counters: Counters::default(),
            dummy_hash: operators::hash_password("not a password")?,
        })
    }
}

/// Where the listeners ended up (port 0 picks a free one).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub public: SocketAddr,
    pub devices: SocketAddr,
}

/// Binds both listeners and serves until the process ends.
pub async fn serve(server: Arc<Server>, on_bound: impl FnOnce(Bound)) -> anyhow::Result<()> {
    tls::install_provider();
    let (chain, key) = server.ca.server_cert(&server.config.hostnames)?;
    let public_tls = tls::public_config(chain.clone(), key.clone_key())?;
    let device_tls = tls::device_config(&server.ca.cert_der, chain, key)?;
    let public = TcpListener::bind(server.config.listen_public)
        .await
        .with_context(|| format!("binding {}", server.config.listen_public))?;
    let devices = TcpListener::bind(server.config.listen_devices)
        .await
        .with_context(|| format!("binding {}", server.config.listen_devices))?;
    let host = server.config.hostnames[0].clone();
    let port = public.local_addr()?.port();
    let _ = server.public_url.set(format!("https://{host}:{port}"));
    on_bound(Bound {
        public: public.local_addr()?,
        devices: devices.local_addr()?,
    });
    let flusher = tokio::spawn(fleet::flush_loop(server.clone()));
    let purger = tokio::spawn(appointments::purge_loop(server.clone()));
    let public_app = admin::router(server.clone());
    let device_app = devices::router(server.clone());
    tokio::select! {
        _ = tls::serve(public, public_tls, public_app) => {}
        _ = tls::serve(devices, device_tls, device_app) => {}
    }
    flusher.abort();
    purger.abort();
    Ok(())
}
