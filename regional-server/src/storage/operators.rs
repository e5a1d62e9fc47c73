//! Operator accounts, their sessions and the audit log.

use super::{Database, Exec, OptionalExt, Result, Row};
use crate::params;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads the fleet view and content versions.
    Viewer,
    /// Edits content in the studio and submits it for review (import lands in a draft).
    ContentEditor,
    /// Reviews change sets: approves (publish now or at a time) or returns them; never their own.
    Reviewer,
    /// Calls tickets at a window; answers help calls, requests and questions in their halls.
    QueueStaff,
    /// Runs a hall: everything window staff do there, and the cases poor ratings open.
    HallManager,
    /// Everything, including enrollment, revocation and accounts.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::ContentEditor => "content_editor",
            Role::Reviewer => "reviewer",
            Role::QueueStaff => "queue_staff",
            Role::HallManager => "hall_manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Viewer,
            Role::ContentEditor,
            Role::Reviewer,
            Role::QueueStaff,
            Role::HallManager,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `needed` guards. Every role may view; a hall manager may
    /// do what window staff do.
    pub fn allows(self, needed: Role) -> bool {
        self == Role::Admin
            || self == needed
            || needed == Role::Viewer
            || (self == Role::HallManager && needed == Role::QueueStaff)
    }

    /// The role's name on pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "只读",
            Role::ContentEditor => "内容编辑",
            Role::Reviewer => "内容审核",
            Role::QueueStaff => "窗口人员",
            Role::HallManager => "大厅负责人",
            Role::Admin => "管理员",
        }
    }

    /// Whether the role acts in particular halls (and so must be given some).
    pub fn is_hall_bound(self) -> bool {
        matches!(self, Role::QueueStaff | Role::HallManager)
    }

    /// Whether halls may be given to this role: those it must have, and a viewer's (a viewer
    /// with halls reads only theirs; without, the whole region).
    pub fn takes_halls(self) -> bool {
        self.is_hall_bound() || self == Role::Viewer
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Halls a hall-bound role (window staff) acts in; admins act everywhere.
    pub halls: Vec<String>,
    pub disabled: bool,
    /// The full name pages show (masked to citizens: 王*); the login name when none was given.
    pub display_name: String,
    /// Set or reset by an admin: the operator must choose a new password before anything else.
    pub must_change_password: bool,
    /// Logged in for training (培训登录): set only on the operator of such a session.
    pub training: bool,
}

impl Operator {
    /// Whether this operator may act on `hall`'s queue and records.
    pub fn acts_in(&self, hall: &str) -> bool {
        self.role == Role::Admin || self.halls.iter().any(|h| h == hall)
    }

    /// The halls this operator reads (fleet, statistics): `None` for the whole region (an
    /// admin, a content editor, a viewer given no halls).
    pub fn reads_halls(&self) -> Option<&[String]> {
        let scoped = self.role.is_hall_bound() || !self.halls.is_empty();
        (self.role != Role::Admin && scoped).then_some(self.halls.as_slice())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub operator: String,
    pub action: String,
    pub detail: String,
    pub outcome: String,
    /// The hall the action concerns; empty when none.
    pub hall: String,
}

/// A new operator, added by an admin (or the command line).
#[derive(Debug, Clone)]
pub struct NewOperator<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub halls: &'a [String],
    /// Set when someone other than the operator chose the password.
    pub must_change_password: bool,
}

/// Which audit entries to read; every field narrows, none means all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub operator: Option<String>,
    /// An action, or a family of them: `operator` matches `operator.create` too.
    pub action: Option<String>,
    pub hall: Option<String>,
    /// UTC RFC 3339, inclusive.
    pub from: Option<String>,
    /// UTC RFC 3339, exclusive.
    pub to: Option<String>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
}

