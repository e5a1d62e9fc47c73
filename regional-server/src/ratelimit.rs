//! Sliding-window rate limits: so many attempts per key (an address, an account, a phone's
//! keyed hash) in a window. In memory: a restart forgives.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Debug)]
pub struct RateLimit {
    limit: u32,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> RateLimit {
        RateLimit {
            limit,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt by `key`; refused with the time to wait when it is over the limit.
    /// One lock: parallel attempts cannot all pass the check before any is counted.
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        self.sweep(&mut hits, now);
        let q = hits.entry(key.to_owned()).or_default();
        self.expire(q, now);
        if let Some(oldest) = q.front()
            && q.len() >= self.limit as usize
        {
            return Err(self.window.saturating_sub(now.duration_since(*oldest)));
        }
        q.push_back(now);
        Ok(())
    }

    /// Refused with the time to wait when `key` has reached the limit in the window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
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
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.get_mut(key).map_or(0, |q| {
            self.expire(q, now);
            q.len()
        })
    }

    /// Takes back the latest count of `key` (an attempt counted up front that succeeded).
    pub fn forget_one(&self, key: &str) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = hits.get_mut(key) {
            q.pop_back();
        }
    }

    /// Forgets `key`.
    pub fn clear(&self, key: &str) {
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
