//! The embedded backend: one SQLite file in WAL mode, opened and migrated here.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

use super::Result;

/// The region's schema, numbered; `user_version` records how far a file is migrated.
///
/// Deliberately apart from the edge agent's open-and-migrate: the agent keeps a small local
/// outbox and cache, this is the region's source of truth (operators, queues, appointments),
/// with its own migrations and a PostgreSQL backend to come behind the same traits.
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
];

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

/// Now in UTC, as stored in audit and account rows.
pub(super) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
