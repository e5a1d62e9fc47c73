//! A rollout's rules, without I/O: which terminals go in which group, and what happens next
//! given how each group is doing (hawkBit's model: a group starts only when the one before it
//! reached the success threshold; the whole rollout stops when failures pass the error
//! threshold).

use menpai_model::update::UpdatePhase;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most groups in one rollout.
pub const MAX_GROUPS: usize = 20;

/// One group: a list of halls (a pilot hall), or a share of the eligible fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    /// These halls' terminals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub halls: Vec<String>,
    /// This percent of all the eligible terminals, picked from those no earlier group took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
}

impl Group {
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err("每个分组要有名称（最多 40 字）".into());
        }
        match (self.halls.is_empty(), self.percent) {
            (false, None) if self.halls.len() <= 500 => Ok(()),
            (true, Some(p)) if (1..=100).contains(&p) => Ok(()),
            _ => Err(format!(
                "分组「{name}」要么列出大厅（最多 500 个），要么给出 1–100 的百分比"
            )),
        }
    }
}

/// Checks a rollout's groups and thresholds.
pub fn check(groups: &[Group], success_pct: u32, error_pct: u32) -> Result<(), String> {
    if groups.is_empty() || groups.len() > MAX_GROUPS {
        return Err(format!("发布要有 1–{MAX_GROUPS} 个分组"));
    }
    for g in groups {
        g.check()?;
    }
    if !(1..=100).contains(&success_pct) {
        return Err("成功阈值要在 1–100% 之间".into());
    }
    if error_pct > 100 {
        return Err("失败阈值要在 0–100% 之间".into());
    }
    Ok(())
}

/// Puts `terminals` (device, hall) into groups, in order: a hall group takes its halls'
/// terminals; a percent group takes that share of all of them (rounded up) from those left, in
/// an order fixed by `seed` (the rollout's id), so a rerun picks the same ones. A terminal no
/// group takes is not in the rollout.
pub fn assign(
    groups: &[Group],
    terminals: &[(String, String)],
    seed: &str,
) -> Vec<(String, String, usize)> {
    let mut left: Vec<&(String, String)> = terminals.iter().collect();
    left.sort_by_key(|(device, _)| Sha256::digest(format!("{seed}/{device}")));
    let total = terminals.len();
    let mut out = Vec::with_capacity(total);
    for (i, g) in groups.iter().enumerate() {
        let taken: Vec<&(String, String)> = if let Some(p) = g.percent {
            let n = (total * p as usize).div_ceil(100).min(left.len());
            left.drain(..n).collect()
        } else {
            let (mine, rest): (Vec<_>, Vec<_>) = left
                .into_iter()
                .partition(|(_, hall)| g.halls.contains(hall));
            left = rest;
            mine
        };
        out.extend(taken.into_iter().map(|(d, h)| (d.clone(), h.clone(), i)));
    }
    out
}

/// How one group is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub size: usize,
    pub done: usize,
    pub failed: usize,
    /// Finished one way or another (done, failed, rolled back, cancelled).
    pub finished: usize,
}

/// Counts each group's terminals by phase.
pub fn tally(groups: usize, phases: impl IntoIterator<Item = (usize, UpdatePhase)>) -> Vec<Tally> {
    let mut out = vec![Tally::default(); groups];
    for (g, phase) in phases {
        let Some(t) = out.get_mut(g) else { continue };
        t.size += 1;
        t.done += usize::from(phase == UpdatePhase::Done);
        t.failed += usize::from(phase.is_failure());
        t.finished += usize::from(phase.is_final());
    }
    out
}

/// What a running rollout does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Start groups up to this many.
    Open(usize),
    /// Failures passed the error threshold: stop, with why.
    Stop(String),
    /// Every group started and every terminal finished.
    Finish,
}

