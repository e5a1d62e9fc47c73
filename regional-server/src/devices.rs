//! The device API on the mTLS listener: enrollment, content bundles, events, heartbeats and
//! the live stream.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::queue::{DeviceTicketRequest, IssuedTicket, LeaseRequest, NumberLease};
use menpai_model::sync::{
    EnrollRequest, EnrollResponse, EventAck, EventBatch, Heartbeat, HeartbeatAck, StreamEvent,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::sha256_hex;
use crate::ratelimit::Refusal;
use crate::storage::Device;
use crate::tls::PeerCert;

type S = State<Arc<Server>>;

/// Events per batch at most.
pub const MAX_BATCH: usize = 500;
/// Largest request body from a terminal.
pub const DEVICE_BODY_LIMIT: usize = 1024 * 1024;
/// Blobs per batch request at most.
pub const MAX_BLOBS: usize = 1000;

/// The terminals' request-and-answer routes.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/device/v1/enroll", post(enroll))
        .route("/device/v1/manifest", get(manifest))
        .route("/device/v1/blobs", post(blobs))
        .route("/device/v1/blobs/{sha}", get(blob))
        .route("/device/v1/events", post(events))
        .route("/device/v1/heartbeat", post(heartbeat))
        .route("/device/v1/queue/tickets", post(take_ticket))
        .route("/device/v1/queue/leases", post(leases))
}

/// The live stream: open for as long as the terminal listens, so never under a request timeout.
pub fn stream_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/stream", get(stream))
}

/// The enrolled, unrevoked terminal a request comes from.
#[derive(Debug, Clone)]
pub struct Terminal(pub Device);

impl FromRequestParts<Arc<Server>> for Terminal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, server: &Arc<Server>) -> Result<Self, AppError> {
        let cert = parts
            .extensions
            .get::<PeerCert>()
            .and_then(|p| p.0.clone())
            .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "需要终端证书（mTLS）"))?;
        let sha = hex::encode(Sha256::digest(cert.as_slice()));
        let device = server
            .storage
            .device_by_cert(&sha)
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::new(StatusCode::FORBIDDEN, "未登记的终端证书"))?;
        if device.revoked_at.is_some() {
            tracing::warn!(device = %device.id, "A revoked terminal called.");
            return Err(AppError::new(StatusCode::FORBIDDEN, "终端证书已吊销"));
        }
        Ok(Terminal(device))
    }
}

async fn enroll(
    State(server): S,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<Json<EnrollResponse>, AppError> {
    let token_sha = sha256_hex(req.token.trim());
    let now = chrono::Utc::now().timestamp();
    let token = server
        .storage
        .enrollment_token(&token_sha)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::FORBIDDEN, "登记令牌无效"))?;
    if token.used {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "登记令牌已用过，请向管理员重新申请",
        ));
    }
    if token.expires_at <= now {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "登记令牌已过期，请向管理员重新申请",
        ));
    }
    let device_id = format!(
        "{}-{}-{}",
        token.hall,
        token.position,
        &crate::web::random_token()[..6]
    );
    let (cert_pem, der) = server
        .ca
        .sign_device(&req.csr_pem, &device_id)
        .map_err(AppError::bad_request)?;
    let device = Device {
        id: device_id.clone(),
        hall: token.hall.clone(),
        position: token.position.clone(),
        cert_sha256: hex::encode(Sha256::digest(&der)),
        enrolled_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        revoked_at: None,
        training: false,
    };
    if !server
        .storage
        .redeem_enrollment(&token_sha, now, &device)
        .map_err(AppError::internal)?
    {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "登记令牌已用过或已过期",
        ));
    }
    server.counters.enrollments.fetch_add(1, Ordering::Relaxed);
    let detail = format!("{} {}", token.hall, token.position);
    let _ = server.storage.audit(
        &format!("device:{device_id}"),
        "device.enroll",
        &detail,
        "ok",
    );
    tracing::info!(device = %device_id, hall = %token.hall, "A terminal enrolled.");
    let b64 = base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    Ok(Json(EnrollResponse {
        device_id: device_id.clone(),
        hall: token.hall,
        position: token.position,
        certificate_pem: cert_pem,
        ca_pem: server.ca.cert_pem.clone(),
        content_public_key: b64.encode(server.content_key.verifying_key().to_bytes()),
        appointment_public_key: b64.encode(server.appointment_key.verifying_key().to_bytes()),
        heartbeat_interval_s: server.config.heartbeat_interval_s,
        ticket_key: b64.encode(server.ticket_keys.for_device(&device_id)),
    }))
}

