//! The content studio's drafts and change sets: what an editor changed against a published
//! version, submitted for a reviewer, approved to publish now or at a time, or returned.

use super::{Database, Exec, OptionalExt, Result, Row, StorageError};
use crate::params;

/// One record an editor changed: its new JSON body (`None`: removed) and its SHA-256 in the
/// version the edit began from (`None`: a new record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedRecord {
    pub kind: String,
    pub key: String,
    pub body: Option<Vec<u8>>,
    pub base_sha: Option<String>,
    pub updated_at: String,
}

/// Where a change set stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeState {
    /// Waiting for a reviewer.
    Submitted,
    /// Sent back to its editor with a comment.
    Returned,
    /// Approved; publishes at `publish_at` (or at once).
    Approved,
    Published,
    /// Approved but could not publish (a record changed meanwhile, a file missing): says why.
    Failed,
    /// Taken back by its editor into their draft.
    Withdrawn,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Submitted => "submitted",
            ChangeState::Returned => "returned",
            ChangeState::Approved => "approved",
            ChangeState::Published => "published",
            ChangeState::Failed => "failed",
            ChangeState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeState> {
        [
            ChangeState::Submitted,
            ChangeState::Returned,
            ChangeState::Approved,
            ChangeState::Published,
            ChangeState::Failed,
            ChangeState::Withdrawn,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// The state's name on pages.
    pub fn label(self) -> &'static str {
        match self {
            ChangeState::Submitted => "待审核",
            ChangeState::Returned => "已退回",
            ChangeState::Approved => "已通过，待发布",
            ChangeState::Published => "已发布",
            ChangeState::Failed => "发布失败",
            ChangeState::Withdrawn => "已撤回",
        }
    }
}

/// A change set as kept. Times are local (China Standard Time), `YYYY-MM-DD HH:MM:SS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub id: i64,
    pub editor: String,
    pub title: String,
    pub state: ChangeState,
    pub base_version: String,
    pub submitted_at: String,
    pub reviewer: Option<String>,
    pub reviewed_at: Option<String>,
    /// The reviewer's comment, or why publishing failed.
    pub comment: String,
    pub publish_at: Option<String>,
    pub published_version: Option<String>,
    /// How many records it changes.
    pub records: usize,
}

/// Drafts and change sets.
pub trait StudioStore {
    /// The editor's draft, by kind and key.
    fn draft(&self, editor: &str) -> Result<Vec<ChangedRecord>>;
    /// Keeps one changed record in the editor's draft (replacing an earlier edit of it; the
    /// first edit's `base_sha` stays).
    fn put_draft(&self, editor: &str, record: &ChangedRecord) -> Result<()>;
    /// Forgets the draft's change to one record (back to the published one).
    fn drop_draft(&self, editor: &str, kind: &str, key: &str) -> Result<()>;
    /// Moves the whole draft into a new submitted change set, in one transaction.
    fn submit(&self, editor: &str, title: &str, base_version: &str, at: &str) -> Result<i64>;
    fn change_set(&self, id: i64) -> Result<Option<ChangeSet>>;
    fn change_set_records(&self, id: i64) -> Result<Vec<ChangedRecord>>;
    /// Change sets in these states (all when empty), newest first.
    fn change_sets(&self, states: &[ChangeState], limit: usize) -> Result<Vec<ChangeSet>>;
    /// A reviewer's decision on a submitted change set: approved (to publish at
    /// `publish_at`, or at once) or returned, with a comment. Anything but a submitted one is
    /// a conflict.
    fn review(
        &self,
        id: i64,
        reviewer: &str,
        approve: bool,
        comment: &str,
        publish_at: Option<&str>,
        at: &str,
    ) -> Result<ChangeSet>;
    /// Approved change sets due at local time `now`, oldest first.
    fn due(&self, now: &str) -> Result<Vec<ChangeSet>>;
    /// An approved change set published as `version`, or failed with `reason`.
    fn finish(&self, id: i64, version: Result<&str, &str>) -> Result<()>;
    /// A returned (or submitted) change set back into its editor's draft: state withdrawn.
    fn withdraw(&self, id: i64, editor: &str, at: &str) -> Result<()>;
    /// Sets the version a draft record is based on (after its editor has seen the newer one).
    fn rebase_draft(
        &self,
        editor: &str,
        kind: &str,
        key: &str,
        base_sha: Option<&str>,
    ) -> Result<()>;
    /// The published version named `version`, if there is one.
    fn published_version(&self, version: &str) -> Result<Option<super::Version>>;
}

