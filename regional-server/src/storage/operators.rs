//! Operator accounts, their sessions and the audit log.

use rusqlite::{Connection, OptionalExtension, params};

use super::sqlite::now_rfc3339;
use super::{Result, Sqlite};

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads the fleet view and content versions.
    Viewer,
    /// Imports and publishes content.
    ContentEditor,
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
            Role::QueueStaff => "queue_staff",
            Role::HallManager => "hall_manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Viewer,
            Role::ContentEditor,
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
            Role::QueueStaff => "窗口人员",
            Role::HallManager => "大厅负责人",
            Role::Admin => "管理员",
        }
    }

    /// Whether the role acts in particular halls (and so must be given some).
    pub fn is_hall_bound(self) -> bool {
        matches!(self, Role::QueueStaff | Role::HallManager)
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
}

impl Operator {
    /// Whether this operator may act on `hall`'s queue and records.
    pub fn acts_in(&self, hall: &str) -> bool {
        self.role == Role::Admin || self.halls.iter().any(|h| h == hall)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub operator: String,
    pub action: String,
    pub detail: String,
    pub outcome: String,
}

/// Operator accounts, sessions and the audit log.
pub trait OperatorStore {
    /// Creates an operator, or updates one's role, halls and password and enables it; an
    /// existing operator's sessions end.
    fn create_operator(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        halls: &[String],
    ) -> Result<()>;
    fn operator_by_name(&self, name: &str) -> Result<Option<Operator>>;
    /// A new password; every session of the operator ends. False when there is none such.
    fn set_password(&self, name: &str, password_hash: &str) -> Result<bool>;
    /// Disables an operator and ends its sessions. False when there is none such.
    fn disable_operator(&self, name: &str, at: &str) -> Result<bool>;
    fn create_session(&self, token_sha256: &str, operator: i64, expires_at: i64) -> Result<()>;
    /// The operator of a live session.
    fn session(&self, token_sha256: &str, now: i64) -> Result<Option<Operator>>;
    fn delete_session(&self, token_sha256: &str) -> Result<()>;
    fn audit(&self, operator: &str, action: &str, detail: &str, outcome: &str) -> Result<()>;
    fn audit_entries(&self, limit: usize) -> Result<Vec<AuditEntry>>;
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

impl OperatorStore for Sqlite {
    fn create_operator(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        halls: &[String],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id: i64 = tx.query_row(
            "INSERT INTO operators (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                 password_hash = excluded.password_hash, disabled_at = NULL
             RETURNING id",
            params![name, role.as_str(), password_hash, now_rfc3339()],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
        tx.execute("DELETE FROM operator_halls WHERE operator_id = ?1", [id])?;
        for h in halls {
            tx.execute(
                "INSERT OR IGNORE INTO operator_halls (operator_id, hall) VALUES (?1, ?2)",
                params![id, h],
            )?;
        }
        tx.commit()?;
        Ok(())
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE operators SET password_hash = ?2 WHERE name = ?1",
            params![name, password_hash],
        )?;
        end_sessions(&tx, name)?;
        tx.commit()?;
        Ok(n == 1)
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

    fn create_session(&self, token_sha256: &str, operator: i64, expires_at: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM sessions WHERE expires_at < ?1",
            [chrono::Utc::now().timestamp()],
        )?;
        conn.execute(
            "INSERT INTO sessions (token_sha256, operator_id, expires_at) VALUES (?1, ?2, ?3)",
            params![token_sha256, operator, expires_at],
        )?;
        Ok(())
    }

    fn session(&self, token_sha256: &str, now: i64) -> Result<Option<Operator>> {
        let conn = self.conn();
        let op = conn
            .query_row(
                &format!(
                    "SELECT {OPERATOR_COLUMNS} FROM sessions s
                     JOIN operators o ON o.id = s.operator_id
                     WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND o.disabled_at IS NULL"
                ),
                params![token_sha256, now],
                operator_row,
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
        self.conn().execute(
            "INSERT INTO audit_log (at, operator, action, detail, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                now_rfc3339(),
                clip(operator),
                clip(action),
                clip(detail),
                clip(outcome)
            ],
        )?;
        Ok(())
    }

    fn audit_entries(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, operator, action, detail, outcome FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                operator: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
                outcome: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
