//! The terminal's SQLite store: content versions kept as content-addressed records, activated in
//! one transaction with the previous version kept for rollback.

use std::path::Path;
use std::sync::Mutex;

use menpai_model::{ContentPack, Item, ValidationError};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Numbered migrations, applied in order; `PRAGMA user_version` records how far a store is.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_content.sql"),
    include_str!("../migrations/0002_audit.sql"),
    include_str!("../migrations/0003_outbox.sql"),
    include_str!("../migrations/0004_queue.sql"),
    include_str!("../migrations/0005_sync.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored record {kind} {key} is unreadable: {source}")]
    Corrupt {
        kind: String,
        key: String,
        source: serde_json::Error,
    },
    #[error("the content pack is invalid ({} problem(s)); the active version is unchanged", .0.len())]
    Invalid(Vec<ValidationError>),
    #[error("there is no previous version to roll back to")]
    NoPrevious,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A stored content version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub id: i64,
    pub version: String,
    pub region: String,
    pub imported_at: String,
    pub state: String,
}

impl VersionInfo {
    /// From a row of `SELECT id, version, region, imported_at, state FROM versions`.
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(VersionInfo {
            id: r.get(0)?,
            version: r.get(1)?,
            region: r.get(2)?,
            imported_at: r.get(3)?,
            state: r.get(4)?,
        })
    }
}

