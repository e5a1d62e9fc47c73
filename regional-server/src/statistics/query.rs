//! What a statistics request asks for (hall, days, grouping, business, window), checked and
//! bounded, and the report it gets: the figures with Chinese labels, and the same as tables
//! that the page and both exports show alike.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::report::Record;
use super::report::{
    self, AppointmentFigures, Figure, GroupBy, HelpFigures, QueueFigures, RATING_LEVELS,
    RatingFigures, WindowTime,
};
use super::usage::UsageSummary;
use crate::Server;
use crate::error::AppError;
use crate::operators::{Session, display_name, hall_name};
use crate::storage::statistics::{AppointmentFact, HelpFact, HopFact, RatingFact};

/// The longest range a report covers, in days.
pub const MAX_DAYS: i64 = 366;
/// Days a report covers when none are asked for (today and the six before).
const DEFAULT_DAYS: i64 = 7;
/// A business name or row key longer than this is not one the region has.
const MAX_TEXT_CHARS: usize = 64;
/// China time ahead of UTC, in hours (help calls are stamped in UTC).
const CHINA_HOURS: i64 = 8;

/// The query string as forms and links send it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Params {
    pub hall: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub business: Option<String>,
    pub window: Option<String>,
    /// The row behind a figure (`/statistics/tickets`); none for the total.
    pub key: Option<String>,
    pub figure: Option<String>,
}

/// A request's filters, checked: the halls the operator may read among those asked for.
#[derive(Debug, Clone)]
pub struct Filters {
    /// The hall asked for ('' for all the operator reads).
    pub hall: Option<String>,
    /// The halls read (`None`: the whole region).
    pub halls: Option<Vec<String>>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: GroupBy,
    /// A business type's name.
    pub business: Option<String>,
    pub window: Option<u32>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(v: &Option<String>, field: &str) -> Result<Option<NaiveDate>, AppError> {
    text(v)
        .map(|d| {
            super::parse_day(d).ok_or_else(|| {
                AppError::bad_request(format!("{field}的格式不对，应为 2026-11-30 这样的日期"))
            })
        })
        .transpose()
}

impl Filters {
    /// The filters of `p` for `s`: who may read which hall first (403 audited, 404), then the
    /// dates (at most [`MAX_DAYS`]), grouping, business and window (400 in Chinese).
    pub fn parse(server: &Server, s: &Session, p: &Params) -> Result<Filters, AppError> {
        let hall = text(&p.hall).map(str::to_owned);
        if hall
            .as_ref()
            .is_some_and(|h| h.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(AppError::new(
                axum::http::StatusCode::NOT_FOUND,
                "没有这个大厅",
            ));
        }
        let halls = super::scope(server, s, hall.as_deref())?;
        let today = server.clock.local_now().date();
        let to = date(&p.to, "结束日期")?.unwrap_or(today);
        let from = date(&p.from, "开始日期")?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(AppError::bad_request("开始日期不能晚于结束日期"));
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(AppError::bad_request(format!(
                "一次最多统计 {MAX_DAYS} 天，请缩短日期范围"
            )));
        }
        let by = match text(&p.by) {
            None => GroupBy::Hall,
            Some(b) => GroupBy::parse(b).ok_or_else(|| {
                AppError::bad_request(
                    "分组只能是 hall、window、business、staff、day、week、month、weekday 或 hour",
                )
            })?,
        };
        let business = text(&p.business).map(str::to_owned);
        if business
            .as_ref()
            .is_some_and(|b| b.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(AppError::bad_request("业务名称太长"));
        }
        let window = text(&p.window)
            .map(|w| {
                w.parse::<u32>()
                    .ok()
                    .filter(|w| (1..=9999).contains(w))
                    .ok_or_else(|| AppError::bad_request("窗口应为窗口号，例如 3"))
            })
            .transpose()?;
        Ok(Filters {
            hall,
            halls,
            from,
            to,
            by,
            business,
            window,
        })
    }

    pub fn from_day(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }

    pub fn to_day(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }

