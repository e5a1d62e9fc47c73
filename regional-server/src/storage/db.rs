//! The database the storage traits are written against: SQLite (one machine, the embedded
//! default) or PostgreSQL (a region on several replicas), chosen by `database_url`. Statements
//! are written once, in the SQL both engines speak, with `?1`-style placeholders.

use std::path::Path;
use std::time::Duration;

use super::postgres::{Heard, PostgresBackend, RegionLock, Session};
use super::sqlite::SqliteBackend;
use super::value::{Params, Row, Value};
use super::{Result, StorageError};

/// Which engine runs the statements, for the few places their SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A subquery of the strings in a JSON array parameter (`["a","b"]`), for `x IN (…)`.
    pub fn json_strings(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each({param})"),
            Dialect::Postgres => {
                format!("SELECT json_array_elements_text(CAST(CAST({param} AS TEXT) AS json))")
            }
        }
    }

    /// Minutes from one RFC 3339 time column (or expression) to another, as a real.
    pub fn minutes_between(self, from: &str, to: &str) -> String {
        match self {
            Dialect::Sqlite => format!("((julianday({to}) - julianday({from})) * 1440.0)"),
            Dialect::Postgres => format!(
                "(EXTRACT(EPOCH FROM (CAST({to} AS timestamptz) - CAST({from} AS timestamptz))) / 60.0)"
            ),
        }
    }

    /// The day after a `YYYY-MM-DD` expression, as `YYYY-MM-DD` text.
    pub fn next_day(self, day: &str) -> String {
        match self {
            Dialect::Sqlite => format!("date({day}, '+1 day')"),
            Dialect::Postgres => format!("to_char(CAST({day} AS date) + 1, 'YYYY-MM-DD')"),
        }
    }
}

/// Where statements run: the database itself (each statement on its own) or a transaction.
pub trait Exec {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; the number of rows it changed.
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize>;
    /// Runs one query; all its rows.
    fn fetch(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;

    fn execute(&self, sql: &str, params: impl Params) -> Result<usize>
    where
        Self: Sized,
    {
        self.run(sql, &params.values())
    }

    /// The first row, read by `f`; `StorageError::NoRow` when there is none (see `optional`).
    fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T>
    where
        Self: Sized,
    {
        match self.fetch(sql, &params.values())?.first() {
            Some(row) => f(row),
            None => Err(StorageError::NoRow),
        }
    }

    /// Every row, each read by `f`.
    fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        Self: Sized,
    {
        self.fetch(sql, &params.values())?.iter().map(f).collect()
    }
}

/// The region's database.
#[derive(Debug)]
pub struct Database {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteBackend),
    Postgres(Box<PostgresBackend>),
}

impl Database {
    /// SQLite in one file, created and migrated when needed.
    pub fn open(path: &Path) -> Result<Database> {
        Ok(Database {
            backend: Backend::Sqlite(SqliteBackend::open(path)?),
        })
    }

    /// SQLite in memory (tests).
    pub fn open_in_memory() -> Result<Database> {
        Ok(Database {
            backend: Backend::Sqlite(SqliteBackend::open_in_memory()?),
        })
    }

    /// PostgreSQL at `url`, migrated when needed.
    pub fn connect(url: &str) -> Result<Database> {
        Ok(Database {
            backend: Backend::Postgres(Box::new(PostgresBackend::connect(url)?)),
        })
    }

    /// Creates an empty database `name` on a PostgreSQL cluster (`admin_url` in key–value
    /// form) and gives the address to `connect` to it: for tests and `scripts/region`.
    pub fn create_postgres(admin_url: &str, name: &str) -> Result<String> {
        super::postgres::create_database(admin_url, name)
    }

    /// Runs `f` as one transaction: all of it is kept when it returns `Ok`, none of it
    /// otherwise. On PostgreSQL `f` may run more than once (after a conflict with another
    /// replica), so it must do nothing but database work.
    pub fn transaction<T>(&self, mut f: impl FnMut(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(db) => db.transaction(|conn| f(&Tx(TxOn::Sqlite(conn)))),
            Backend::Postgres(db) => db.transaction(|session| f(&Tx(TxOn::Postgres(session)))),
        }
    }

    /// Tells every replica sharing the database (PostgreSQL NOTIFY on `channel`); nothing to
    /// do on SQLite, where this process is the only one.
    pub fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(db) => db.notify(channel, payload),
        }
    }

    /// What replicas notify on `channel` (this one's own notes included); `None` on SQLite.
    pub fn listen(&self, channel: &str) -> Option<tokio::sync::mpsc::Receiver<Heard>> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => Some(db.listen(channel)),
        }
    }

    /// Holds the region-wide lock `key` until the guard is dropped (on SQLite, one process:
    /// nothing to hold).
    pub fn exclusively(&self, key: i64) -> Result<Exclusive> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Exclusive(None)),
            Backend::Postgres(db) => Ok(Exclusive(Some(db.hold_lock(key)?))),
        }
    }

    /// Runs `f` on one consistent, read-only snapshot (on SQLite: one transaction).
    pub fn read_snapshot<T>(&self, mut f: impl FnMut(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(db) => db.transaction(|conn| f(&Tx(TxOn::Sqlite(conn)))),
            Backend::Postgres(db) => db.read_snapshot(|session| f(&Tx(TxOn::Postgres(session)))),
        }
    }

    /// Answers when the database does, within `limit` (readiness).
    pub fn ping(&self, limit: Duration) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(db) => {
                super::sqlite::fetch(&db.lock(), "SELECT 1", &[])?;
                Ok(())
            }
            Backend::Postgres(db) => db.ping(limit),
        }
    }
}

impl Exec for Database {
    fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match &self.backend {
            Backend::Sqlite(db) => super::sqlite::run(&db.lock(), sql, params),
            Backend::Postgres(db) => db.run(sql, params),
        }
    }

    fn fetch(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &self.backend {
            Backend::Sqlite(db) => super::sqlite::fetch(&db.lock(), sql, params),
            Backend::Postgres(db) => db.fetch(sql, params),
        }
    }
}

/// A region-wide lock held until dropped (`Database::exclusively`).
#[derive(Debug)]
pub struct Exclusive(#[allow(dead_code)] Option<RegionLock>);

/// A transaction in progress.
pub struct Tx<'a>(TxOn<'a>);

enum TxOn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a Session<'a>),
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            TxOn::Sqlite(_) => "Tx(sqlite)",
            TxOn::Postgres(_) => "Tx(postgres)",
        })
    }
}

impl Exec for Tx<'_> {
    fn dialect(&self) -> Dialect {
        match self.0 {
            TxOn::Sqlite(_) => Dialect::Sqlite,
            TxOn::Postgres(_) => Dialect::Postgres,
        }
    }

    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self.0 {
            TxOn::Sqlite(conn) => super::sqlite::run(conn, sql, params),
            TxOn::Postgres(session) => session.run(sql, params),
        }
    }

    fn fetch(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self.0 {
            TxOn::Sqlite(conn) => super::sqlite::fetch(conn, sql, params),
            TxOn::Postgres(session) => session.fetch(sql, params),
        }
    }
}
