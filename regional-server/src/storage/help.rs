//! Calls for staff from the plates (有事请教 → 呼叫工作人员): waiting, acknowledged, resolved.

use super::{Database, Exec, OptionalExt, Result, Row, StorageError};
use crate::params;
use menpai_model::help::HelpStage;

/// A help call as kept. Times are UTC, RFC 3339 with milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpCallRecord {
    pub id: String,
    pub device: String,
    pub hall: String,
    pub position: String,
    pub screen: String,
    pub item: String,
    pub created_at: String,
    pub stage: HelpStage,
    pub escalated_at: Option<String>,
    /// The operator's login name and full name, and when.
    pub acknowledged_by: Option<String>,
    pub acknowledged_name: Option<String>,
    pub acknowledged_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    /// Made at a terminal in training mode: practice, not a citizen waiting.
    pub training: bool,
}

/// Help calls and their state.
pub trait HelpStore {
    /// Stores a new call; the same id again gives the call as it stands (`false`: not new).
    /// An id another terminal already used is a conflict.
    fn add_help_call(&self, call: &HelpCallRecord) -> Result<(HelpCallRecord, bool)>;
    fn help_call(&self, id: &str) -> Result<Option<HelpCallRecord>>;
    /// Calls not resolved yet (`halls`: only these; `None`: all; `training_only`: only
    /// those made in training mode), newest first.
    fn open_help_calls(
        &self,
        halls: Option<&[String]>,
        training_only: bool,
        limit: usize,
    ) -> Result<Vec<HelpCallRecord>>;
    /// Someone is coming: only a waiting or escalated call.
    fn acknowledge_help_call(
        &self,
        id: &str,
        operator: &str,
        name: &str,
        at: &str,
    ) -> Result<HelpCallRecord>;
    /// Handled: any call not resolved yet.
    fn resolve_help_call(&self, id: &str, operator: &str, at: &str) -> Result<HelpCallRecord>;
    /// A terminal's calls made at or after `since`, oldest first.
    fn device_help_calls(&self, device: &str, since: &str) -> Result<Vec<HelpCallRecord>>;
    /// Waiting calls made at or before `before` become escalated (at `at`); those changed.
    fn escalate_help_calls(&self, before: &str, at: &str) -> Result<Vec<HelpCallRecord>>;
}

fn stage_name(s: HelpStage) -> &'static str {
    match s {
        HelpStage::Waiting => "waiting",
        HelpStage::Escalated => "escalated",
        HelpStage::Acknowledged => "acknowledged",
        HelpStage::Resolved => "resolved",
    }
}

fn stage_of(s: &str) -> HelpStage {
    match s {
        "escalated" => HelpStage::Escalated,
        "acknowledged" => HelpStage::Acknowledged,
        "resolved" => HelpStage::Resolved,
        _ => HelpStage::Waiting,
    }
}

const COLUMNS: &str = "id, device, hall, position, screen, item, created_at, stage, escalated_at,
     acknowledged_by, acknowledged_name, acknowledged_at, resolved_by, resolved_at, training";

fn row(r: &Row) -> Result<HelpCallRecord> {
    Ok(HelpCallRecord {
        id: r.get(0)?,
        device: r.get(1)?,
        hall: r.get(2)?,
        position: r.get(3)?,
        screen: r.get(4)?,
        item: r.get(5)?,
        created_at: r.get(6)?,
        stage: stage_of(&r.get::<String>(7)?),
        escalated_at: r.get(8)?,
        acknowledged_by: r.get(9)?,
        acknowledged_name: r.get(10)?,
        acknowledged_at: r.get(11)?,
        resolved_by: r.get(12)?,
        resolved_at: r.get(13)?,
        training: r.get(14)?,
    })
}

fn one(db: &impl Exec, id: &str) -> Result<Option<HelpCallRecord>> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM help_calls WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

