//! Published content: signed versions and the blobs they name.

use super::{Database, Exec, OptionalExt, Result, Row, StorageError};
use crate::params;

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

fn version_row(r: &Row) -> Result<Version> {
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

/// The largest offset or length `substr` takes: PostgreSQL's are 32-bit (and a BYTEA holds at
/// most 1 GiB, SQLite's blobs as much), so nothing is cut by it.
const SUBSTR_MAX: u64 = i32::MAX as u64;

impl ContentStore for Database {
    fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.query_row("SELECT body FROM blobs WHERE sha256 = ?1", [sha256], |r| {
            r.get(0)
        })
        .optional()
    }

    fn has_blob(&self, sha256: &str) -> Result<bool> {
        Ok(self
            .query_row(
                "SELECT 1 FROM blobs WHERE sha256 = ?1",
                [sha256],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn blob_len(&self, sha256: &str) -> Result<Option<u64>> {
        self.query_row(
            "SELECT length(body) FROM blobs WHERE sha256 = ?1",
            [sha256],
            |r| r.get::<u64>(0),
        )
        .optional()
    }

    fn blob_range(&self, sha256: &str, start: u64, len: u64) -> Result<Option<Vec<u8>>> {
        // substr counts bytes in a BLOB (and a BYTEA), from 1; past the end it gives none.
        let from = start.saturating_add(1).min(SUBSTR_MAX);
        let len = len.min(SUBSTR_MAX);
        self.query_row(
            "SELECT substr(body, ?2, ?3) FROM blobs WHERE sha256 = ?1",
            params![sha256, from, len],
            |r| r.get(0),
        )
        .optional()
    }

    fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO blobs (sha256, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![sha256, body],
        )?;
        Ok(())
    }

    fn publish(&self, v: &Version, blobs: &[(String, Vec<u8>)]) -> Result<()> {
        self.transaction(|tx| {
            for (sha, body) in blobs {
                tx.execute(
                    "INSERT INTO blobs (sha256, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![sha, body],
                )?;
            }
            let n = tx.execute(
                &format!(
                    "INSERT INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT DO NOTHING"
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
            Ok(())
        })
    }

    fn latest_version(&self) -> Result<Option<Version>> {
        Ok(self.versions(1)?.into_iter().next())
    }

    fn versions(&self, limit: usize) -> Result<Vec<Version>> {
        self.query_map(
            &format!("SELECT {VERSION_COLUMNS} FROM versions ORDER BY id DESC LIMIT ?1"),
            [limit],
            version_row,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    fn version(name: &str) -> Version {
        Version {
            version: name.into(),
            region: "shenzhen".into(),
            manifest: b"{\"records\":[]}".to_vec(),
            signature: "sig".into(),
            published_at: "2026-12-05T00:00:00Z".into(),
            published_by: "admin".into(),
        }
    }

    #[test]
    fn blobs_are_kept_once_and_read_by_byte_ranges() {
        for db in databases() {
            let body: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
            db.put_blob("b1", &body).unwrap();
            db.put_blob("b1", b"other bytes").unwrap();
            assert_eq!(db.blob("b1").unwrap(), Some(body.clone()));
            assert_eq!(db.blob("nope").unwrap(), None);
            assert!(db.has_blob("b1").unwrap());
            assert!(!db.has_blob("nope").unwrap());
            assert_eq!(db.blob_len("b1").unwrap(), Some(512));
            assert_eq!(db.blob_len("nope").unwrap(), None);
            assert_eq!(db.blob_range("b1", 0, 3).unwrap(), Some(vec![0, 1, 2]));
            assert_eq!(
                db.blob_range("b1", 254, 4).unwrap(),
                Some(vec![254, 255, 0, 1])
            );
            assert_eq!(db.blob_range("b1", 510, 100).unwrap(), Some(vec![254, 255]));
            assert_eq!(
                db.blob_range("b1", 510, u64::MAX).unwrap(),
                Some(vec![254, 255])
            );
            assert_eq!(
                db.blob_range("b1", 0, u64::MAX).unwrap().map(|b| b.len()),
                Some(512)
            );
            assert_eq!(db.blob_range("b1", 512, 10).unwrap(), Some(vec![]));
            assert_eq!(db.blob_range("b1", u64::MAX, 10).unwrap(), Some(vec![]));
            assert_eq!(db.blob_range("nope", 0, 10).unwrap(), None);
        }
    }

    #[test]
    fn a_version_is_published_with_its_blobs_once() {
        for db in databases() {
            assert_eq!(db.latest_version().unwrap(), None);
            db.put_blob("shared", b"s").unwrap();
            let blobs = vec![
                ("shared".to_string(), b"s".to_vec()),
                ("new".to_string(), b"n".to_vec()),
            ];
            db.publish(&version("v1"), &blobs).unwrap();
            assert_eq!(db.blob("new").unwrap(), Some(b"n".to_vec()));
            db.publish(&version("v2"), &[]).unwrap();
            assert_eq!(db.latest_version().unwrap(), Some(version("v2")));
            assert_eq!(db.versions(10).unwrap(), vec![version("v2"), version("v1")]);
            assert_eq!(db.versions(1).unwrap().len(), 1);
            // A version published again keeps nothing of the second try, not even its blobs.
            let again = vec![("late".to_string(), b"l".to_vec())];
            let err = db.publish(&version("v1"), &again).unwrap_err();
            assert!(matches!(err, StorageError::Conflict(_)), "{err}");
            assert!(!db.has_blob("late").unwrap());
            assert_eq!(db.versions(10).unwrap().len(), 2);
        }
    }
}
