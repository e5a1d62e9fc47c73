//! Sliding-window rate limits: so many attempts per key (an address, an account, a phone's
//! keyed hash) in a window. In memory on a region of one process (a restart forgives); in the
//! shared database once `share`d, so a client spreading its attempts over a region's replicas
//! is counted once. When the database cannot count, the attempt is refused.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::storage::Storage;

/// Keys kept before the expired ones are swept, and at most.
const SWEEP_AT: usize = 10_000;
const MAX_KEYS: usize = 100_000;

/// The key of a client address: IPv6 by its /64 (one subscriber's network), IPv4 whole.
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        v4 => v4.to_string(),
    }
}

pub struct RateLimit {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// The database and this limiter's name in it, once shared.
    shared: OnceLock<(Arc<dyn Storage>, &'static str)>,
    /// Uses of the shared counts, for purging now and then.
    uses: std::sync::atomic::AtomicU64,
}

/// Old shared counts are purged once in this many uses.
const PURGE_EVERY: u64 = 200;

/// Keys longer than this are counted by their hash (a row stays small whatever a client sends).
const MAX_KEY: usize = 128;

/// The key as counted: long ones by their SHA-256.
fn stored_key(key: &str) -> std::borrow::Cow<'_, str> {
    if key.len() <= MAX_KEY {
        std::borrow::Cow::Borrowed(key)
    } else {
        use sha2::Digest;
        std::borrow::Cow::Owned(hex::encode(sha2::Sha256::digest(key.as_bytes())))
    }
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .field("shared", &self.shared.get().map(|(_, name)| *name))
            .finish()
    }
}

/// Wall-clock milliseconds: what replicas agree on (an `Instant` is one process's).
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The wait told when the database could not count (refused, to be safe).
const UNCOUNTED_WAIT: Duration = Duration::from_secs(5);

