//! Publishing an approved change set: its records laid over the latest published version
//! (never over a record someone published since the set's base: the set fails, naming it),
//! the result validated, then published live; and any earlier version published again as the
//! next one (rollback). Blocking: call on a blocking thread.

use std::sync::Mutex;

use axum::http::StatusCode;
use menpai_model::bundle;

use super::diff;
use crate::Server;
use crate::content;
use crate::error::AppError;
use crate::storage::{ChangeSet, ChangeState, StorageError};

/// One studio publish at a time in this process: each merges over the version the previous
/// one made.
static PUBLISHING: Mutex<()> = Mutex::new(());

/// The region-wide lock of publishing (PostgreSQL advisory lock key), for every replica.
const PUBLISHING_LOCK: i64 = 0x6d65_6e70_7562;

/// Runs `f` while no other studio publish (or admin import publish) runs, on any replica.
pub fn one_at_a_time<T>(server: &Server, f: impl FnOnce() -> T) -> Result<T, AppError> {
    let _here = PUBLISHING.lock().unwrap_or_else(|e| e.into_inner());
    let _region = server
        .storage
        .exclusively(PUBLISHING_LOCK)
        .map_err(AppError::internal)?;
    Ok(f())
}

/// Publishes the approved change set `set` (now due); returns it as it ends: published, or
/// failed with why (audited either way). A set another thread published meanwhile is left as
/// it is.
pub fn change_set(server: &Server, set: &ChangeSet) -> Result<ChangeSet, AppError> {
    let reread = || {
        server
            .storage
            .change_set(set.id)
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::internal("a change set vanished"))
    };
    one_at_a_time(server, || {
        let set = reread()?;
        if set.state != ChangeState::Approved {
            return Ok(set);
        }
        let by = set.reviewer.clone().unwrap_or_else(|| set.editor.clone());
        // A scheduled set publishes only while whoever approved it still may.
        let still_may = match server.storage.operator_by_name(&by) {
            Ok(Some(op)) => {
                !op.disabled && op.role.allows(crate::storage::Role::Reviewer) && by != set.editor
            }
            _ => false,
        };
        let published = if still_may {
            merge_and_publish(server, &set, &by)
        } else {
            Err(format!(
                "审核人 {by} 已停用或不再是内容审核，没有发布：请重新提交审核"
            ))
        };
        let (version, outcome) = match published {
            Ok(v) => (
                Ok(v.clone()),
                (
                    "studio.publish",
                    format!("#{} {} → {v}", set.id, set.title),
                    "ok",
                ),
            ),
            Err(reason) => (
                Err(reason.clone()),
                (
                    "studio.failed",
                    format!("#{} {}: {reason}", set.id, set.title),
                    "failed",
                ),
            ),
        };
        server
            .storage
            .finish(set.id, version.as_deref().map_err(String::as_str))
            .map_err(AppError::internal)?;
        let _ = server.storage.audit(&by, outcome.0, &outcome.1, outcome.2);
        reread()
    })?
}

/// The set's records over the latest published pack, published; or why not (plain Chinese).
fn merge_and_publish(server: &Server, set: &ChangeSet, by: &str) -> Result<String, String> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, id = set.id, "Publishing a change set failed.");
        "服务器内部错误，没有发布".to_owned()
    };
    let mut pack = content::latest_pack(server.storage.as_ref())
        .map_err(|e| internal(&e))?
        .ok_or_else(|| "还没有发布过内容".to_owned())?;
    let records = server
        .storage
        .change_set_records(set.id)
        .map_err(|e| internal(&e))?;
    let known = super::files::refs::known(&pack);
    let changed_since: Vec<String> = records
        .iter()
        .filter(|r| super::record_sha(&pack, &r.kind, &r.key) != r.base_sha)
        .map(|r| {
            let body = menpai_model::bundle::record(&pack, &r.kind, &r.key)
                .or_else(|| r.body.clone())
                .and_then(|b| serde_json::from_slice(&b).ok());
            diff::title(&r.kind, &r.key, body.as_ref())
        })
        .collect();
    if !changed_since.is_empty() {
        return Err(format!(
            "提交后这些记录已被其他发布修改，为免覆盖没有发布：{}。请撤回后在最新内容上重新修改",
            changed_since.join("、")
        ));
    }
    for r in &records {
        bundle::apply_record(&mut pack, &r.kind, &r.key, r.body.as_deref())
            .map_err(|e| format!("{} 的内容读不出：{e}", diff::title(&r.kind, &r.key, None)))?;
    }
    super::in_order(&mut pack);
    if let Err(errors) = pack.validate() {
        let listed: Vec<String> = errors
            .iter()
            .take(10)
            .map(|e| format!("{} {}：{}", e.record, e.field, e.message))
            .collect();
        return Err(format!(
            "合并后的内容有 {} 处问题，没有发布：{}",
            errors.len(),
            listed.join("；")
        ));
    }
    let missing: Vec<String> = pack
        .file_refs()
        .filter(|f| !pack.files.contains_key(&f.sha256))
        .filter(|f| !server.storage.has_blob(&f.sha256).unwrap_or(false))
        .map(|f| format!("“{}”", f.name))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "这些文件没有上传，没有发布：{}",
            missing.join("、")
        ));
    }
    // Checked again at publish: the files the set brings are what its references say.
    super::files::refs::check_new(server, &known, pack.file_refs())?;
    let detail = format!("变更 #{} {}", set.id, set.title);
    match content::publish_live(server, pack, by, &detail) {
        Ok((version, _)) => Ok(version),
        Err(StorageError::Conflict(m)) => Err(m),
        Err(e) => Err(internal(&e)),
    }
}

