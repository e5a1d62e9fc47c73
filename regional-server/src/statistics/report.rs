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

use crate::storage::statistics::{AppointmentFact, HelpFact, HopFact, RatingFact};

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

/// Milliseconds of the day of a stored stamp, read straight from its digits (a report reads
/// hundreds of thousands of them); `None` for any other shape.
fn millisecond_of_day(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() < 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let two = |i: usize| -> Option<u32> { Some(digit(i)? * 10 + digit(i + 1)?) };
    let millis = match b.len() {
        19 => 0,
        23 if b[19] == b'.' => digit(20)? * 100 + digit(21)? * 10 + digit(22)?,
        _ => return None,
    };
    Some((two(11)? * 3600 + two(14)? * 60 + two(17)?) * 1000 + millis)
}

/// Whole seconds from one stamp to a later one (0 when it is not later).
fn seconds(from: &Option<String>, to: &Option<String>) -> Option<u64> {
    seconds_between(from.as_deref()?, to.as_deref()?)
}

fn seconds_between(from: &str, to: &str) -> Option<u64> {
    // The same day (nearly always): from the times of day alone.
    if from.get(..10) == to.get(..10)
        && let (Some(a), Some(b)) = (millisecond_of_day(from), millisecond_of_day(to))
    {
        return Some(u64::from(b.saturating_sub(a) / 1000));
    }
    let (a, b) = (parse_stamp(from)?, parse_stamp(to)?);
    Some((b - a).num_seconds().max(0) as u64)
}

/// The key a hop is grouped under.
pub fn key_of(f: &HopFact, by: GroupBy) -> String {
    match by {
        GroupBy::Hall => f.hall.clone(),
        GroupBy::Window => match f.window {
            Some(w) => format!("{}/{w}", f.hall),
            None => format!("{}/-", f.hall),
        },
        GroupBy::Business => f.business.clone(),
        GroupBy::Staff => f.staff.clone().unwrap_or_default(),
        GroupBy::Day => f.day.clone(),
        GroupBy::Month => f.day.get(..7).unwrap_or_default().to_owned(),
        GroupBy::Week | GroupBy::Weekday | GroupBy::Hour => f
            .waiting_since
            .as_deref()
            .and_then(parse_stamp)
            .and_then(|t| time_key(by, t))
            .unwrap_or_default(),
    }
}

/// The key of a moment for a grouping by time (`None` for hall, window, business, staff).
pub fn time_key(by: GroupBy, t: NaiveDateTime) -> Option<String> {
    Some(match by {
        GroupBy::Day => t.format("%Y-%m-%d").to_string(),
        GroupBy::Week => {
            let w = t.date().iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        GroupBy::Month => t.format("%Y-%m").to_string(),
        GroupBy::Weekday => t.weekday().number_from_monday().to_string(),
        GroupBy::Hour => t.format("%H").to_string(),
        GroupBy::Hall | GroupBy::Window | GroupBy::Business | GroupBy::Staff => return None,
    })
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
    /// Served in the service-time bucket of this index (see [`BUCKET_LABELS`]).
    Service(u8),
}

/// The service-time buckets' names in links.
const BUCKET_NAMES: [&str; BUCKETS] = [
    "service_0",
    "service_1",
    "service_2",
    "service_3",
    "service_4",
    "service_5",
    "service_6",
    "service_7",
    "service_8",
    "service_9",
    "service_10",
];

/// The service-time buckets as columns name them.
pub const BUCKET_LABELS: [&str; BUCKETS] = [
    "办理0–3分钟",
    "办理3–6分钟",
    "办理6–9分钟",
    "办理9–12分钟",
    "办理12–15分钟",
    "办理15–18分钟",
    "办理18–21分钟",
    "办理21–24分钟",
    "办理24–27分钟",
    "办理27–30分钟",
    "办理30分钟以上",
];

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
            Figure::Service(b) => BUCKET_NAMES[usize::from(b).min(BUCKETS - 1)],
        }
    }

    pub fn parse(s: &str) -> Option<Figure> {
        Figure::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .or_else(|| {
                let b = BUCKET_NAMES.iter().position(|n| *n == s)?;
                Some(Figure::Service(b as u8))
            })
    }

    /// Its name on pages, as the report's column says it.
    pub fn label(self) -> &'static str {
        match self {
            Figure::Tickets => "取号",
            Figure::Arrived => "到达（含转入）",
            Figure::Served => "办结",
            Figure::NoShows => "过号",
            Figure::Transferred => "转出",
            Figure::Waited => "已叫号",
            Figure::OverLevel => "超过服务时限",
            Figure::Service(b) => BUCKET_LABELS[usize::from(b).min(BUCKETS - 1)],
        }
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
            Figure::Service(b) => service_s(f).is_some_and(|s| bucket(s) == usize::from(b)),
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
        if let Some(s) = service_s(f) {
            services.push(s);
            q.service_buckets[bucket(s)] += 1;
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
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(key, hs)| Row {
            key,
            figures: figures(hs, level_s),
        })
        .collect();
    rows.sort_by_cached_key(|r| row_order(by, &r.key));
    (rows, figures(hops, level_s))
}