fn etag_of(sha: &str) -> String {
    format!("\"{sha}\"")
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
}

async fn manifest(
    State(server): S,
    _t: Terminal,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let v = server
        .storage
        .latest_version()
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "还没有发布内容"))?;
    let etag = etag_of(&menpai_model::bundle::sha256_hex(&v.manifest));
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let mut res = (StatusCode::OK, v.manifest).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(AppError::internal)?,
    );
    h.insert(
        "x-menpai-signature",
        HeaderValue::from_str(&v.signature).map_err(AppError::internal)?,
    );
    Ok(res)
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against a length.
fn parse_range(v: &str, len: usize) -> Option<(usize, usize)> {
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (len.checked_sub(n.min(len))?, len.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, len.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<usize>().ok()?.min(len.checked_sub(1)?),
        ),
    };
    (start <= end && end < len).then_some((start, end))
}

async fn blob(
    State(server): S,
    _t: Terminal,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !valid_sha(&sha) {
        return Err(AppError::bad_request(
            "blob 名应为 64 位小写十六进制 SHA-256",
        ));
    }
    let etag = etag_of(&sha);
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let missing = || AppError::new(StatusCode::NOT_FOUND, "没有这个 blob");
    let s2 = server.clone();
    let sha2 = sha.clone();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Only the bytes asked for are read: a terminal resuming a picture in pieces reads each
    // piece once.
    let read = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let storage = s2.storage.as_ref();
        let Some(len) = storage.blob_len(&sha2).map_err(AppError::internal)? else {
            return Ok(None);
        };
        let len = len as usize;
        Ok(Some(match range {
            None => (
                StatusCode::OK,
                storage.blob(&sha2).map_err(AppError::internal)?,
                None,
                len,
            ),
            Some(r) => match parse_range(&r, len) {
                Some((a, b)) => (
                    StatusCode::PARTIAL_CONTENT,
                    storage
                        .blob_range(&sha2, a as u64, (b - a + 1) as u64)
                        .map_err(AppError::internal)?,
                    Some(format!("bytes {a}-{b}/{len}")),
                    len,
                ),
                None => (StatusCode::RANGE_NOT_SATISFIABLE, None, None, len),
            },
        }))
    })
    .await
    .map_err(AppError::internal)??;
    let Some((status, bytes, content_range, len)) = read else {
        return Err(missing());
    };
    if status == StatusCode::RANGE_NOT_SATISFIABLE {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        )
            .into_response());
    }
    let bytes = bytes.ok_or_else(missing)?;
    server
        .counters
        .blob_bytes_served
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let mut res = (status, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(AppError::internal)?,
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Some(cr) = content_range {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&cr).map_err(AppError::internal)?,
        );
    }
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlobsRequest {
    hashes: Vec<String>,
}

/// Many blobs in one response: for each, `sha len\n` then the bytes (`sha -\n` when missing).
async fn blobs(
    State(server): S,
    _t: Terminal,
    JsonBody(req): JsonBody<BlobsRequest>,
) -> Result<Response, AppError> {
    if req.hashes.len() > MAX_BLOBS {
        return Err(AppError::bad_request(format!(
            "一次最多取 {MAX_BLOBS} 个 blob"
        )));
    }
    let mut out = Vec::new();
    for sha in &req.hashes {
        if !valid_sha(sha) {
            return Err(AppError::bad_request(format!("blob 名 {sha} 无效")));
        }
        match server.storage.blob(sha).map_err(AppError::internal)? {
            Some(b) => {
                out.extend_from_slice(format!("{sha} {}\n", b.len()).as_bytes());
                out.extend_from_slice(&b);
            }
            None => out.extend_from_slice(format!("{sha} -\n").as_bytes()),
        }
    }
    server
        .counters
        .blob_bytes_served
        .fetch_add(out.len() as u64, Ordering::Relaxed);
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], out).into_response())
}