    /// The query string that repeats these filters, grouped `by`.
    pub fn query_by(&self, by: GroupBy) -> String {
        let (from, to) = (self.from_day(), self.to_day());
        let window = self.window.map(|w| w.to_string());
        let pairs: Vec<(&str, &str)> = [
            ("hall", self.hall.as_deref()),
            ("from", Some(from.as_str())),
            ("to", Some(to.as_str())),
            ("by", Some(by.as_str())),
            ("business", self.business.as_deref()),
            ("window", window.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    pub fn query(&self) -> String {
        self.query_by(self.by)
    }

    /// Whether a hop is one these filters keep.
    pub fn keeps(&self, f: &HopFact) -> bool {
        self.business.as_ref().is_none_or(|b| &f.business == b)
            && self.window.is_none_or(|w| f.window == Some(w))
    }

    /// Whether rows show several halls (a window's label then names its hall).
    pub fn many_halls(&self) -> bool {
        self.halls.as_ref().is_none_or(|h| h.len() != 1)
    }
}

/// A row of a report section: its key, its label for people and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct Labelled<F> {
    pub key: String,
    pub label: String,
    pub figures: F,
}

/// A section: its total and, when the grouping applies to it, its rows.
#[derive(Debug, Clone, Serialize)]
pub struct Grouped<F> {
    pub total: F,
    pub rows: Vec<Labelled<F>>,
}

/// Everything a report shows; the JSON answer as it is.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub hall: Option<String>,
    pub from: String,
    pub to: String,
    pub by: GroupBy,
    pub business: Option<String>,
    pub window: Option<u32>,
    pub queue: Grouped<QueueFigures>,
    pub windows: Vec<Labelled<WindowTime>>,
    pub appointments: Grouped<AppointmentFigures>,
    pub ratings: Grouped<RatingFigures>,
    pub help: Grouped<HelpFigures>,
    /// Terminals' anonymous usage over the same halls and days.
    pub usage: UsageSummary,
}

/// The hops the filters keep.
pub fn hops(server: &Server, f: &Filters) -> Result<Vec<HopFact>, AppError> {
    let mut hops = server
        .storage
        .hop_facts(f.halls.as_deref(), &f.from_day(), &f.to_day())
        .map_err(AppError::internal)?;
    hops.retain(|h| f.keeps(h));
    Ok(hops)
}

/// The report of these filters, read now.
pub fn report(server: &Server, f: &Filters) -> Result<Report, AppError> {
    let hops = hops(server, f)?;
    let label = |by: GroupBy, key: &str| key_label(server, by, key, f.many_halls());
    let level = |h: &HopFact| super::level_s(server, h);
    let (rows, total) = report::rows(&hops, f.by, &level);
    let queue = Grouped {
        total,
        rows: rows
            .into_iter()
            .map(|r| Labelled {
                label: label(f.by, &r.key),
                key: r.key,
                figures: r.figures,
            })
            .collect(),
    };
    let windows = report::window_times(&hops)
        .into_iter()
        .map(|w| Labelled {
            key: w.key.clone(),
            label: label(GroupBy::Window, &w.key),
            figures: w,
        })
        .collect();
    let (from, to) = (f.from_day(), f.to_day());
    let store = &server.storage;

    let mut appts = store
        .appointment_facts(f.halls.as_deref(), &from, &to)
        .map_err(AppError::internal)?;
    appts.retain(|a| keeps_appointment(server, f, a));
    let now = server.clock.local_now();
    let appointments = Grouped {
        total: report::appointment_figures(&appts, now),
        rows: labelled(
            &label,
            f.by,
            report::grouped(
                &appts,
                |a| appointment_key(server, f.by, a),
                |v| report::appointment_figures(v, now),
            ),
        ),
    };

    let mut ratings = store
        .rating_facts(f.halls.as_deref(), &from, &to)
        .map_err(AppError::internal)?;
    ratings.retain(|r| keeps_rating(f, r));
    let ratings = Grouped {
        total: report::rating_figures(&ratings),
        rows: labelled(
            &label,
            f.by,
            report::grouped(&ratings, |r| rating_key(f.by, r), report::rating_figures),
        ),
    };

    let (since, until) = help_bounds(f);
    let calls = store
        .help_facts(f.halls.as_deref(), &since, &until)
        .map_err(AppError::internal)?;
    let help = Grouped {
        total: report::help_figures(&calls),
        rows: labelled(
            &label,
            f.by,
            report::grouped(&calls, |c| help_key(f.by, c), report::help_figures),
        ),
    };

    let usage = super::usage::summary(server, f.halls.as_deref(), &from, &to)
        .map_err(AppError::internal)?;

    Ok(Report {
        hall: f.hall.clone(),
        from,
        to,
        by: f.by,
        business: f.business.clone(),
        window: f.window,
        queue,
        windows,
        appointments,
        ratings,
        help,
        usage,
    })
}

/// The business type's name of an appointment (its queue's prefix in its hall).
pub fn appointment_business(server: &Server, a: &AppointmentFact) -> String {
    server
        .halls
        .get(&a.hall)
        .and_then(|h| h.business(&a.prefix).map(|b| b.name.clone()))
        .unwrap_or_else(|| a.prefix.clone())
}

/// Whether an appointment is one these filters keep (business only: it has no window).
pub fn keeps_appointment(server: &Server, f: &Filters, a: &AppointmentFact) -> bool {
    f.business
        .as_ref()
        .is_none_or(|b| &appointment_business(server, a) == b)
}

/// An appointment's row key `by` (none: the grouping does not apply to it).
pub fn appointment_key(server: &Server, by: GroupBy, a: &AppointmentFact) -> Option<String> {
    match by {
        GroupBy::Hall => Some(a.hall.clone()),
        GroupBy::Business => Some(appointment_business(server, a)),
        by => stamp(&format!("{} {}", a.date, a.start)).and_then(|t| report::time_key(by, t)),
    }
}

/// Whether a rating is one these filters keep.
pub fn keeps_rating(f: &Filters, r: &RatingFact) -> bool {
    f.business.as_ref().is_none_or(|b| &r.business == b)
        && f.window.is_none_or(|w| r.window == Some(w))
}

/// A rating's row key `by`.
pub fn rating_key(by: GroupBy, r: &RatingFact) -> Option<String> {
    match by {
        GroupBy::Hall => Some(r.hall.clone()),
        GroupBy::Window => Some(match r.window {
            Some(w) => format!("{}/{w}", r.hall),
            None => format!("{}/-", r.hall),
        }),
        GroupBy::Business => Some(r.business.clone()),
        GroupBy::Staff => None,
        by => stamp(&r.rated_at).and_then(|t| report::time_key(by, t)),
    }
}

/// A help call's row key `by`.
pub fn help_key(by: GroupBy, c: &HelpFact) -> Option<String> {
    match by {
        GroupBy::Hall => Some(c.hall.clone()),
        GroupBy::Window | GroupBy::Business | GroupBy::Staff => None,
        by => report::utc_as_local(&c.created_at).and_then(|t| report::time_key(by, t)),
    }
}

/// The UTC stamps help calls of the filters' days are made between (from inclusive, until
/// exclusive): the local days' bounds moved back by China's offset.
pub fn help_bounds(f: &Filters) -> (String, String) {
    let utc = |d: NaiveDate| {
        (d.and_time(Default::default()) - Duration::hours(CHINA_HOURS))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    (utc(f.from), utc(f.to + Duration::days(1)))
}

fn labelled<F>(
    label: &dyn Fn(GroupBy, &str) -> String,
    by: GroupBy,
    mut rows: Vec<(String, F)>,
) -> Vec<Labelled<F>> {
    rows.sort_by_cached_key(|(key, _)| report::row_order(by, key));
    rows.into_iter()
        .map(|(key, figures)| Labelled {
            label: label(by, &key),
            key,
            figures,
        })
        .collect()
}

/// A local stamp with or without seconds and fractions.
fn stamp(s: &str) -> Option<NaiveDateTime> {
    report::parse_stamp(s)
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok())
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").ok())
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok())
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// A row key as people read it: the hall's name, 3 号窗口, a staff member's name, 周一,
/// 09:00–10:00, 2026 年第 49 周…
pub fn key_label(server: &Server, by: GroupBy, key: &str, many_halls: bool) -> String {
    if key.is_empty() {
        return match by {
            GroupBy::Staff => "未叫号".into(),
            _ => "—".into(),
        };
    }
    match by {
        GroupBy::Hall => hall_name(server, key),
        GroupBy::Window => {
            let (hall, w) = key.rsplit_once('/').unwrap_or(("", key));
            let window = if w == "-" {
                "未到窗口".to_owned()
            } else {
                format!("{w} 号窗口")
            };
            if many_halls && !hall.is_empty() {
                format!("{} {window}", hall_name(server, hall))
            } else {
                window
            }
        }
        GroupBy::Business | GroupBy::Day => key.to_owned(),
        GroupBy::Staff => display_name(server, key),
        GroupBy::Week => match key.split_once("-W") {
            Some((y, w)) => format!("{y} 年第 {} 周", w.trim_start_matches('0')),
            None => key.to_owned(),
        },
        GroupBy::Month => match key.split_once('-') {
            Some((y, m)) => format!("{y} 年 {} 月", m.trim_start_matches('0')),
            None => key.to_owned(),
        },
        GroupBy::Weekday => key
            .parse::<usize>()
            .ok()
            .and_then(|d| WEEKDAYS.get(d.wrapping_sub(1)))
            .map(|d| (*d).to_owned())
            .unwrap_or_else(|| key.to_owned()),
        GroupBy::Hour => match key.parse::<u32>() {
            Ok(h) if h < 24 => format!("{h:02}:00–{:02}:00", h + 1),
            _ => key.to_owned(),
        },
    }
}

/// What a cell of a report table holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A count; with the figure whose hops it counts, it links to them.
    Count(u64, Option<Link>),
    /// Seconds: 分:秒 on the page, seconds (one decimal) in exports.
    Seconds(Option<f64>),
    /// A long span in seconds: minutes with one decimal on the page, seconds in exports.
    Span(u64),
    /// A share in %, one decimal.
    Pct(Option<f64>),
}