const SET_COLUMNS: &str = "c.id, c.editor, c.title, c.state, c.base_version, c.submitted_at, \
    c.reviewer, c.reviewed_at, c.comment, c.publish_at, c.published_version, \
    (SELECT COUNT(*) FROM change_set_records r WHERE r.change_set = c.id)";

fn set_row(r: &Row) -> Result<ChangeSet> {
    let state: String = r.get(3)?;
    Ok(ChangeSet {
        id: r.get(0)?,
        editor: r.get(1)?,
        title: r.get(2)?,
        state: ChangeState::parse(&state).unwrap_or(ChangeState::Failed),
        base_version: r.get(4)?,
        submitted_at: r.get(5)?,
        reviewer: r.get(6)?,
        reviewed_at: r.get(7)?,
        comment: r.get(8)?,
        publish_at: r.get(9)?,
        published_version: r.get(10)?,
        records: r.get(11)?,
    })
}

fn record_row(r: &Row) -> Result<ChangedRecord> {
    Ok(ChangedRecord {
        kind: r.get(0)?,
        key: r.get(1)?,
        body: r.get(2)?,
        base_sha: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

fn one_set(db: &impl Exec, id: i64) -> Result<Option<ChangeSet>> {
    db.query_row(
        &format!("SELECT {SET_COLUMNS} FROM change_sets c WHERE c.id = ?1"),
        [id],
        set_row,
    )
    .optional()
}

impl StudioStore for Database {
    fn draft(&self, editor: &str) -> Result<Vec<ChangedRecord>> {
        self.query_map(
            "SELECT kind, key, body, base_sha, updated_at FROM draft_records \
             WHERE editor = ?1 ORDER BY kind, key",
            [editor],
            record_row,
        )
    }

    fn put_draft(&self, editor: &str, r: &ChangedRecord) -> Result<()> {
        self.execute(
            "INSERT INTO draft_records (editor, kind, key, body, base_sha, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (editor, kind, key) DO UPDATE SET body = excluded.body, \
             updated_at = excluded.updated_at",
            params![editor, r.kind, r.key, r.body, r.base_sha, r.updated_at],
        )?;
        Ok(())
    }

    fn drop_draft(&self, editor: &str, kind: &str, key: &str) -> Result<()> {
        self.execute(
            "DELETE FROM draft_records WHERE editor = ?1 AND kind = ?2 AND key = ?3",
            params![editor, kind, key],
        )?;
        Ok(())
    }

    fn submit(&self, editor: &str, title: &str, base_version: &str, at: &str) -> Result<i64> {
        self.transaction(|tx| {
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM draft_records WHERE editor = ?1",
                [editor],
                |r| r.get(0),
            )?;
            if n == 0 {
                return Err(StorageError::Conflict("草稿里没有改动，无需提交".into()));
            }
            let id: i64 = tx.query_row(
                "INSERT INTO change_sets (editor, title, state, base_version, submitted_at) \
                 VALUES (?1, ?2, 'submitted', ?3, ?4) RETURNING id",
                params![editor, title, base_version, at],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO change_set_records (change_set, kind, key, body, base_sha) \
                 SELECT CAST(?1 AS BIGINT), kind, key, body, base_sha FROM draft_records \
                 WHERE editor = ?2",
                params![id, editor],
            )?;
            tx.execute("DELETE FROM draft_records WHERE editor = ?1", [editor])?;
            Ok(id)
        })
    }

    fn change_set(&self, id: i64) -> Result<Option<ChangeSet>> {
        one_set(self, id)
    }

    fn change_set_records(&self, id: i64) -> Result<Vec<ChangedRecord>> {
        self.query_map(
            "SELECT r.kind, r.key, r.body, r.base_sha, c.submitted_at \
             FROM change_set_records r JOIN change_sets c ON c.id = r.change_set \
             WHERE r.change_set = ?1 ORDER BY r.kind, r.key",
            [id],
            record_row,
        )
    }

    fn change_sets(&self, states: &[ChangeState], limit: usize) -> Result<Vec<ChangeSet>> {
        let filter = if states.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("WHERE c.state IN ({})", names.join(","))
        };
        self.query_map(
            &format!(
                "SELECT {SET_COLUMNS} FROM change_sets c {filter} ORDER BY c.id DESC LIMIT ?1"
            ),
            [limit],
            set_row,
        )
    }

    fn review(
        &self,
        id: i64,
        reviewer: &str,
        approve: bool,
        comment: &str,
        publish_at: Option<&str>,
        at: &str,
    ) -> Result<ChangeSet> {
        let state = if approve { "approved" } else { "returned" };
        // The decision and the change set as it left it, together.
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE change_sets SET state = ?2, reviewer = ?3, reviewed_at = ?4, comment = ?5, \
                 publish_at = ?6 WHERE id = ?1 AND state = 'submitted'",
                params![id, state, reviewer, at, comment, publish_at],
            )?;
            if n != 1 {
                return Err(StorageError::Conflict("这个变更不在待审核状态".into()));
            }
            one_set(tx, id)?.ok_or_else(|| StorageError::Conflict("没有这个变更".into()))
        })
    }

    fn due(&self, now: &str) -> Result<Vec<ChangeSet>> {
        self.query_map(
            &format!(
                "SELECT {SET_COLUMNS} FROM change_sets c WHERE c.state = 'approved' \
                 AND (c.publish_at IS NULL OR c.publish_at <= ?1) ORDER BY c.id"
            ),
            [now],
            set_row,
        )
    }

    fn finish(&self, id: i64, version: Result<&str, &str>) -> Result<()> {
        let n = match version {
            Ok(v) => self.execute(
                "UPDATE change_sets SET state = 'published', published_version = ?2 \
                 WHERE id = ?1 AND state = 'approved'",
                params![id, v],
            )?,
            Err(reason) => self.execute(
                "UPDATE change_sets SET state = 'failed', comment = ?2 \
                 WHERE id = ?1 AND state = 'approved'",
                params![id, reason],
            )?,
        };
        if n != 1 {
            return Err(StorageError::Conflict("这个变更不在待发布状态".into()));
        }
        Ok(())
    }

    fn withdraw(&self, id: i64, editor: &str, at: &str) -> Result<()> {
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE change_sets SET state = 'withdrawn' \
                 WHERE id = ?1 AND editor = ?2 AND state IN ('submitted', 'returned', 'failed')",
                params![id, editor],
            )?;
            if n != 1 {
                return Err(StorageError::Conflict(
                    "只能撤回自己待审核、被退回或发布失败的变更".into(),
                ));
            }
            // The draft's newer edits of the same records stay.
            tx.execute(
                "INSERT INTO draft_records (editor, kind, key, body, base_sha, updated_at) \
                 SELECT CAST(?2 AS TEXT), kind, key, body, base_sha, CAST(?3 AS TEXT) \
                 FROM change_set_records WHERE change_set = ?1 \
                 ON CONFLICT DO NOTHING",
                params![id, editor, at],
            )?;
            Ok(())
        })
    }

    fn rebase_draft(
        &self,
        editor: &str,
        kind: &str,
        key: &str,
        base_sha: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "UPDATE draft_records SET base_sha = ?4 WHERE editor = ?1 AND kind = ?2 AND key = ?3",
            params![editor, kind, key, base_sha],
        )?;
        Ok(())
    }

    fn published_version(&self, version: &str) -> Result<Option<super::Version>> {
        self.query_row(
            "SELECT version, region, manifest, signature, published_at, published_by \
             FROM versions WHERE version = ?1",
            [version],
            |r| {
                Ok(super::Version {
                    version: r.get(0)?,
                    region: r.get(1)?,
                    manifest: r.get(2)?,
                    signature: r.get(3)?,
                    published_at: r.get(4)?,
                    published_by: r.get(5)?,
                })
            },
        )
        .optional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ContentStore;
    use crate::storage::testing::databases;

    fn rec(key: &str, body: &str) -> ChangedRecord {
        ChangedRecord {
            kind: "item".into(),
            key: key.into(),
            body: Some(body.as_bytes().to_vec()),
            base_sha: Some("a".repeat(64)),
            updated_at: "2026-12-04 10:00:00".into(),
        }
    }

    #[test]
    fn a_draft_is_submitted_reviewed_and_published_once() {
        for db in databases() {
            assert!(db.submit("ed", "空", "v1", "2026-12-04 10:00:00").is_err());
            db.put_draft("ed", &rec("P43", "{}")).unwrap();
            db.put_draft("ed", &rec("P43", "{\"x\":1}")).unwrap();
            db.put_draft("ed", &rec("P44", "{}")).unwrap();
            db.drop_draft("ed", "item", "P44").unwrap();
            assert_eq!(db.draft("ed").unwrap().len(), 1);
            let id = db
                .submit("ed", "改材料", "v1", "2026-12-04 10:01:00")
                .unwrap();
            assert!(db.draft("ed").unwrap().is_empty());
            let recs = db.change_set_records(id).unwrap();
            assert_eq!(recs[0].body.as_deref(), Some(&b"{\"x\":1}"[..]));
            let set = db
                .review(
                    id,
                    "rev",
                    true,
                    "好",
                    Some("2026-12-05 08:00:00"),
                    "2026-12-04 11:00:00",
                )
                .unwrap();
            assert_eq!((set.state, set.records), (ChangeState::Approved, 1));
            assert!(db.review(id, "rev", false, "", None, "x").is_err());
            assert!(db.due("2026-12-04 23:59:59").unwrap().is_empty());
            assert_eq!(db.due("2026-12-05 08:00:00").unwrap().len(), 1);
            db.finish(id, Ok("2026.12.05-1")).unwrap();
            assert!(db.finish(id, Ok("2026.12.05-2")).is_err());
            assert!(db.due("2026-12-06 00:00:00").unwrap().is_empty());
        }
    }

    #[test]
    fn a_returned_change_set_goes_back_into_the_draft() {
        for db in databases() {
            db.put_draft("ed", &rec("P43", "{}")).unwrap();
            let id = db.submit("ed", "t", "v1", "2026-12-04 10:00:00").unwrap();
            db.review(
                id,
                "rev",
                false,
                "材料名称写错了",
                None,
                "2026-12-04 10:05:00",
            )
            .unwrap();
            assert!(db.withdraw(id, "someone-else", "x").is_err());
            db.withdraw(id, "ed", "2026-12-04 10:06:00").unwrap();
            assert_eq!(db.draft("ed").unwrap().len(), 1);
            assert_eq!(
                db.change_set(id).unwrap().unwrap().state,
                ChangeState::Withdrawn
            );
        }
    }

    #[test]
    fn withdrawing_keeps_newer_draft_edits_and_lists_by_state() {
        for db in databases() {
            db.put_draft("ed", &rec("P43", "{\"old\":1}")).unwrap();
            db.put_draft("ed", &rec("P44", "{}")).unwrap();
            let first = db.submit("ed", "一", "v1", "2026-12-04 10:00:00").unwrap();
            // Edited again meanwhile, and removed: the newer edit stays on withdrawing.
            let newer = ChangedRecord {
                body: None,
                base_sha: None,
                updated_at: "2026-12-04 10:02:00".into(),
                ..rec("P43", "")
            };
            db.put_draft("ed", &newer).unwrap();
            db.withdraw(first, "ed", "2026-12-04 10:03:00").unwrap();
            let draft = db.draft("ed").unwrap();
            assert_eq!(draft.len(), 2);
            assert_eq!(draft[0], newer);
            assert_eq!(draft[1].key, "P44");
            assert_eq!(draft[1].updated_at, "2026-12-04 10:03:00");
            assert_eq!(draft[1].base_sha, Some("a".repeat(64)));
            db.rebase_draft("ed", "item", "P44", None).unwrap();
            assert_eq!(db.draft("ed").unwrap()[1].base_sha, None);
            // The first edit's base stays when the record is edited again.
            db.put_draft("ed", &rec("P44", "{\"y\":2}")).unwrap();
            assert_eq!(db.draft("ed").unwrap()[1].base_sha, None);

            let second = db.submit("ed", "二", "v1", "2026-12-04 10:04:00").unwrap();
            assert!(second > first);
            assert_eq!(db.change_set(second).unwrap().unwrap().records, 2);
            db.review(second, "rev", true, "", None, "2026-12-04 10:05:00")
                .unwrap();
            assert_eq!(db.due("2026-12-04 10:05:00").unwrap()[0].id, second);
            db.finish(second, Err("文件缺失")).unwrap();
            let failed = db.change_set(second).unwrap().unwrap();
            assert_eq!(
                (failed.state, failed.comment.as_str()),
                (ChangeState::Failed, "文件缺失")
            );
            let ids = |states: &[ChangeState]| -> Vec<i64> {
                db.change_sets(states, 10)
                    .unwrap()
                    .iter()
                    .map(|c| c.id)
                    .collect()
            };
            assert_eq!(ids(&[]), vec![second, first]);
            assert_eq!(ids(&[ChangeState::Withdrawn]), vec![first]);
            assert_eq!(
                ids(&[ChangeState::Failed, ChangeState::Submitted]),
                vec![second]
            );
            assert_eq!(db.change_sets(&[], 1).unwrap().len(), 1);
            assert_eq!(db.change_set(999).unwrap(), None);
        }
    }

    #[test]
    fn a_published_version_is_found_by_name() {
        for db in databases() {
            let v = crate::storage::Version {
                version: "2026.12.05-1".into(),
                region: "shenzhen".into(),
                manifest: vec![0, 1, 2],
                signature: "sig".into(),
                published_at: "2026-12-05T00:00:00Z".into(),
                published_by: "rev".into(),
            };
            db.publish(&v, &[]).unwrap();
            assert_eq!(db.published_version("2026.12.05-1").unwrap(), Some(v));
            assert_eq!(db.published_version("nope").unwrap(), None);
        }
    }
}
