//! How fast this terminal hands out tickets: a token bucket (a burst, then a steady rate), so a
//! stuck button or a script cannot use up a business type's numbers for the day.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TicketRate {
    burst: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

impl TicketRate {
    pub fn new(burst: u32, per_minute: u32) -> TicketRate {
        TicketRate {
            burst: burst.max(1) as f64,
            per_second: per_minute.max(1) as f64 / 60.0,
            state: Mutex::new((burst.max(1) as f64, Instant::now())),
        }
    }

    /// Takes one ticket's token; refused with the time until the next one.
    pub fn take(&self, now: Instant) -> Result<(), Duration> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = *s;
        let tokens = (tokens + now.saturating_duration_since(at).as_secs_f64() * self.per_second)
            .min(self.burst);
        if tokens >= 1.0 {
            *s = (tokens - 1.0, now);
            Ok(())
        } else {
            *s = (tokens, now);
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let r = TicketRate::new(3, 6);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.take(t0).is_ok());
        }
        let wait = r.take(t0).unwrap_err();
        assert_eq!(wait.as_secs(), 10, "6 a minute: one every 10 s");
        assert!(r.take(t0 + Duration::from_secs(10)).is_ok());
        assert!(r.take(t0 + Duration::from_secs(11)).is_err());
    }
}