/// The order rows are shown in: by key, windows by hall then number (3 before 10, those
/// never at a window last).
pub fn row_order(by: GroupBy, key: &str) -> (String, u32) {
    match (by, key.rsplit_once('/')) {
        (GroupBy::Window, Some((hall, w))) => (hall.to_owned(), w.parse().unwrap_or(u32::MAX)),
        _ => (key.to_owned(), 0),
    }
}

/// A window's day: serving and idle time.
///
/// A window is open on a day from its first call to the last end of a ticket it called (done,
/// no-show or transferred); its idle time is that open span minus its serving time (at least
/// zero), summed over the days. Time between a call and a no-show is idle.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WindowTime {
    /// `hall/3`, the key of [`GroupBy::Window`].
    pub key: String,
    pub hall: String,
    pub window: u32,
    /// Days it called at least one ticket.
    pub days: u64,
    pub served: u64,
    pub open_s: u64,
    pub serving_s: u64,
    pub idle_s: u64,
}

/// Serving and idle time per window, in key order.
pub fn window_times(hops: &[HopFact]) -> Vec<WindowTime> {
    #[derive(Default)]
    struct Day {
        first_call: Option<NaiveDateTime>,
        last_end: Option<NaiveDateTime>,
        serving_s: u64,
        served: u64,
    }
    let mut days: BTreeMap<(String, u32, String), Day> = BTreeMap::new();
    for f in hops {
        let (Some(w), Some(called)) = (f.window, f.first_called.as_deref().and_then(parse_stamp))
        else {
            continue;
        };
        let d = days.entry((f.hall.clone(), w, f.day.clone())).or_default();
        d.first_call = Some(d.first_call.map_or(called, |c| c.min(called)));
        if let Some(end) = f.ended_at.as_deref().and_then(parse_stamp) {
            d.last_end = Some(d.last_end.map_or(end, |e| e.max(end)));
        }
        if let Some(s) = service_s(f) {
            d.serving_s += s;
            d.served += 1;
        }
    }
    let mut windows: BTreeMap<(String, u32), WindowTime> = BTreeMap::new();
    for ((hall, window, _), d) in days {
        let w = windows
            .entry((hall.clone(), window))
            .or_insert_with(|| WindowTime {
                key: format!("{hall}/{window}"),
                hall,
                window,
                ..WindowTime::default()
            });
        let open = match (d.first_call, d.last_end) {
            (Some(a), Some(b)) => (b - a).num_seconds().max(0) as u64,
            _ => 0,
        };
        w.days += 1;
        w.served += d.served;
        w.open_s += open;
        w.serving_s += d.serving_s;
        w.idle_s += open.saturating_sub(d.serving_s);
    }
    windows.into_values().collect()
}

/// The service-time bucket of `s` seconds.
fn bucket(s: u64) -> usize {
    ((s / (u64::from(BUCKET_MIN) * 60)) as usize).min(BUCKETS - 1)
}

/// A finished hop's service in seconds: from the start of service (or the call) to the end.
fn service_s(f: &HopFact) -> Option<u64> {
    if f.state != "done" {
        return None;
    }
    let start = f.serving_at.as_deref().or(f.first_called.as_deref())?;
    seconds_between(start, f.ended_at.as_deref()?)
}

/// Appointments of a period: booked for a day in it, checked in, missed (the slot ended
/// without a check-in) and still to come.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppointmentFigures {
    pub booked: u64,
    pub checked_in: u64,
    pub missed: u64,
    pub upcoming: u64,
    /// Missed among those whose slot has ended, in %.
    pub missed_pct: Option<f64>,
}