async fn events(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(batch): JsonBody<EventBatch>,
) -> Result<Json<EventAck>, AppError> {
    if batch.events.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "一批最多 {MAX_BATCH} 个事件"
        )));
    }
    if let Some(e) = batch
        .events
        .iter()
        .find(|e| e.key.is_empty() || e.key.len() > 64 || e.kind.is_empty() || e.kind.len() > 32)
    {
        return Err(AppError::bad_request(format!(
            "事件 `{}` 的 key 或 kind 无效",
            e.key
        )));
    }
    let now = server
        .clock
        .utc_now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let storage = server.storage.clone();
    let id = device.id.clone();
    let events = batch.events;
    let (mut ingested, held) = tokio::task::spawn_blocking(move || {
        storage
            .insert_events(&id, &events, &now)
            .map(|i| (i, events.into_iter().map(|e| e.key).collect::<Vec<_>>()))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let (new, duplicates) = (ingested.new, ingested.duplicates);
    if !ingested.halls.is_empty() {
        let s = server.clone();
        let halls = std::mem::take(&mut ingested.halls);
        tokio::task::spawn_blocking(move || crate::queue::changed(&s, &halls));
    }
    // Cases the plates' ratings opened: their deadlines fixed, open pages told.
    if !ingested.cases.is_empty() {
        let s = server.clone();
        tokio::task::spawn_blocking(move || crate::cases::settle(&s));
    }
    server
        .counters
        .events_new
        .fetch_add(new as u64, Ordering::Relaxed);
    server
        .counters
        .events_duplicate
        .fetch_add(duplicates as u64, Ordering::Relaxed);
    Ok(Json(EventAck {
        held,
        new,
        duplicates,
    }))
}

async fn heartbeat(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(beat): JsonBody<Heartbeat>,
) -> Result<Json<HeartbeatAck>, AppError> {
    server
        .fleet
        .record(&device.id, chrono::Utc::now().timestamp_millis(), beat);
    server.counters.heartbeats.fetch_add(1, Ordering::Relaxed);
    Ok(Json(HeartbeatAck {
        latest_version: server.fleet.latest_version(server.storage.as_ref()),
        training: device.training,
    }))
}

fn line(e: &StreamEvent) -> bytes::Bytes {
    let mut s = serde_json::to_string(e).expect("stream events serialise");
    s.push('\n');
    bytes::Bytes::from(s)
}

/// Newline-delimited JSON: the latest version and the hall's queue first, then every publish,
/// every change of the terminal's hall's queue, its own help calls' states, and a ping now
/// and then.
async fn stream(State(server): S, Terminal(device): Terminal) -> Response {
    let rx = server.stream.subscribe();
    let mut revoked = server.revoked.subscribe();
    // Revoked between the certificate check and the subscription: caught here.
    let still_enrolled = |server: &Server, cert: &str| {
        server
            .storage
            .device_by_cert(cert)
            .is_ok_and(|d| d.is_some_and(|d| d.revoked_at.is_none()))
    };
    if !still_enrolled(&server, &device.cert_sha256) {
        return AppError::new(StatusCode::FORBIDDEN, "终端证书已吊销").into_response();
    }
    let hall = device.hall;
    let id = device.id;
    let cert = device.cert_sha256;
    let s2 = server.clone();
    let mut first: Vec<StreamEvent> = Vec::new();
    if let Some(version) = server.fleet.latest_version(server.storage.as_ref()) {
        first.push(StreamEvent::Content { version });
    }
    if let Some(h) = server.halls.get(&hall)
        && let Ok(view) = crate::queue::view(&server, &h)
    {
        first.push(StreamEvent::Queue {
            hall: hall.clone(),
            view,
            call: None,
        });
    }
    first.extend(crate::help::calls::recent_updates(&server, &id));
    first.reverse();
    let me = id.clone();
    let (s3, cert3) = (server.clone(), cert.clone());
    let live = futures_util::stream::unfold((rx, first), move |(mut rx, mut first)| {
        let hall = hall.clone();
        let me = me.clone();
        let (server, cert) = (s3.clone(), cert3.clone());
        async move {
            if let Some(f) = first.pop() {
                return Some((Ok::<_, Infallible>(line(&f)), (rx, first)));
            }
            let e = loop {
                let e = tokio::select! {
                    r = rx.recv() => match r {
                        Ok(e) => e,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => StreamEvent::Ping,
                        Err(_) => return None,
                    },
                    _ = tokio::time::sleep(Duration::from_secs(15)) => {
                        // A revocation on another replica whose signal was missed ends the
                        // stream here within 15 s (one process alone misses none).
                        if server.config.database_url.is_empty() {
                            break StreamEvent::Ping;
                        }
                        let (server, cert) = (server.clone(), cert.clone());
                        let enrolled = tokio::task::spawn_blocking(move || still_enrolled(&server, &cert))
                            .await
                            .unwrap_or(true);
                        if !enrolled {
                            return None;
                        }
                        StreamEvent::Ping
                    }
                };
                match &e {
                    StreamEvent::Queue { hall: h, .. } if *h != hall => continue,
                    StreamEvent::Help { update } if update.device != me => continue,
                    StreamEvent::Commands { device } if *device != me => continue,
                    _ => break e,
                }
            };
            Some((Ok(line(&e)), (rx, first)))
        }
    });
    // The stream ends the moment its terminal is revoked, or the server stops.
    let mut stopping = server.stopping.subscribe();
    let revocation = async move {
        loop {
            match revoked.recv().await {
                Ok(r) if r == id => break,
                Ok(_) => {}
                // Revocations were missed: ask the database.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !still_enrolled(&s2, &cert) {
                        break;
                    }
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
        tracing::info!(device = %id, "The live stream of a revoked terminal was closed.");
    };
    let ended = async move {
        tokio::select! {
            _ = revocation => {}
            _ = stopping.wait() => {}
        }
    };
    let s = futures_util::StreamExt::take_until(live, Box::pin(ended));
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(s),
    )
        .into_response()
}

async fn take_ticket(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(req): JsonBody<DeviceTicketRequest>,
) -> Result<(StatusCode, Json<IssuedTicket>), AppError> {
    if device.training {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "培训模式的终端不取真实排队号",
        ));
    }
    match server
        .device_tickets
        .try_hit(&device.id, std::time::Instant::now())
    {
        Ok(()) => {}
        Err(Refusal::Wait(wait)) => {
            tracing::warn!(device = %device.id, "A terminal asked for tickets too fast.");
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("取号太频繁，请 {} 秒后再试", wait.as_secs().max(1)),
            ));
        }
        // Not the terminal's doing: it issues from its leased numbers meanwhile.
        Err(Refusal::Uncounted) => {
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "服务器暂时不能发号",
            ));
        }
    }
    let t = tokio::task::spawn_blocking(move || crate::queue::issue(&server, &device, &req))
        .await
        .map_err(AppError::internal)??;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Leases for today's numbers: each business type of the terminal's hall at most once per
