//! Menpai regional server: the region's source of truth. Terminals enroll and then speak mTLS
//! (content bundles, events, heartbeats, a live stream); operators use the admin API and the
//! fleet view over TLS.

pub mod accounts;
pub mod admin;
pub mod appointments;
pub mod backup;
pub mod booking_codes;
pub mod bus;
pub mod ca;
pub mod cases;
pub mod clock;
pub mod commands;
pub mod config;
pub mod content;
pub mod devices;
pub mod error;
pub mod fleet;
pub mod help;
pub mod html;
pub mod live;
pub mod login;
pub mod operators;
pub mod phone;
pub mod proxy_protocol;
pub mod queue;
pub mod ratelimit;
pub mod ready;
pub mod region_keys;
pub mod replicas;
pub mod requests;
pub mod shutdown;
pub mod sms;
pub mod statistics;
pub mod storage;
pub mod studio;
pub mod tickets;
pub mod tls;
pub mod training;
pub mod updates;
pub mod web;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use base64::Engine;
use ed25519_dalek::SigningKey;
use menpai_model::sync::StreamEvent;
use tokio::sync::broadcast;
use tower_http::timeout::TimeoutLayer;

use crate::ca::Ca;
use crate::config::Config;
use crate::error::AppError;
use crate::fleet::Fleet;
use crate::storage::{ContentStore, Database, Storage};

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
    /// This process among the region's replicas (signals it sent itself are not acted on).
    pub replica: String,
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
    /// Help calls per terminal a minute (a stuck button must not flood the hall's pages).
    pub help_calls: ratelimit::RateLimit,
    /// Update requests per terminal a minute (offers, reports, downloads).
    pub update_requests: ratelimit::RateLimit,
    /// Studio uploads per editor an hour.
    pub studio_uploads: ratelimit::RateLimit,
    /// Studio checks and saves per editor a minute (the editor's page checks as one types).
    pub studio_checks: ratelimit::RateLimit,
    /// Derives each terminal's ticket key: the secret a ticket's link carries is made with it.
    pub ticket_keys: tickets::TicketKeys,
    pub sms: Box<dyn sms::SmsSender>,
    /// The address phones open: `public_url`, else learnt when the listener is bound.
    pub public_url: std::sync::OnceLock<String>,
    pub stream: broadcast::Sender<StreamEvent>,
    /// What changed in which hall, for the operators' open pages.
    pub live: live::Live,
    /// The server's clock (tests move it to see deadlines pass).
    pub clock: clock::Clock,
    /// Ids of terminals just revoked: their open streams end at once.
    pub revoked: broadcast::Sender<String>,
    pub counters: Counters,
    /// A hash to verify against when a login names nobody, so both take as long.
    pub dummy_hash: String,
    /// Fired when the server stops: listeners close, live streams end, requests drain.
    pub stopping: shutdown::Trigger,
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

impl Server {
    /// Counts every rate limit in the shared database: a client spreading its attempts over
    /// the region's replicas is counted once.
    fn share_limits(&self) {
        let db = &self.storage;
        self.code_limits.share(db);
        self.login_guard.share(db);
        self.device_tickets.share(db.clone(), "device.tickets");
        self.help_calls.share(db.clone(), "help.calls");
        self.update_requests.share(db.clone(), "update.requests");
        self.studio_uploads.share(db.clone(), "studio.uploads");
        self.studio_checks.share(db.clone(), "studio.checks");
    }
}

