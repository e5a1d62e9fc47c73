//! Queue figures computed from ticket events, grouped the way a hall director asks: by hall,
//! window, business, staff, or by day, week, month, weekday or hour of day.
//!
//! Each figure counts hops (a transfer starts a new hop in the next queue): a hop arrives when
//! it starts waiting, is served when finished, a no-show when marked so. Waits run from the
//! start of waiting to the first call (a recall does not move it); service from the start of
//! service (or the call, when service was never marked) to the finish. Percentiles are
//! nearest-rank.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use crate::storage::statistics::HopFact;

/// Service time is counted in buckets this wide; the last bucket holds everything longer.
pub const BUCKET_MIN: u32 = 3;
pub const BUCKETS: usize = 11;
/// The service level when a business type sets none: waits longer than this are over it.
pub const DEFAULT_SERVICE_LEVEL_MIN: u32 = 20;

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Hall,
    Window,
    Business,
    Staff,
    Day,
    Week,
    Month,
    Weekday,
    Hour,
}

impl GroupBy {
    pub const ALL: [GroupBy; 9] = [
        GroupBy::Hall,
        GroupBy::Window,
        GroupBy::Business,
        GroupBy::Staff,
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Month,
        GroupBy::Weekday,
        GroupBy::Hour,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Hall => "hall",
            GroupBy::Window => "window",
            GroupBy::Business => "business",
            GroupBy::Staff => "staff",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            GroupBy::Weekday => "weekday",
            GroupBy::Hour => "hour",
        }
    }

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Its name in headers.
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Hall => "大厅",
            GroupBy::Window => "窗口",
            GroupBy::Business => "业务",
            GroupBy::Staff => "工作人员",
            GroupBy::Day => "日期",
            GroupBy::Week => "周",
            GroupBy::Month => "月份",
            GroupBy::Weekday => "星期",
            GroupBy::Hour => "时段",
        }
    }
}

/// The figures of one row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueFigures {
    /// Tickets taken (first hops).
    pub tickets: u64,
    /// Hops that started waiting here: tickets taken and transfers in.
    pub arrived: u64,
    pub served: u64,
    pub no_shows: u64,
    pub transferred: u64,
    /// No-shows among those called and finished either way, in %.
    pub no_show_pct: Option<f64>,
    /// Hops called (whose wait is known).
    pub waited: u64,
    pub wait_mean_s: Option<f64>,
    pub wait_median_s: Option<u64>,
    pub wait_p90_s: Option<u64>,
    pub wait_max_s: Option<u64>,
    /// Waits longer than their business's service level, and their share of `waited` in %.
    pub over_level: u64,
    pub over_level_pct: Option<f64>,
    pub service_mean_s: Option<f64>,
    /// Finished services by length: 0–3 min, 3–6 min, … and the last for 30 min and more.
    pub service_buckets: [u64; BUCKETS],
    /// Time spent serving, in seconds (the per-window serving time).
    pub serving_s: u64,
}

/// A row: what it groups and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The value grouped on (a hall id, `hall/3` for a window, a day, `09` for an hour…).
    pub key: String,
    pub figures: QueueFigures,
}

/// Local stamps as stored (`YYYY-MM-DD HH:MM:SS.mmm`).
pub fn parse_stamp(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()
}

fn seconds(from: &Option<String>, to: &Option<String>) -> Option<u64> {
    let (a, b) = (parse_stamp(from.as_deref()?)?, parse_stamp(to.as_deref()?)?);
    Some((b - a).num_seconds().max(0) as u64)
}

/// The key a hop is grouped under.
pub fn key_of(f: &HopFact, by: GroupBy) -> String {
    let start = f.waiting_since.as_deref().and_then(parse_stamp);
    match by {
        GroupBy::Hall => f.hall.clone(),
        GroupBy::Window => match f.window {
            Some(w) => format!("{}/{w}", f.hall),
            None => format!("{}/-", f.hall),
        },
        GroupBy::Business => f.business.clone(),
        GroupBy::Staff => f.staff.clone().unwrap_or_default(),
        GroupBy::Day => f.day.clone(),
        GroupBy::Week => start
            .map(|t| {
                let w = t.date().iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            })
            .unwrap_or_default(),
        GroupBy::Month => f.day.get(..7).unwrap_or_default().to_owned(),
        GroupBy::Weekday => start
            .map(|t| t.weekday().number_from_monday().to_string())
            .unwrap_or_default(),
        GroupBy::Hour => start
            .map(|t| t.format("%H").to_string())
            .unwrap_or_default(),
    }
}

/// Whether a hop counts for a figure (the tickets behind it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Tickets,
    Arrived,
    Served,
    NoShows,
    Transferred,
    Waited,
    OverLevel,
}

impl Figure {
    pub const ALL: [Figure; 7] = [
        Figure::Tickets,
        Figure::Arrived,
        Figure::Served,
        Figure::NoShows,
        Figure::Transferred,
        Figure::Waited,
        Figure::OverLevel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Figure::Tickets => "tickets",
            Figure::Arrived => "arrived",
            Figure::Served => "served",
            Figure::NoShows => "no_shows",
            Figure::Transferred => "transferred",
            Figure::Waited => "waited",
            Figure::OverLevel => "over_level",
        }
    }

    pub fn parse(s: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether hop `f` is one of this figure's (`level_s`: its business's service level).
    pub fn holds(self, f: &HopFact, level_s: u64) -> bool {
        match self {
            Figure::Tickets => f.hop == 0 && f.state != "cancelled",
            Figure::Arrived => f.state != "cancelled",
            Figure::Served => f.state == "done",
            Figure::NoShows => f.state == "no_show",
            Figure::Transferred => f.state == "transferred",
            Figure::Waited => f.first_called.is_some(),
            Figure::OverLevel => {
                seconds(&f.waiting_since, &f.first_called).is_some_and(|w| w > level_s)
            }
        }
    }
}