/// Why an attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over the limit: the time until the oldest attempt leaves the window.
    Wait(Duration),
    /// The shared count could not be read (the database is away).
    Uncounted,
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> RateLimit {
        RateLimit {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
            shared: OnceLock::new(),
            uses: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Counts in the shared database from now on, as `name` (unique per limiter).
    pub fn share(&self, storage: Arc<dyn Storage>, name: &'static str) {
        let _ = self.shared.set((storage, name));
    }

    /// The shared database and this limiter's name, with old attempts purged now and then
    /// (every key's, so rows of keys no longer used go too).
    fn shared(&self) -> Option<(&Arc<dyn Storage>, &'static str)> {
        let (db, name) = self.shared.get()?;
        if self
            .uses
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
            && let Err(e) = db.rate_purge(name, now_ms() - self.window_ms())
        {
            tracing::warn!(error = %e, limiter = name, "Old rate-limit counts could not be purged.");
        }
        Some((db, *name))
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// The wait until the attempt at `oldest_ms` leaves the window.
    fn wait_after(&self, oldest_ms: i64) -> Duration {
        Duration::from_millis(u64::try_from(oldest_ms + self.window_ms() - now_ms()).unwrap_or(0))
    }

    /// Counts an attempt by `key`; refused with the time to wait when it is over the limit.
    /// One lock (one transaction when shared): parallel attempts cannot all pass the check
    /// before any is counted.
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        self.try_hit(key, now).map_err(|r| match r {
            Refusal::Wait(wait) => wait,
            Refusal::Uncounted => UNCOUNTED_WAIT,
        })
    }

    /// As `hit`, telling an attempt over the limit from one the database could not count.
    pub fn try_hit(&self, key: &str, now: Instant) -> Result<(), Refusal> {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            return match db.rate_hit(name, key, now_ms(), self.window_ms(), self.limit) {
                Ok(None) => Ok(()),
                Ok(Some(oldest)) => Err(Refusal::Wait(self.wait_after(oldest))),
                Err(e) => {
                    tracing::warn!(error = %e, limiter = name, "A rate limit could not be counted.");
                    Err(Refusal::Uncounted)
                }
            };
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        self.sweep(&mut hits, now);
        let q = hits.entry(key.to_owned()).or_default();
        self.expire(q, now);
        if let Some(oldest) = q.front()
            && q.len() >= self.limit as usize
        {
            return Err(Refusal::Wait(
                self.window.saturating_sub(now.duration_since(*oldest)),
            ));
        }
        q.push_back(now);
        Ok(())
    }

    /// Refused with the time to wait when `key` has reached the limit in the window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            return match db.rate_window(name, key, now_ms(), self.window_ms()) {
                Ok((n, Some(oldest))) if n >= self.limit as usize => Err(self.wait_after(oldest)),
                Ok(_) => Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, limiter = name, "A rate limit could not be read.");
                    Err(UNCOUNTED_WAIT)
                }
            };
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let Some(q) = hits.get_mut(key) else {
            return Ok(());
        };
        self.expire(q, now);
        match q.front() {
            Some(oldest) if q.len() >= self.limit as usize => {
                Err(self.window.saturating_sub(now.duration_since(*oldest)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one for `key` (the oldest beyond the limit are forgotten); how many are in the
    /// window now.
    pub fn record(&self, key: &str, now: Instant) -> usize {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            let counted = db
                .rate_record(name, key, now_ms(), self.limit)
                .and_then(|_| db.rate_window(name, key, now_ms(), self.window_ms()));
            return match counted {
                Ok((n, _)) => n,
                Err(e) => {
                    tracing::warn!(error = %e, limiter = name, "A rate limit could not be counted.");
                    self.limit as usize
                }
            };
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        self.sweep(&mut hits, now);
        let q = hits.entry(key.to_owned()).or_default();
        self.expire(q, now);
        q.push_back(now);
        while q.len() > self.limit.max(1) as usize {
            q.pop_front();
        }
        q.len()
    }

    /// How many `key` has in the window now.
    pub fn count(&self, key: &str, now: Instant) -> usize {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            return db
                .rate_window(name, key, now_ms(), self.window_ms())
                .map_or(self.limit as usize, |(n, _)| n);
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.get_mut(key).map_or(0, |q| {
            self.expire(q, now);
            q.len()
        })
    }

    /// Takes back the latest count of `key` (an attempt counted up front that succeeded).
    pub fn forget_one(&self, key: &str) {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            if let Err(e) = db.rate_forget_latest(name, key) {
                tracing::warn!(error = %e, limiter = name, "A rate limit could not be taken back.");
            }
            return;
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = hits.get_mut(key) {
            q.pop_back();
        }
    }

    /// Forgets `key`.
    pub fn clear(&self, key: &str) {
        if let Some((db, name)) = self.shared() {
            let key = &*stored_key(key);
            if let Err(e) = db.rate_clear(name, key) {
                tracing::warn!(error = %e, limiter = name, "A rate limit could not be cleared.");
            }
            return;
        }
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Keeps the map bounded: expired keys go once it is large; past the hard bound, the
    /// oldest half goes too (memory wins over remembering every attacker).
    fn sweep(&self, hits: &mut HashMap<String, VecDeque<Instant>>, now: Instant) {
        if hits.len() < SWEEP_AT {
            return;
        }
        hits.retain(|_, q| {
            q.back()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        });
        if hits.len() >= MAX_KEYS {
            let mut latest: Vec<Instant> =
                hits.values().filter_map(|q| q.back().copied()).collect();
            latest.sort();
            let cut = latest[latest.len() / 2];
            hits.retain(|_, q| q.back().is_some_and(|t| *t > cut));
        }
    }

    fn expire(&self, q: &mut VecDeque<Instant>, now: Instant) {
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
    }
}

/// How long to wait, in words.
pub fn wait_words(d: Duration) -> String {
    let min = d.as_secs().div_ceil(60).max(1);
    if min < 90 {
        format!("{min} 分钟")
    } else {
        format!("{} 小时", min.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_over_the_limit_wait_until_the_oldest_leaves_the_window() {
        let l = RateLimit::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(l.hit("a", t0).is_ok());
        assert!(l.hit("a", t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            l.hit("a", t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(l.hit("b", t0 + Duration::from_secs(20)).is_ok(), "per key");
        assert!(l.hit("a", t0 + Duration::from_secs(61)).is_ok());
        assert_eq!(wait_words(Duration::from_secs(40)), "1 分钟");
        assert_eq!(wait_words(Duration::from_secs(86_000)), "24 小时");
    }
}