/// A version's name from a path (`2026.12.04-2`), or 404 before anything is looked up.
pub fn version_name(raw: &str) -> Result<&str, AppError> {
    let plain = raw.len() <= 40
        && !raw.is_empty()
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if plain {
        Ok(raw)
    } else {
        Err(AppError::new(StatusCode::NOT_FOUND, "没有这个版本"))
    }
}

/// Publishes version `version`'s content again as the next version (rollback).
pub fn republish(server: &Server, version: &str, by: &str) -> Result<String, AppError> {
    let v = server
        .storage
        .published_version(version)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, format!("没有版本 {version}")))?;
    let mut pack = content::pack_of(server.storage.as_ref(), &v).map_err(AppError::internal)?;
    super::in_order(&mut pack);
    // Published once does not mean valid under today's rules.
    if let Err(errors) = pack.validate() {
        let _ = server
            .storage
            .audit(by, "content.republish", version, "refused");
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "版本 {version} 按现在的规则有 {} 处问题，不能重新发布：{}",
                errors.len(),
                errors[0]
            ),
        ));
    }
    let detail = format!("回滚到 {version}");
    let (new_version, _) =
        one_at_a_time(server, || content::publish_live(server, pack, by, &detail))?.map_err(
            |e| match e {
                StorageError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
                e => AppError::internal(e),
            },
        )?;
    let _ = server.storage.audit(
        by,
        "content.republish",
        &format!("{version} → {new_version}"),
        "ok",
    );
    Ok(new_version)
}

/// One published version as the versions list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub version: String,
    pub published_at: String,
    pub published_by: String,
    /// The change set it published, if it came from one.
    pub change_set: Option<i64>,
    pub change_title: Option<String>,
    /// The earlier version it republished, if it was a rollback.
    pub rollback_of: Option<String>,
}

/// The latest versions, newest first, each with the change set it published.
pub fn history(server: &Server, limit: usize) -> Result<Vec<Published>, AppError> {
    let sets = server
        .storage
        .change_sets(&[ChangeState::Published], limit * 4)
        .map_err(AppError::internal)?;
    // Rollbacks are known by their audit lines: `old → new`.
    let filter = crate::storage::operators::AuditFilter {
        action: Some("content.republish".into()),
        ..Default::default()
    };
    let rollbacks: Vec<(String, String)> = server
        .storage
        .audit_search(&filter, limit * 4)
        .map_err(AppError::internal)?
        .into_iter()
        .filter_map(|e| {
            let (old, new) = e.detail.split_once(" → ")?;
            Some((new.to_owned(), old.to_owned()))
        })
        .collect();
    Ok(server
        .storage
        .versions(limit)
        .map_err(AppError::internal)?
        .into_iter()
        .map(|v| {
            let set = sets
                .iter()
                .find(|s| s.published_version.as_deref() == Some(v.version.as_str()));
            Published {
                rollback_of: rollbacks
                    .iter()
                    .find(|(new, _)| *new == v.version)
                    .map(|(_, old)| old.clone()),
                change_set: set.map(|s| s.id),
                change_title: set.map(|s| s.title.clone()),
                version: v.version,
                published_at: v.published_at,
                published_by: v.published_by,
            }
        })
        .collect())
}
