//! Charts of the hall statistics, drawn on the server with `plotters` as SVG (no CDN, no script;
//! labels stay text, so the browser's CJK font draws them).
//!
//! Stable URLs, each `image/svg+xml`, with the report's filters: `hall` (a hall id; none: every
//! hall the operator may read), `from` and `to` (`YYYY-MM-DD`, both default to today, at most
//! 366 days apart). A hall the operator may not read answers 403 (audited).
//!
//! | URL | what it shows |
//! |---|---|
//! | `/statistics/charts/arrivals.svg` | tickets arrived by hour of day (bars) |
//! | `/statistics/charts/waits.svg` | mean wait and 90th-percentile wait by hour of day, in minutes (lines) |
//! | `/statistics/charts/wait-distribution.svg` | people by wait, in 5-minute bins, the last 60 minutes and more (bars) |
//! | `/statistics/charts/satisfaction.svg` | share of ratings with 4 or 5 stars per day, in % (line) |
//! | `/statistics/charts/windows.svg` | tickets served per window, with its mean service time (bars) |
//!
//! e.g. `<img src="/statistics/charts/arrivals.svg?hall=hall-futian&from=2026-12-01&to=2026-12-04">`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, NaiveDate};
use plotters::coord::ranged1d::{
    DefaultFormatting, DiscreteRanged, KeyPointHint, Ranged, SegmentValue,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use super::report::{self, GroupBy};
use super::{level_s, scope};
use crate::Server;
use crate::error::AppError;
use crate::operators::Session;
use crate::storage::statistics::HopFact;

/// The charts, by the name in their URL.
pub const CHARTS: [&str; 5] = [
    "arrivals",
    "waits",
    "wait-distribution",
    "satisfaction",
    "windows",
];
/// Days one chart may span.
pub const MAX_DAYS: i64 = 366;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 440;
/// Fonts named in the SVG: the browser draws Chinese with the first it has.
const FONT: &str =
    "Noto Sans CJK SC, WenQuanYi Micro Hei, PingFang SC, Microsoft YaHei, sans-serif";
const BAR: RGBColor = RGBColor(0x1a, 0x5f, 0xb4);
const LINE: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const SECOND_LINE: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
/// Waits are binned this wide in the distribution; the last bin holds the rest.
const WAIT_BIN_MIN: u64 = 5;
const WAIT_BINS: usize = 13;

pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/statistics/charts/{chart}", get(chart))
}

/// The report's filters.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    pub hall: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `from..=to` of the filters, both defaulting to `today`.
pub fn days(f: &Filters, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
    let parse = |s: &Option<String>, name: &str| -> Result<NaiveDate, AppError> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(today),
            Some(s) => super::parse_day(s)
                .ok_or_else(|| AppError::bad_request(format!("{name} 应为 YYYY-MM-DD"))),
        }
    };
    let (from, to) = (parse(&f.from, "from")?, parse(&f.to, "to")?);
    if from > to {
        return Err(AppError::bad_request("开始日期晚于结束日期"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::bad_request(format!("一次最多统计 {MAX_DAYS} 天")));
    }
    Ok((from, to))
}

