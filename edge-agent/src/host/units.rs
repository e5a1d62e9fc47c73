//! Restarting a unit through systemd's manager.

#[zbus::proxy(
    interface = "org.freedesktop.systemd1.Manager",
    default_service = "org.freedesktop.systemd1",
    default_path = "/org/freedesktop/systemd1"
)]
trait SystemdManager {
    fn restart_unit(&self, name: &str, mode: &str)
    -> zbus::Result<zbus::zvariant::OwnedObjectPath>;
}

/// Restarts `unit` (replacing any queued job); returns systemd's job path.
pub async fn restart(bus: &zbus::Connection, unit: &str) -> zbus::Result<String> {
    let manager = SystemdManagerProxy::new(bus).await?;
    let job = manager.restart_unit(unit, "replace").await?;
    Ok(job.to_string())
}