/// request, and at most `queue_leases_per_terminal` blocks per type a day.
async fn leases(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(req): JsonBody<LeaseRequest>,
) -> Result<Json<Vec<NumberLease>>, AppError> {
    if device.training {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "培训模式的终端不租真实号码",
        ));
    }
    let hall = server
        .halls
        .get(&device.hall)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "已发布的内容里没有本终端的大厅"))?;
    if req.wants.len() > hall.business_types.len() {
        return Err(AppError::bad_request(format!(
            "一次最多租 {} 段号码（每类业务一段）",
            hall.business_types.len()
        )));
    }
    let today = crate::clock::day(server.clock.local_now());
    let mut wants: Vec<(String, String)> = Vec::new();
    for w in req.wants {
        if hall.business(&w.prefix).is_none() {
            return Err(AppError::bad_request(format!(
                "本大厅没有“{}”类业务",
                w.prefix
            )));
        }
        if w.day != today {
            return Err(AppError::bad_request(format!(
                "只能租今天（{today}）的号码，不能租 {}",
                w.day
            )));
        }
        if wants.iter().any(|(_, p)| *p == w.prefix) {
            return Err(AppError::bad_request(format!(
                "同一请求里重复租“{}”类号码",
                w.prefix
            )));
        }
        wants.push((w.day, w.prefix));
    }
    let size = server.config.queue_lease_block;
    let cap = server.config.queue_leases_per_terminal;
    let now = crate::clock::stamp(server.clock.local_now());
    let granted = tokio::task::spawn_blocking(move || {
        server
            .storage
            .lease_blocks(&device.hall, &device.id, &wants, size, cap, &now)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    Ok(Json(granted))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
    }
}
