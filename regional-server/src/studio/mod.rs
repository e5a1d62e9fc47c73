//! The content studio (内容编辑 → 审核 → 发布): editors change records in their own draft,
//! laid over the latest published version; a change set goes to a reviewer, who approves it
//! (publish now or at a time) or returns it; any earlier version can be published again.

use std::sync::Arc;

use axum::Router;
use menpai_model::ContentPack;
use menpai_model::bundle;

use crate::Server;
use crate::error::AppError;
use crate::storage::ChangedRecord;

/// The studio's routes (operators' listener).
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
}

/// The published content (its version and pack), or a clear refusal when nothing is.
pub fn published(server: &Server) -> Result<Arc<crate::phone::Current>, AppError> {
    server
        .phone
        .current()
        .ok_or_else(|| AppError::new(axum::http::StatusCode::CONFLICT, "还没有发布过内容"))
}

/// The editor's draft laid over the latest published version: the pack they see and preview.
pub fn draft_pack(server: &Server, editor: &str) -> Result<ContentPack, AppError> {
    let current = published(server)?;
    let mut pack = current.pack.clone();
    for r in server.storage.draft(editor).map_err(AppError::internal)? {
        bundle::apply_record(&mut pack, &r.kind, &r.key, r.body.as_deref())
            .map_err(AppError::internal)?;
    }
    pack.items.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(pack)
}

/// The SHA-256 of record `kind`/`key` in `pack`, if it has it.
pub fn record_sha(pack: &ContentPack, kind: &str, key: &str) -> Option<String> {
    bundle::records(pack)
        .into_iter()
        .find(|r| r.kind == kind && r.key == key)
        .map(|r| r.sha256())
}

/// Keeps one record's new body (`None`: removed) in the editor's draft, noting what it was in
/// the published version the first edit began from.
pub fn save_record(
    server: &Server,
    editor: &str,
    kind: &str,
    key: &str,
    body: Option<Vec<u8>>,
) -> Result<(), AppError> {
    let current = published(server)?;
    server
        .storage
        .put_draft(
            editor,
            &ChangedRecord {
                kind: kind.to_owned(),
                key: key.to_owned(),
                body,
                base_sha: record_sha(&current.pack, kind, key),
                updated_at: crate::clock::stamp(server.clock.local_now()),
            },
        )
        .map_err(AppError::internal)
}
