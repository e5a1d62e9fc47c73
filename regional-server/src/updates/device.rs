//! The terminals' side of updates (mTLS): what to install, the bundle itself by ranges (a cut
//! link resumes where it stopped), and each step reported back.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use menpai_model::update::{UpdateAnswer, UpdateOffer, UpdateReport};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::Server;
use crate::devices::Terminal;
use crate::error::{AppError, JsonBody};
use crate::storage::{Release, RolloutState};

type S = State<Arc<Server>>;

/// Bytes read from the bundle per chunk sent.
const CHUNK: usize = 64 * 1024;
/// Update requests a terminal may make a minute: a broken or hostile one cannot load the
/// database or hold many downloads open.
pub const REQUESTS_PER_MINUTE: u32 = 120;

/// Counts a request of `device` (blocking: the count may live in the shared database).
fn paced(server: &Server, device: &str) -> Result<(), AppError> {
    server
        .update_requests
        .hit(device, std::time::Instant::now())
        .map_err(|wait| {
            tracing::warn!(%device, "A terminal asked about updates too often.");
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("请求太频繁，请 {} 秒后再试", wait.as_secs().max(1)),
            )
        })
}

/// What terminals ask and report (small bodies).
pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/update", get(offer).post(report))
}

/// The bundle download: no request timeout (a slow link takes long; ranges resume it).
pub fn download_routes() -> Router<Arc<Server>> {
    Router::new().route("/device/v1/releases/{id}/bundle", get(bundle))
}

/// The release `device` is to install now, if any; and whether its rollout is paused.
fn offered(server: &Server, device: &str) -> Result<(Option<Release>, bool), AppError> {
    let Some((r, t)) = server
        .storage
        .device_rollout(device)
        .map_err(AppError::internal)?
    else {
        return Ok((None, false));
    };
    if t.group >= r.open_groups {
        return Ok((None, false));
    }
    if r.state == RolloutState::Paused {
        return Ok((None, true));
    }
    let release = server
        .storage
        .release_by_id(&r.release)
        .map_err(AppError::internal)?;
    Ok((release, false))
}

async fn offer(
    State(server): S,
    Terminal(device): Terminal,
) -> Result<Json<UpdateAnswer>, AppError> {
    let s = server.clone();
    let id = device.id.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<UpdateAnswer, AppError> {
        paced(&s, &id)?;
        let (release, paused) = offered(&s, &id)?;
        let rollout = s
            .storage
            .device_rollout(&id)
            .map_err(AppError::internal)?
            .map(|(r, _)| r.id);
        Ok(UpdateAnswer {
            offer: release.zip(rollout).map(|(rel, rollout)| UpdateOffer {
                rollout,
                path: format!("/device/v1/releases/{}/bundle", rel.id),
                release: rel.id,
                version: rel.version,
                compatible: rel.compatible,
                size: rel.size,
                sha256: rel.sha256,
            }),
            paused,
        })
    })
    .await
    .map_err(AppError::internal)??;
    Ok(Json(answer))
}

async fn report(
    State(server): S,
    Terminal(device): Terminal,
    JsonBody(r): JsonBody<UpdateReport>,
) -> Result<Json<Value>, AppError> {
    r.check().map_err(AppError::bad_request)?;
    let s = server.clone();
    tokio::task::spawn_blocking(move || -> Result<Json<Value>, AppError> {
        paced(&s, &device.id)?;
        let now = chrono::Utc::now().timestamp_millis();
        s.storage
            .set_system(&device.id, &r.system, now)
            .map_err(AppError::internal)?;
        let (Some(rollout), Some(phase)) = (&r.rollout, r.phase) else {
            return Ok(Json(json!({ "ok": true })));
        };
        let detail: String = r.detail.chars().take(300).collect();
        let kept = s
            .storage
            .set_phase(rollout, &device.id, phase, &detail, now)
            .map_err(AppError::internal)?;
        if !kept {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                "这台终端不在这个发布计划里，或已结束",
            ));
        }
        if phase.is_final() {
            let _ = s.storage.audit_in_hall(
                "system",
                &format!("update.{}", phase.name()),
                &device.hall,
                &format!("{rollout} {} {} {detail}", device.id, r.system.version),
                if phase.is_failure() { "failed" } else { "ok" },
            );
        }
        super::advance(&s, rollout);
        Ok(Json(json!({ "ok": true })))
    })
    .await
    .map_err(AppError::internal)?
}

/// `bytes=START-` or `bytes=START-END` → the inclusive range within `size`.
fn range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let spec = v.to_str().map_err(|_| ())?.trim();
    let (start, end) = spec
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or(())?;
    let start: u64 = start.trim().parse().map_err(|_| ())?;
    let end = match end.trim() {
        "" => size.saturating_sub(1),
        e => e
            .parse::<u64>()
            .map_err(|_| ())?
            .min(size.saturating_sub(1)),
    };
    if start >= size || end < start {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// The bundle of a release this terminal is offered now, whole or a range of it.
async fn bundle(
    State(server): S,
    Terminal(device): Terminal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let s = server.clone();
    let dev = device.id.clone();
    let (release, paused) = tokio::task::spawn_blocking(move || {
        paced(&s, &dev)?;
        offered(&s, &dev)
    })
    .await
    .map_err(AppError::internal)??;
    if paused {
        // The terminal keeps what it has and asks again later.
        return Err(AppError::new(StatusCode::CONFLICT, "发布已暂停"));
    }
    let release = release
        .filter(|r| r.id == id)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "这台终端现在没有这个更新"))?;
    let path = super::releases::bundle_path(&server, &release.sha256);
    let mut file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "A release's bundle is missing.");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, "更新包暂时取不到")
    })?;
    let size = release.size;
    let Ok(wanted) = range(&headers, size) else {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response());
    };
    let (start, end) = wanted.unwrap_or((0, size.saturating_sub(1)));
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(AppError::internal)?;
    let length = if size == 0 { 0 } else { end - start + 1 };
    let body = futures_util::stream::unfold((file, length), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; CHUNK.min(left as usize)];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (f, left - n as u64)))
            }
            Err(e) => Some((Err(e), (f, 0))),
        }
    });
    let mut res = Response::new(Body::from_stream(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().unwrap(),
    );
    h.insert(header::CONTENT_LENGTH, length.into());
    h.insert(header::ACCEPT_RANGES, "bytes".parse().unwrap());
    h.insert(
        header::ETAG,
        format!("\"{}\"", release.sha256).parse().unwrap(),
    );
    if wanted.is_some() {
        h.insert(
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{size}").parse().unwrap(),
        );
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::RANGE, v.parse().unwrap());
        m
    }

    #[test]
    fn ranges_within_the_bundle() {
        assert_eq!(range(&HeaderMap::new(), 100), Ok(None));
        assert_eq!(range(&h("bytes=10-"), 100), Ok(Some((10, 99))));
        assert_eq!(range(&h("bytes=10-19"), 100), Ok(Some((10, 19))));
        assert_eq!(range(&h("bytes=90-500"), 100), Ok(Some((90, 99))));
        assert!(range(&h("bytes=100-"), 100).is_err());
        assert!(range(&h("bytes=-5"), 100).is_err());
        assert!(range(&h("items=1-2"), 100).is_err());
    }
}
