//! Over-the-air updates: what the regional server offers a terminal in a rollout, and what the
//! terminal reports back at each step (RAUC A/B slots underneath; see the agent's `update`).

use serde::{Deserialize, Serialize};

/// Longest detail a terminal may report with a step, in characters.
pub const DETAIL_MAX_CHARS: usize = 300;
/// Longest version or slot name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// Where a terminal is in an update. The server sets the first two; the terminal reports the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdatePhase {
    /// Its group has not started yet.
    Waiting,
    /// Its group started; the terminal has not answered yet.
    Offered,
    /// Fetching the bundle (resumes where a cut link stopped it).
    Downloading,
    /// RAUC checks the bundle's signature and writes the other slot.
    Installing,
    /// Written; waiting for a quiet moment (no citizen at the plate, no print running).
    Installed,
    /// Restarting into the new slot.
    Rebooting,
    /// Booted into the new slot; the health gate runs.
    Checking,
    /// The health gate passed and the slot is marked good.
    Done,
    /// Stopped with an error (a bad bundle, a failed gate); the old slot stays in use.
    Failed,
    /// The new slot did not come up healthy: the terminal runs the old one again.
    RolledBack,
    /// The rollout was cancelled before this terminal rebooted.
    Cancelled,
}

impl UpdatePhase {
    pub const ALL: [UpdatePhase; 11] = [
        UpdatePhase::Waiting,
        UpdatePhase::Offered,
        UpdatePhase::Downloading,
        UpdatePhase::Installing,
        UpdatePhase::Installed,
        UpdatePhase::Rebooting,
        UpdatePhase::Checking,
        UpdatePhase::Done,
        UpdatePhase::Failed,
        UpdatePhase::RolledBack,
        UpdatePhase::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UpdatePhase::Waiting => "waiting",
            UpdatePhase::Offered => "offered",
            UpdatePhase::Downloading => "downloading",
            UpdatePhase::Installing => "installing",
            UpdatePhase::Installed => "installed",
            UpdatePhase::Rebooting => "rebooting",
            UpdatePhase::Checking => "checking",
            UpdatePhase::Done => "done",
            UpdatePhase::Failed => "failed",
            UpdatePhase::RolledBack => "rolled_back",
            UpdatePhase::Cancelled => "cancelled",
        }
    }

    pub fn of(name: &str) -> Option<UpdatePhase> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What an operator reads in the fleet view.
    pub fn label(self) -> &'static str {
        match self {
            UpdatePhase::Waiting => "等待分组开始",
            UpdatePhase::Offered => "已通知",
            UpdatePhase::Downloading => "下载中",
            UpdatePhase::Installing => "安装中",
            UpdatePhase::Installed => "已安装，等待空闲时重启",
            UpdatePhase::Rebooting => "重启中",
            UpdatePhase::Checking => "健康检查中",
            UpdatePhase::Done => "成功",
            UpdatePhase::Failed => "失败",
            UpdatePhase::RolledBack => "已回退",
            UpdatePhase::Cancelled => "已取消",
        }
    }

    /// Nothing more happens to this terminal in this rollout.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            UpdatePhase::Done
                | UpdatePhase::Failed
                | UpdatePhase::RolledBack
                | UpdatePhase::Cancelled
        )
    }

    /// Counts against the rollout's error threshold.
    pub fn is_failure(self) -> bool {
        matches!(self, UpdatePhase::Failed | UpdatePhase::RolledBack)
    }

    /// A terminal may report this phase (the server sets the others).
    pub fn reportable(self) -> bool {
        !matches!(self, UpdatePhase::Waiting | UpdatePhase::Offered)
    }
}

/// A bundle the server offers a terminal: `GET /device/v1/update` (204 when there is none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOffer {
    pub rollout: String,
    pub release: String,
    /// The bundle's version (its manifest's `version`).
    pub version: String,
    /// The bundle's `compatible`: what system it is for.
    pub compatible: String,
    pub size: u64,
    /// SHA-256 of the whole bundle, hex.
    pub sha256: String,
    /// Where to fetch it (ranges allowed), a path on the same server.
    pub path: String,
}

/// The server's answer to `GET /device/v1/update`: the bundle to install now, if any; `paused`
/// when the terminal's rollout is paused (it keeps what it has and waits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAnswer {
    pub offer: Option<UpdateOffer>,
    #[serde(default)]
    pub paused: bool,
}

/// What a terminal runs: the booted slot's version and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemInfo {
    pub version: String,
    /// The booted slot's boot name (`A` or `B`); empty without RAUC.
    pub slot: String,
    /// What bundles it takes (RAUC's `compatible`, e.g. `menpai-terminal-arm64`); empty
    /// without RAUC: such a terminal is left out of rollouts.
    #[serde(default)]
    pub compatible: String,
}

/// A terminal's step: `POST /device/v1/update` (without a rollout: only what it runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateReport {
    #[serde(default)]
    pub rollout: Option<String>,
    #[serde(default)]
    pub phase: Option<UpdatePhase>,
    #[serde(default)]
    pub detail: String,
    pub system: SystemInfo,
}

impl UpdateReport {
    /// Bounds on what a terminal may say.
    pub fn check(&self) -> Result<(), String> {
        if self.detail.chars().count() > DETAIL_MAX_CHARS {
            return Err(format!("说明最多 {DETAIL_MAX_CHARS} 个字"));
        }
        for s in [
            &self.system.version,
            &self.system.slot,
            &self.system.compatible,
        ] {
            if s.chars().count() > NAME_MAX_CHARS || s.chars().any(char::is_control) {
                return Err("版本或分区名不合规".into());
            }
        }
        if self.phase.is_some_and(|p| !p.reportable()) {
            return Err("终端不能报告这个阶段".into());
        }
        if self.phase.is_some() != self.rollout.is_some() {
            return Err("阶段和发布计划要一起报告".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_by_name() {
        for p in UpdatePhase::ALL {
            assert_eq!(UpdatePhase::of(p.name()), Some(p));
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
        assert_eq!(UpdatePhase::of("bogus"), None);
    }

    #[test]
    fn a_report_is_bounded() {
        let mut r = UpdateReport {
            rollout: Some("ro-1".into()),
            phase: Some(UpdatePhase::Done),
            detail: String::new(),
            system: SystemInfo {
                version: "2026.12.1".into(),
                slot: "B".into(),
                compatible: "menpai-terminal-amd64".into(),
            },
        };
        assert!(r.check().is_ok());
        r.phase = Some(UpdatePhase::Offered);
        assert!(r.check().is_err());
        r.phase = Some(UpdatePhase::Done);
        r.detail = "长".repeat(DETAIL_MAX_CHARS + 1);
        assert!(r.check().is_err());
        r.detail.clear();
        r.system.version = "1\n2".into();
        assert!(r.check().is_err());
        r.system.version = "1".into();
        r.rollout = None;
        assert!(r.check().is_err());
    }
}