/// A random name for this process among the region's replicas.
fn replica_id() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the system's random source works");
    hex::encode(b)
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
        let storage = Arc::new(if config.database_url.is_empty() {
            Database::open(&config.data_dir.join("menpai-server.db"))?
        } else {
            Database::connect(&config.database_url)
                .context("the database at database_url cannot be used")?
        });
        let dir = config.data_dir.clone();
        let make_keys = || -> anyhow::Result<()> {
            Ca::load_or_create(&dir, &config.region_name)?;
            for key in [
                "content-signing.key",
                "appointment-signing.key",
                "personal-data.key",
                "ticket-secret.key",
            ] {
                secret_key(&dir.join(key))?;
            }
            Ok(())
        };
        if !config.database_url.is_empty() {
            region_keys::share(storage.as_ref(), &config, make_keys)?;
        }
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
        let server = Server {
            code_limits: booking_codes::CodeLimits::new(&config),
            login_guard: login::LoginGuard::new(&config),
            device_tickets: ratelimit::RateLimit::new(
                config.device_tickets_per_minute,
                std::time::Duration::from_secs(60),
            ),
            help_calls: ratelimit::RateLimit::new(
                help::CALLS_PER_MINUTE,
                std::time::Duration::from_secs(60),
            ),
            update_requests: ratelimit::RateLimit::new(
                updates::device::REQUESTS_PER_MINUTE,
                std::time::Duration::from_secs(60),
            ),
            studio_uploads: ratelimit::RateLimit::new(
                studio::files::UPLOADS_PER_HOUR,
                studio::files::UPLOAD_WINDOW,
            ),
            studio_checks: ratelimit::RateLimit::new(
                studio::editor::CHECKS_PER_MINUTE,
                std::time::Duration::from_secs(60),
            ),
            ticket_keys,
            revoked,
            sms,
            public_url,
            config,
            storage,
            replica: replica_id(),
            ca,
            content_key,
            appointment_key,
            sealer,
            fleet,
            halls,
            phone,
            stream,
            live: live::Live::default(),
            clock: clock::Clock::default(),
            counters: Counters::default(),
            dummy_hash: operators::hash_password("not a password")?,
            stopping: shutdown::Trigger::default(),
        };
        if !server.config.database_url.is_empty() {
            server.share_limits();
        }
        Ok(server)
    }
}

/// How long a request may take before it is answered 503 (the live stream is exempt).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping server waits for requests in flight.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// Bounds request bodies to `limit` (refused 413 before reading when declared larger) and
/// answers a request that takes too long with 503.
fn bounded(routes: Router<Arc<Server>>, limit: usize) -> Router<Arc<Server>> {
    routes
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            error::refuse_oversized(limit, req, next)
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
}

/// What citizens open: the phone pages, booking and its code, appointment pages.
fn public_routes(config: &Config) -> Router<Arc<Server>> {
    let routes = Router::new()
        .merge(phone::routes())
        .merge(appointments::routes())
        .merge(booking_codes::routes())
        .merge(requests::public_routes())
        .merge(ready::routes());
    bounded(routes, config.max_body_bytes)
}

/// What operators open: login, the fleet view, metrics, the admin API, the staff page, the duty
/// view, requests, cases, accounts, audit and statistics; and the live channel, which stays
/// open.
fn admin_routes(config: &Config) -> Router<Arc<Server>> {
    let routes = Router::new()
        .merge(admin::routes())
        .merge(queue::staff::routes())
        .merge(help::routes())
        .merge(requests::routes())
        .merge(cases::routes())
        .merge(accounts::routes())
        .merge(statistics::routes())
        .merge(studio::routes())
        .merge(training::routes())
        .merge(commands::routes())
        .merge(updates::routes());
    bounded(routes, config.max_body_bytes)
        .merge(updates::upload_routes())
        .merge(bounded(admin::upload_routes(), config.max_upload_bytes))
        .merge(bounded(
            studio::files::upload_routes(),
            menpai_model::file::MAX_FILE_BYTES as usize,
        ))
        .merge(live::routes())
        .layer(axum::middleware::map_response(no_store))
}

/// Operators' pages and answers are kept by no browser or proxy (halls share computers):
/// after logging out, the back button shows nothing of them.
async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}

fn not_found() -> Router<Arc<Server>> {
    Router::new().fallback(|| async { AppError::new(StatusCode::NOT_FOUND, "没有这个页面") })
}

/// The citizens' router alone (tests).
pub fn public_router(server: Arc<Server>) -> Router {
    public_routes(&server.config)
        .merge(not_found())
        .with_state(server)
}

/// The operators' router alone (tests).
pub fn admin_router(server: Arc<Server>) -> Router {
    admin_routes(&server.config)
        .merge(not_found())
        .with_state(server)
}

