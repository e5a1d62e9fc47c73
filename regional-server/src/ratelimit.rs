//! Sliding-window rate limits on what the public may do (booking): so many attempts per key
//! (an address, a phone's keyed hash) in a window. In memory: a restart forgives.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before the expired ones are swept.
const SWEEP_AT: usize = 10_000;

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
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if hits.len() >= SWEEP_AT {
            hits.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = hits.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= self.limit as usize {
            let oldest = *q.front().expect("over a limit of at least one");
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        q.push_back(now);
        Ok(())
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
