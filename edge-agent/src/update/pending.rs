//! The update under way, kept in the data directory so a cut link, a restart or a reboot
//! resumes it; which boot wrote it (a reboot is a new boot id, an agent restart is not).

use std::path::PathBuf;

use menpai_model::update::UpdateOffer;
use serde::{Deserialize, Serialize};

use super::gate;
use crate::Agent;
use crate::markers;

/// Where an update is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Stage {
    Downloading,
    /// Written to the other slot (not yet the one to boot); waiting for a quiet moment.
    Installed,
    /// The other slot made the one to boot; the reboot asked for.
    Rebooting,
    /// Booted into the new slot, its gate passed and the slot marked good; only the report of
    /// it is left.
    Committed,
    /// The new slot failed its gate and is marked bad; the reboot back asked for.
    GateFailed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) offer: UpdateOffer,
    pub(super) stage: Stage,
    /// The slot booted when it began.
    pub(super) from_slot: String,
    /// What worked before the reboot (the gate's yardstick).
    #[serde(default)]
    pub(super) before: gate::Snapshot,
    /// The boot during which the last reboot was asked for.
    #[serde(default)]
    pub(super) boot_id: String,
    /// When it was asked for (milliseconds since the epoch).
    #[serde(default)]
    pub(super) at_ms: i64,
    /// Why the gate failed.
    #[serde(default)]
    pub(super) why: String,
}

impl Pending {
    pub(super) fn new(offer: UpdateOffer, from_slot: &str) -> Pending {
        Pending {
            offer,
            stage: Stage::Downloading,
            from_slot: from_slot.to_owned(),
            before: gate::Snapshot::default(),
            boot_id: String::new(),
            at_ms: 0,
            why: String::new(),
        }
    }
}

pub(super) fn dir(agent: &Agent) -> PathBuf {
    agent.config.data_dir.join("update")
}

fn state_path(agent: &Agent) -> PathBuf {
    dir(agent).join("state.json")
}

pub(super) fn bundle_path(agent: &Agent) -> PathBuf {
    dir(agent).join("bundle.raucb")
}

pub(super) fn load(agent: &Agent) -> Option<Pending> {
    markers::load(&state_path(agent))
}

pub(super) fn save(agent: &Agent, p: &Pending) -> Result<(), String> {
    std::fs::create_dir_all(dir(agent)).map_err(|e| e.to_string())?;
    markers::save(&state_path(agent), p).map_err(|e| format!("保存更新状态失败：{e}"))
}

/// Forgets the update and its download.
pub(super) fn clear(agent: &Agent) {
    let _ = std::fs::remove_file(state_path(agent));
    let _ = std::fs::remove_file(bundle_path(agent));
}

/// This boot's id (the kernel's, or the file the config names).
pub(super) fn boot_id(agent: &Agent) -> String {
    std::fs::read_to_string(&agent.config.update.boot_id_file)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Whether version `a` is newer than `b`, comparing their numbers in order (2026.12.10 is
/// newer than 2026.12.9); text that is not a number compares as text.
pub(super) fn is_newer(a: &str, b: &str) -> bool {
    fn parts(v: &str) -> Vec<Result<u64, String>> {
        v.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<u64>().map_err(|_| p.to_owned()))
            .collect()
    }
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x, y) {
            (Ok(x), Ok(y)) => x.cmp(y),
            (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
            (Err(_), Ok(_)) => std::cmp::Ordering::Less,
            (Err(x), Err(y)) => x.cmp(y),
        };
        if order != std::cmp::Ordering::Equal {
            return order == std::cmp::Ordering::Greater;
        }
    }
    a.len() > b.len()
}

#[cfg(test)]
mod tests {
    use super::is_newer;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(is_newer("2026.12.10", "2026.12.9"));
        assert!(is_newer("2026.12.1", "2026.11.1"));
        assert!(!is_newer("2026.12.1", "2026.12.1"));
        assert!(!is_newer("2026.11.30", "2026.12.1"));
        assert!(is_newer("2026.12.1.1", "2026.12.1"));
        assert!(is_newer("2026.12.1", "出厂版本"));
    }
}