impl HelpStore for Database {
    fn add_help_call(&self, c: &HelpCallRecord) -> Result<(HelpCallRecord, bool)> {
        // The call as kept is read in the same transaction as the insert.
        let (kept, added) = self.transaction(|tx| {
            let added = tx.execute(
                "INSERT INTO help_calls (id, device, hall, position, screen, item, created_at, stage,
                                         training)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
                params![
                    c.id,
                    c.device,
                    c.hall,
                    c.position,
                    c.screen,
                    c.item,
                    c.created_at,
                    stage_name(HelpStage::Waiting),
                    c.training
                ],
            )?;
            let kept =
                one(tx, &c.id)?.ok_or_else(|| StorageError::Conflict("呼叫没有保存".into()))?;
            Ok((kept, added))
        })?;
        if kept.device != c.device {
            return Err(StorageError::Conflict(
                "这个呼叫编号已被别的终端使用".into(),
            ));
        }
        Ok((kept, added == 1))
    }

    fn help_call(&self, id: &str) -> Result<Option<HelpCallRecord>> {
        one(self, id)
    }

    fn open_help_calls(
        &self,
        halls: Option<&[String]>,
        training_only: bool,
        limit: usize,
    ) -> Result<Vec<HelpCallRecord>> {
        // Scoped in SQL before the limit: a busy hall never pushes another's calls out.
        let halls_json = halls.map(|h| serde_json::to_string(h).unwrap_or_default());
        self.query_map(
            &format!(
                "SELECT {COLUMNS} FROM help_calls WHERE stage != 'resolved'
                   AND (CAST(?2 AS TEXT) IS NULL OR hall IN ({}))
                   AND (?3 = 0 OR training <> 0)
                 ORDER BY created_at DESC, id DESC LIMIT ?1",
                self.dialect().json_strings("?2")
            ),
            params![limit as i64, halls_json, training_only],
            row,
        )
    }

    fn acknowledge_help_call(
        &self,
        id: &str,
        operator: &str,
        name: &str,
        at: &str,
    ) -> Result<HelpCallRecord> {
        let (changed, call) = self.transaction(|tx| {
            let changed = tx.execute(
                "UPDATE help_calls SET stage = 'acknowledged', acknowledged_by = ?2,
                     acknowledged_name = ?3, acknowledged_at = ?4
                 WHERE id = ?1 AND stage IN ('waiting', 'escalated')",
                params![id, operator, name, at],
            )?;
            Ok((changed, one(tx, id)?))
        })?;
        let call = call.ok_or_else(|| StorageError::Conflict("没有这个呼叫".into()))?;
        if changed == 0 {
            return Err(StorageError::Conflict(match call.stage {
                HelpStage::Resolved => "这个呼叫已处理".into(),
                _ => format!(
                    "{} 已经应答了这个呼叫",
                    call.acknowledged_name.clone().unwrap_or_default()
                ),
            }));
        }
        Ok(call)
    }

    fn resolve_help_call(&self, id: &str, operator: &str, at: &str) -> Result<HelpCallRecord> {
        let (changed, call) = self.transaction(|tx| {
            let changed = tx.execute(
                "UPDATE help_calls SET stage = 'resolved', resolved_by = ?2, resolved_at = ?3
                 WHERE id = ?1 AND stage != 'resolved'",
                params![id, operator, at],
            )?;
            Ok((changed, one(tx, id)?))
        })?;
        let call = call.ok_or_else(|| StorageError::Conflict("没有这个呼叫".into()))?;
        if changed == 0 {
            return Err(StorageError::Conflict("这个呼叫已处理".into()));
        }
        Ok(call)
    }

    fn device_help_calls(&self, device: &str, since: &str) -> Result<Vec<HelpCallRecord>> {
        self.query_map(
            &format!(
                "SELECT {COLUMNS} FROM help_calls WHERE device = ?1 AND created_at >= ?2
                 ORDER BY created_at LIMIT 50"
            ),
            params![device, since],
            row,
        )
    }

    fn escalate_help_calls(&self, before: &str, at: &str) -> Result<Vec<HelpCallRecord>> {
        let due = self.transaction(|tx| {
            let due = tx.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM help_calls WHERE stage = 'waiting' AND created_at <= ?1"
                ),
                [before],
                row,
            )?;
            for c in &due {
                tx.execute(
                    "UPDATE help_calls SET stage = 'escalated', escalated_at = ?2
                     WHERE id = ?1 AND stage = 'waiting'",
                    params![c.id, at],
                )?;
            }
            Ok(due)
        })?;
        Ok(due
            .into_iter()
            .map(|c| HelpCallRecord {
                stage: HelpStage::Escalated,
                escalated_at: Some(at.to_owned()),
                ..c
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    fn call(id: &str, device: &str, at: &str) -> HelpCallRecord {
        HelpCallRecord {
            id: id.into(),
            device: device.into(),
            hall: "hall-futian".into(),
            position: "entrance".into(),
            screen: "Guide".into(),
            item: "P43".into(),
            created_at: at.into(),
            stage: HelpStage::Waiting,
            escalated_at: None,
            acknowledged_by: None,
            acknowledged_name: None,
            acknowledged_at: None,
            resolved_by: None,
            resolved_at: None,
            training: false,
        }
    }

    #[test]
    fn a_call_is_kept_once_escalates_is_acknowledged_and_resolved() {
        for db in databases() {
            let t0 = "2026-11-23T02:00:00.000Z";
            let (c, new) = db.add_help_call(&call("c1", "d1", t0)).unwrap();
            assert!(new && c.stage == HelpStage::Waiting);
            let (_, new) = db.add_help_call(&call("c1", "d1", t0)).unwrap();
            assert!(!new, "the same id again is the same call");
            assert!(db.add_help_call(&call("c1", "d2", t0)).is_err());
            let up = db
                .escalate_help_calls("2026-11-23T01:59:59.999Z", "x")
                .unwrap();
            assert!(up.is_empty());
            let up = db
                .escalate_help_calls("2026-11-23T02:00:00.000Z", "2026-11-23T02:01:00.000Z")
                .unwrap();
            assert_eq!(up.len(), 1);
            assert_eq!(up[0].stage, HelpStage::Escalated);
            assert_eq!(
                db.help_call("c1").unwrap().unwrap().escalated_at.as_deref(),
                Some("2026-11-23T02:01:00.000Z")
            );
            let open = db.open_help_calls(None, false, 50).unwrap();
            assert_eq!(open.len(), 1);
            let other = ["hall-civic".to_owned()];
            assert!(
                db.open_help_calls(Some(&other), false, 50)
                    .unwrap()
                    .is_empty()
            );
            let a = db
                .acknowledge_help_call("c1", "staff", "王小明", t0)
                .unwrap();
            assert_eq!(a.stage, HelpStage::Acknowledged);
            assert_eq!(a.acknowledged_name.as_deref(), Some("王小明"));
            assert!(db.acknowledge_help_call("c1", "b", "李四", t0).is_err());
            let r = db.resolve_help_call("c1", "staff", t0).unwrap();
            assert_eq!(r.stage, HelpStage::Resolved);
            assert!(db.resolve_help_call("c1", "staff", t0).is_err());
            assert!(db.open_help_calls(None, false, 50).unwrap().is_empty());
            assert!(db.resolve_help_call("nope", "staff", t0).is_err());
        }
    }

    #[test]
    fn open_calls_are_scoped_by_hall_and_training_newest_first() {
        for db in databases() {
            db.add_help_call(&call("a", "d1", "2026-11-23T02:00:00.000Z"))
                .unwrap();
            db.add_help_call(&HelpCallRecord {
                hall: "hall-civic".into(),
                training: true,
                ..call("b", "d2", "2026-11-23T02:05:00.000Z")
            })
            .unwrap();
            db.add_help_call(&call("c", "d1", "2026-11-23T02:10:00.000Z"))
                .unwrap();
            let ids = |v: Vec<HelpCallRecord>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
            assert_eq!(
                ids(db.open_help_calls(None, false, 50).unwrap()),
                ["c", "b", "a"]
            );
            assert_eq!(ids(db.open_help_calls(None, false, 2).unwrap()), ["c", "b"]);
            let both = ["hall-futian".to_owned(), "hall-civic".to_owned()];
            assert_eq!(
                ids(db.open_help_calls(Some(&both), false, 50).unwrap()),
                ["c", "b", "a"]
            );
            let civic = ["hall-civic".to_owned()];
            assert_eq!(
                ids(db.open_help_calls(Some(&civic), false, 50).unwrap()),
                ["b"]
            );
            assert_eq!(ids(db.open_help_calls(None, true, 50).unwrap()), ["b"]);
            assert!(db.open_help_calls(Some(&[]), false, 50).unwrap().is_empty());
            assert!(db.help_call("b").unwrap().unwrap().training);
            assert_eq!(
                ids(db
                    .device_help_calls("d1", "2026-11-23T02:00:00.000Z")
                    .unwrap()),
                ["a", "c"]
            );
            assert_eq!(
                ids(db
                    .device_help_calls("d1", "2026-11-23T02:00:00.001Z")
                    .unwrap()),
                ["c"]
            );
        }
    }
}
