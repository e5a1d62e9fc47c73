//! The server's storage layer: a trait the handlers use, and the embedded SQLite backend.
//! A PostgreSQL backend implements the same trait for a region run on several replicas.

use std::path::Path;
use std::sync::Mutex;

use menpai_model::sync::OutboxEvent;
use rusqlite::{Connection, OptionalExtension, params};

use crate::appointments::AppointmentStore;
use crate::booking_codes::HeldStore;
use crate::operators::Role;
use crate::phone::ticket::RatingStore;
use crate::queue::store::{OfflineTicket, QueueStore, apply_offline_ticket};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Halls a hall-bound role (window staff) acts in; admins act everywhere.
    pub halls: Vec<String>,
    pub disabled: bool,
}

impl Operator {
    /// Whether this operator may act on `hall`'s queue and records.
    pub fn acts_in(&self, hall: &str) -> bool {
        self.role == Role::Admin || self.halls.iter().any(|h| h == hall)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentToken {
    pub hall: String,
    pub position: String,
    pub expires_at: i64,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: String,
    pub hall: String,
    pub position: String,
    pub cert_sha256: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub version: String,
    pub region: String,
    pub manifest: Vec<u8>,
    pub signature: String,
    pub published_at: String,
    pub published_by: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: String,
    pub operator: String,
    pub action: String,
    pub detail: String,
    pub outcome: String,
}

/// Everything the server keeps.
pub trait Storage:
    QueueStore + AppointmentStore + HeldStore + RatingStore + Send + Sync + std::fmt::Debug
{
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

    fn create_enrollment_token(
        &self,
        token_sha256: &str,
        t: &EnrollmentToken,
        by: &str,
    ) -> Result<()>;
    fn enrollment_token(&self, token_sha256: &str) -> Result<Option<EnrollmentToken>>;
    /// Uses the token and records the device in one transaction; false when the token was used
    /// or expired meanwhile.
    fn redeem_enrollment(&self, token_sha256: &str, now: i64, device: &Device) -> Result<bool>;
    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>>;
    fn revoke_device(&self, id: &str, at: &str) -> Result<bool>;
    fn devices(&self) -> Result<Vec<Device>>;

    fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Stores the blobs and the version in one transaction.
    fn publish(&self, version: &Version, blobs: &[(String, Vec<u8>)]) -> Result<()>;
    fn latest_version(&self) -> Result<Option<Version>>;
    fn versions(&self, limit: usize) -> Result<Vec<Version>>;

    /// Holds each event once by its key, and applies the new ones that change a queue (offline
    /// tickets) in the same transaction.
    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested>;
    fn event_count(&self) -> Result<u64>;

    fn save_heartbeats(&self, beats: &[(String, i64, String)]) -> Result<()>;
    fn heartbeats(&self) -> Result<Vec<(String, i64, String)>>;
}

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_server.sql"),
    include_str!("../migrations/0002_queue.sql"),
    include_str!("../migrations/0003_appointments.sql"),
    include_str!("../migrations/0004_ratings.sql"),
    include_str!("../migrations/0005_security.sql"),
];

/// What a batch of events did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    pub new: usize,
    pub duplicates: usize,
    /// Halls whose queue changed (offline tickets arrived).
    pub halls: Vec<String>,
}