/// The failures of the started groups.
pub fn failures(open: usize, tallies: &[Tally]) -> usize {
    tallies[..open.min(tallies.len())]
        .iter()
        .map(|t| t.failed)
        .sum()
}

/// The next step of a running rollout with `open` groups started; `forgiven` failures (counted
/// before an operator resumed it) do not count again.
pub fn next(
    open: usize,
    tallies: &[Tally],
    success_pct: u32,
    error_pct: u32,
    forgiven: usize,
) -> Next {
    let started = &tallies[..open.min(tallies.len())];
    let size: usize = started.iter().map(|t| t.size).sum();
    let failed = failures(open, tallies).saturating_sub(forgiven);
    if failed > 0 && failed * 100 > size * error_pct as usize {
        return Next::Stop(format!(
            "已启动分组的 {size} 台终端中 {failed} 台失败，超过失败阈值 {error_pct}%"
        ));
    }
    let reached = |t: &Tally| t.done * 100 >= t.size * success_pct as usize;
    let mut to = open.max(1);
    while to < tallies.len() && reached(&tallies[to - 1]) {
        to += 1;
    }
    if to > open {
        return Next::Open(to);
    }
    if open >= tallies.len() && tallies.iter().all(|t| t.finished == t.size) {
        return Next::Finish;
    }
    Next::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("dev-{i:03}"), format!("hall-{}", i % 10)))
            .collect()
    }

    #[test]
    fn groups_take_halls_then_shares_of_the_rest() {
        let groups = vec![
            Group {
                name: "试点".into(),
                halls: vec!["hall-0".into()],
                percent: None,
            },
            Group {
                name: "二批".into(),
                halls: vec![],
                percent: Some(30),
            },
            Group {
                name: "全部".into(),
                halls: vec![],
                percent: Some(100),
            },
        ];
        let a = assign(&groups, &fleet(100), "ro-1");
        assert_eq!(a.len(), 100);
        let count = |g| a.iter().filter(|t| t.2 == g).count();
        assert_eq!((count(0), count(1), count(2)), (10, 30, 60));
        assert!(a.iter().filter(|t| t.2 == 0).all(|t| t.1 == "hall-0"));
        assert_eq!(
            a,
            assign(&groups, &fleet(100), "ro-1"),
            "the same each time"
        );
        assert_ne!(
            a,
            assign(&groups, &fleet(100), "ro-2"),
            "another rollout, another order"
        );
    }

    #[test]
    fn a_group_starts_at_its_threshold_and_failures_stop_the_rollout() {
        let t = |size, done, failed| Tally {
            size,
            done,
            failed,
            finished: done + failed,
        };
        assert_eq!(
            next(1, &[t(10, 8, 0), t(30, 0, 0)], 90, 20, 0),
            Next::Nothing
        );
        assert_eq!(
            next(1, &[t(10, 9, 0), t(30, 0, 0)], 90, 20, 0),
            Next::Open(2)
        );
        assert_eq!(
            next(1, &[t(10, 9, 1), t(30, 0, 0), t(60, 0, 0)], 90, 20, 0),
            Next::Open(2)
        );
        assert!(matches!(
            next(2, &[t(10, 9, 1), t(30, 3, 8), t(60, 0, 0)], 90, 20, 0),
            Next::Stop(_)
        ));
        assert_eq!(
            next(2, &[t(10, 10, 0), t(5, 5, 0)], 90, 20, 0),
            Next::Finish
        );
        assert_eq!(next(1, &[t(0, 0, 0), t(5, 0, 0)], 90, 20, 0), Next::Open(2));
        // Resumed after a stop: the failures before no longer count.
        let stopped = [t(10, 9, 1), t(30, 3, 8), t(60, 0, 0)];
        assert!(matches!(next(2, &stopped, 90, 20, 0), Next::Stop(_)));
        assert_eq!(next(2, &stopped, 90, 20, 9), Next::Nothing);
        assert!(check(&[], 90, 20).is_err());
    }
}