/// The figures of these appointments; `now` is the local time that tells missed from upcoming.
pub fn appointment_figures<'a>(
    facts: impl IntoIterator<Item = &'a AppointmentFact>,
    now: NaiveDateTime,
) -> AppointmentFigures {
    let mut a = AppointmentFigures::default();
    for f in facts {
        a.booked += 1;
        match appointment_state(f, now) {
            AppointmentState::CheckedIn => a.checked_in += 1,
            AppointmentState::Missed => a.missed += 1,
            AppointmentState::Upcoming => a.upcoming += 1,
        }
    }
    let ended = a.checked_in + a.missed;
    a.missed_pct = (ended > 0).then(|| 100.0 * a.missed as f64 / ended as f64);
    a
}

/// Where an appointment stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentState {
    CheckedIn,
    /// Its slot ended without a check-in.
    Missed,
    /// Its slot has not ended yet.
    Upcoming,
}

impl AppointmentState {
    pub fn label(self) -> &'static str {
        match self {
            AppointmentState::CheckedIn => "已签到",
            AppointmentState::Missed => "爽约",
            AppointmentState::Upcoming => "未到时段",
        }
    }
}

pub fn appointment_state(f: &AppointmentFact, now: NaiveDateTime) -> AppointmentState {
    if f.checked_in_at.is_some() {
        AppointmentState::CheckedIn
    } else if slot_end(f).is_some_and(|end| end <= now) {
        AppointmentState::Missed
    } else {
        AppointmentState::Upcoming
    }
}

fn slot_end(f: &AppointmentFact) -> Option<NaiveDateTime> {
    let end = if f.end.len() == 5 {
        format!("{} {}:00", f.date, f.end)
    } else {
        format!("{} {}", f.date, f.end)
    };
    NaiveDateTime::parse_from_str(&end, "%Y-%m-%d %H:%M:%S").ok()
}

/// The rating levels from 5 stars (非常满意) down to 1 (非常不满意).
pub const RATING_LEVELS: [&str; 5] = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];

/// Ratings by level and the satisfaction rate: 满意 and 非常满意 (4 and 5 stars) among all.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RatingFigures {
    pub total: u64,
    /// Counts in the order of [`RATING_LEVELS`]: 5 stars first.
    pub by_level: [u64; 5],
    pub satisfied: u64,
    pub satisfaction_pct: Option<f64>,
}

pub fn rating_figures<'a>(facts: impl IntoIterator<Item = &'a RatingFact>) -> RatingFigures {
    let mut r = RatingFigures::default();
    for f in facts {
        let stars = f.stars.clamp(1, 5);
        r.total += 1;
        r.by_level[usize::from(5 - stars)] += 1;
        r.satisfied += u64::from(stars >= 4);
    }
    r.satisfaction_pct = (r.total > 0).then(|| 100.0 * r.satisfied as f64 / r.total as f64);
    r
}

/// Help calls from the plates (training ones left out) and how fast staff acknowledged them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HelpFigures {
    pub calls: u64,
    pub acknowledged: u64,
    pub escalated: u64,
    pub ack_mean_s: Option<f64>,
    pub ack_max_s: Option<u64>,
}

pub fn help_figures<'a>(facts: impl IntoIterator<Item = &'a HelpFact>) -> HelpFigures {
    let mut h = HelpFigures::default();
    let mut acks = Vec::new();
    for f in facts {
        h.calls += 1;
        h.escalated += u64::from(f.escalated_at.is_some());
        if let Some(s) = ack_s(f) {
            h.acknowledged += 1;
            acks.push(s);
        }
    }
    h.ack_mean_s = mean(&acks);
    h.ack_max_s = acks.iter().max().copied();
    h
}

/// Seconds from a help call to its acknowledgement; none when not acknowledged.
pub fn ack_s(f: &HelpFact) -> Option<u64> {
    let created = utc_as_local(&f.created_at)?;
    let acked = utc_as_local(f.acknowledged_at.as_deref()?)?;
    Some((acked - created).num_seconds().max(0) as u64)
}

/// China time (UTC+8) of an RFC 3339 stamp, as the halls' local time.
pub fn utc_as_local(at: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.naive_utc() + chrono::Duration::hours(8))
}

/// Items grouped by key (in key order) with each group's figures; no rows when `key` gives
/// none (a grouping that does not apply to them).
pub fn grouped<'a, T, F>(
    items: &'a [T],
    key: impl Fn(&T) -> Option<String>,
    figures: impl Fn(Vec<&'a T>) -> F,
) -> Vec<(String, F)> {
    let mut groups: BTreeMap<String, Vec<&T>> = BTreeMap::new();
    for i in items {
        if let Some(k) = key(i) {
            groups.entry(k).or_default().push(i);
        }
    }
    groups.into_iter().map(|(k, v)| (k, figures(v))).collect()
}

