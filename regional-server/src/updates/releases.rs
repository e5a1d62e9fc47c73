//! Releases: an admin uploads a RAUC bundle; it is taken only when RAUC itself verifies its
//! signature against the release CA (`rauc info --keyring`), and kept by its SHA-256 in the
//! bundles directory, which a region's replicas share.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::Server;
use crate::error::AppError;
use crate::operators::{Role, Session};
use crate::storage::Release;

/// How long `rauc info` may take on a bundle.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(120);

/// What RAUC read from a bundle whose signature it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub version: String,
    pub compatible: String,
    pub signer: String,
}

/// Has RAUC verify `bundle` against `keyring` and read its manifest.
pub async fn verify(bundle: &Path, keyring: &Path) -> Result<Verified, String> {
    let run = tokio::process::Command::new("rauc")
        .arg("info")
        .arg(format!("--keyring={}", keyring.display()))
        .arg("--output-format=json")
        .arg(bundle)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(VERIFY_TIMEOUT, run)
        .await
        .map_err(|_| "校验超时".to_owned())?
        .map_err(|e| format!("无法运行 rauc（请安装 Debian 的 rauc 包）：{e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let why = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("rauc-Message"))
            .unwrap_or("rauc 拒绝了这个文件");
        return Err(format!(
            "签名或格式校验未通过：{}",
            why.chars().take(200).collect::<String>()
        ));
    }
    let info: Value =
        serde_json::from_slice(&out.stdout).map_err(|_| "rauc 的输出无法读取".to_owned())?;
    let field = |k: &str| info[k].as_str().unwrap_or_default().trim().to_owned();
    let (version, compatible) = (field("version"), field("compatible"));
    if version.is_empty() || compatible.is_empty() {
        return Err("更新包的清单缺少 version 或 compatible".into());
    }
    let bounded = |s: &str| s.chars().count() <= 64 && !s.chars().any(char::is_control);
    if !bounded(&version) || !bounded(&compatible) {
        return Err("更新包的 version 或 compatible 不合规".into());
    }
    // "Verified detached signature by 'CN = Menpai Release'"
    let signer = stderr
        .lines()
        .find_map(|l| {
            l.split_once("signature by '")
                .map(|(_, r)| r.trim_end_matches('\''))
        })
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    Ok(Verified {
        version,
        compatible,
        signer,
    })
}

/// Where a release's file is kept.
pub fn bundle_path(server: &Server, sha256: &str) -> PathBuf {
    server.config.bundles_dir().join(format!("{sha256}.raucb"))
}

/// Streams `body` into `path`, at most `limit` bytes; its size and SHA-256.
async fn receive(body: Body, path: &Path, limit: u64) -> Result<(u64, String), AppError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(AppError::internal)?;
    let (mut size, mut sha) = (0u64, Sha256::new());
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::bad_request("上传中断了，请重新上传"))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("更新包不能超过 {} MB", limit >> 20),
            ));
        }
        sha.update(&chunk);
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    file.sync_all().await.map_err(AppError::internal)?;
    Ok((size, hex::encode(sha.finalize())))
}

/// `POST /api/v1/admin/releases`: the bundle's bytes as the body. Admins only.
pub async fn upload(
    State(server): State<Arc<Server>>,
    s: Session,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let audit = |who: &str, detail: &str, outcome: &str| {
        let _ = server.storage.audit(who, "release.upload", detail, outcome);
    };
    if let Err(e) = crate::web::check_json_change(&headers) {
        audit(&s.0.name, "", "forged");
        return Err(e);
    }
    let op = s
        .require(Role::Admin)
        .inspect_err(|_| audit(&s.0.name, "", "forbidden"))?
        .name
        .clone();
    let result = receive_and_take(&server, &headers, body, &op).await;
    match &result {
        Ok((_, v)) => audit(
            &op,
            &format!(
                "{} {} sha256 {}",
                v["id"].as_str().unwrap_or_default(),
                v["version"].as_str().unwrap_or_default(),
                v["sha256"].as_str().unwrap_or_default()
            ),
            "ok",
        ),
        Err(e) => audit(&op, "", &e.message.chars().take(200).collect::<String>()),
    }
    result
}

/// Removes an upload's part file however the upload ends (taken, refused, cut, timed out).
struct PartFile(PathBuf);

impl Drop for PartFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn receive_and_take(
    server: &Arc<Server>,
    headers: &HeaderMap,
    body: Body,
    op: &str,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let keyring = server.config.release_keyring.clone();
    if keyring.as_os_str().is_empty() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "服务器没有配置发布证书（release_keyring），不能接收更新包",
        ));
    }
    let limit = server.config.release_max_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("更新包不能超过 {} MB", limit >> 20),
        ));
    }
    let dir = server.config.bundles_dir();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AppError::internal)?;
    let part = PartFile(dir.join(format!("upload-{}.part", &crate::web::random_token()[..16])));
    take(server, body, &part.0, &keyring, limit, op).await
}

async fn take(
    server: &Arc<Server>,
    body: Body,
    part: &Path,
    keyring: &Path,
    limit: u64,
    op: &str,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let (size, sha256) = receive(body, part, limit).await?;
    if let Some(r) = server
        .storage
        .release_by_sha(&sha256)
        .map_err(AppError::internal)?
    {
        return Ok((StatusCode::OK, Json(view(&r))));
    }
    let v = verify(part, keyring)
        .await
        .map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    tokio::fs::rename(part, bundle_path(server, &sha256))
        .await
        .map_err(AppError::internal)?;
    let release = Release {
        id: format!("rel-{}", &sha256[..12]),
        version: v.version,
        compatible: v.compatible,
        size,
        sha256,
        signer: v.signer,
        uploaded_by: op.to_owned(),
        uploaded_ms: chrono::Utc::now().timestamp_millis(),
    };
    server
        .storage
        .add_release(&release)
        .map_err(AppError::internal)?;
    Ok((StatusCode::CREATED, Json(view(&release))))
}

pub fn view(r: &Release) -> Value {
    json!({
        "id": r.id,
        "version": r.version,
        "compatible": r.compatible,
        "size": r.size,
        "sha256": r.sha256,
        "signer": r.signer,
        "uploaded_by": r.uploaded_by,
        "uploaded_ms": r.uploaded_ms,
    })
}
