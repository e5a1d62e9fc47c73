//! The change sets' steps: an editor submits their draft (refused while the content it makes
//! does not validate) or takes a set back; a reviewer approves it (published now, or at a time)
//! or returns it with a comment. Each step audited. Blocking: call on a blocking thread.

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::json;

use super::access;
use crate::Server;
use crate::error::AppError;
use crate::operators::Session;
use crate::storage::{ChangeSet, StorageError};

/// Longest title and comment, in characters.
pub const MAX_TITLE: usize = 100;
pub const MAX_COMMENT: usize = 1_000;
/// How far ahead a publish may be scheduled.
const MAX_AHEAD_DAYS: i64 = 366;

fn storage_error(e: StorageError) -> AppError {
    match e {
        StorageError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
        e => AppError::internal(e),
    }
}

fn now(server: &Server) -> String {
    crate::clock::stamp(server.clock.local_now())
}

/// The change set `id`, or 404.
pub fn find(server: &Server, id: i64) -> Result<ChangeSet, AppError> {
    server
        .storage
        .change_set(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, format!("没有变更 #{id}")))
}

/// Submits the editor's whole draft for review as one change set.
pub fn submit(server: &Server, s: &Session, title: &str) -> Result<ChangeSet, AppError> {
    let op = access::editor(server, s, "studio.submit")?;
    let title = title.trim();
    if title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("标题最多 {MAX_TITLE} 个字，不能含控制字符"),
        ));
    }
    let title = if title.is_empty() {
        "内容修改"
    } else {
        title
    };
    let current = super::published(server)?;
    let pack = super::draft_pack(server, &op.name)?;
    if let Err(errors) = pack.validate() {
        let _ = server.storage.audit(
            &op.name,
            "studio.submit",
            &format!("{title}: {} 处问题", errors.len()),
            "refused",
        );
        let problems: Vec<_> = errors
            .iter()
            .take(crate::content::MAX_SHOWN)
            .map(|e| json!({"record": e.record, "field": e.field, "message": e.message}))
            .collect();
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "草稿有 {} 处问题，改好后才能提交审核：{}",
                errors.len(),
                errors
                    .iter()
                    .take(5)
                    .map(|e| format!("{} {}：{}", e.record, e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("；")
            ),
        )
        .with_details(json!({"problems": problems, "total": errors.len()})));
    }
    let id = server
        .storage
        .submit(&op.name, title, &current.version, &now(server))
        .map_err(|e| match e {
            StorageError::Conflict(m) => AppError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            e => AppError::internal(e),
        })?;
    let set = find(server, id)?;
    let _ = server.storage.audit(
        &op.name,
        "studio.submit",
        &format!(
            "#{id} {title}（{} 条记录，基于 {}）",
            set.records, set.base_version
        ),
        "ok",
    );
    Ok(set)
}

/// Takes the editor's own submitted, returned or failed set back into their draft; with the
/// titles of its records published anew meanwhile (the draft now starts from those).
pub fn withdraw(
    server: &Server,
    s: &Session,
    id: i64,
) -> Result<(ChangeSet, Vec<String>), AppError> {
    let op = access::editor(server, s, "studio.withdraw")?;
    let set = find(server, id)?;
    if set.editor != op.name {
        let _ = server
            .storage
            .audit(&op.name, "studio.withdraw", &format!("#{id}"), "forbidden");
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "只能撤回自己提交的变更",
        ));
    }
    server
        .storage
        .withdraw(id, &op.name, &now(server))
        .map_err(storage_error)?;
    let rebased = rebase_draft(server, &op.name)?;
    let _ = server.storage.audit(
        &op.name,
        "studio.withdraw",
        &format!("#{id} {}", set.title),
        "ok",
    );
    Ok((find(server, id)?, rebased))
}

/// Draft records whose published record changed since their edit began now start from the
/// published one: a new submission is reviewed against it (the diff shows what the editor's
/// version undoes) instead of failing again. Their titles, for the editor to check.
fn rebase_draft(server: &Server, editor: &str) -> Result<Vec<String>, AppError> {
    let current = super::published(server)?;
    let mut rebased = Vec::new();
    for r in server.storage.draft(editor).map_err(AppError::internal)? {
        let now_sha = super::record_sha(&current.pack, &r.kind, &r.key);
        if now_sha == r.base_sha {
            continue;
        }
        server
            .storage
            .rebase_draft(editor, &r.kind, &r.key, now_sha.as_deref())
            .map_err(AppError::internal)?;
        let body = menpai_model::bundle::record(&current.pack, &r.kind, &r.key)
            .and_then(|b| serde_json::from_slice(&b).ok());
        rebased.push(super::diff::title(&r.kind, &r.key, body.as_ref()));
    }
    Ok(rebased)
}

/// A reviewer's decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approve: bool,
    pub comment: String,
    /// Local (China Standard Time) moment to publish at; `None`: at once.
    pub publish_at: Option<NaiveDateTime>,
}