/// The figures of these hops; `level_s` gives each hop's service level in seconds.
pub fn figures<'a>(
    hops: impl IntoIterator<Item = &'a HopFact>,
    level_s: &dyn Fn(&HopFact) -> u64,
) -> QueueFigures {
    let mut q = QueueFigures::default();
    let mut waits: Vec<u64> = Vec::new();
    let mut services: Vec<u64> = Vec::new();
    for f in hops {
        if f.state == "cancelled" {
            continue;
        }
        q.arrived += 1;
        q.tickets += u64::from(f.hop == 0);
        match f.state.as_str() {
            "done" => q.served += 1,
            "no_show" => q.no_shows += 1,
            "transferred" => q.transferred += 1,
            _ => {}
        }
        if let Some(w) = seconds(&f.waiting_since, &f.first_called) {
            waits.push(w);
            q.over_level += u64::from(w > level_s(f));
        }
        if f.state == "done" {
            let start = f.serving_at.as_ref().or(f.first_called.as_ref()).cloned();
            if let Some(s) = seconds(&start, &f.ended_at) {
                services.push(s);
                let bucket = (s / (u64::from(BUCKET_MIN) * 60)) as usize;
                q.service_buckets[bucket.min(BUCKETS - 1)] += 1;
            }
        }
    }
    let ended = q.served + q.no_shows;
    q.no_show_pct = (ended > 0).then(|| 100.0 * q.no_shows as f64 / ended as f64);
    q.waited = waits.len() as u64;
    waits.sort_unstable();
    q.wait_mean_s = mean(&waits);
    q.wait_median_s = nearest_rank(&waits, 50);
    q.wait_p90_s = nearest_rank(&waits, 90);
    q.wait_max_s = waits.last().copied();
    q.over_level_pct = (q.waited > 0).then(|| 100.0 * q.over_level as f64 / q.waited as f64);
    q.service_mean_s = mean(&services);
    q.serving_s = services.iter().sum();
    q
}

fn mean(v: &[u64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<u64>() as f64 / v.len() as f64)
}

/// The `p`th percentile of sorted values, nearest-rank: the smallest value with at least p%
/// of the values at or below it.
pub fn nearest_rank(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Rows grouped `by`, in key order, and the total over all hops.
pub fn rows(
    hops: &[HopFact],
    by: GroupBy,
    level_s: &dyn Fn(&HopFact) -> u64,
) -> (Vec<Row>, QueueFigures) {
    let mut groups: BTreeMap<String, Vec<&HopFact>> = BTreeMap::new();
    for f in hops {
        groups.entry(key_of(f, by)).or_default().push(f);
    }
    let rows = groups
        .into_iter()
        .map(|(key, hs)| Row {
            key,
            figures: figures(hs, level_s),
        })
        .collect();
    (rows, figures(hops, level_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(id: i64, state: &str, since: &str, called: Option<&str>, end: Option<&str>) -> HopFact {
        HopFact {
            ticket: id,
            hall: "h".into(),
            day: since[..10].into(),
            number: format!("A{id:03}"),
            hop: 0,
            queue: "A".into(),
            business: "社保".into(),
            channel: "online".into(),
            priority: "normal".into(),
            waiting_since: Some(since.into()),
            first_called: called.map(str::to_owned),
            serving_at: called.map(str::to_owned),
            ended_at: end.map(str::to_owned),
            state: state.into(),
            window: Some(1),
            staff: Some("s".into()),
            recalls: 0,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&v, 100), Some(10));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[], 90), None);
    }

    #[test]
    fn waits_services_no_shows_and_the_service_level() {
        let hops = [
            hop(
                1,
                "done",
                "2026-11-30 09:00:00.000",
                Some("2026-11-30 09:10:00.000"),
                Some("2026-11-30 09:14:00.000"),
            ),
            hop(
                2,
                "no_show",
                "2026-11-30 09:00:00.000",
                Some("2026-11-30 09:30:00.000"),
                Some("2026-11-30 09:31:00.000"),
            ),
            hop(3, "waiting", "2026-11-30 10:00:00.000", None, None),
            hop(4, "cancelled", "2026-11-30 10:00:00.000", None, None),
        ];
        let q = figures(&hops, &|_| 20 * 60);
        assert_eq!((q.tickets, q.arrived, q.served, q.no_shows), (3, 3, 1, 1));
        assert_eq!(q.no_show_pct, Some(50.0));
        assert_eq!(q.waited, 2);
        assert_eq!(q.wait_mean_s, Some(1200.0));
        assert_eq!((q.wait_median_s, q.wait_max_s), (Some(600), Some(1800)));
        assert_eq!((q.over_level, q.over_level_pct), (1, Some(50.0)));
        assert_eq!(q.service_mean_s, Some(240.0));
        assert_eq!(q.service_buckets[1], 1, "4 minutes: the 3–6 bucket");
        let (by_hour, total) = rows(&hops, GroupBy::Hour, &|_| 20 * 60);
        assert_eq!(by_hour.len(), 2);
        assert_eq!(
            (by_hour[0].key.as_str(), by_hour[0].figures.arrived),
            ("09", 2)
        );
        assert_eq!(total, q);
    }
}
