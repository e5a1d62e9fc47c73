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

/// Pets the watchdog every `every` while the agent is well: the runtime runs and the store
/// answers. A wedged store stops the petting, and systemd restarts the agent.
pub async fn watchdog(agent: std::sync::Arc<crate::Agent>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let probe = agent.clone();
        let check = tokio::task::spawn_blocking(move || probe.store.outbox_depth());
        match tokio::time::timeout(every, check).await {
            Ok(Ok(Ok(_))) => notify("WATCHDOG=1"),
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "The store does not answer; not petting the watchdog.")
            }
            _ => tracing::error!("The store check hangs; not petting the watchdog."),
        }
    }
}
