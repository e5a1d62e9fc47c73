//! Operator accounts, their sessions and the audit log.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Database};

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

fn operator_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Operator> {
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
fn with_halls(conn: &Connection, op: Option<Operator>) -> Result<Option<Operator>> {
    let Some(mut op) = op else { return Ok(None) };
    let mut stmt = conn
        .prepare_cached("SELECT hall FROM operator_halls WHERE operator_id = ?1 ORDER BY hall")?;
    op.halls = stmt
        .query_map([op.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(op))
}

/// Ends every session of the operator called `name`, inside the transaction that changed it.
fn end_sessions(tx: &rusqlite::Transaction, name: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM sessions WHERE operator_id = (SELECT id FROM operators WHERE name = ?1)",
        [name],
    )?;
    Ok(())
}

/// Audit fields are kept short: a name or detail someone typed is cut, never stored whole.
const AUDIT_FIELD_CHARS: usize = 200;

fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(AUDIT_FIELD_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id: i64 = tx.query_row(
            "INSERT INTO operators (name, role, password_hash, created_at, display_name)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                 password_hash = excluded.password_hash, disabled_at = NULL,
                 display_name = CASE WHEN excluded.display_name = '' THEN display_name
                                     ELSE excluded.display_name END,
                 must_change_password = 0
             RETURNING id",
            params![
                name,
                role.as_str(),
                password_hash,
                now_rfc3339(),
                display_name
            ],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
        set_halls(&tx, id, halls)?;
        tx.commit()?;
        Ok(())
    }

    fn add_operator(&self, new: &NewOperator<'_>) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id: Option<i64> = tx
            .query_row(
                "INSERT INTO operators
                     (name, role, password_hash, created_at, display_name, must_change_password)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO NOTHING
                 RETURNING id",
                params![
                    new.name,
                    new.role.as_str(),
                    new.password_hash,
                    now_rfc3339(),
                    new.display_name,
                    new.must_change_password
                ],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(false) };
        set_halls(&tx, id, new.halls)?;
        tx.commit()?;
        Ok(true)
    }

    fn operators(&self) -> Result<Vec<Operator>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {OPERATOR_COLUMNS} FROM operators o ORDER BY o.name"
        ))?;
        let ops = stmt
            .query_map([], operator_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.extend(with_halls(&conn, Some(op))?);
        }
        Ok(out)
    }

    fn operator_by_name(&self, name: &str) -> Result<Option<Operator>> {
        let conn = self.conn();
        let op = conn
            .query_row(
                &format!("SELECT {OPERATOR_COLUMNS} FROM operators o WHERE o.name = ?1"),
                [name],
                operator_row,
            )
            .optional()?;
        with_halls(&conn, op)
    }

    fn set_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        new_password(self, name, password_hash, false)
    }

    fn reset_password(&self, name: &str, password_hash: &str) -> Result<bool> {
        new_password(self, name, password_hash, true)
    }

    fn disable_operator(&self, name: &str, at: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET disabled_at = COALESCE(disabled_at, ?2) WHERE name = ?1",
            params![name, at],
        )?;
        end_sessions(&tx, name)?;
        tx.commit()?;
        Ok(n == 1)
    }

    fn enable_operator(&self, name: &str) -> Result<bool> {
        let n = self.conn().execute(
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
        let conn = self.conn();
        conn.execute(
            "DELETE FROM sessions WHERE expires_at < ?1",
            [chrono::Utc::now().timestamp()],
        )?;
        conn.execute(
            "INSERT INTO sessions (token_sha256, operator_id, expires_at, training)
             VALUES (?1, ?2, ?3, ?4)",
            params![token_sha256, operator, expires_at, training],
        )?;
        Ok(())
    }

    fn session(&self, token_sha256: &str, now: i64) -> Result<Option<Operator>> {
        let conn = self.conn();
        let op = conn
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
        with_halls(&conn, op)
    }

    fn delete_session(&self, token_sha256: &str) -> Result<()> {
        self.conn().execute(
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
        self.conn().execute(
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
        let conn = self.conn();
        // Each filter is a bound parameter; an absent one (NULL) matches everything.
        let mut stmt = conn.prepare_cached(
            "SELECT id, at, operator, action, detail, outcome, hall FROM audit_log
             WHERE (?1 IS NULL OR operator = ?1)
               AND (?2 IS NULL OR action = ?2 OR substr(action, 1, length(?2) + 1) = ?2 || '.')
               AND (?3 IS NULL OR hall = ?3)
               AND (?4 IS NULL OR at >= ?4)
               AND (?5 IS NULL OR at < ?5)
               AND (?6 IS NULL OR id < ?6)
             ORDER BY id DESC LIMIT ?7",
        )?;
        let rows = stmt.query_map(
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
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn audit_actions(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT DISTINCT action FROM audit_log ORDER BY action LIMIT 200")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Replaces an operator's halls, inside the transaction that changed it.
fn set_halls(tx: &rusqlite::Transaction, id: i64, halls: &[String]) -> Result<()> {
    tx.execute("DELETE FROM operator_halls WHERE operator_id = ?1", [id])?;
    for h in halls {
        tx.execute(
            "INSERT OR IGNORE INTO operator_halls (operator_id, hall) VALUES (?1, ?2)",
            params![id, h],
        )?;
    }
    Ok(())
}

/// A new password: chosen by the operator (`must_change` false) or by an admin (true); every
/// session of the operator ends.
fn new_password(db: &Database, name: &str, password_hash: &str, must_change: bool) -> Result<bool> {
    let mut conn = db.conn();
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE operators SET password_hash = ?2, must_change_password = ?3 WHERE name = ?1",
        params![name, password_hash, must_change],
    )?;
    end_sessions(&tx, name)?;
    tx.commit()?;
    Ok(n == 1)
}

/// Now in UTC, as stored in audit and account rows.
fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
