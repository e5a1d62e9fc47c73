//! The studio's files: blank forms, filled-in samples and pictures uploaded by editors,
//! checked by their bytes and kept as blobs named by their SHA-256; and each uploaded file
//! served back to operators for review.

pub mod check;
pub mod refs;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use menpai_model::file::FileRef;
use serde::Deserialize;

use crate::Server;
use crate::error::{AppError, Upload};
use crate::operators::{Role, Session};
use crate::phone::downloads::file_response;
use crate::ratelimit::wait_words;

/// Uploads one editor may make in [`UPLOAD_WINDOW`].
pub const UPLOADS_PER_HOUR: u32 = 120;
pub const UPLOAD_WINDOW: Duration = Duration::from_secs(3600);

const ACTION: &str = "studio.upload";

/// Serving uploaded files back (operators' listener, any console role).
pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/studio/files/{sha}", get(serve))
}

/// The upload route: its body may be as large as a file ([`menpai_model::file::MAX_FILE_BYTES`]),
/// so it is bounded apart from the other routes.
pub fn upload_routes() -> Router<Arc<Server>> {
    Router::new().route("/api/v1/studio/files", post(upload))
}

#[derive(Debug, Deserialize)]
struct UploadParams {
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/v1/studio/files?name=…`: the raw bytes, their claimed type in `Content-Type`.
/// Stored only once every check passed; refusals are audited with their reason.
async fn upload(
    State(server): State<Arc<Server>>,
    s: Session,
    headers: HeaderMap,
    Query(p): Query<UploadParams>,
    body: Result<Upload, AppError>,
) -> Result<(StatusCode, Json<FileRef>), AppError> {
    let op = match s
        .require(Role::ContentEditor)
        .and_then(|op| crate::web::check_json_change(&headers).map(|()| op))
    {
        Ok(op) => op.name.clone(),
        Err(e) => {
            let _ = server.storage.audit(&s.0.name, ACTION, "", "forbidden");
            return Err(e);
        }
    };
    let name = p.name.unwrap_or_default();
    // The audit log shows the name on one line, bounded, whatever was sent.
    let shown_name: String = name
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let refused = |message: String, status: StatusCode| {
        let _ = server
            .storage
            .audit(&op, ACTION, &format!("{shown_name}: {message}"), "refused");
        AppError::new(status, message)
    };
    if let Err(wait) = server.studio_uploads.hit(&op, Instant::now()) {
        return Err(refused(
            format!("上传太频繁，请 {} 后再试", wait_words(wait)),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let bytes = match body {
        Ok(Upload(b)) => b,
        Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(refused(
                format!("文件超过 {} MB", menpai_model::file::MAX_FILE_BYTES >> 20),
                e.status,
            ));
        }
        Err(e) => return Err(refused(e.message, e.status)),
    };
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let s2 = server.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let file = check::check(&name, claimed.as_deref(), &bytes)?;
        s2.storage
            .put_blob(&file.sha256, &bytes)
            .map_err(|e| check::Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("保存失败：{e}"),
            })?;
        Ok::<_, check::Refusal>(file)
    })
    .await
    .map_err(AppError::internal)?;
    match checked {
        Ok(file) => {
            let _ = server.storage.audit(
                &op,
                ACTION,
                &format!(
                    "{} ({}, {} bytes) {}",
                    file.name, file.media_type, file.size, file.sha256
                ),
                "ok",
            );
            Ok((StatusCode::CREATED, Json(file)))
        }
        Err(r) => Err(refused(r.message, r.status)),
    }
}

/// `GET /studio/files/{sha}`: an uploaded file for review (editors, reviewers, admins), as the type its bytes are; pictures
/// shown, other files downloaded, never run by the browser.
async fn serve(
    State(server): State<Arc<Server>>,
    s: Session,
    Path(sha): Path<String>,
) -> Result<Response, AppError> {
    // Unpublished uploads are for the studio's people only.
    super::access::reader(&server, &s)?;
    let no_file = || AppError::new(StatusCode::NOT_FOUND, "没有这个文件");
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(no_file());
    }
    let s2 = server.clone();
    let sha2 = sha.to_ascii_lowercase();
    let bytes = tokio::task::spawn_blocking(move || s2.storage.blob(&sha2))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?
        .ok_or_else(no_file)?;
    // Blobs also hold the content's records: only what is a file of a kind we take is served.
    let media_type = check::sniff(&bytes).map_err(|_| no_file())?;
    let name = format!("{}.{}", &sha[..12], check::extension(media_type));
    Ok(file_response(bytes, media_type, &name, &name))
}