/// What is behind a count: the row (`None`: all) of a grouping and a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub by: GroupBy,
    pub key: Option<String>,
    pub to: Target,
}

/// The page a count opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The hops behind a queue figure (`/statistics/tickets`).
    Hops(Figure),
    /// The appointments, ratings or help calls behind one (`/statistics/records`).
    Records(Record),
}

impl Link {
    pub fn href(&self, f: &Filters) -> String {
        let mut q = f.query_by(self.by);
        if let Some(k) = &self.key {
            q.push('&');
            q.push_str(&serde_urlencoded::to_string([("key", k)]).unwrap_or_default());
        }
        match self.to {
            Target::Hops(figure) => format!("/statistics/tickets?{q}&figure={}", figure.as_str()),
            Target::Records(r) => format!("/statistics/records?{q}&figure={}", r.as_str()),
        }
    }

    /// What the link says it opens.
    pub fn title(&self) -> &'static str {
        match self.to {
            Target::Hops(_) => "查看这些号",
            Target::Records(_) => "查看这些记录",
        }
    }
}

/// A column: its header and the unit exports add to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    /// `秒`, `%` or none.
    pub unit: &'static str,
}

impl Column {
    fn new(label: impl Into<String>, unit: &'static str) -> Column {
        Column {
            label: label.into(),
            unit,
        }
    }