/// Operator accounts, sessions and the audit log.
pub trait OperatorStore {
    /// Creates an operator, or updates one's role, halls and password and enables it; an
    /// existing operator's sessions end.
    fn create_operator(
        &self,
        name: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        halls: &[String],
    ) -> Result<()>;
    /// Adds an operator; false when the name is taken (nothing changes then).
    fn add_operator(&self, new: &NewOperator<'_>) -> Result<bool>;
    /// Every operator, by name, with their halls.
    fn operators(&self) -> Result<Vec<Operator>>;
    fn operator_by_name(&self, name: &str) -> Result<Option<Operator>>;
    /// A new password the operator chose; every session of theirs ends. False when there is
    /// none such.
    fn set_password(&self, name: &str, password_hash: &str) -> Result<bool>;
    /// A password an admin chose: it must be changed at the next login; every session ends.
    fn reset_password(&self, name: &str, password_hash: &str) -> Result<bool>;
    /// Disables an operator and ends its sessions. False when there is none such.
    fn disable_operator(&self, name: &str, at: &str) -> Result<bool>;
    /// Enables a disabled operator again. False when there is none such.
    fn enable_operator(&self, name: &str) -> Result<bool>;
    /// A session; `training`: a training login (培训登录).
    fn create_session(
        &self,
        token_sha256: &str,
        operator: i64,
        expires_at: i64,
        training: bool,
    ) -> Result<()>;
    /// The operator of a live session (`training` set for a training login).
    fn session(&self, token_sha256: &str, now: i64) -> Result<Option<Operator>>;
    fn delete_session(&self, token_sha256: &str) -> Result<()>;
    fn audit(&self, operator: &str, action: &str, detail: &str, outcome: &str) -> Result<()>;
    /// An audit entry about one hall (the audit view filters by it).
    fn audit_in_hall(
        &self,
        operator: &str,
        action: &str,
        hall: &str,
        detail: &str,
        outcome: &str,
    ) -> Result<()>;
    fn audit_entries(&self, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Entries matching `filter`, newest first, at most `limit`.
    fn audit_search(&self, filter: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>>;
    /// The actions the log holds, for the audit view's filter.
    fn audit_actions(&self) -> Result<Vec<String>>;
}

const OPERATOR_COLUMNS: &str = "o.id, o.name, o.role, o.password_hash, o.disabled_at IS NOT NULL,
     o.display_name, o.must_change_password";

fn operator_row(r: &Row) -> Result<Operator> {
    let role: String = r.get(2)?;
    Ok(Operator {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(3)?,
        halls: Vec::new(),
        disabled: r.get(4)?,
        display_name: {
            let d: String = r.get(5)?;
            if d.is_empty() { r.get(1)? } else { d }
        },
        must_change_password: r.get(6)?,
        training: false,
    })
}

/// The operator with its halls filled in.
fn with_halls(db: &impl Exec, op: Option<Operator>) -> Result<Option<Operator>> {
    let Some(mut op) = op else { return Ok(None) };
    op.halls = db.query_map(
        "SELECT hall FROM operator_halls WHERE operator_id = ?1 ORDER BY hall",
        [op.id],
        |r| r.get(0),
    )?;
    Ok(Some(op))
}

/// Ends every session of the operator called `name`, inside the transaction that changed it.
fn end_sessions(db: &impl Exec, name: &str) -> Result<()> {
    db.execute(
        "DELETE FROM sessions WHERE operator_id = (SELECT id FROM operators WHERE name = ?1)",
        [name],
    )?;
    Ok(())
}

/// Audit fields are kept short: a name or detail someone typed is cut, never stored whole.
const AUDIT_FIELD_CHARS: usize = 200;

fn clip(s: &str) -> String {
    match s.char_indices().nth(AUDIT_FIELD_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

impl OperatorStore for Database {
    fn create_operator(
        &self,
        name: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        halls: &[String],
    ) -> Result<()> {
        let now = now_rfc3339();
        self.transaction(|tx| {
            let id: i64 = tx.query_row(
                "INSERT INTO operators (name, role, password_hash, created_at, display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                     password_hash = excluded.password_hash, disabled_at = NULL,
                     display_name = CASE WHEN excluded.display_name = ''
                                         THEN operators.display_name
                                         ELSE excluded.display_name END,
                     must_change_password = 0
                 RETURNING id",
                params![name, role.as_str(), password_hash, now, display_name],
                |r| r.get(0),
            )?;
            tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
            set_halls(tx, id, halls)
        })
    }

    fn add_operator(&self, new: &NewOperator<'_>) -> Result<bool> {
        let now = now_rfc3339();
        self.transaction(|tx| {
            let id: Option<i64> = tx
                .query_row(
                    "INSERT INTO operators
                         (name, role, password_hash, created_at, display_name,
                          must_change_password)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (name) DO NOTHING
                     RETURNING id",
                    params![
                        new.name,
                        new.role.as_str(),
                        new.password_hash,
                        now,
                        new.display_name,
                        new.must_change_password
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else { return Ok(false) };
            set_halls(tx, id, new.halls)?;
            Ok(true)
        })
    }

    fn operators(&self) -> Result<Vec<Operator>> {
        // One snapshot: every operator and every hall given, matched up here.
        let (mut ops, halls) = self.transaction(|tx| {
            let ops = tx.query_map(
                &format!("SELECT {OPERATOR_COLUMNS} FROM operators o ORDER BY o.name"),
                (),
                operator_row,
            )?;
            let halls: Vec<(i64, String)> = tx.query_map(
                "SELECT operator_id, hall FROM operator_halls ORDER BY operator_id, hall",
                (),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok((ops, halls))
        })?;
        let mut by_operator: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        for (id, hall) in halls {
            by_operator.entry(id).or_default().push(hall);
        }
        for op in &mut ops {
            op.halls = by_operator.remove(&op.id).unwrap_or_default();
        }
        Ok(ops)
    }

    fn operator_by_name(&self, name: &str) -> Result<Option<Operator>> {
        let op = self
            .query_row(
                &format!("SELECT {OPERATOR_COLUMNS} FROM operators o WHERE o.name = ?1"),
                [name],
                operator_row,
            )
            .optional()?;
        with_halls(self, op)
    }

    fn set_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        new_password(self, name, password_hash, false)
    }

    fn reset_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        new_password(self, name, password_hash, true)
    }

    fn disable_operator(&self, name: &str, at: &str) -> Result<bool> {
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE operators SET disabled_at = COALESCE(disabled_at, ?2) WHERE name = ?1",
                params![name, at],
            )?;
            end_sessions(tx, name)?;
            Ok(n == 1)
        })
    }

    fn enable_operator(&self, name: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE operators SET disabled_at = NULL WHERE name = ?1",
            [name],
        )?;
        Ok(n == 1)
    }

    fn create_session(
        &self,
        token_sha256: &str,
        operator: i64,
        expires_at: i64,
        training: bool,
    ) -> Result<()> {
        // Expired sessions are swept on the way: on their own, a sweep need not stand with
        // the new session.
        self.execute(
            "DELETE FROM sessions WHERE expires_at < ?1",
            [chrono::Utc::now().timestamp()],
        )?;
        self.execute(
            "INSERT INTO sessions (token_sha256, operator_id, expires_at, training)
             VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, operator, expires_at, training],
        )?;
        Ok(())
    }

    fn session(&self, token_sha256: &str, now: i64) -> Result<Option<Operator>> {
        let op = self
            .query_row(
                &format!(
                    "SELECT {OPERATOR_COLUMNS}, s.training FROM sessions s
                     JOIN operators o ON o.id = s.operator_id
                     WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND o.disabled_at IS NULL"
                ),
                params![token_sha256, now],
                |r| {
                    Ok(Operator {
                        training: r.get(7)?,
                        ..operator_row(r)?
                    })
                },
            )
            .optional()?;
        with_halls(self, op)
    }

    fn delete_session(&self, token_sha256: &str) -> Result<()> {
        self.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?1",
            [token_sha256],
        )?;
        Ok(())
    }