async fn chart(
    State(server): State<Arc<Server>>,
    s: Session,
    Path(file): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    let name = file
        .strip_suffix(".svg")
        .filter(|n| CHARTS.contains(n))
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这张图"))?;
    let halls = scope(&server, &s, f.hall.as_deref())?;
    let (from, to) = days(&f, server.clock.local_now().date())?;
    let place = match halls.as_deref() {
        Some([one]) => server
            .halls
            .get(one)
            .map(|h| h.name.clone())
            .unwrap_or_else(|| one.clone()),
        _ => "全部大厅".into(),
    };
    let name = name.to_owned();
    let svg =
        super::heavy(move || draw(&server, &name, halls.as_deref(), (from, to), &place)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// Chart `name` of `halls` over days `from..=to` (`place` names them), as SVG.
fn draw(
    server: &Server,
    name: &str,
    halls: Option<&[String]>,
    (from, to): (NaiveDate, NaiveDate),
    place: &str,
) -> Result<String, AppError> {
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let span = if from == to {
        from_s.clone()
    } else {
        format!("{from_s} 至 {to_s}")
    };
    let svg = if name == "satisfaction" {
        let days = server
            .storage
            .ratings_by_day(halls, &from_s, &to_s)
            .map_err(AppError::internal)?;
        satisfaction(&format!("{place} {span} 满意率"), from, to, &days)
    } else {
        let hops = server
            .storage
            .hop_facts(halls, &from_s, &to_s)
            .map_err(AppError::internal)?;
        let level = |h: &HopFact| level_s(server, h);
        let hall_name = |id: &str| server.halls.get(id).map(|h| h.name.clone());
        match name {
            "arrivals" => arrivals(&format!("{place} {span} 各时段到达人数"), &hops, &level),
            "waits" => waits(&format!("{place} {span} 各时段等候时间"), &hops, &level),
            "wait-distribution" => {
                wait_distribution(&format!("{place} {span} 等候时间分布"), &hops)
            }
            _ => windows(
                &format!("{place} {span} 各窗口办结量"),
                &hops,
                &level,
                halls.is_some_and(|h| h.len() == 1),
                &hall_name,
            ),
        }
    }
    .map_err(AppError::internal)?;
    Ok(svg)
}

type Level<'a> = &'a dyn Fn(&HopFact) -> u64;

/// Hours from the first to the last with arrivals, with each hour's figures.
fn by_hour(hops: &[HopFact], level: Level<'_>) -> Vec<(String, report::QueueFigures)> {
    let (rows, _) = report::rows(hops, GroupBy::Hour, level);
    let hours: Vec<u32> = rows.iter().filter_map(|r| r.key.parse().ok()).collect();
    let (Some(first), Some(last)) = (hours.iter().min(), hours.iter().max()) else {
        return Vec::new();
    };
    (*first..=*last)
        .map(|h| {
            let figures = rows
                .iter()
                .find(|r| r.key.parse::<u32>().ok() == Some(h))
                .map(|r| r.figures.clone())
                .unwrap_or_default();
            (format!("{h}时"), figures)
        })
        .collect()
}

/// Tickets arrived by hour of day.
pub fn arrivals(title: &str, hops: &[HopFact], level: Level<'_>) -> Result<String, String> {
    let hours = by_hour(hops, level);
    let labels: Vec<String> = hours.iter().map(|(l, _)| l.clone()).collect();
    let values: Vec<f64> = hours.iter().map(|(_, f)| f.arrived as f64).collect();
    let tops = values.iter().map(|v| format!("{v}")).collect();
    bar_chart(title, "到达人数", &labels, &values, tops)
}

/// Mean and 90th-percentile wait by hour of day, in minutes.
pub fn waits(title: &str, hops: &[HopFact], level: Level<'_>) -> Result<String, String> {
    let hours = by_hour(hops, level);
    let labels: Vec<String> = hours.iter().map(|(l, _)| l.clone()).collect();
    let mean = hours
        .iter()
        .map(|(_, f)| f.wait_mean_s.map(|s| s / 60.0))
        .collect();
    let p90 = hours
        .iter()
        .map(|(_, f)| f.wait_p90_s.map(|s| s as f64 / 60.0))
        .collect();
    line_chart(
        title,
        "等候（分钟）",
        &labels,
        &[("平均等候", mean), ("90%的人不超过", p90)],
        None,
        "",
    )
}

/// People by wait, in bins of 5 minutes.
pub fn wait_distribution(title: &str, hops: &[HopFact]) -> Result<String, String> {
    let mut bins = [0u64; WAIT_BINS];
    for h in hops.iter().filter(|h| h.state != "cancelled") {
        let (Some(a), Some(b)) = (
            h.waiting_since.as_deref().and_then(report::parse_stamp),
            h.first_called.as_deref().and_then(report::parse_stamp),
        ) else {
            continue;
        };
        let minutes = (b - a).num_seconds().max(0) as u64 / 60;
        bins[((minutes / WAIT_BIN_MIN) as usize).min(WAIT_BINS - 1)] += 1;
    }
    let labels: Vec<String> = (0..WAIT_BINS as u64)
        .map(|i| {
            let lo = i * WAIT_BIN_MIN;
            if i as usize == WAIT_BINS - 1 {
                format!("{lo}分+")
            } else {
                format!("{lo}–{}分", lo + WAIT_BIN_MIN)
            }
        })
        .collect();
    if bins.iter().all(|b| *b == 0) {
        return bar_chart(title, "人数", &[], &[], Vec::new());
    }
    let values: Vec<f64> = bins.iter().map(|b| *b as f64).collect();
    let tops = bins.iter().map(|b| b.to_string()).collect();
    bar_chart(title, "人数", &labels, &values, tops)
}

/// The share of ratings with 4 or 5 stars on each day of `from..=to`.
pub fn satisfaction(
    title: &str,
    from: NaiveDate,
    to: NaiveDate,
    days: &[crate::storage::monitor::RatingDay],
) -> Result<String, String> {
    let n = (to - from).num_days().max(0);
    let dates: Vec<NaiveDate> = (0..=n).map(|i| from + Duration::days(i)).collect();
    let labels: Vec<String> = dates
        .iter()
        .map(|d| d.format("%m-%d").to_string())
        .collect();
    let rates: Vec<Option<f64>> = dates
        .iter()
        .map(|d| {
            let key = d.to_string();
            days.iter()
                .find(|r| r.day == key && r.count > 0)
                .map(|r| 100.0 * r.satisfied as f64 / r.count as f64)
        })
        .collect();
    if rates.iter().all(Option::is_none) {
        return line_chart(title, "满意率（%）", &[], &[], Some(100.0), "%");
    }
    line_chart(
        title,
        "满意率（%）",
        &labels,
        &[("满意率（4、5星）", rates)],
        Some(100.0),
        "%",
    )
}

/// Tickets served per window, labelled with the window's mean service time.
pub fn windows(
    title: &str,
    hops: &[HopFact],
    level: Level<'_>,
    one_hall: bool,
    hall_name: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut rows: Vec<(String, u32, report::QueueFigures)> = Vec::new();
    let mut by_window: std::collections::BTreeMap<(String, u32), Vec<&HopFact>> =
        Default::default();
    for h in hops {
        if let Some(w) = h.window {
            by_window.entry((h.hall.clone(), w)).or_default().push(h);
        }
    }
    for ((hall, w), hs) in by_window {
        rows.push((hall, w, report::figures(hs, level)));
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|(hall, w, _)| {
            if one_hall {
                format!("{w}号窗口")
            } else {
                format!("{} {w}号", hall_name(hall).unwrap_or_else(|| hall.clone()))
            }
        })
        .collect();
    let values: Vec<f64> = rows.iter().map(|(_, _, f)| f.served as f64).collect();
    let tops = rows
        .iter()
        .map(|(_, _, f)| match f.service_mean_s {
            Some(s) => format!("{} · 均{:.1}分", f.served, s / 60.0),
            None => f.served.to_string(),
        })
        .collect();
    bar_chart(title, "办结人数", &labels, &values, tops)
}

fn text_style<'a>(size: u32) -> TextStyle<'a> {
    (FONT, size).into_font().color(&BLACK)
}

fn empty(title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        root.draw(&Text::new(
            title.to_owned(),
            (WIDTH as i32 / 2, 30),
            text_style(22).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(|e| e.to_string())?;
        root.draw(&Text::new(
            "所选范围内没有数据".to_owned(),
            (WIDTH as i32 / 2, HEIGHT as i32 / 2),
            text_style(18).pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The label under a segment's middle; none at its edges.
fn label_of(labels: &[String], v: &SegmentValue<usize>) -> String {
    match v {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// One slot per label along the x axis (plotters' elements need owned coordinates, and an
/// integer range would add a slot past the end).
#[derive(Debug, Clone)]
struct Slots(usize);

impl Ranged for Slots {
    type FormatOption = DefaultFormatting;
    type ValueType = usize;

    fn range(&self) -> std::ops::Range<usize> {
        0..self.0.saturating_sub(1)
    }

    fn map(&self, v: &usize, limit: (i32, i32)) -> i32 {
        let span = self.0.saturating_sub(1).max(1) as f64;
        (f64::from(limit.0) + f64::from(limit.1 - limit.0) * (*v as f64 / span)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<usize> {
        let step = self.0.div_ceil(hint.max_num_points().max(1)).max(1);
        (0..self.0).step_by(step).collect()
    }
}

impl DiscreteRanged for Slots {
    fn size(&self) -> usize {
        self.0
    }

    fn index_of(&self, v: &usize) -> Option<usize> {
        (*v < self.0).then_some(*v)
    }

    fn from_index(&self, i: usize) -> Option<usize> {
        (i < self.0).then_some(i)
    }
}

/// One bar per label, each with its text on top.
pub fn bar_chart(
    title: &str,
    y_desc: &str,
    labels: &[String],
    values: &[f64],
    tops: Vec<String>,
) -> Result<String, String> {
    if labels.is_empty() {
        return empty(title);
    }
    let top = values.iter().copied().fold(0.0, f64::max).max(1.0) * 1.15;
    // Bars at most about 120 px wide, however few.
    let slot = (WIDTH - 100) / labels.len().max(1) as u32;
    let side = slot.saturating_sub(120).div_ceil(2).max(6);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, text_style(26))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(Slots(labels.len()).into_segmented(), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(1)
            .x_labels(labels.len())
            .x_label_formatter(&|v| label_of(labels, v))
            .y_labels((top.floor() as usize).clamp(2, 10))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(y_desc)
            .label_style(text_style(17))
            .axis_desc_style(text_style(18))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let end = if i + 1 < labels.len() {
                    SegmentValue::Exact(i + 1)
                } else {
                    SegmentValue::Last
                };
                let mut bar =
                    Rectangle::new([(SegmentValue::Exact(i), 0.0), (end, *v)], BAR.filled());
                bar.set_margin(0, 0, side, side);
                bar
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(tops.into_iter().enumerate().zip(values).map(|((i, t), v)| {
                EmptyElement::at((SegmentValue::CenterOf(i), *v))
                    + Text::new(
                        t,
                        (0, -3),
                        text_style(16).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One line per series over the labels; a missing value leaves its point out.
pub fn line_chart(
    title: &str,
    y_desc: &str,
    labels: &[String],
    series: &[(&str, Vec<Option<f64>>)],
    y_max: Option<f64>,
    unit: &str,
) -> Result<String, String> {
    if labels.is_empty() {
        return empty(title);
    }
    let highest = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .copied()
        .fold(0.0, f64::max);
    let top = y_max.unwrap_or((highest * 1.15).max(1.0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, text_style(26))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(Slots(labels.len()).into_segmented(), 0.0..top * 1.08)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(1)
            .x_labels(labels.len().min(16))
            .x_label_formatter(&|v| label_of(labels, v))
            .y_labels((top.floor() as usize).clamp(2, 10))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(y_desc)
            .label_style(text_style(17))
            .axis_desc_style(text_style(18))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, (name, values)) in series.iter().enumerate() {
            let color = if k == 0 { LINE } else { SECOND_LINE };
            let points: Vec<(SegmentValue<usize>, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (SegmentValue::CenterOf(i), v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|(x, y)| Circle::new((x.clone(), *y), 4, color.filled())),
                )
                .map_err(|e| e.to_string())?;
            if k == 0 {
                chart
                    .draw_series(points.iter().map(|(x, y)| {
                        EmptyElement::at((x.clone(), *y))
                            + Text::new(
                                format!("{y:.0}{unit}"),
                                (0, -8),
                                text_style(16).pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )
                    }))
                    .map_err(|e| e.to_string())?;
            }
        }
        chart
            .configure_series_labels()
            .label_font(text_style(17))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::monitor::RatingDay;

    fn hop(id: i64, window: u32, since: &str, called: &str, end: &str) -> HopFact {
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
            first_called: Some(called.into()),
            serving_at: Some(called.into()),
            ended_at: Some(end.into()),
            state: "done".into(),
            window: Some(window),
            staff: Some("s".into()),
            recalls: 0,
        }
    }

    fn hops() -> Vec<HopFact> {
        vec![
            // 9时: two arrivals, waits 4 and 12 minutes; 11时: one, 70 minutes.
            hop(
                1,
                1,
                "2026-12-01 09:00:00.000",
                "2026-12-01 09:04:00.000",
                "2026-12-01 09:10:00.000",
            ),
            hop(
                2,
                1,
                "2026-12-01 09:30:00.000",
                "2026-12-01 09:42:00.000",
                "2026-12-01 09:50:00.000",
            ),
            hop(
                3,
                2,
                "2026-12-01 11:00:00.000",
                "2026-12-01 12:10:00.000",
                "2026-12-01 12:13:00.000",
            ),
        ]
    }

    /// Bars are the rectangles in the bars' colour.
    fn bars(svg: &str) -> usize {
        svg.split("<rect")
            .skip(1)
            .filter(|r| r.split("/>").next().unwrap_or("").contains("#1A5FB4"))
            .count()
    }

    /// The texts drawn on top of bars and points (anchored at their bottom).
    fn tops(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter(|t| {
                t.split_once('>')
                    .is_some_and(|(a, _)| a.contains("dy=\"-0.5ex\""))
            })
            .filter_map(|t| t.split_once('>')?.1.split_once("</text>"))
            .map(|(t, _)| t.trim())
            .collect()
    }

    fn valid(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("viewBox=\"0 0 960 440\""));
    }

    #[test]
    fn arrivals_draw_a_bar_for_every_hour_from_the_first_to_the_last() {
        let svg = arrivals("福田 各时段到达人数", &hops(), &|_| 1200).unwrap();
        valid(&svg);
        assert_eq!(bars(&svg), 3, "9时, 10时 (empty) and 11时");
        for label in ["福田 各时段到达人数", "9时", "10时", "11时", "到达人数"] {
            assert!(svg.contains(label), "{label} missing");
        }
        assert!(svg.contains("Noto Sans CJK SC"), "a CJK font is named");
    }

    #[test]
    fn the_wait_distribution_bins_by_five_minutes() {
        let svg = wait_distribution("等候时间分布", &hops()).unwrap();
        valid(&svg);
        assert_eq!(bars(&svg), WAIT_BINS);
        assert!(svg.contains("0–5分") && svg.contains("10–15分") && svg.contains("60分+"));
        // Each non-empty bin is labelled with its count: 4, 12 and 70 minutes.
        assert_eq!(
            tops(&svg),
            [
                "1", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "1"
            ]
        );
    }

    #[test]
    fn windows_are_compared_by_served_with_their_mean_service() {
        let svg = windows("各窗口办结量", &hops(), &|_| 1200, true, &|_| None).unwrap();
        valid(&svg);
        assert_eq!(bars(&svg), 2);
        assert!(svg.contains("1号窗口") && svg.contains("2号窗口"));
        assert!(svg.contains("2 · 均7.0分"), "window 1: 6 and 8 minutes");
        assert!(svg.contains("1 · 均3.0分"));
    }

    #[test]
    fn one_bar_sits_in_the_middle_at_a_readable_width() {
        let one = &hops()[..1];
        let svg = windows("各窗口办结量", one, &|_| 1200, true, &|_| None).unwrap();
        valid(&svg);
        assert_eq!(bars(&svg), 1);
        let width: f64 = svg
            .split("<rect")
            .find(|r| r.contains("#1A5FB4"))
            .and_then(|r| r.split("width=\"").nth(1)?.split('"').next()?.parse().ok())
            .unwrap();
        assert!(
            (100.0..=130.0).contains(&width),
            "one bar, not a wall: {width}"
        );
    }

    #[test]
    fn waits_and_satisfaction_are_lines_with_their_values() {
        let svg = waits("各时段等候时间", &hops(), &|_| 1200).unwrap();
        valid(&svg);
        assert!(svg.contains("平均等候") && svg.contains("90%的人不超过"));
        assert_eq!(
            tops(&svg),
            ["8", "70"],
            "mean waits at 9时 and 11时; 10时 has none"
        );
        assert!(svg.contains("<polyline"));

        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let days = [
            RatingDay {
                day: "2026-12-01".into(),
                count: 4,
                satisfied: 3,
            },
            RatingDay {
                day: "2026-12-03".into(),
                count: 2,
                satisfied: 2,
            },
        ];
        let svg = satisfaction("满意率", d("2026-12-01"), d("2026-12-03"), &days).unwrap();
        valid(&svg);
        assert_eq!(tops(&svg), ["75%", "100%"]);
        assert!(
            svg.contains("12-02"),
            "a day without ratings keeps its place"
        );
    }

    #[test]
    fn nothing_to_draw_says_so_and_text_is_escaped() {
        let svg = arrivals("<script>alert(1)</script>", &[], &|_| 1200).unwrap();
        valid(&svg);
        assert!(svg.contains("所选范围内没有数据"));
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn days_default_to_today_and_are_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let f = |from: &str, to: &str| Filters {
            hall: None,
            from: Some(from.into()),
            to: Some(to.into()),
        };
        assert_eq!(days(&Filters::default(), today).unwrap(), (today, today));
        assert!(days(&f("2026-12-05", "2026-12-04"), today).is_err());
        assert!(days(&f("2025-01-01", "2026-12-04"), today).is_err());
        assert!(days(&f("2026-13-01", "2026-12-04"), today).is_err());
        assert!(days(&f("2025-12-04", "2026-12-03"), today).is_ok());
    }
}