    /// The header in exports: the unit in brackets.
    pub fn export_label(&self) -> String {
        if self.unit.is_empty() {
            self.label.clone()
        } else {
            format!("{}（{}）", self.label, self.unit)
        }
    }
}

/// A report table as the page and the exports show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The element id on the page and the sheet name.
    pub id: &'static str,
    pub title: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// What the figures mean.
    pub note: &'static str,
}

/// The label a total row carries.
pub const TOTAL: &str = "合计";

/// The tables of a report, in the order the page shows them.
pub fn tables(r: &Report) -> Vec<Table> {
    vec![
        queue_table(r),
        windows_table(r),
        appointments_table(r),
        ratings_table(r),
        help_table(r),
    ]
}

fn queue_table(r: &Report) -> Table {
    let mut columns = vec![
        Column::new(r.by.label(), ""),
        Column::new("取号", ""),
        Column::new("到达（含转入）", ""),
        Column::new("办结", ""),
        Column::new("过号", ""),
        Column::new("转出", ""),
        Column::new("过号率", "%"),
        Column::new("已叫号", ""),
        Column::new("平均等候", "秒"),
        Column::new("等候中位数", "秒"),
        Column::new("等候90%分位", "秒"),
        Column::new("最长等候", "秒"),
        Column::new("超过服务时限", ""),
        Column::new("超时率", "%"),
        Column::new("平均办理", "秒"),
    ];
    columns.extend(report::BUCKET_LABELS.iter().map(|l| Column::new(*l, "")));
    columns.push(Column::new("办理总时长", "秒"));
    let row = |label: &str, key: Option<&str>, q: &QueueFigures| {
        let link = |figure| {
            Some(Link {
                by: r.by,
                key: key.map(str::to_owned),
                to: Target::Hops(figure),
            })
        };
        let mut cells = vec![
            Cell::Text(label.to_owned()),
            Cell::Count(q.tickets, link(Figure::Tickets)),
            Cell::Count(q.arrived, link(Figure::Arrived)),
            Cell::Count(q.served, link(Figure::Served)),
            Cell::Count(q.no_shows, link(Figure::NoShows)),
            Cell::Count(q.transferred, link(Figure::Transferred)),
            Cell::Pct(q.no_show_pct),
            Cell::Count(q.waited, link(Figure::Waited)),
            Cell::Seconds(q.wait_mean_s),
            Cell::Seconds(q.wait_median_s.map(|s| s as f64)),
            Cell::Seconds(q.wait_p90_s.map(|s| s as f64)),
            Cell::Seconds(q.wait_max_s.map(|s| s as f64)),
            Cell::Count(q.over_level, link(Figure::OverLevel)),
            Cell::Pct(q.over_level_pct),
            Cell::Seconds(q.service_mean_s),
        ];
        cells.extend(
            q.service_buckets
                .iter()
                .enumerate()
                .map(|(b, n)| Cell::Count(*n, link(Figure::Service(b as u8)))),
        );
        cells.push(Cell::Span(q.serving_s));
        cells
    };
    let mut rows = vec![row(TOTAL, None, &r.queue.total)];
    rows.extend(
        r.queue
            .rows
            .iter()
            .map(|l| row(&l.label, Some(&l.key), &l.figures)),
    );
    Table {
        id: "queue",
        title: "排队与办理",
        columns,
        rows,
        note: "到达含转入的号；过号率 = 过号 ÷（办结 + 过号）；等候从取号（或转入）到首次叫号，\
               分位数取最近秩；超过服务时限按各业务设定（未设定为 20 分钟）；\
               办理从开始办理（未标记时为叫号）到办结。",
    }
}