    fn audit(&self, operator: &str, action: &str, detail: &str, outcome: &str) -> Result<()> {
        self.audit_in_hall(operator, action, "", detail, outcome)
    }

    fn audit_in_hall(
        &self,
        operator: &str,
        action: &str,
        hall: &str,
        detail: &str,
        outcome: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO audit_log (at, operator, action, detail, outcome, hall)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                now_rfc3339(),
                clip(operator),
                clip(action),
                clip(detail),
                clip(outcome),
                clip(hall)
            ],
        )?;
        Ok(())
    }

    fn audit_entries(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.audit_search(&AuditFilter::default(), limit)
    }

    fn audit_search(&self, f: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>> {
        // Each filter is a bound parameter; an absent one (NULL) matches everything.
        self.query_map(
            "SELECT id, at, operator, action, detail, outcome, hall FROM audit_log
             WHERE (CAST(?1 AS TEXT) IS NULL OR operator = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR action = ?2
                    OR substr(action, 1, length(?2) + 1) = ?2 || '.')
               AND (CAST(?3 AS TEXT) IS NULL OR hall = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR at >= ?4)
               AND (CAST(?5 AS TEXT) IS NULL OR at < ?5)
               AND (CAST(?6 AS BIGINT) IS NULL OR id < ?6)
             ORDER BY id DESC LIMIT ?7",
            params![
                f.operator,
                f.action,
                f.hall,
                f.from,
                f.to,
                f.before,
                limit as i64
            ],
            |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    operator: r.get(2)?,
                    action: r.get(3)?,
                    detail: r.get(4)?,
                    outcome: r.get(5)?,
                    hall: r.get(6)?,
                })
            },
        )
    }

    fn audit_actions(&self) -> Result<Vec<String>> {
        self.query_map(
            "SELECT DISTINCT action FROM audit_log ORDER BY action LIMIT 200",
            (),
            |r| r.get(0),
        )
    }
}