/// Reads a `datetime-local` value (`2026-12-05T08:00`, China time); empty: none.
pub fn parse_publish_at(raw: Option<&str>) -> Result<Option<NaiveDateTime>, AppError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Ok(None);
    }
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
    .map(Some)
    .ok_or_else(|| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "定时发布时间应写成 2026-12-05T08:00（北京时间）",
        )
    })
}

/// Approves (publishing now, or scheduling) or returns submitted change set `id`.
pub fn review(server: &Server, s: &Session, id: i64, d: &Decision) -> Result<ChangeSet, AppError> {
    let action = if d.approve {
        "studio.approve"
    } else {
        "studio.return"
    };
    let op = access::reviewer(server, s, action, &format!("#{id}"))?;
    let set = find(server, id)?;
    access::not_own(server, s, &set, action)?;
    let comment = d.comment.trim();
    if comment.chars().count() > MAX_COMMENT {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("意见最多 {MAX_COMMENT} 个字"),
        ));
    }
    if !d.approve && comment.is_empty() {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "退回时请写明需要修改的地方",
        ));
    }
    // Approved means seen: a set whose diff is too long to list whole is split first.
    if d.approve
        && crate::studio::diff::of_set(server, &set)?
            .iter()
            .any(|r| r.more > 0)
    {
        let _ = server.storage.audit(
            &op.name,
            action,
            &format!("#{id}: diff not listed whole"),
            "refused",
        );
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "这个变更有记录改了超过 {} 处，审核页列不全，不能通过：请退回，让提交人分几次提交",
                crate::studio::diff::MAX_FIELDS
            ),
        ));
    }
    let local_now = server.clock.local_now();
    let publish_at = match d.publish_at.filter(|_| d.approve) {
        Some(at) if at <= local_now => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "定时发布时间已过，请选以后的时间，或留空立即发布",
            ));
        }
        Some(at) if at > local_now + chrono::Duration::days(MAX_AHEAD_DAYS) => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "定时发布时间最多在一年之内",
            ));
        }
        at => at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
    };
    let reviewed = server
        .storage
        .review(
            id,
            &op.name,
            d.approve,
            comment,
            publish_at.as_deref(),
            &crate::clock::stamp(local_now),
        )
        .map_err(storage_error)?;
    let _ = server.storage.audit(
        &op.name,
        action,
        &format!("#{id} {}：{comment}", set.title),
        "ok",
    );
    if !d.approve {
        return Ok(reviewed);
    }
    match &publish_at {
        Some(at) => {
            let _ = server.storage.audit(
                &op.name,
                "studio.schedule",
                &format!("#{id} {} 定于 {at} 发布", set.title),
                "ok",
            );
            Ok(reviewed)
        }
        None => super::publish::change_set(server, &reviewed),
    }
}

/// What an import put into the importer's draft, by `kind key`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Drafted {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl Drafted {
    pub fn count(&self) -> usize {
        self.added.len() + self.changed.len() + self.removed.len()
    }
}

/// Puts every record of an imported `pack` that differs from the published version (added,
/// changed, or missing from the import: removed) into `editor`'s draft.
pub fn import_into_draft(
    server: &Server,
    editor: &str,
    pack: &menpai_model::ContentPack,
) -> Result<Drafted, AppError> {
    use menpai_model::bundle;
    let current = super::published(server)?;
    let mut published: std::collections::BTreeMap<(&str, String), String> =
        bundle::records(&current.pack)
            .into_iter()
            .map(|r| ((r.kind, r.key.clone()), r.sha256()))
            .collect();
    let at = now(server);
    let mut drafted = Drafted::default();
    let put = |kind: &str, key: &str, body: Option<Vec<u8>>, base_sha: Option<String>| {
        server
            .storage
            .put_draft(
                editor,
                &crate::storage::ChangedRecord {
                    kind: kind.to_owned(),
                    key: key.to_owned(),
                    body,
                    base_sha,
                    updated_at: at.clone(),
                },
            )
            .map_err(AppError::internal)
    };
    for r in bundle::records(pack) {
        let sha = r.sha256();
        let name = format!("{} {}", r.kind, r.key);
        match published.remove(&(r.kind, r.key.clone())) {
            Some(base) if base == sha => continue,
            Some(base) => {
                put(r.kind, &r.key, Some(r.body), Some(base))?;
                drafted.changed.push(name);
            }
            None => {
                put(r.kind, &r.key, Some(r.body), None)?;
                drafted.added.push(name);
            }
        }
    }
    for ((kind, key), base) in published {
        put(kind, &key, None, Some(base))?;
        drafted.removed.push(format!("{kind} {key}"));
    }
    for names in [
        &mut drafted.added,
        &mut drafted.changed,
        &mut drafted.removed,
    ] {
        names.sort();
    }
    Ok(drafted)
}
