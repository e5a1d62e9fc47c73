//! systemd's notify protocol: tell the service manager we are ready, and pet its watchdog.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends one notify message (`READY=1`, `WATCHDOG=1`, …) when run under systemd; no-op otherwise.
pub fn notify(message: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    // Abstract-namespace sockets ("@name") are not reachable through std; systemd uses a path.
    let result = UnixDatagram::unbound().and_then(|s| s.send_to(message.as_bytes(), &path));
    if let Err(e) = result {
        tracing::warn!(error = %e, "Could not notify systemd.");
    }
}

/// How often to pet the watchdog: half of `WATCHDOG_USEC`, when systemd asks for one.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