/// Replaces an operator's halls, inside the transaction that changed it.
fn set_halls(tx: &impl Exec, id: i64, halls: &[String]) -> Result<()> {
    tx.execute("DELETE FROM operator_halls WHERE operator_id = ?1", [id])?;
    for h in halls {
        tx.execute(
            "INSERT INTO operator_halls (operator_id, hall) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![id, h],
        )?;
    }
    Ok(())
}

/// A new password: chosen by the operator (`must_change` false) or by an admin (true); every
/// session of the operator ends.
fn new_password(db: &Database, name: &str, password_hash: &str, must_change: bool) -> Result<bool> {
    db.transaction(|tx| {
        let n = tx.execute(
            "UPDATE operators SET password_hash = ?2, must_change_password = ?3 WHERE name = ?1",
            params![name, password_hash, must_change],
        )?;
        end_sessions(tx, name)?;
        Ok(n == 1)
    })
}

/// Now in UTC, as stored in audit and account rows.
fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    #[test]
    fn accounts_keep_their_halls_and_a_change_ends_their_sessions() {
        for db in databases() {
            let halls = ["futian".to_owned(), "luohu".to_owned()];
            db.create_operator("wang", "王小明", Role::QueueStaff, "h1", &halls)
                .unwrap();
            let wang = db.operator_by_name("wang").unwrap().unwrap();
            assert_eq!(wang.display_name, "王小明");
            assert_eq!(wang.halls, halls);
            assert!(!wang.disabled && !wang.must_change_password);
            db.create_session("s1", wang.id, i64::MAX, true).unwrap();
            let live = db.session("s1", 0).unwrap().unwrap();
            assert!(live.training);
            assert_eq!(live.halls, halls);
            assert_eq!(db.session("s1", i64::MAX).unwrap(), None);

            // Again: the same row, a new role and halls, the display name kept, sessions ended.
            db.create_operator("wang", "", Role::HallManager, "h2", &["nanshan".to_owned()])
                .unwrap();
            let again = db.operator_by_name("wang").unwrap().unwrap();
            assert_eq!(again.id, wang.id);
            assert_eq!(again.role, Role::HallManager);
            assert_eq!(again.password_hash, "h2");
            assert_eq!(again.display_name, "王小明");
            assert_eq!(again.halls, ["nanshan".to_owned()]);
            assert_eq!(db.session("s1", 0).unwrap(), None);

            let new = NewOperator {
                name: "li",
                display_name: "",
                role: Role::Viewer,
                password_hash: "h3",
                halls: &["futian".to_owned(), "futian".to_owned()],
                must_change_password: true,
            };
            assert!(db.add_operator(&new).unwrap());
            assert!(
                !db.add_operator(&NewOperator {
                    password_hash: "h4",
                    ..new
                })
                .unwrap()
            );
            let li = db.operator_by_name("li").unwrap().unwrap();
            assert_eq!(
                (li.display_name.as_str(), li.password_hash.as_str()),
                ("li", "h3")
            );
            assert!(li.must_change_password);
            assert_eq!(li.halls, ["futian".to_owned()]);
            let all = db.operators().unwrap();
            let names: Vec<_> = all
                .iter()
                .map(|o| (o.name.as_str(), o.halls.len()))
                .collect();
            assert_eq!(names, [("li", 1), ("wang", 1)]);

            db.create_session("s2", li.id, i64::MAX, false).unwrap();
            assert!(db.set_password("li", "h5").unwrap());
            assert_eq!(db.session("s2", 0).unwrap(), None);
            assert!(
                !db.operator_by_name("li")
                    .unwrap()
                    .unwrap()
                    .must_change_password
            );
            assert!(db.reset_password("li", "h6").unwrap());
            assert!(
                db.operator_by_name("li")
                    .unwrap()
                    .unwrap()
                    .must_change_password
            );
            assert!(!db.set_password("nobody", "h").unwrap());

            db.create_session("s3", li.id, i64::MAX, false).unwrap();
            assert!(!db.session("s3", 0).unwrap().unwrap().training);
            assert!(db.disable_operator("li", "2026-12-05T00:00:00Z").unwrap());
            assert!(db.disable_operator("li", "2026-12-06T00:00:00Z").unwrap());
            assert!(db.operator_by_name("li").unwrap().unwrap().disabled);
            assert_eq!(db.session("s3", 0).unwrap(), None);
            assert!(db.enable_operator("li").unwrap());
            assert!(!db.operator_by_name("li").unwrap().unwrap().disabled);
            assert!(!db.disable_operator("nobody", "x").unwrap());
            db.create_session("s4", li.id, i64::MAX, false).unwrap();
            db.delete_session("s4").unwrap();
            assert_eq!(db.session("s4", 0).unwrap(), None);
        }
    }

    #[test]
    fn the_audit_log_is_searched_by_each_filter() {
        for db in databases() {
            db.audit("admin", "operator.create", "wang", "ok").unwrap();
            db.audit("admin", "operators", "x", "ok").unwrap();
            db.audit_in_hall("wang", "queue.call", "futian", "E001", "ok")
                .unwrap();
            db.audit("wang", &"长".repeat(300), "d", "ok").unwrap();
            let all = db.audit_entries(10).unwrap();
            assert_eq!(all.len(), 4);
            assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
            assert_eq!(all[0].action.chars().count(), AUDIT_FIELD_CHARS + 1);
            let search = |f: AuditFilter| -> Vec<String> {
                db.audit_search(&f, 10)
                    .unwrap()
                    .into_iter()
                    .map(|e| e.detail)
                    .collect()
            };
            let family = AuditFilter {
                action: Some("operator".into()),
                ..Default::default()
            };
            assert_eq!(search(family), ["wang"]);
            let hall = AuditFilter {
                hall: Some("futian".into()),
                ..Default::default()
            };
            assert_eq!(search(hall), ["E001"]);
            let by = AuditFilter {
                operator: Some("admin".into()),
                before: Some(all[1].id),
                ..Default::default()
            };
            assert_eq!(search(by), ["x", "wang"]);
            let window = AuditFilter {
                from: Some("2000-01-01T00:00:00Z".into()),
                to: Some("2000-01-02T00:00:00Z".into()),
                ..Default::default()
            };
            assert!(search(window).is_empty());
            assert_eq!(db.audit_entries(1).unwrap().len(), 1);
            assert_eq!(db.audit_actions().unwrap().len(), 4);
            assert_eq!(db.audit_actions().unwrap()[0], "operator.create");
        }
    }
}