fn windows_table(r: &Report) -> Table {
    let rows = r
        .windows
        .iter()
        .map(|w| {
            vec![
                Cell::Text(w.label.clone()),
                Cell::Count(w.figures.days, None),
                Cell::Count(
                    w.figures.served,
                    Some(Link {
                        by: GroupBy::Window,
                        key: Some(w.key.clone()),
                        to: Target::Hops(Figure::Served),
                    }),
                ),
                Cell::Span(w.figures.open_s),
                Cell::Span(w.figures.serving_s),
                Cell::Span(w.figures.idle_s),
            ]
        })
        .collect();
    Table {
        id: "windows",
        title: "窗口服务与空闲",
        columns: vec![
            Column::new("窗口", ""),
            Column::new("开窗天数", ""),
            Column::new("办结", ""),
            Column::new("开窗时长", "秒"),
            Column::new("服务时长", "秒"),
            Column::new("空闲时长", "秒"),
        ],
        rows,
        note: "开窗时长：每天从该窗口首次叫号到最后一个号结束；空闲时长 = 开窗时长 − 服务时长（叫号后过号的时间算空闲）。",
    }
}

/// The total row and each row; `row` gets a row's label, its count links' maker and figures.
fn with_total<F>(
    by: GroupBy,
    g: &Grouped<F>,
    row: impl Fn(&str, &dyn Fn(Record) -> Option<Link>, &F) -> Vec<Cell>,
) -> Vec<Vec<Cell>> {
    let link = |key: Option<String>| {
        move |record| {
            Some(Link {
                by,
                key: key.clone(),
                to: Target::Records(record),
            })
        }
    };
    let mut rows = vec![row(TOTAL, &link(None), &g.total)];
    rows.extend(
        g.rows
            .iter()
            .map(|l| row(&l.label, &link(Some(l.key.clone())), &l.figures)),
    );
    rows
}

