//! The halls' clock: China Standard Time whatever the machine's time zone, on the model's
//! `china_now`, so nothing here adds eight hours by hand.

use chrono::NaiveDateTime;

/// The hall's local time now (China Standard Time).
pub fn local_now() -> NaiveDateTime {
    menpai_model::queue::china_now()
}

/// A moment as the halls' clock reads it (China Standard Time).
pub fn local_of(utc: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    menpai_model::queue::china_time(utc)
}

/// A local time as stored: `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn stamp(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// A local day as stored: `YYYY-MM-DD`.
pub fn day(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d").to_string()
}

/// The server's clock: the real one, which tests may move forward to see deadlines pass, or
/// stop at a moment so every stamp of a simulated day is exact.
#[derive(Debug, Default)]
pub struct Clock {
    offset_s: std::sync::atomic::AtomicI64,
    /// Stopped at this local time (milliseconds since the epoch, as a naive local time).
    stopped_ms: std::sync::Mutex<Option<i64>>,
}

impl Clock {
    /// The hall's local time now (China Standard Time), moved as tests asked.
    pub fn local_now(&self) -> NaiveDateTime {
        let stopped = *self.stopped_ms.lock().unwrap_or_else(|e| e.into_inner());
        let base = stopped
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.naive_utc())
            .unwrap_or_else(local_now);
        base + self.offset()
    }

    /// Now in UTC, moved as tests asked.
    pub fn utc_now(&self) -> chrono::DateTime<chrono::Utc> {
        let stopped = *self.stopped_ms.lock().unwrap_or_else(|e| e.into_inner());
        match stopped.and_then(chrono::DateTime::from_timestamp_millis) {
            // China Standard Time is UTC+8 all year.
            Some(local) => local - chrono::Duration::hours(8) + self.offset(),
            None => chrono::Utc::now() + self.offset(),
        }
    }

    /// Stops the clock at local time `at`; `advance` then moves it (tests only: a simulated
    /// day whose stamps are exact).
    pub fn stop_at(&self, at: NaiveDateTime) {
        self.offset_s.store(0, std::sync::atomic::Ordering::Relaxed);
        *self.stopped_ms.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(at.and_utc().timestamp_millis());
    }

    /// Moves the clock forward (tests only: a case's deadline passing).
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_s
            .fetch_add(by.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }

    fn offset(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.offset_s.load(std::sync::atomic::Ordering::Relaxed))
    }
}
