//! Sync with the regional server over mTLS: enrollment, content (signed manifest → missing
//! blobs → verify → activate in one transaction), the outbox, heartbeats and the live stream.

pub mod assist;
pub mod booking;
pub mod client;
mod commands;
pub mod help;
pub mod queue;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use http_body_util::BodyExt;
use menpai_model::ContentPack;
use menpai_model::api::{ContentFetch, RegionalStatus};
use menpai_model::bundle::{self, Manifest, SHARDS};
use menpai_model::sync::{
    EnrollRequest, EnrollResponse, EventAck, EventBatch, Heartbeat, HeartbeatAck, OutboxEvent,
    StreamEvent,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::devices::backoff::Backoff;
use crate::store::StoreError;
use crate::{Agent, ImportError};
use client::{Client, ClientError};

/// Blobs per batch request.
const BLOB_BATCH: usize = 500;
/// Events per upload.
const EVENT_BATCH: usize = 200;

/// What enrollment gave this terminal, kept next to its key and certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub device_id: String,
    pub hall: String,
    pub position: String,
    pub server: String,
    pub content_public_key: String,
    pub appointment_public_key: String,
    pub heartbeat_interval_s: u64,
    /// The secret in each ticket's link is made with it (base64).
    #[serde(default)]
    pub ticket_key: String,
}

/// The terminal's identity: `<data_dir>/identity/{device.key.pem, device.pem, ca.pem, enrollment.json}`.
#[derive(Debug, Clone)]
pub struct Identity {
    pub enrollment: Enrollment,
    pub cert_pem: String,
    pub key_pem: String,
    pub ca_pem: String,
}

fn identity_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("identity")
}

impl Identity {
    pub fn load(data_dir: &Path) -> anyhow::Result<Option<Identity>> {
        let dir = identity_dir(data_dir);
        let path = dir.join("enrollment.json");
        if !path.exists() {
            return Ok(None);
        }
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f))
                .with_context(|| format!("reading {}", dir.join(f).display()))
        };
        Ok(Some(Identity {
            enrollment: serde_json::from_str(&read("enrollment.json")?)?,
            cert_pem: read("device.pem")?,
            key_pem: read("device.key.pem")?,
            ca_pem: read("ca.pem")?,
        }))
    }

    pub fn client(&self) -> Result<Client, ClientError> {
        Client::new(
            &self.enrollment.server,
            &self.ca_pem,
            Some((&self.cert_pem, &self.key_pem)),
        )
    }

    pub fn content_key(&self) -> anyhow::Result<VerifyingKey> {
        menpai_model::appointment::verifying_key(&self.enrollment.content_public_key)
            .context("the enrollment's content key is not an Ed25519 key")
    }
}

/// Enrolls this terminal with a one-time token: makes a key here, sends a CSR, keeps the
/// certificate. `ca_pem` is the region's CA the technician brought.
/// Writes a secret readable by its owner only (a private key, the technician credential).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // A file made before with wider permissions is narrowed too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(bytes)
}