/// A count of the appointments, ratings or help-calls tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    AppointmentsBooked,
    AppointmentsCheckedIn,
    AppointmentsMissed,
    AppointmentsUpcoming,
    /// Ratings of these stars (1 to 5); `None`: all.
    Ratings(Option<u8>),
    HelpCalls,
    HelpAcknowledged,
    HelpEscalated,
}

impl Record {
    pub fn as_str(self) -> &'static str {
        match self {
            Record::AppointmentsBooked => "appointments_booked",
            Record::AppointmentsCheckedIn => "appointments_checked_in",
            Record::AppointmentsMissed => "appointments_missed",
            Record::AppointmentsUpcoming => "appointments_upcoming",
            Record::Ratings(None) => "ratings_all",
            Record::Ratings(Some(1)) => "ratings_1",
            Record::Ratings(Some(2)) => "ratings_2",
            Record::Ratings(Some(3)) => "ratings_3",
            Record::Ratings(Some(4)) => "ratings_4",
            Record::Ratings(Some(_)) => "ratings_5",
            Record::HelpCalls => "help_calls",
            Record::HelpAcknowledged => "help_acknowledged",
            Record::HelpEscalated => "help_escalated",
        }
    }

    pub fn parse(s: &str) -> Option<Record> {
        Some(match s {
            "appointments_booked" => Record::AppointmentsBooked,
            "appointments_checked_in" => Record::AppointmentsCheckedIn,
            "appointments_missed" => Record::AppointmentsMissed,
            "appointments_upcoming" => Record::AppointmentsUpcoming,
            "ratings_all" => Record::Ratings(None),
            "help_calls" => Record::HelpCalls,
            "help_acknowledged" => Record::HelpAcknowledged,
            "help_escalated" => Record::HelpEscalated,
            other => {
                let stars: u8 = other.strip_prefix("ratings_")?.parse().ok()?;
                if !(1..=5).contains(&stars) {
                    return None;
                }
                Record::Ratings(Some(stars))
            }
        })
    }

    /// The count's name on the page: its table's title and its column's.
    pub fn label(self) -> String {
        match self {
            Record::AppointmentsBooked => "预约".into(),
            Record::AppointmentsCheckedIn => "预约：已签到".into(),
            Record::AppointmentsMissed => "预约：爽约".into(),
            Record::AppointmentsUpcoming => "预约：未到时段".into(),
            Record::Ratings(None) => "好差评：全部评价".into(),
            Record::Ratings(Some(stars)) => format!("好差评：{}", level(stars)),
            Record::HelpCalls => "呼叫工作人员".into(),
            Record::HelpAcknowledged => "呼叫工作人员：已响应".into(),
            Record::HelpEscalated => "呼叫工作人员：升级提醒".into(),
        }
    }
}

