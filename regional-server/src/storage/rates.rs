//! Rate limits a region's replicas share: each counted attempt a row, by limiter and key, so
//! a client spreading its attempts over the replicas is counted once (`ratelimit.rs`).

use super::{Database, Exec, OptionalExt, Result};
use crate::params;

/// The shared counts.
pub trait RateStore {
    /// Counts an attempt by `key` unless it already has `limit` within `window_ms` of
    /// `now_ms`; when refused, the time of the oldest attempt in the window.
    fn rate_hit(
        &self,
        limiter: &str,
        key: &str,
        now_ms: i64,
        window_ms: i64,
        limit: u32,
    ) -> Result<Option<i64>>;
    /// Counts an attempt whatever the count (the oldest beyond `keep` are forgotten).
    fn rate_record(&self, limiter: &str, key: &str, now_ms: i64, keep: u32) -> Result<()>;
    /// Attempts of `key` within `window_ms` of `now_ms`, and the oldest one's time.
    fn rate_window(
        &self,
        limiter: &str,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<(usize, Option<i64>)>;
    /// Takes back the latest attempt of `key`.
    fn rate_forget_latest(&self, limiter: &str, key: &str) -> Result<()>;
    /// Forgets `key`.
    fn rate_clear(&self, limiter: &str, key: &str) -> Result<()>;
    /// Forgets every attempt of `limiter` older than `before_ms` (keys no longer used too).
    fn rate_purge(&self, limiter: &str, before_ms: i64) -> Result<usize>;
}

fn window_of(
    db: &impl Exec,
    limiter: &str,
    key: &str,
    now_ms: i64,
    window_ms: i64,
) -> Result<(usize, Option<i64>)> {
    db.execute(
        "DELETE FROM rate_hits WHERE limiter = ?1 AND key = ?2 AND at_ms <= ?3",
        params![limiter, key, now_ms - window_ms],
    )?;
    db.query_row(
        "SELECT COUNT(*), MIN(at_ms) FROM rate_hits WHERE limiter = ?1 AND key = ?2",
        params![limiter, key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

impl RateStore for Database {
    fn rate_hit(
        &self,
        limiter: &str,
        key: &str,
        now_ms: i64,
        window_ms: i64,
        limit: u32,
    ) -> Result<Option<i64>> {
        self.transaction(|tx| {
            let (count, oldest) = window_of(tx, limiter, key, now_ms, window_ms)?;
            if count >= limit as usize {
                return Ok(oldest);
            }
            tx.execute(
                "INSERT INTO rate_hits (limiter, key, at_ms) VALUES (?1, ?2, ?3)",
                params![limiter, key, now_ms],
            )?;
            Ok(None)
        })
    }

    fn rate_record(&self, limiter: &str, key: &str, now_ms: i64, keep: u32) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                "INSERT INTO rate_hits (limiter, key, at_ms) VALUES (?1, ?2, ?3)",
                params![limiter, key, now_ms],
            )?;
            tx.execute(
                "DELETE FROM rate_hits WHERE limiter = ?1 AND key = ?2 AND id NOT IN
                 (SELECT id FROM rate_hits WHERE limiter = ?1 AND key = ?2
                  ORDER BY at_ms DESC, id DESC LIMIT ?3)",
                params![limiter, key, keep.max(1)],
            )?;
            Ok(())
        })
    }

    fn rate_window(
        &self,
        limiter: &str,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<(usize, Option<i64>)> {
        self.transaction(|tx| window_of(tx, limiter, key, now_ms, window_ms))
    }

    fn rate_forget_latest(&self, limiter: &str, key: &str) -> Result<()> {
        self.transaction(|tx| {
            let latest: Option<i64> = tx
                .query_row(
                    "SELECT id FROM rate_hits WHERE limiter = ?1 AND key = ?2
                     ORDER BY at_ms DESC, id DESC LIMIT 1",
                    params![limiter, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = latest {
                tx.execute("DELETE FROM rate_hits WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }

    fn rate_purge(&self, limiter: &str, before_ms: i64) -> Result<usize> {
        self.execute(
            "DELETE FROM rate_hits WHERE limiter = ?1 AND at_ms <= ?2",
            params![limiter, before_ms],
        )
    }

    fn rate_clear(&self, limiter: &str, key: &str) -> Result<()> {
        self.execute(
            "DELETE FROM rate_hits WHERE limiter = ?1 AND key = ?2",
            params![limiter, key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    #[test]
    fn attempts_are_counted_in_their_window_and_refused_past_the_limit() {
        for db in databases() {
            assert_eq!(
                db.rate_hit("login", "1.2.3.4", 1_000, 60_000, 2).unwrap(),
                None
            );
            assert_eq!(
                db.rate_hit("login", "1.2.3.4", 2_000, 60_000, 2).unwrap(),
                None
            );
            assert_eq!(
                db.rate_hit("login", "1.2.3.4", 3_000, 60_000, 2).unwrap(),
                Some(1_000),
                "the third in the window is refused; the oldest says how long to wait"
            );
            assert_eq!(
                db.rate_hit("other", "1.2.3.4", 3_000, 60_000, 2).unwrap(),
                None
            );
            // The first leaves the window: one more fits.
            assert_eq!(
                db.rate_hit("login", "1.2.3.4", 61_000, 60_000, 2).unwrap(),
                None
            );
            assert_eq!(
                db.rate_window("login", "1.2.3.4", 61_000, 60_000).unwrap(),
                (2, Some(2_000))
            );
            db.rate_forget_latest("login", "1.2.3.4").unwrap();
            assert_eq!(
                db.rate_window("login", "1.2.3.4", 61_000, 60_000)
                    .unwrap()
                    .0,
                1
            );
            for t in 0..5 {
                db.rate_record("acct", "ann", 10_000 + t, 3).unwrap();
            }
            assert_eq!(
                db.rate_window("acct", "ann", 10_010, 60_000).unwrap(),
                (3, Some(10_002))
            );
            assert_eq!(db.rate_purge("acct", 10_002).unwrap(), 1);
            db.rate_clear("acct", "ann").unwrap();
            assert_eq!(
                db.rate_window("acct", "ann", 10_010, 60_000).unwrap(),
                (0, None)
            );
        }
    }

    #[test]
    fn parallel_attempts_never_all_pass() {
        for db in databases() {
            let db = std::sync::Arc::new(db);
            let passed: usize = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        let db = db.clone();
                        s.spawn(move || {
                            (0..5)
                                .filter(|_| {
                                    db.rate_hit("burst", "k", 5_000, 60_000, 10)
                                        .unwrap()
                                        .is_none()
                                })
                                .count()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(passed, 10);
        }
    }
}
