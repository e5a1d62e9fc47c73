//! Files that outlive a restart or a reboot (a commanded restart, an update under way): written
//! whole and synced before the power goes, and stamped with the process that wrote them.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// This process's own mark: a marker with another one was written before a restart that has
/// happened.
pub fn instance() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap_or_default();
        format!("{}-{}", std::process::id(), hex::encode(bytes))
    })
}

/// Writes `bytes` to `path` whole or not at all, on disk before a reboot cuts the power.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `value` as JSON at `path`, synced.
pub fn save<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    write_synced(path, &serde_json::to_vec(value).expect("markers serialise"))
}

/// The marker at `path`, when there is one that reads.
pub fn load<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
