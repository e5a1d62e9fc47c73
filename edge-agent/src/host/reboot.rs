//! The nightly reboot, scheduled through logind so `shutdown --show` and the logged-in
//! technician see it too.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, NaiveTime, TimeDelta};

use crate::Agent;

#[zbus::proxy(
    interface = "org.freedesktop.login1.Manager",
    default_service = "org.freedesktop.login1",
    default_path = "/org/freedesktop/login1"
)]
trait LoginManager {
    fn schedule_shutdown(&self, kind: &str, usec: u64) -> zbus::Result<()>;
    fn reboot(&self, interactive: bool) -> zbus::Result<()>;
    #[zbus(property)]
    fn scheduled_shutdown(&self) -> zbus::Result<(String, u64)>;
}

/// `"03:30"` → 03:30.
pub fn parse_hh_mm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// The next `at` after `now` (both China Standard Time), at least a minute away.
pub fn next_after(now: NaiveDateTime, at: NaiveTime) -> NaiveDateTime {
    let today = now.date().and_time(at);
    if today > now + TimeDelta::minutes(1) {
        today
    } else {
        today + TimeDelta::days(1)
    }
}

/// China Standard Time → microseconds since the Unix epoch (logind's realtime clock).
pub fn realtime_usec(china: NaiveDateTime) -> u64 {
    let utc = china - TimeDelta::hours(8);
    utc.and_utc().timestamp_micros().max(0) as u64
}

/// Asks logind to reboot at the next `at`; after that time passes without a reboot (logind
/// refused, or the clock jumped), schedules the next one.
pub(super) async fn schedule_loop(agent: Arc<Agent>, bus: zbus::Connection, at: NaiveTime) {
    loop {
        let when = next_after(menpai_model::queue::china_now(), at);
        let label = when.format("%Y-%m-%d %H:%M").to_string();
        match schedule(&bus, when).await {
            Ok(()) => {
                tracing::info!(at = %label, "Nightly reboot scheduled with logind.");
                *super::lock(&agent.host.reboot_at) = Some(label);
            }
            Err(e) => {
                tracing::error!(at = %label, error = %e, "logind refused to schedule the reboot.");
                *super::lock(&agent.host.reboot_at) = None;
            }
        }
        let wait = (when - menpai_model::queue::china_now())
            .to_std()
            .unwrap_or_default()
            + Duration::from_secs(120);
        tokio::time::sleep(wait).await;
    }
}

/// Reboots now (a remote command), without asking anyone.
pub async fn now(bus: &zbus::Connection) -> zbus::Result<()> {
    LoginManagerProxy::new(bus).await?.reboot(false).await
}

async fn schedule(bus: &zbus::Connection, when: NaiveDateTime) -> zbus::Result<()> {
    let login = LoginManagerProxy::new(bus).await?;
    login.schedule_shutdown("reboot", realtime_usec(when)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_next_reboot_is_tonight_or_tomorrow() {
        let at = parse_hh_mm("03:30").unwrap();
        assert_eq!(next_after(t("2026-11-21 01:00"), at), t("2026-11-21 03:30"));
        assert_eq!(next_after(t("2026-11-21 03:29"), at), t("2026-11-22 03:30"));
        assert_eq!(next_after(t("2026-11-21 14:00"), at), t("2026-11-22 03:30"));
        assert!(parse_hh_mm("25:00").is_none() && parse_hh_mm("3.30").is_none());
    }

    #[test]
    fn china_time_is_eight_hours_ahead_of_the_realtime_clock() {
        // 2026-11-22 03:30 CST = 2026-11-21 19:30 UTC.
        assert_eq!(realtime_usec(t("2026-11-22 03:30")), 1_795_289_400_000_000);
    }
}