fn appointments_table(r: &Report) -> Table {
    Table {
        id: "appointments",
        title: "预约",
        columns: vec![
            Column::new(r.by.label(), ""),
            Column::new("预约", ""),
            Column::new("已签到", ""),
            Column::new("爽约", ""),
            Column::new("未到时段", ""),
            Column::new("爽约率", "%"),
        ],
        rows: with_total(r.by, &r.appointments, |label, link, a| {
            vec![
                Cell::Text(label.to_owned()),
                Cell::Count(a.booked, link(Record::AppointmentsBooked)),
                Cell::Count(a.checked_in, link(Record::AppointmentsCheckedIn)),
                Cell::Count(a.missed, link(Record::AppointmentsMissed)),
                Cell::Count(a.upcoming, link(Record::AppointmentsUpcoming)),
                Cell::Pct(a.missed_pct),
            ]
        }),
        note: "按预约日期统计；爽约：时段结束仍未签到；爽约率 = 爽约 ÷（已签到 + 爽约）。不分窗口、工作人员。",
    }
}

fn ratings_table(r: &Report) -> Table {
    let mut columns = vec![Column::new(r.by.label(), ""), Column::new("评价数", "")];
    columns.extend(RATING_LEVELS.iter().map(|l| Column::new(*l, "")));
    columns.push(Column::new("满意率", "%"));
    Table {
        id: "ratings",
        title: "好差评",
        columns,
        rows: with_total(r.by, &r.ratings, |label, link, g| {
            let mut cells = vec![
                Cell::Text(label.to_owned()),
                Cell::Count(g.total, link(Record::Ratings(None))),
            ];
            // `by_level` holds 5 stars first.
            cells.extend(
                (1..=5u8)
                    .rev()
                    .zip(&g.by_level)
                    .map(|(stars, n)| Cell::Count(*n, link(Record::Ratings(Some(stars))))),
            );
            cells.push(Cell::Pct(g.satisfaction_pct));
            cells
        }),
        note: "满意率 =（非常满意 + 满意）÷ 全部评价，含大厅整体评价。",
    }
}

fn help_table(r: &Report) -> Table {
    Table {
        id: "help",
        title: "呼叫工作人员",
        columns: vec![
            Column::new(r.by.label(), ""),
            Column::new("呼叫", ""),
            Column::new("已响应", ""),
            Column::new("升级提醒", ""),
            Column::new("平均响应", "秒"),
            Column::new("最长响应", "秒"),
        ],
        rows: with_total(r.by, &r.help, |label, link, h| {
            vec![
                Cell::Text(label.to_owned()),
                Cell::Count(h.calls, link(Record::HelpCalls)),
                Cell::Count(h.acknowledged, link(Record::HelpAcknowledged)),
                Cell::Count(h.escalated, link(Record::HelpEscalated)),
                Cell::Seconds(h.ack_mean_s),
                Cell::Seconds(h.ack_max_s.map(|s| s as f64)),
            ]
        }),
        note: "门牌上的“呼叫工作人员”，培训终端的呼叫不计；响应时间从呼叫到工作人员确认。不分窗口、业务。",
    }
}