/// A rating's level in words.
pub fn level(stars: u8) -> &'static str {
    RATING_LEVELS[usize::from(5 - stars.clamp(1, 5))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_reads_back_as_itself() {
        let all = [
            Record::AppointmentsBooked,
            Record::AppointmentsCheckedIn,
            Record::AppointmentsMissed,
            Record::AppointmentsUpcoming,
            Record::Ratings(None),
            Record::Ratings(Some(1)),
            Record::Ratings(Some(2)),
            Record::Ratings(Some(3)),
            Record::Ratings(Some(4)),
            Record::Ratings(Some(5)),
            Record::HelpCalls,
            Record::HelpAcknowledged,
            Record::HelpEscalated,
        ];
        for r in all {
            assert_eq!(Record::parse(r.as_str()), Some(r));
        }
        for bad in ["ratings_0", "ratings_6", "ratings_", "tickets", ""] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
        assert_eq!(Record::Ratings(Some(5)).label(), "好差评：非常满意");
        assert_eq!(level(1), "非常不满意");
    }

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
    fn stamps_read_fast_agree_with_chrono() {
        for (a, b) in [
            ("2026-11-30 09:00:00.900", "2026-11-30 09:00:10.100"),
            ("2026-11-30 09:00:10.100", "2026-11-30 09:00:00.900"),
            ("2026-11-30 23:59:59.999", "2026-12-01 00:00:01.000"),
            ("2026-11-30 09:00:00", "2026-11-30 10:30:00.5"),
        ] {
            let slow = (parse_stamp(b).unwrap() - parse_stamp(a).unwrap())
                .num_seconds()
                .max(0) as u64;
            assert_eq!(seconds_between(a, b), Some(slow), "{a} → {b}");
        }
        assert_eq!(
            seconds_between("2026-11-30 09:0x:00.000", "2026-11-30 09:00:00.000"),
            None
        );
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
    #[test]
    fn a_windows_idle_time_is_its_open_span_less_serving_per_day() {
        let mut a = hop(
            1,
            "done",
            "2026-11-30 09:00:00.000",
            Some("2026-11-30 09:10:00.000"),
            Some("2026-11-30 09:14:00.000"),
        );
        a.serving_at = Some("2026-11-30 09:11:00.000".into());
        let no_show = hop(
            2,
            "no_show",
            "2026-11-30 09:00:00.000",
            Some("2026-11-30 09:30:00.000"),
            Some("2026-11-30 09:31:00.000"),
        );
        let next_day = hop(
            3,
            "done",
            "2026-12-01 09:00:00.000",
            Some("2026-12-01 10:00:00.000"),
            Some("2026-12-01 10:05:00.000"),
        );
        let w = window_times(&[a, no_show, next_day]);
        assert_eq!(w.len(), 1);
        let w = &w[0];
        assert_eq!((w.key.as_str(), w.days, w.served), ("h/1", 2, 2));
        // 09:10–09:31 open (21 min), 3 serving; the next day 5 open, 5 serving.
        assert_eq!(w.open_s, 21 * 60 + 5 * 60);
        assert_eq!(w.serving_s, 3 * 60 + 5 * 60);
        assert_eq!(w.idle_s, 18 * 60);
    }

    #[test]
    fn service_buckets_are_figures_their_tickets_open() {
        let f = hop(
            1,
            "done",
            "2026-11-30 09:00:00.000",
            Some("2026-11-30 09:10:00.000"),
            Some("2026-11-30 09:14:00.000"),
        );
        assert_eq!(Figure::parse("service_1"), Some(Figure::Service(1)));
        assert_eq!(Figure::Service(1).as_str(), "service_1");
        assert!(Figure::Service(1).holds(&f, 1200));
        assert!(!Figure::Service(0).holds(&f, 1200));
        assert_eq!(Figure::parse("service_11"), None);
    }

    #[test]
    fn appointments_ratings_and_help_calls() {
        let appt = |date: &str, end: &str, checked: bool| AppointmentFact {
            hall: "h".into(),
            prefix: "A".into(),
            item_name: "i".into(),
            date: date.into(),
            start: "09:00".into(),
            end: end.into(),
            checked_in_at: checked.then(|| "2026-11-30 09:05:00.000".into()),
        };
        let now = parse_stamp("2026-11-30 10:00:00.000").unwrap();
        let a = appointment_figures(
            &[
                appt("2026-11-30", "09:30", true),
                appt("2026-11-30", "09:30", false),
                appt("2026-11-30", "10:30", false),
            ],
            now,
        );
        assert_eq!((a.booked, a.checked_in, a.missed, a.upcoming), (3, 1, 1, 1));
        assert_eq!(a.missed_pct, Some(50.0));

        let rating = |stars| RatingFact {
            hall: "h".into(),
            rated_at: "2026-11-30 10:00:00.000".into(),
            business: String::new(),
            window: None,
            stars,
        };
        let r = rating_figures(&[rating(5), rating(4), rating(3), rating(1)]);
        assert_eq!(r.by_level, [1, 1, 1, 0, 1]);
        assert_eq!(
            (r.total, r.satisfied, r.satisfaction_pct),
            (4, 2, Some(50.0))
        );

        let call = |created: &str, acked: Option<&str>| HelpFact {
            hall: "h".into(),
            position: "p".into(),
            created_at: created.into(),
            escalated_at: None,
            acknowledged_at: acked.map(str::to_owned),
        };
        let h = help_figures(&[
            call("2026-11-30T01:00:00.000Z", Some("2026-11-30T01:01:00.000Z")),
            call("2026-11-30T02:00:00.000Z", Some("2026-11-30T02:03:00.000Z")),
            call("2026-11-30T03:00:00.000Z", None),
        ]);
        assert_eq!((h.calls, h.acknowledged), (3, 2));
        assert_eq!((h.ack_mean_s, h.ack_max_s), (Some(120.0), Some(180)));
        assert_eq!(
            utc_as_local("2026-11-30T17:00:00.000Z").map(|t| t.to_string()),
            Some("2026-12-01 01:00:00".into())
        );
    }
}