pub async fn enroll(
    data_dir: &Path,
    server: &str,
    ca_pem: &str,
    token: &str,
) -> anyhow::Result<Enrollment> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "menpai-terminal");
    let csr_pem = params.serialize_request(&key)?.pem()?;
    let client = Client::new(server, ca_pem, None)?;
    let body = serde_json::to_vec(&EnrollRequest {
        token: token.trim().to_owned(),
        csr_pem,
    })?;
    let r = client
        .request(
            "POST",
            "/device/v1/enroll",
            &[],
            body,
            Duration::from_secs(30),
        )
        .await?;
    if r.status != 200 {
        anyhow::bail!("enrollment refused ({}): {}", r.status, r.error_text());
    }
    let e: EnrollResponse = serde_json::from_slice(&r.body).context("the server's answer")?;
    let dir = identity_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    write_private(&dir.join("device.key.pem"), key.serialize_pem().as_bytes())?;
    std::fs::write(dir.join("device.pem"), &e.certificate_pem)?;
    std::fs::write(dir.join("ca.pem"), &e.ca_pem)?;
    let enrollment = Enrollment {
        device_id: e.device_id,
        hall: e.hall,
        position: e.position,
        server: server.trim_end_matches('/').to_owned(),
        content_public_key: e.content_public_key,
        appointment_public_key: e.appointment_public_key,
        heartbeat_interval_s: e.heartbeat_interval_s,
        ticket_key: e.ticket_key,
    };
    // It holds the ticket key: readable by the agent only.
    write_private(
        &dir.join("enrollment.json"),
        &serde_json::to_vec_pretty(&enrollment)?,
    )?;
    Ok(enrollment)
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the server refused ({0}): {1}")]
    Refused(u16, String),
    #[error("the manifest's signature does not verify: the content is not the region's")]
    BadSignature,
    #[error("the manifest is malformed: {0}")]
    BadManifest(String),
    #[error("blob {0} does not match its hash: refused")]
    HashMismatch(String),
    #[error("the new version is invalid ({} problem(s)); the active version stays", .0.len())]
    Invalid(Vec<menpai_model::ValidationError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    UpToDate,
    NothingPublished,
    Activated(String),
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Checks the manifest's signature and shape.
pub fn verify_manifest(
    body: &[u8],
    signature: Option<&str>,
    key: &VerifyingKey,
) -> Result<Manifest, SyncError> {
    let sig: [u8; 64] = signature
        .and_then(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        })
        .and_then(|b| b.try_into().ok())
        .ok_or(SyncError::BadSignature)?;
    key.verify(body, &Signature::from_bytes(&sig))
        .map_err(|_| SyncError::BadSignature)?;
    let m: Manifest =
        serde_json::from_slice(body).map_err(|e| SyncError::BadManifest(e.to_string()))?;
    let hex64 =
        |s: &String| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if m.format != bundle::FORMAT || m.shards.len() != SHARDS || !m.shards.iter().all(hex64) {
        return Err(SyncError::BadManifest(format!(
            "format {} with {} shards",
            m.format,
            m.shards.len()
        )));
    }
    Ok(m)
}

/// Reads `sha len\n<bytes>` frames, checking each blob against its name.
pub fn read_frames(mut body: &[u8], asked: &[String]) -> Result<Vec<(String, Vec<u8>)>, SyncError> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let eol = body
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| SyncError::BadManifest("truncated blob batch".into()))?;
        let head = std::str::from_utf8(&body[..eol])
            .map_err(|_| SyncError::BadManifest("bad batch".into()))?;
        body = &body[eol + 1..];
        let (sha, len) = head
            .split_once(' ')
            .ok_or_else(|| SyncError::BadManifest(format!("bad batch header `{head}`")))?;
        if len == "-" {
            return Err(SyncError::Refused(
                404,
                format!("the server lacks blob {sha}"),
            ));
        }
        let len: usize = len
            .parse()
            .map_err(|_| SyncError::BadManifest(format!("bad batch header `{head}`")))?;
        if body.len() < len {
            return Err(SyncError::BadManifest("truncated blob batch".into()));
        }
        let (blob, rest) = body.split_at(len);
        body = rest;
        if !asked.iter().any(|a| a == sha) || bundle::sha256_hex(blob) != sha {
            return Err(SyncError::HashMismatch(sha.to_owned()));
        }
        out.push((sha.to_owned(), blob.to_vec()));
    }
    Ok(out)
}