/// The public listener's app: the citizens' and the operators' routes.
pub fn public_app(server: Arc<Server>) -> Router {
    public_routes(&server.config)
        .merge(admin_routes(&server.config))
        .merge(not_found())
        .with_state(server)
}

/// The device listener's app (mutual TLS): the terminals' API and their live stream.
pub fn device_router(server: Arc<Server>) -> Router {
    let routes = devices::routes()
        .merge(help::device_routes())
        .merge(appointments::device_routes())
        .merge(requests::device_routes())
        .merge(commands::device_routes())
        .merge(updates::device::routes());
    bounded(routes, devices::DEVICE_BODY_LIMIT)
        .merge(bounded(
            commands::report_routes(),
            commands::REPORT_BODY_LIMIT,
        ))
        .merge(devices::stream_routes())
        .merge(updates::device::download_routes())
        .fallback(|| async { AppError::new(StatusCode::NOT_FOUND, "没有这个接口") })
        .with_state(server)
}

/// Where the listeners ended up (port 0 picks a free one).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub public: SocketAddr,
    pub devices: SocketAddr,
}

/// Binds both listeners and serves until `shutdown` completes; then stops accepting, answers
/// the requests in flight (ending live streams), and only then stops the background loops.
pub async fn serve(
    server: Arc<Server>,
    shutdown: impl Future<Output = ()>,
    on_bound: impl FnOnce(Bound),
) -> anyhow::Result<()> {
    tls::install_provider();
    let (chain, key) = server.ca.server_cert(&server.config.hostnames)?;
    let public_tls = tls::public_config(chain.clone(), key.clone_key())?;
    let device_tls = tls::device_config(&server.ca.cert_der, chain, key)?;
    let public = tls::bind(server.config.listen_public)
        .with_context(|| format!("binding {}", server.config.listen_public))?;
    let devices = tls::bind(server.config.listen_devices)
        .with_context(|| format!("binding {}", server.config.listen_devices))?;
    let host = server.config.hostnames[0].clone();
    let port = public.local_addr()?.port();
    let _ = server.public_url.set(format!("https://{host}:{port}"));
    on_bound(Bound {
        public: public.local_addr()?,
        devices: devices.local_addr()?,
    });
    let loops = shutdown::Trigger::default();
    let flusher = tokio::spawn(fleet::flush_loop(server.clone(), loops.subscribe()));
    let purger = tokio::spawn(appointments::purge_loop(server.clone(), loops.subscribe()));
    let escalator = tokio::spawn(help::escalation_loop(server.clone(), loops.subscribe()));
    let expirer = tokio::spawn(commands::expiry_loop(server.clone(), loops.subscribe()));
    let rollouts = tokio::spawn(updates::advance_loop(server.clone(), loops.subscribe()));
    let scheduler = tokio::spawn(studio::schedule::schedule_loop(
        server.clone(),
        loops.subscribe(),
    ));
    let listener = tokio::spawn(replicas::listen_loop(server.clone(), loops.subscribe()));
    let proxies: Arc<[std::net::IpAddr]> = server.config.proxy_protocol_from.clone().into();
    let serving = async {
        tokio::join!(
            tls::serve(
                public,
                public_tls,
                public_app(server.clone()),
                proxies.clone(),
                server.stopping.subscribe()
            ),
            tls::serve(
                devices,
                device_tls,
                device_router(server.clone()),
                proxies.clone(),
                server.stopping.subscribe()
            ),
        )
    };
    let mut serving = std::pin::pin!(serving);
    tokio::select! {
        _ = serving.as_mut() => {}
        _ = shutdown => {
            tracing::info!("Stopping: no new connections; answering the requests in flight.");
            server.stopping.fire();
            if tokio::time::timeout(DRAIN_TIMEOUT, serving).await.is_err() {
                tracing::warn!("Requests still open after the drain time were cut.");
            }
        }
    }
    loops.fire();
    let _ = tokio::join!(
        flusher, purger, escalator, expirer, rollouts, scheduler, listener
    );
    tracing::info!("Stopped.");
    Ok(())
}
