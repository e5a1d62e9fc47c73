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

pub mod access;
mod api;
pub mod diff;
pub mod editor;
pub mod files;
pub mod publish;
mod review;
pub mod schedule;
mod set_preview;
pub mod workflow;

/// The studio's routes (operators' listener).
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .merge(review::routes())
        .merge(set_preview::routes())
        .merge(api::routes())
        .merge(files::routes())
        .merge(editor::routes())
}

/// Runs studio work (storage, publishing) off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)?
}

/// A change set's number from the path, or 404.
fn set_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::new(axum::http::StatusCode::NOT_FOUND, "没有这个变更"))
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
    in_order(&mut pack);
    Ok(pack)
}

/// Change set `id`'s records laid over the latest published version: what publishing it
/// would make (were nothing published since).
pub fn set_pack(server: &Server, id: i64) -> Result<ContentPack, AppError> {
    let mut pack = published(server)?.pack.clone();
    for r in server
        .storage
        .change_set_records(id)
        .map_err(AppError::internal)?
    {
        bundle::apply_record(&mut pack, &r.kind, &r.key, r.body.as_deref())
            .map_err(AppError::internal)?;
    }
    in_order(&mut pack);
    Ok(pack)
}

/// Puts a pack's records in key order, as a pack directory lists them (a pack read back from
/// its bundle comes in shard order).
pub fn in_order(pack: &mut ContentPack) {
    pack.items.sort_by(|a, b| a.id.cmp(&b.id));
    pack.outlets.sort_by(|a, b| a.id.cmp(&b.id));
    pack.floor_plans.sort_by(|a, b| a.hall.cmp(&b.hall));
    pack.faqs.sort_by(|a, b| a.id.cmp(&b.id));
    pack.slides.sort_by(|a, b| a.id.cmp(&b.id));
    pack.forms.sort_by(|a, b| a.id.cmp(&b.id));
    pack.notices.sort_by(|a, b| a.id.cmp(&b.id));
}

/// The SHA-256 of record `kind`/`key` in `pack`, if it has it.
pub fn record_sha(pack: &ContentPack, kind: &str, key: &str) -> Option<String> {
    bundle::record(pack, kind, key).map(|b| bundle::sha256_hex(&b))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_hashes_as_the_bundle_lists_it() {
        let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
        for r in bundle::records(&pack) {
            assert_eq!(
                record_sha(&pack, r.kind, &r.key),
                Some(r.sha256()),
                "{}",
                r.key
            );
        }
        assert_eq!(record_sha(&pack, "item", "no such item"), None);
    }
}