/// Fetches blobs in batches. A batch that fails is retried at half the size (a flaky link
/// still makes progress); successes grow it back. What arrived is kept either way.
async fn fetch(
    agent: &Agent,
    client: &Client,
    hashes: &[String],
    shards: bool,
    cost: &mut ContentFetch,
) -> Result<(), SyncError> {
    let mut size = BLOB_BATCH;
    let mut failures = 0;
    let mut rest = hashes;
    while !rest.is_empty() {
        let chunk = &rest[..size.min(rest.len())];
        let body = serde_json::to_vec(&serde_json::json!({ "hashes": chunk })).expect("serialises");
        let reply = client
            .request(
                "POST",
                "/device/v1/blobs",
                &[],
                body,
                Duration::from_secs(120),
            )
            .await;
        let r = match reply {
            Ok(r) => r,
            Err(e) if failures < 8 => {
                tracing::debug!(error = %e, size, "A blob batch failed; retrying smaller.");
                failures += 1;
                size = (size / 2).max(1);
                tokio::time::sleep(Duration::from_millis(100 * failures)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if r.status != 200 {
            return Err(SyncError::Refused(r.status, r.error_text()));
        }
        cost.bytes_fetched += r.body.len() as u64;
        let blobs = read_frames(&r.body, chunk)?;
        cost.blobs_fetched += blobs.len() as u64;
        agent.store.put_blobs(&blobs, shards)?;
        rest = &rest[chunk.len()..];
        failures = 0;
        size = (size * 2).min(BLOB_BATCH);
    }
    Ok(())
}

/// A picture comes in pieces this large (`Range`): a link that drops connections still
/// moves it forward, each retry resuming where the last piece ended.
const PIECE: usize = 32 * 1024;

/// Fetches one picture piece by piece, checks it against its name and keeps it.
async fn fetch_in_pieces(
    agent: &Agent,
    client: &Client,
    sha: &str,
    cost: &mut ContentFetch,
) -> Result<(), SyncError> {
    let path = format!("/device/v1/blobs/{sha}");
    let mut body: Vec<u8> = Vec::new();
    let mut total: Option<usize> = None;
    let mut failures = 0u64;
    while total.is_none_or(|t| body.len() < t) {
        let range = format!("bytes={}-{}", body.len(), body.len() + PIECE - 1);
        let reply = client
            .request(
                "GET",
                &path,
                &[("range", range.as_str())],
                Vec::new(),
                Duration::from_secs(60),
            )
            .await;
        let r = match reply {
            Ok(r) => r,
            Err(e) if failures < 16 => {
                tracing::debug!(error = %e, at = body.len(), "A picture's piece failed; resuming.");
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100 * failures)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if r.status != 206 {
            return Err(SyncError::Refused(r.status, r.error_text()));
        }
        // `bytes a-b/len`: the piece must start where we are, the whole be a file's size.
        let (start, len) = r
            .header("content-range")
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split_once('/'))
            .and_then(|(span, len)| {
                Some((
                    span.split_once('-')?.0.parse::<usize>().ok()?,
                    len.parse::<usize>().ok()?,
                ))
            })
            .ok_or_else(|| SyncError::BadManifest(format!("picture {sha}: no Content-Range")))?;
        if start != body.len()
            || len as u64 > menpai_model::file::MAX_FILE_BYTES
            || total.is_some_and(|t| t != len)
            || body.len() + r.body.len() > len
            // Whole pieces only (the last may be short): no dribble of tiny answers.
            || r.body.len() < PIECE.min(len - body.len())
        {
            return Err(SyncError::BadManifest(format!(
                "picture {sha}: a piece that does not fit ({start}, {len})"
            )));
        }
        total = Some(len);
        cost.bytes_fetched += r.body.len() as u64;
        body.extend_from_slice(&r.body);
        failures = 0;
    }
    if bundle::sha256_hex(&body) != sha {
        return Err(SyncError::HashMismatch(sha.to_owned()));
    }
    agent.store.put_blobs(&[(sha.to_owned(), body)], false)?;
    cost.blobs_fetched += 1;
    Ok(())
}

/// One sync: the signed manifest, then only what is missing, then activation.
pub async fn sync_once(
    agent: &Agent,
    client: &Client,
    key: &VerifyingKey,
) -> Result<Outcome, SyncError> {
    let etag = agent.store.sync_state("manifest_etag")?;
    let headers: Vec<(&str, &str)> = etag.iter().map(|e| ("if-none-match", e.as_str())).collect();
    let r = client
        .request(
            "GET",
            "/device/v1/manifest",
            &headers,
            Vec::new(),
            Duration::from_secs(30),
        )
        .await?;
    match r.status {
        304 => {
            agent.store.set_sync_state("last_sync", &now_rfc3339())?;
            return Ok(Outcome::UpToDate);
        }
        404 => return Ok(Outcome::NothingPublished),
        200 => {}
        s => return Err(SyncError::Refused(s, r.error_text())),
    }
    let manifest = verify_manifest(&r.body, r.header("x-menpai-signature"), key)?;
    let new_etag = r.header("etag").map(str::to_owned);
    let active = agent.store.active()?;
    if active.as_ref().map(|v| v.version.as_str()) != Some(manifest.version.as_str()) {
        let mut cost = ContentFetch {
            version: manifest.version.clone(),
            bytes_fetched: r.body.len() as u64,
            blobs_fetched: 0,
        };
        let missing: Vec<String> = manifest
            .shards
            .iter()
            .filter(|s| matches!(agent.store.shard(s), Ok(None)))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        fetch(agent, client, &missing, true, &mut cost).await?;
        let mut entries = Vec::with_capacity(manifest.records);
        for sha in &manifest.shards {
            let body = agent
                .store
                .shard(sha)?
                .ok_or_else(|| SyncError::BadManifest(format!("shard {sha} went missing")))?;
            entries.extend(bundle::parse_shard(&body).map_err(SyncError::BadManifest)?);
        }
        // Records in batches, then the pictures the plate shows piece by piece; form files
        // are for phones only.
        let mut wanted = std::collections::BTreeSet::new();
        let mut pictures = std::collections::BTreeSet::new();
        for e in &entries {
            if e.kind == bundle::FILE || agent.store.has_blob(&e.sha256)? {
                continue;
            }
            if e.kind == bundle::IMAGE {
                pictures.insert(e.sha256.clone());
            } else {
                wanted.insert(e.sha256.clone());
            }
        }
        fetch(
            agent,
            client,
            &wanted.into_iter().collect::<Vec<_>>(),
            false,
            &mut cost,
        )
        .await?;
        for sha in &pictures {
            fetch_in_pieces(agent, client, sha, &mut cost).await?;
        }
        let mut pack = ContentPack::default();
        for e in entries.iter().filter(|e| !bundle::is_file_kind(&e.kind)) {
            let body = agent
                .store
                .blob(&e.sha256)?
                .ok_or_else(|| SyncError::BadManifest(format!("blob {} went missing", e.sha256)))?;
            bundle::decode_record(&mut pack, &e.kind, &body)
                .map_err(|err| SyncError::BadManifest(format!("{} {}: {err}", e.kind, e.key)))?;
        }
        // The bytes fetched count before the new version shows: whoever sees it active sees
        // what it cost on the wire.
        tracing::info!(
            version = %cost.version,
            bytes = cost.bytes_fetched,
            blobs = cost.blobs_fetched,
            "Fetched the new content version."
        );
        record(agent, client, |s| s.last_content = Some(cost));
        match agent.import_pack(&pack, &manifest.version) {
            Ok(_) => {}
            Err(ImportError::Invalid(errors)) => return Err(SyncError::Invalid(errors)),
            Err(ImportError::Store(e)) => return Err(e.into()),
        }
        agent.store.keep_shards(&manifest.shards)?;
    }
    if let Some(e) = new_etag {
        agent.store.set_sync_state("manifest_etag", &e)?;
    }
    agent.store.set_sync_state("last_sync", &now_rfc3339())?;
    Ok(
        if active.map(|v| v.version) == Some(manifest.version.clone()) {
            Outcome::UpToDate
        } else {
            Outcome::Activated(manifest.version)
        },
    )
}

/// Sends unsent outbox events in batches until none are left; returns how many the server holds.
pub async fn send_outbox(agent: &Agent, client: &Client) -> Result<usize, SyncError> {
    let mut held = 0;
    loop {
        let batch = agent.store.unsent(EVENT_BATCH)?;
        if batch.is_empty() {
            return Ok(held);
        }
        let events: Vec<OutboxEvent> = batch
            .into_iter()
            .map(|(key, kind, body, created_at)| OutboxEvent {
                key,
                kind,
                body: serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
                created_at,
            })
            .collect();
        let body = serde_json::to_vec(&EventBatch { events }).expect("serialises");
        let r = client
            .request(
                "POST",
                "/device/v1/events",
                &[],
                body,
                Duration::from_secs(30),
            )
            .await?;
        if r.status != 200 {
            return Err(SyncError::Refused(r.status, r.error_text()));
        }
        let ack: EventAck = serde_json::from_slice(&r.body)
            .map_err(|e| SyncError::BadManifest(format!("event ack: {e}")))?;
        held += agent.store.mark_sent(&ack.held)?;
    }
}

/// What the heartbeat says.
pub fn heartbeat(agent: &Agent) -> Heartbeat {
    let host = agent.host_status();
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let mem_available_mb = read("/proc/meminfo").and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb / 1024)
    });
    let cpu_temp_c = read("/sys/class/thermal/thermal_zone0/temp")
        .and_then(|t| t.trim().parse::<f32>().ok())
        .map(|m| m / 1000.0);
    let disk_free_mb = rustix::fs::statvfs(&agent.config.data_dir)
        .ok()
        .map(|s| s.f_bavail * s.f_frsize / (1024 * 1024));
    Heartbeat {
        agent_version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: agent.uptime_s(),
        content_version: agent.catalog().map(|c| c.version.version.clone()),
        outbox_depth: agent.store.outbox_depth().unwrap_or_default(),
        last_sync: agent.store.sync_state("last_sync").ok().flatten(),
        devices: agent.devices.health(),
        cpu_temp_c,
        disk_free_mb,
        mem_available_mb,
        ui_alive: host.ui.alive,
        network: Some(host.network.connectivity),
    }
}

