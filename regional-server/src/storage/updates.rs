//! Over-the-air updates: releases (signed bundles), rollouts in groups, each terminal's phase,
//! and what each terminal runs.

use super::{Database, Exec, OptionalExt, Result, Row};
use crate::params;
use menpai_model::update::{SystemInfo, UpdatePhase};

/// A signed RAUC bundle as uploaded; its file lives in the bundles directory, named by `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: String,
    pub version: String,
    pub compatible: String,
    pub size: u64,
    pub sha256: String,
    /// Who signed it (the certificate's subject, as RAUC read it).
    pub signer: String,
    pub uploaded_by: String,
    pub uploaded_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutState {
    Running,
    Paused,
    Cancelled,
    /// Stopped by itself: failures passed the error threshold.
    Stopped,
    Finished,
}

impl RolloutState {
    pub fn name(self) -> &'static str {
        match self {
            RolloutState::Running => "running",
            RolloutState::Paused => "paused",
            RolloutState::Cancelled => "cancelled",
            RolloutState::Stopped => "stopped",
            RolloutState::Finished => "finished",
        }
    }

    pub fn of(s: &str) -> RolloutState {
        match s {
            "running" => RolloutState::Running,
            "paused" => RolloutState::Paused,
            "cancelled" => RolloutState::Cancelled,
            "stopped" => RolloutState::Stopped,
            _ => RolloutState::Finished,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RolloutState::Running => "进行中",
            RolloutState::Paused => "已暂停",
            RolloutState::Cancelled => "已取消",
            RolloutState::Stopped => "失败过多，已自动停止",
            RolloutState::Finished => "已完成",
        }
    }

    /// Still under way (terminals may be offered the bundle again once resumed).
    pub fn is_active(self) -> bool {
        matches!(self, RolloutState::Running | RolloutState::Paused)
    }
}

/// A rollout as kept: its groups (JSON, `updates::rollout::Group`) and how many have started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub id: String,
    pub release: String,
    pub name: String,
    pub state: RolloutState,
    pub success_pct: u32,
    pub error_pct: u32,
    pub groups: String,
    pub open_groups: usize,
    /// Failures already counted when a stopped rollout was resumed.
    pub failure_baseline: usize,
    pub reason: String,
    pub created_by: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One terminal in a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutTerminal {
    pub rollout: String,
    pub device: String,
    pub hall: String,
    pub group: usize,
    pub phase: UpdatePhase,
    pub detail: String,
    pub updated_ms: i64,
}

