//! RAUC over D-Bus (`de.pengutronix.rauc.Installer`): what the terminal runs, installing a
//! bundle into the other slot (RAUC checks its signature against the keyring in the image),
//! and marking slots good or bad. Tests put a fake RAUC on a private bus.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use menpai_model::update::SystemInfo;
use zbus::zvariant::{OwnedValue, Value};

#[zbus::proxy(
    interface = "de.pengutronix.rauc.Installer",
    default_service = "de.pengutronix.rauc",
    default_path = "/"
)]
trait Installer {
    fn install_bundle(&self, source: &str, args: HashMap<&str, Value<'_>>) -> zbus::Result<()>;
    fn mark(&self, state: &str, slot_identifier: &str) -> zbus::Result<(String, String)>;
    fn get_slot_status(&self) -> zbus::Result<Vec<(String, HashMap<String, OwnedValue>)>>;
    #[zbus(signal)]
    fn completed(&self, result: i32) -> zbus::Result<()>;
    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn boot_slot(&self) -> zbus::Result<String>;
    #[zbus(property)]
    fn compatible(&self) -> zbus::Result<String>;
}

/// Longest an installation may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn text(v: &OwnedValue) -> Option<String> {
    String::try_from(v.clone()).ok()
}

/// What the terminal runs: the booted slot's boot name, its bundle's version (`fallback` when
/// the slot was written at the factory, not by RAUC), and what bundles it takes.
pub async fn system(bus: &zbus::Connection, fallback: &str) -> zbus::Result<SystemInfo> {
    let rauc = InstallerProxy::new(bus).await?;
    let slot = rauc.boot_slot().await?;
    let compatible = rauc.compatible().await?;
    let slots = rauc.get_slot_status().await?;
    let version = slots
        .iter()
        .find(|(_, s)| {
            s.get("state").and_then(text).as_deref() == Some("booted")
                || s.get("bootname").and_then(text).as_deref() == Some(slot.as_str())
        })
        .and_then(|(_, s)| s.get("bundle.version").and_then(text))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.to_owned());
    Ok(SystemInfo {
        version,
        slot,
        compatible,
    })
}

/// Installs the bundle at `path` into the other slot and waits until RAUC is done: Ok, or
/// RAUC's own error (a bad signature, another system's bundle, a write error).
pub async fn install(bus: &zbus::Connection, path: &str) -> Result<(), String> {
    let rauc = InstallerProxy::new(bus)
        .await
        .map_err(|e| format!("连不上 RAUC：{e}"))?;
    // Listen before asking, so a quick answer is not missed.
    let mut done = rauc
        .receive_completed()
        .await
        .map_err(|e| format!("连不上 RAUC：{e}"))?;
    rauc.install_bundle(path, HashMap::new())
        .await
        .map_err(|e| format!("RAUC 拒绝安装：{}", short(&e.to_string())))?;
    let result = tokio::time::timeout(INSTALL_TIMEOUT, done.next())
        .await
        .map_err(|_| "安装超时".to_owned())?
        .ok_or("RAUC 断开了".to_owned())?
        .args()
        .map_err(|e| e.to_string())?
        .result;
    if result == 0 {
        return Ok(());
    }
    let why = rauc.last_error().await.unwrap_or_default();
    Err(format!("安装失败：{}", short(&why)))
}

/// Marks a slot (`booted`, `other` or a name) `good`, `bad` or `active`.
pub async fn mark(bus: &zbus::Connection, state: &str, slot: &str) -> Result<(), String> {
    let rauc = InstallerProxy::new(bus)
        .await
        .map_err(|e| format!("连不上 RAUC：{e}"))?;
    rauc.mark(state, slot)
        .await
        .map(|_| ())
        .map_err(|e| format!("RAUC 不能标记分区：{}", short(&e.to_string())))
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}