/// Terminals' usage as tables for the exports (the page shows `usage::section`): the counts,
/// the top searches, those that found nothing and the guides opened most.
pub fn usage_tables(u: &UsageSummary) -> Vec<Table> {
    let counts = [
        ("搜索次数", u.searches),
        ("无结果搜索", u.searches_no_result),
        ("打印清单", u.prints),
        ("扫码带走清单", u.qr_takes),
        ("终端取号", u.tickets),
        ("呼叫帮助", u.help_requests),
        ("使用次数", u.sessions),
    ];
    let mut columns: Vec<Column> = counts.iter().map(|(l, _)| Column::new(*l, "")).collect();
    columns.push(Column::new("平均使用时长", "秒"));
    let mut row: Vec<Cell> = counts.iter().map(|(_, n)| Cell::Count(*n, None)).collect();
    row.push(Cell::Seconds(u.session_mean_s));
    let top = |id, title, what: &str, rows: Vec<(String, u64)>, note| Table {
        id,
        title,
        columns: vec![Column::new(what, ""), Column::new("次数", "")],
        rows: rows
            .into_iter()
            .map(|(s, n)| vec![Cell::Text(s), Cell::Count(n, None)])
            .collect(),
        note,
    };
    let subjects = |v: &[crate::storage::usage::SubjectCount]| {
        v.iter().map(|s| (s.subject.clone(), s.count)).collect()
    };
    vec![
        Table {
            id: "usage",
            title: "终端使用",
            columns,
            rows: vec![row],
            note: "门牌终端的匿名使用次数，不含个人信息；培训终端不计。按大厅和日期统计，不按业务、窗口筛选。",
        },
        top(
            "usage-searches",
            "热门搜索",
            "搜索词",
            subjects(&u.top_searches),
            "最常搜索的词。",
        ),
        top(
            "usage-no-result",
            "无结果搜索",
            "搜索词",
            subjects(&u.top_no_result),
            "搜不到结果的词：内容团队的待办清单。",
        ),
        top(
            "usage-guides",
            "常看指南",
            "事项",
            u.top_guides
                .iter()
                .map(|g| (g.name.clone(), g.count))
                .collect(),
            "打开次数最多的办事指南。",
        ),
    ]
}

/// Seconds as 分:秒 (rounded to the second), `—` when none.
pub fn min_sec(s: Option<f64>) -> String {
    match s {
        Some(s) => {
            let s = s.round() as u64;
            format!("{}:{:02}", s / 60, s % 60)
        }
        None => "—".into(),
    }
}

/// Seconds as minutes with one decimal.
pub fn minutes(s: u64) -> String {
    format!("{:.1} 分钟", s as f64 / 60.0)
}

/// A share with one decimal, `—` when none.
pub fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

/// One decimal, as exports hold means and shares.
pub fn one_decimal(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Hops listed behind a count at most (the page says how many there are in all).
pub const MAX_LISTED: usize = 500;
/// A row key longer than this is not one a report made.
const MAX_KEY_CHARS: usize = 128;

/// The row key a link behind a count carries (none: the total), not longer than any a report
/// makes.
pub fn row_key(p: &Params) -> Result<Option<String>, AppError> {
    let key = p.key.clone();
    if key
        .as_ref()
        .is_some_and(|k| k.chars().count() > MAX_KEY_CHARS)
    {
        return Err(AppError::bad_request("key 太长"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_shares_as_people_read_them() {
        assert_eq!(min_sec(Some(754.5)), "12:35");
        assert_eq!(min_sec(Some(4000.0)), "66:40");
        assert_eq!(min_sec(None), "—");
        assert_eq!(minutes(90), "1.5 分钟");
        assert_eq!(pct(Some(33.333)), "33.3%");
        assert_eq!(one_decimal(12.345), 12.3);
    }
}