/// Releases, rollouts and what terminals run.
pub trait UpdateStore {
    fn add_release(&self, r: &Release) -> Result<()>;
    fn release_by_id(&self, id: &str) -> Result<Option<Release>>;
    fn release_by_sha(&self, sha256: &str) -> Result<Option<Release>>;
    /// Newest first.
    fn releases(&self) -> Result<Vec<Release>>;
    /// The rollout and its terminals (every one `Waiting`, those of the started groups
    /// `Offered`), in one transaction.
    fn add_rollout(&self, r: &Rollout, terminals: &[(String, String, usize)]) -> Result<()>;
    fn rollout(&self, id: &str) -> Result<Option<Rollout>>;
    /// Newest first.
    fn rollouts(&self) -> Result<Vec<Rollout>>;
    fn rollout_terminals(&self, rollout: &str) -> Result<Vec<RolloutTerminal>>;
    /// Moves a rollout from the state and started groups it had when read (false when another
    /// replica or operator changed it first); the newly started groups' terminals are offered.
    fn move_rollout(
        &self,
        id: &str,
        from: (RolloutState, usize),
        to: (RolloutState, usize),
        reason: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// The active rollout `device` has not finished, with its place in it.
    fn device_rollout(&self, device: &str) -> Result<Option<(Rollout, RolloutTerminal)>>;
    /// Terminals still in an active rollout (they are left out of a new one).
    fn devices_in_active_rollouts(&self) -> Result<Vec<String>>;
    /// A terminal's step; false when it is not in that rollout or already finished there.
    fn set_phase(
        &self,
        rollout: &str,
        device: &str,
        phase: UpdatePhase,
        detail: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// The unfinished terminals of a cancelled rollout become cancelled.
    fn cancel_open_terminals(&self, rollout: &str, now_ms: i64) -> Result<usize>;
    /// A revoked terminal's unfinished places in rollouts become cancelled.
    fn cancel_device_rollouts(&self, device: &str, now_ms: i64) -> Result<usize>;
    /// The failures a resumed rollout no longer counts.
    fn set_failure_baseline(&self, rollout: &str, failures: usize) -> Result<()>;
    fn set_system(&self, device: &str, s: &SystemInfo, now_ms: i64) -> Result<()>;
    /// Every terminal's (device, version, slot, compatible).
    fn systems(&self) -> Result<Vec<(String, String, String, String)>>;
    /// Each terminal's newest rollout phase: (device, rollout, phase).
    fn latest_phases(&self) -> Result<Vec<(String, String, UpdatePhase)>>;
}

const RELEASE: &str = "id, version, compatible, size, sha256, signer, uploaded_by, uploaded_ms";
const ROLLOUT: &str = "id, release_id, name, state, success_pct, error_pct, groups, open_groups,
     reason, created_by, created_ms, updated_ms, failure_baseline";
const TERMINAL: &str = "rollout, device, hall, grp, phase, detail, updated_ms";

fn release_row(r: &Row) -> Result<Release> {
    Ok(Release {
        id: r.get(0)?,
        version: r.get(1)?,
        compatible: r.get(2)?,
        size: r.get::<i64>(3)?.max(0) as u64,
        sha256: r.get(4)?,
        signer: r.get(5)?,
        uploaded_by: r.get(6)?,
        uploaded_ms: r.get(7)?,
    })
}

fn rollout_row(r: &Row) -> Result<Rollout> {
    Ok(Rollout {
        id: r.get(0)?,
        release: r.get(1)?,
        name: r.get(2)?,
        state: RolloutState::of(&r.get::<String>(3)?),
        success_pct: r.get::<i64>(4)?.clamp(0, 100) as u32,
        error_pct: r.get::<i64>(5)?.clamp(0, 100) as u32,
        groups: r.get(6)?,
        open_groups: r.get::<i64>(7)?.max(0) as usize,
        reason: r.get(8)?,
        created_by: r.get(9)?,
        created_ms: r.get(10)?,
        updated_ms: r.get(11)?,
        failure_baseline: r.get::<i64>(12)?.max(0) as usize,
    })
}

fn terminal_row(r: &Row) -> Result<RolloutTerminal> {
    Ok(RolloutTerminal {
        rollout: r.get(0)?,
        device: r.get(1)?,
        hall: r.get(2)?,
        group: r.get::<i64>(3)?.max(0) as usize,
        phase: UpdatePhase::of(&r.get::<String>(4)?).unwrap_or(UpdatePhase::Failed),
        detail: r.get(5)?,
        updated_ms: r.get(6)?,
    })
}

/// Phases a terminal has finished with (SQL list).
const FINAL: &str = "('done', 'failed', 'rolled_back', 'cancelled')";

impl UpdateStore for Database {
    fn add_release(&self, r: &Release) -> Result<()> {
        self.execute(
            &format!("INSERT INTO releases ({RELEASE}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                r.id,
                r.version,
                r.compatible,
                r.size as i64,
                r.sha256,
                r.signer,
                r.uploaded_by,
                r.uploaded_ms
            ],
        )?;
        Ok(())
    }

    fn release_by_id(&self, id: &str) -> Result<Option<Release>> {
        self.query_row(
            &format!("SELECT {RELEASE} FROM releases WHERE id = ?1"),
            [id],
            release_row,
        )
        .optional()
    }

    fn release_by_sha(&self, sha256: &str) -> Result<Option<Release>> {
        self.query_row(
            &format!("SELECT {RELEASE} FROM releases WHERE sha256 = ?1"),
            [sha256],
            release_row,
        )
        .optional()
    }

    fn releases(&self) -> Result<Vec<Release>> {
        self.query_map(
            &format!("SELECT {RELEASE} FROM releases ORDER BY uploaded_ms DESC, id DESC"),
            params![],
            release_row,
        )
    }

    fn add_rollout(&self, r: &Rollout, terminals: &[(String, String, usize)]) -> Result<()> {
        self.transaction(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO rollouts ({ROLLOUT})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    r.id,
                    r.release,
                    r.name,
                    r.state.name(),
                    r.success_pct as i64,
                    r.error_pct as i64,
                    r.groups,
                    r.open_groups as i64,
                    r.reason,
                    r.created_by,
                    r.created_ms,
                    r.updated_ms,
                    r.failure_baseline as i64
                ],
            )?;
            for (device, hall, group) in terminals {
                let phase = if *group < r.open_groups {
                    UpdatePhase::Offered
                } else {
                    UpdatePhase::Waiting
                };
                tx.execute(
                    &format!(
                        "INSERT INTO rollout_terminals ({TERMINAL})
                         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)"
                    ),
                    params![
                        r.id,
                        device,
                        hall,
                        *group as i64,
                        phase.name(),
                        r.created_ms
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn rollout(&self, id: &str) -> Result<Option<Rollout>> {
        self.query_row(
            &format!("SELECT {ROLLOUT} FROM rollouts WHERE id = ?1"),
            [id],
            rollout_row,
        )
        .optional()
    }

    fn rollouts(&self) -> Result<Vec<Rollout>> {
        self.query_map(
            &format!("SELECT {ROLLOUT} FROM rollouts ORDER BY created_ms DESC, id DESC"),
            params![],
            rollout_row,
        )
    }

    fn rollout_terminals(&self, rollout: &str) -> Result<Vec<RolloutTerminal>> {
        self.query_map(
            &format!(
                "SELECT {TERMINAL} FROM rollout_terminals WHERE rollout = ?1 ORDER BY grp, device"
            ),
            [rollout],
            terminal_row,
        )
    }

    fn move_rollout(
        &self,
        id: &str,
        from: (RolloutState, usize),
        to: (RolloutState, usize),
        reason: &str,
        now_ms: i64,
    ) -> Result<bool> {
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE rollouts SET state = ?4, open_groups = ?5, reason = ?6, updated_ms = ?7
                 WHERE id = ?1 AND state = ?2 AND open_groups = ?3",
                params![
                    id,
                    from.0.name(),
                    from.1 as i64,
                    to.0.name(),
                    to.1 as i64,
                    reason,
                    now_ms
                ],
            )?;
            if n == 1 && to.1 > from.1 {
                tx.execute(
                    "UPDATE rollout_terminals SET phase = 'offered', updated_ms = ?3
                     WHERE rollout = ?1 AND phase = 'waiting' AND grp < ?2",
                    params![id, to.1 as i64, now_ms],
                )?;
            }
            Ok(n == 1)
        })
    }

    fn device_rollout(&self, device: &str) -> Result<Option<(Rollout, RolloutTerminal)>> {
        let found = self
            .query_row(
                &format!(
                    "SELECT t.rollout FROM rollout_terminals t JOIN rollouts r ON r.id = t.rollout
                     WHERE t.device = ?1 AND r.state IN ('running', 'paused')
                       AND t.phase NOT IN {FINAL}
                     ORDER BY r.created_ms DESC LIMIT 1"
                ),
                [device],
                |r| r.get::<String>(0),
            )
            .optional()?;
        let Some(id) = found else { return Ok(None) };
        let rollout = self.rollout(&id)?;
        let terminal = self
            .query_row(
                &format!(
                    "SELECT {TERMINAL} FROM rollout_terminals WHERE rollout = ?1 AND device = ?2"
                ),
                params![id, device],
                terminal_row,
            )
            .optional()?;
        Ok(rollout.zip(terminal))
    }

    fn devices_in_active_rollouts(&self) -> Result<Vec<String>> {
        self.query_map(
            &format!(
                "SELECT DISTINCT t.device FROM rollout_terminals t JOIN rollouts r ON r.id = t.rollout
                 WHERE r.state IN ('running', 'paused') AND t.phase NOT IN {FINAL}"
            ),
            params![],
            |r| r.get(0),
        )
    }

    fn set_phase(
        &self,
        rollout: &str,
        device: &str,
        phase: UpdatePhase,
        detail: &str,
        now_ms: i64,
    ) -> Result<bool> {
        // A rollback follows a failed gate; nothing follows done or cancelled.
        let n = self.execute(
            "UPDATE rollout_terminals SET phase = ?3, detail = ?4, updated_ms = ?5
             WHERE rollout = ?1 AND device = ?2 AND phase <> 'waiting'
               AND (phase NOT IN ('done', 'failed', 'rolled_back', 'cancelled')
                    OR (phase = 'failed' AND ?3 = 'rolled_back'))",
            params![rollout, device, phase.name(), detail, now_ms],
        )?;
        Ok(n == 1)
    }

    fn cancel_open_terminals(&self, rollout: &str, now_ms: i64) -> Result<usize> {
        self.execute(
            &format!(
                "UPDATE rollout_terminals SET phase = 'cancelled', updated_ms = ?2
                 WHERE rollout = ?1 AND phase NOT IN {FINAL}"
            ),
            params![rollout, now_ms],
        )
    }

    fn cancel_device_rollouts(&self, device: &str, now_ms: i64) -> Result<usize> {
        self.execute(
            &format!(
                "UPDATE rollout_terminals SET phase = 'cancelled', detail = '终端已吊销', updated_ms = ?2
                 WHERE device = ?1 AND phase NOT IN {FINAL}"
            ),
            params![device, now_ms],
        )
    }

    fn set_failure_baseline(&self, rollout: &str, failures: usize) -> Result<()> {
        self.execute(
            "UPDATE rollouts SET failure_baseline = ?2 WHERE id = ?1",
            params![rollout, failures as i64],
        )?;
        Ok(())
    }

    fn set_system(&self, device: &str, s: &SystemInfo, now_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO device_systems (device, version, slot, compatible, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (device) DO UPDATE SET version = excluded.version, slot = excluded.slot,
                 compatible = excluded.compatible, updated_ms = excluded.updated_ms",
            params![device, s.version, s.slot, s.compatible, now_ms],
        )?;
        Ok(())
    }

    fn systems(&self) -> Result<Vec<(String, String, String, String)>> {
        self.query_map(
            "SELECT device, version, slot, compatible FROM device_systems ORDER BY device",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    }

    fn latest_phases(&self) -> Result<Vec<(String, String, UpdatePhase)>> {
        let rows: Vec<(String, String, String)> = self.query_map(
            "SELECT t.device, t.rollout, t.phase FROM rollout_terminals t
             JOIN rollouts r ON r.id = t.rollout
             ORDER BY t.device, r.created_ms, r.id",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut out: Vec<(String, String, UpdatePhase)> = Vec::new();
        for (device, rollout, phase) in rows {
            let phase = UpdatePhase::of(&phase).unwrap_or(UpdatePhase::Failed);
            match out.last_mut() {
                Some(last) if last.0 == device => *last = (device, rollout, phase),
                _ => out.push((device, rollout, phase)),
            }
        }
        Ok(out)
    }
}