/// Tuning of the loops (tests shorten them).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Checks for new content at least this often, in seconds (a push on the live stream
    /// starts a sync at once).
    pub sync_interval_s: u64,
    /// Heartbeat period in seconds; 0 takes the server's.
    pub heartbeat_interval_s: u64,
    /// Longest wait between retries, in seconds.
    pub max_backoff_s: u64,
}

fn record(agent: &Agent, client: &Client, f: impl FnOnce(&mut RegionalStatus)) {
    let mut s = agent.regional.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = s.as_mut() {
        f(s);
        s.wire_bytes = client.wire.load(Ordering::Relaxed);
    }
}

/// Runs the sync, outbox, heartbeat, lease and stream loops for an enrolled terminal, as the
/// agent's tasks: each ends when the agent stops.
pub fn start(agent: Arc<Agent>, identity: Identity, cfg: SyncConfig) -> anyhow::Result<()> {
    let client = Arc::new(identity.client()?);
    let key = identity.content_key()?;
    *agent.regional.lock().unwrap_or_else(|e| e.into_inner()) = Some(RegionalStatus {
        device_id: identity.enrollment.device_id.clone(),
        server: identity.enrollment.server.clone(),
        ..Default::default()
    });
    let kick = Arc::new(Notify::new());
    let max = Duration::from_secs(cfg.max_backoff_s.max(1));

    // Content: on a push, else every sync_interval_s; retries back off.
    let (a, c, k) = (agent.clone(), client.clone(), kick.clone());
    let every = Duration::from_secs(cfg.sync_interval_s.max(1));
    let stop = agent.tasks.shutdown();
    agent.tasks.spawn("sync", async move {
        let mut backoff = Backoff::new(Duration::from_millis(500), max);
        loop {
            let Some(synced) = stop.unless_stopped(sync_once(&a, &c, &key)).await else {
                return;
            };
            let wait = match synced {
                Ok(outcome) => {
                    if let Outcome::Activated(v) = &outcome {
                        tracing::info!(version = %v, "Synced and activated new content.");
                    }
                    backoff.reset();
                    record(&a, &c, |s| {
                        s.last_sync = Some(now_rfc3339());
                        s.last_error = None;
                    });
                    every
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Content sync failed; the active version stays.");
                    record(&a, &c, |s| s.last_error = Some(e.to_string()));
                    backoff.next_delay()
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = k.notified() => {}
                () = stop.requested() => return,
            }
        }
    });

    // The outbox: nothing lost (kept until the server holds it), nothing twice (its key).
    let (a, c) = (agent.clone(), client.clone());
    let stop = agent.tasks.shutdown();
    agent.tasks.spawn("outbox", async move {
        let mut backoff = Backoff::new(Duration::from_millis(200), max);
        // The error this loop showed, taken back once sending works again.
        let mut shown: Option<String> = None;
        loop {
            let Some(sent) = stop.unless_stopped(send_outbox(&a, &c)).await else {
                return;
            };
            let wait = match sent {
                Ok(n) => {
                    backoff.reset();
                    let fixed = shown.take();
                    record(&a, &c, |s| {
                        s.events_sent += n as u64;
                        if fixed.is_some() && s.last_error == fixed {
                            s.last_error = None;
                        }
                    });
                    Duration::from_millis(500)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Sending events failed; they stay in the outbox.");
                    let error = e.to_string();
                    record(&a, &c, |s| s.last_error = Some(error.clone()));
                    shown = Some(error);
                    backoff.next_delay()
                }
            };
            if stop.sleep(wait).await {
                return;
            }
        }
    });

    // Heartbeats, on their own connection so a long download never makes a terminal look
    // stale; the bytes still count towards the same total.
    let mut beats = identity.client()?;
    beats.wire = client.wire.clone();
    let (a, c) = (agent.clone(), Arc::new(beats));
    let period = Duration::from_secs(match cfg.heartbeat_interval_s {
        0 => identity.enrollment.heartbeat_interval_s.max(1),
        n => n,
    });
    let stop = agent.tasks.shutdown();
    agent.tasks.spawn("heartbeat", async move {
        loop {
            let body = serde_json::to_vec(&heartbeat(&a)).expect("serialises");
            let sent = c.request(
                "POST",
                "/device/v1/heartbeat",
                &[],
                body,
                Duration::from_secs(15),
            );
            match stop.unless_stopped(sent).await {
                None => return,
                Some(Ok(r)) if r.status == 200 => {
                    record(&a, &c, |s| s.heartbeats += 1);
                    tracing::debug!(bytes = r.body.len(), "Heartbeat answered.");
                    match serde_json::from_slice::<HeartbeatAck>(&r.body) {
                        Ok(ack) => crate::training::apply(&a, ack.training),
                        Err(e) => {
                            tracing::warn!(error = %e, "A heartbeat answer could not be read.")
                        }
                    }
                }
                Some(Ok(r)) => {
                    tracing::warn!(status = r.status, error = %r.error_text(), "Heartbeat refused.")
                }
                Some(Err(e)) => tracing::debug!(error = %e, "Heartbeat not sent."),
            }
            if stop.sleep(period).await {
                return;
            }
        }
    });

    // The queue: its own connection, so a ticket never waits behind a download; blocks of
    // numbers leased ahead for when the server is away.
    let mut link_client = identity.client()?;
    link_client.wire = client.wire.clone();
    let _ = agent.queue_link.set(queue::QueueLink::new(
        link_client,
        identity.enrollment.device_id.clone(),
    ));
    let a = agent.clone();
    let stop = agent.tasks.shutdown();
    agent.tasks.spawn("leases", async move {
        let Some(link) = a.queue_link.get() else {
            return;
        };
        loop {
            let Some(leased) = stop.unless_stopped(link.refill_leases(&a)).await else {
                return;
            };
            let wait = match leased {
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(blocks = n, "Leased numbers for offline tickets.");
                    }
                    Duration::from_secs(30)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "Leasing numbers failed; will retry.");
                    Duration::from_secs(5)
                }
            };
            if stop.sleep(wait).await {
                return;
            }
        }
    });

    // Remote commands: fetched when the stream says some wait, and when it opens.
    let commands_kick = Arc::new(Notify::new());
    commands::start(agent.clone(), client.clone(), commands_kick.clone(), max);
    // Updates: asked for when the stream says rollouts changed, and when it opens.
    let updates_kick = Arc::new(Notify::new());
    crate::update::start(agent.clone(), client.clone(), updates_kick.clone(), max);
    let me = identity.enrollment.device_id.clone();

    // The live stream: a publish starts a sync at once; the hall's queue and its calls.
    let (a, c) = (agent.clone(), client);
    let stop = agent.tasks.shutdown();
    agent.tasks.spawn("stream", async move {
        let mut backoff = Backoff::new(Duration::from_secs(1), max);
        loop {
            let Some(opened) = stop
                .unless_stopped(c.open_stream("/device/v1/stream"))
                .await
            else {
                return;
            };
            if let Ok((200, mut body)) = opened {
                backoff.reset();
                if let Some(link) = a.queue_link.get() {
                    link.mark_up();
                }
                // Commands sent, and rollouts changed, while the stream was down.
                commands_kick.notify_one();
                updates_kick.notify_one();
                let mut pending = Vec::new();
                while let Some(Some(Ok(frame))) = stop.unless_stopped(body.frame()).await {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    pending.extend_from_slice(&data);
                    while let Some(eol) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=eol).collect();
                        match serde_json::from_slice(&line) {
                            Ok(StreamEvent::Content { version }) => {
                                let active = a.catalog().map(|c| c.version.version.clone());
                                if active.as_deref() != Some(version.as_str()) {
                                    tracing::info!(%version, "The server published new content.");
                                    kick.notify_one();
                                }
                            }
                            Ok(StreamEvent::Queue { hall, view, call })
                                if hall == a.config.terminal.hall =>
                            {
                                queue::on_queue(&a, view, call);
                            }
                            Ok(StreamEvent::Help { update }) => help::on_update(&a, update),
                            Ok(StreamEvent::Commands { device }) if device == me => {
                                commands_kick.notify_one();
                            }
                            Ok(StreamEvent::Updates) => updates_kick.notify_one(),
                            _ => {}
                        }
                    }
                }
            }
            if stop.sleep(backoff.next_delay()).await {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_checked_blob_by_blob() {
        let a = b"hello".to_vec();
        let sha = bundle::sha256_hex(&a);
        let mut wire = format!("{sha} 5\n").into_bytes();
        wire.extend_from_slice(&a);
        assert_eq!(
            read_frames(&wire, std::slice::from_ref(&sha)).unwrap()[0].1,
            a
        );
        let mut bad = format!("{sha} 5\n").into_bytes();
        bad.extend_from_slice(b"HELLO");
        assert!(matches!(
            read_frames(&bad, std::slice::from_ref(&sha)),
            Err(SyncError::HashMismatch(_))
        ));
        assert!(matches!(
            read_frames(&wire, &[]),
            Err(SyncError::HashMismatch(_))
        ));
        assert!(read_frames(format!("{sha} 9\nab").as_bytes(), &[sha]).is_err());
    }
}