#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the store file in WAL mode and migrates it.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// A store in memory, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    /// The same open-and-migrate shape as the regional server's `storage/sqlite.rs`, kept apart
    /// on purpose: each store has its own schema and numbered migrations, the terminal's cache
    /// is small for its memory, and the only crate both share (`menpai-model`) does no I/O.
    fn init(conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", -4096)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", n as i64 + 1)?;
            tx.commit()?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Validates `pack` and makes it the active version in one transaction; the old active
    /// version becomes the previous one, and any older version is dropped.
    pub fn import(&self, pack: &ContentPack) -> Result<VersionInfo> {
        let version = pack
            .region
            .as_ref()
            .map(|r| r.version.clone())
            .unwrap_or_default();
        self.import_as(pack, &version)
    }

    /// Like [`Store::import`], under the version name the regional server gave it.
    pub fn import_as(&self, pack: &ContentPack, version: &str) -> Result<VersionInfo> {
        pack.validate().map_err(StoreError::Invalid)?;
        let region = pack.region.as_ref().expect("validated packs have a region");
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM versions WHERE state = 'previous'", [])?;
        tx.execute(
            "UPDATE versions SET state = 'previous' WHERE state = 'active'",
            [],
        )?;
        let imported_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        tx.execute(
            "INSERT INTO versions (version, region, imported_at, state) VALUES (?1, ?2, ?3, 'active')",
            params![version, region.id, imported_at],
        )?;
        let version_id = tx.last_insert_rowid();
        {
            let mut put_blob =
                tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?1, ?2)")?;
            let mut put_entry = tx.prepare_cached(
                "INSERT INTO entries (version_id, kind, key, sha256) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in menpai_model::bundle::records(pack) {
                let sha = r.sha256();
                put_blob.execute(params![sha, r.body])?;
                put_entry.execute(params![version_id, r.kind, r.key, sha])?;
            }
            // Pictures the plate shows belong to the version too, so they live as long as
            // it does; form files (phones only) are never kept here.
            let mut have_blob = tx.prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")?;
            for (kind, sha) in menpai_model::bundle::files(pack) {
                if kind != menpai_model::bundle::IMAGE {
                    continue;
                }
                if let Some(bytes) = pack.files.get(&sha) {
                    put_blob.execute(params![sha, bytes])?;
                }
                if have_blob.exists([&sha])? {
                    put_entry.execute(params![version_id, kind, sha, sha])?;
                }
            }
        }
        tx.execute(
            "DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM entries)",
            [],
        )?;
        tx.commit()?;
        drop(conn);
        Ok(self.active()?.expect("just activated"))
    }

    /// The active version, if any content was imported.
    pub fn active(&self) -> Result<Option<VersionInfo>> {
        self.version_in_state("active")
    }

    fn version_in_state(&self, state: &str) -> Result<Option<VersionInfo>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, version, region, imported_at, state FROM versions WHERE state = ?1",
                [state],
                VersionInfo::from_row,
            )
            .optional()?)
    }

    /// Swaps the active and the previous version.
    pub fn rollback(&self) -> Result<VersionInfo> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let previous: Option<i64> = tx
            .query_row(
                "SELECT id FROM versions WHERE state = 'previous'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        previous.ok_or(StoreError::NoPrevious)?;
        // One state per version at a time (a unique index), so swap through `staged`.
        tx.execute_batch(
            "UPDATE versions SET state = 'staged' WHERE state = 'active';
             UPDATE versions SET state = 'active' WHERE state = 'previous';
             UPDATE versions SET state = 'previous' WHERE state = 'staged';",
        )?;
        tx.commit()?;
        drop(conn);
        Ok(self.active()?.expect("a version is active after rollback"))
    }

    /// Calls `f` with every record of a version (kind, key, JSON body), one row at a time.
    pub fn visit_records(
        &self,
        version_id: i64,
        mut f: impl FnMut(&str, &str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT e.kind, e.key, b.body FROM entries e JOIN blobs b ON b.sha256 = e.sha256
             WHERE e.version_id = ?1 AND e.kind NOT IN ('image', 'file') ORDER BY e.kind, e.key",
        )?;
        let mut rows = stmt.query([version_id])?;
        while let Some(row) = rows.next()? {
            let kind = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let key = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let body = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            f(kind, key, body)?;
        }
        Ok(())
    }

    /// One item of a version.
    pub fn item(&self, version_id: i64, id: &str) -> Result<Option<Item>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT b.body FROM entries e JOIN blobs b ON b.sha256 = e.sha256
             WHERE e.version_id = ?1 AND e.kind = 'item' AND e.key = ?2",
        )?;
        let body: Option<Vec<u8>> = stmt
            .query_row(params![version_id, id], |r| r.get(0))
            .optional()?;
        body.map(|b| {
            serde_json::from_slice(&b).map_err(|source| StoreError::Corrupt {
                kind: "item".into(),
                key: id.into(),
                source,
            })
        })
        .transpose()
    }

    /// A picture version `version_id` names (never any other blob).
    pub fn image(&self, version_id: i64, sha256: &str) -> Result<Option<Vec<u8>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT b.body FROM entries e JOIN blobs b ON b.sha256 = e.sha256
             WHERE e.version_id = ?1 AND e.kind = 'image' AND e.key = ?2",
        )?;
        Ok(stmt
            .query_row(params![version_id, sha256], |r| r.get(0))
            .optional()?)
    }

    /// Records an admin action in the audit log.
    pub fn audit(&self, action: &str, detail: &str, outcome: &str) -> Result<()> {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.conn().execute(
            "INSERT INTO audit_log (at, action, detail, outcome) VALUES (?1, ?2, ?3, ?4)",
            params![at, action, detail, outcome],
        )?;
        Ok(())
    }

    /// Queues an event for the regional server; returns its idempotency key.
    pub fn enqueue(&self, kind: &str, body: &serde_json::Value) -> Result<String> {
        enqueue_in(&self.conn(), kind, body)
    }

    /// Marks events as held by the regional server.
    pub fn mark_sent(&self, keys: &[String]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET sent_at = ?1 WHERE idempotency_key = ?2 AND sent_at IS NULL",
            )?;
            for k in keys {
                n += stmt.execute(params![now, k])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Whether a blob (a record or a picture) is here (from any version, or fetched for the
    /// next).
    pub fn has_blob(&self, sha256: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM blobs WHERE sha256 = ?1",
                [sha256],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row("SELECT body FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Keeps verified blobs for the version being fetched; a restart resumes from them.
    pub fn put_blobs(&self, blobs: &[(String, Vec<u8>)], shards: bool) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let sql = if shards {
                "INSERT OR IGNORE INTO sync_shards (sha256, body) VALUES (?1, ?2)"
            } else {
                "INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?1, ?2)"
            };
            let mut stmt = tx.prepare_cached(sql)?;
            for (sha, body) in blobs {
                stmt.execute(params![sha, body])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn shard(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT body FROM sync_shards WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Drops shards no longer listed by the active manifest.
    pub fn keep_shards(&self, keep: &[String]) -> Result<()> {
        let list = serde_json::to_string(keep).expect("strings serialise");
        self.conn().execute(
            "DELETE FROM sync_shards WHERE sha256 NOT IN (SELECT value FROM json_each(?1))",
            [list],
        )?;
        Ok(())
    }

    pub fn sync_state(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_sync_state(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Runs `f` in one transaction: an action and its outbox event land together or not at all.
    /// An error from `f` (a refusal, too) rolls it back.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Reads through the connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }

    /// Events not yet sent.
    pub fn outbox_depth(&self) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Unsent events, oldest first: (key, kind, body, created_at).
    pub fn unsent(&self, limit: usize) -> Result<Vec<(String, String, String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT idempotency_key, kind, body, created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest audit entries, newest first: (at, action, detail, outcome).
    pub fn audit_entries(&self, limit: usize) -> Result<Vec<(String, String, String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, action, detail, outcome FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All stored versions, newest first.
    pub fn versions(&self) -> Result<Vec<VersionInfo>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, version, region, imported_at, state FROM versions ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], VersionInfo::from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Writes an event to the outbox on `conn` (inside the caller's transaction); returns its key.
pub fn enqueue_in(conn: &Connection, kind: &str, body: &serde_json::Value) -> Result<String> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = chrono::Utc::now();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let seed = format!(
        "{}-{}-{n}-{kind}",
        std::process::id(),
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let key = hex::encode(&Sha256::digest(seed.as_bytes())[..16]);
    conn.execute(
        "INSERT INTO outbox (idempotency_key, kind, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            key,
            kind,
            body.to_string(),
            now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ],
    )?;
    Ok(key)
}

/// Decodes one stored record into its place in `pack`.
pub fn decode_into(pack: &mut ContentPack, kind: &str, key: &str, body: &[u8]) -> Result<()> {
    menpai_model::bundle::decode_record(pack, kind, body).map_err(|source| StoreError::Corrupt {
        kind: kind.to_owned(),
        key: key.to_owned(),
        source,
    })
}
