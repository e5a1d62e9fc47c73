//! Published content: signed versions and the blobs they name.

use rusqlite::{OptionalExtension, params};

use super::{Result, Database, StorageError};

#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub version: String,
    pub region: String,
    pub manifest: Vec<u8>,
    pub signature: String,
    pub published_at: String,
    pub published_by: String,
}

/// Content versions and blobs.
pub trait ContentStore {
    fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    fn has_blob(&self, sha256: &str) -> Result<bool>;
    /// A blob's size in bytes, without reading it.
    fn blob_len(&self, sha256: &str) -> Result<Option<u64>>;
    /// `len` bytes of a blob from byte `start` (a terminal resuming a picture): only those read.
    fn blob_range(&self, sha256: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>>;
    /// Keeps one blob (an uploaded file) under the SHA-256 of its bytes.
    fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<()>;
    /// Stores the blobs and the version in one transaction.
    fn publish(&self, version: &Version, blobs: &[(String, Vec<u8>)]) -> Result<()>;
    fn latest_version(&self) -> Result<Option<Version>>;
    fn versions(&self, limit: usize) -> Result<Vec<Version>>;
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

const VERSION_COLUMNS: &str = "version, region, manifest, signature, published_at, published_by";

impl ContentStore for Database {
    fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row("SELECT body FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn has_blob(&self, sha256: &str) -> Result<bool> {
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

    fn blob_len(&self, sha256: &str) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT length(body) FROM blobs WHERE sha256 = ?1",
                [sha256],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|n| n as u64))
    }

    fn blob_range(&self, sha256: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>> {
        // substr counts bytes in a BLOB, from 1.
        Ok(self
            .conn()
            .query_row(
                "SELECT substr(body, ?2, ?3) FROM blobs WHERE sha256 = ?1",
                params![sha256, start as i64 + 1, len as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?1, ?2)",
            params![sha256, body],
        )?;
        Ok(())
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
}