/// The embedded backend: one SQLite file in WAL mode.
#[derive(Debug)]
pub struct Sqlite {
    conn: Mutex<Connection>,
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Sqlite> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Sqlite> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", n as i64 + 1)?;
            tx.commit()?;
        }
        Ok(Sqlite {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const OPERATOR_COLUMNS: &str = "o.id, o.name, o.role, o.password_hash, o.disabled_at IS NOT NULL";

fn operator_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Operator> {
    let role: String = r.get(2)?;
    Ok(Operator {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(3)?,
        halls: Vec::new(),
        disabled: r.get(4)?,
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

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        hall: r.get(1)?,
        position: r.get(2)?,
        cert_sha256: r.get(3)?,
        enrolled_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    Ok(Version {
        version: r.get(0)?,
        region: r.get(1)?,
        manifest: r.get(2)?,
        signature: r.get(3)?,
        published_at: r.get(4)?,
        published_by: r.get(5)?,
    })
}

const DEVICE_COLUMNS: &str = "id, hall, position, cert_sha256, enrolled_at, revoked_at";
const VERSION_COLUMNS: &str = "version, region, manifest, signature, published_at, published_by";

impl Storage for Sqlite {
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

    fn create_enrollment_token(
        &self,
        token_sha256: &str,
        t: &EnrollmentToken,
        by: &str,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO enrollment_tokens (token_sha256, hall, position, expires_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_sha256, t.hall, t.position, t.expires_at, by],
        )?;
        Ok(())
    }

    fn enrollment_token(&self, token_sha256: &str) -> Result<Option<EnrollmentToken>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT hall, position, expires_at, used_at IS NOT NULL FROM enrollment_tokens
                 WHERE token_sha256 = ?1",
                [token_sha256],
                |r| {
                    Ok(EnrollmentToken {
                        hall: r.get(0)?,
                        position: r.get(1)?,
                        expires_at: r.get(2)?,
                        used: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn redeem_enrollment(&self, token_sha256: &str, now: i64, d: &Device) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE enrollment_tokens SET used_at = ?1, device_id = ?2
             WHERE token_sha256 = ?3 AND used_at IS NULL AND expires_at > ?1",
            params![now, d.id, token_sha256],
        )?;
        if n != 1 {
            return Ok(false);
        }
        tx.execute(
            &format!("INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, NULL)"),
            params![d.id, d.hall, d.position, d.cert_sha256, d.enrolled_at],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE cert_sha256 = ?1"),
                [cert_sha256],
                device_row,
            )
            .optional()?)
    }

    fn revoke_device(&self, id: &str, at: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![at, id],
        )?;
        Ok(n == 1)
    }

    fn devices(&self) -> Result<Vec<Device>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY hall, position, id"
        ))?;
        let rows = stmt.query_map([], device_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row("SELECT body FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn publish(&self, v: &Version, blobs: &[(String, Vec<u8>)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut put =
                tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?1, ?2)")?;
            for (sha, body) in blobs {
                put.execute(params![sha, body])?;
            }
        }
        let n = tx.execute(
            &format!(
                "INSERT OR IGNORE INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            params![
                v.version,
                v.region,
                v.manifest,
                v.signature,
                v.published_at,
                v.published_by
            ],
        )?;
        if n != 1 {
            return Err(StorageError::Conflict(format!(
                "version {} is already published",
                v.version
            )));
        }
        tx.commit()?;
        Ok(())
    }

    fn latest_version(&self) -> Result<Option<Version>> {
        Ok(self.versions(1)?.into_iter().next())
    }

    fn versions(&self, limit: usize) -> Result<Vec<Version>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions ORDER BY id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], version_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        let mut halls = Vec::new();
        {
            let mut put = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (idempotency_key, device_id, kind, body, created_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                let added = put.execute(params![
                    e.key,
                    device,
                    e.kind,
                    e.body.to_string(),
                    e.created_at,
                    now
                ])?;
                new += added;
                if added == 1 && e.kind == "ticket_issued" && e.body["offline"] == true {
                    match serde_json::from_value::<OfflineTicket>(e.body.clone()) {
                        Ok(t) => {
                            if apply_offline_ticket(&tx, device, &t)? && !halls.contains(&t.hall) {
                                halls.push(t.hall);
                            }
                        }
                        Err(err) => {
                            tracing::warn!(%device, error = %err, "An offline ticket event could not be read.")
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(Ingested {
            new,
            duplicates: events.len() - new,
            halls,
        })
    }

    fn event_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn save_heartbeats(&self, beats: &[(String, i64, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO heartbeats (device_id, received_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body",
            )?;
            for (id, at, body) in beats {
                put.execute(params![id, at, body])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn heartbeats(&self) -> Result<Vec<(String, i64, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT device_id, received_at, body FROM heartbeats")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
