//! The embedded backend: one SQLite file in WAL mode, opened and migrated here, behind one
//! connection (SQLite writes one at a time anyway).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};

use super::value::{Row, Value};
use super::{Result, StorageError};

/// The region's schema, numbered; `user_version` records how far a file is migrated.
///
/// Deliberately apart from the edge agent's open-and-migrate: the agent keeps a small local
/// outbox and cache, this is the region's source of truth (operators, queues, appointments),
/// with its own migrations (PostgreSQL's are in `migrations/postgres/`).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_server.sql"),
    include_str!("../../migrations/0002_queue.sql"),
    include_str!("../../migrations/0003_appointments.sql"),
    include_str!("../../migrations/0004_ratings.sql"),
    include_str!("../../migrations/0005_security.sql"),
    include_str!("../../migrations/0006_accounts.sql"),
    include_str!("../../migrations/0007_help.sql"),
    include_str!("../../migrations/0008_requests.sql"),
    include_str!("../../migrations/0009_cases.sql"),
    include_str!("../../migrations/0010_training.sql"),
    include_str!("../../migrations/0011_training_logins.sql"),
    include_str!("../../migrations/0012_statistics.sql"),
    include_str!("../../migrations/0013_statistics_index.sql"),
    include_str!("../../migrations/0014_ticket_hops.sql"),
    include_str!("../../migrations/0015_monitor_reads_hops.sql"),
    include_str!("../../migrations/0016_studio.sql"),
    include_str!("../../migrations/0017_region_secrets.sql"),
    include_str!("../../migrations/0018_rate_hits.sql"),
    include_str!("../../migrations/0019_commands.sql"),
    include_str!("../../migrations/0020_updates.sql"),
];

/// One SQLite file in WAL mode.
#[derive(Debug)]
pub(super) struct SqliteBackend {
    conn: Mutex<Connection>,
}

impl SqliteBackend {
    pub(super) fn open(path: &Path) -> Result<SqliteBackend> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    pub(super) fn open_in_memory() -> Result<SqliteBackend> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteBackend> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(256);
        let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", n as i64 + 1)?;
            tx.commit()?;
        }
        Ok(SqliteBackend {
            conn: Mutex::new(conn),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one transaction on the connection: committed when it returns `Ok`.
    pub(super) fn transaction<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// Runs one statement; the number of rows it changed.
pub(super) fn run(conn: &Connection, sql: &str, params: &[Value]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))?)
}

/// Runs one query; all its rows.
pub(super) fn fetch(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(
                    String::from_utf8(t.to_vec())
                        .map_err(|_| StorageError::Type(format!("column {i}: text not UTF-8")))?,
                ),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row(values));
    }
    Ok(out)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Real(x) => ValueRef::Real(*x),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}
