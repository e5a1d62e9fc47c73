//! The statistics pages in the console: the report (filters, the tables, the exports), the
//! hops behind one of its counts with each ticket's events, and the appointments, ratings and
//! help calls behind one.

use std::collections::HashMap;

use maud::Markup;

use super::query::{Cell, Filters, Table, min_sec, minutes, pct, tables};
use super::records::{Records, Rows};
use super::report::{self, Figure, GroupBy, level};
use crate::Server;
use crate::help::calls::{position_name, screen_name};
use crate::html::{CONSOLE_STYLE, Page, Section, console, console_page, error_line, html};
use crate::operators::{display_name, hall_name};
use crate::storage::Operator;
use crate::storage::statistics::{HopFact, TicketEvent};

use super::charts::CHARTS;
use super::query::Report;

/// Wide tables scroll sideways on a desktop; at phone width each row stacks its cells.
const STYLE_EXTRA: &str = ".scroll{overflow-x:auto}.scroll table{min-width:100%}td.n,th.n{text-align:right;white-space:nowrap}\
tr.total td{font-weight:bold;background:#f3f7fc}.note{margin:4px 0 14px}\
img.chart{display:block;width:100%;max-width:960px;height:auto;background:#fff;border-radius:10px;margin:10px 0}\
.scroll td:first-child{white-space:nowrap}\
.usage .hint{color:#5b6570;font-size:14px}.usage dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:8px 0}\
.usage dl.figures div{background:#fff;border-radius:10px;padding:8px 12px;box-shadow:0 1px 2px rgba(0,0,0,.06)}.usage dt{color:#5b6570;font-size:14px}\
.usage dd{margin:0;font-size:22px;font-weight:bold;color:#0e3f7e}.usage-lists{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}\
.usage-top caption{text-align:left;font-weight:600;padding:6px 0;color:#0e3f7e}.usage-top .num{text-align:right}\
@media (max-width:700px){td.n{text-align:left}.scroll td:first-child{white-space:normal}.usage-top .num{text-align:left}}";

fn style() -> &'static str {
    // One string for the page's head: the console's look and the tables'.
    static STYLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STYLE.get_or_init(|| format!("{CONSOLE_STYLE}{STYLE_EXTRA}"))
}

/// A cell as the page shows it.
fn cell(f: &Filters, c: &Cell) -> Markup {
    match c {
        Cell::Text(t) => html! { (t) },
        Cell::Count(n, Some(link)) if *n > 0 => {
            html! { a href=(link.href(f)) title=(link.title()) { (n) } }
        }
        Cell::Count(n, _) => html! { (n) },
        Cell::Seconds(s) => html! { (min_sec(*s)) },
        Cell::Span(s) => html! { (minutes(*s)) },
        Cell::Pct(p) => html! { (pct(*p)) },
    }
}

fn table(f: &Filters, t: &Table) -> Markup {
    html! {
        h2 { (t.title) }
        @if t.rows.len() <= 1 && t.rows.first().is_none_or(|r| matches!(r.get(1), Some(Cell::Count(0, _)) | None)) {
            p class="muted" id={ (t.id) "-none" } { "这段时间没有记录。" }
        }
        div class="scroll" {
            table id=(t.id) {
                thead { tr {
                    @for (i, c) in t.columns.iter().enumerate() {
                        th class=[(i > 0).then_some("n")] { (c.label) }
                    }
                } }
                tbody {
                    @for (r, row) in t.rows.iter().enumerate() {
                        tr class=[(r == 0 && t.id != "windows").then_some("total")] {
                            @for (i, c) in row.iter().enumerate() {
                                td class=[(i > 0).then_some("n")] data-label=(t.columns[i].label) { (cell(f, c)) }
                            }
                        }
                    }
                }
            }
        }
        p class="muted note" { (t.note) }
    }
}

fn filters_form(server: &Server, op: &Operator, f: &Filters) -> Markup {
    let readable = op.reads_halls();
    let halls: Vec<_> = server
        .halls
        .all()
        .into_iter()
        .filter(|h| readable.is_none_or(|hs| hs.contains(&h.id)))
        .collect();
    let mut businesses: Vec<String> = halls
        .iter()
        .flat_map(|h| h.business_types.iter().map(|b| b.name.clone()))
        .collect();
    businesses.sort();
    businesses.dedup();
    let q = f.query();
    html! {
        form method="get" action="/statistics" class="card filters" id="filters" {
            label { "大厅"
                select name="hall" id="f-hall" {
                    option value="" { "全部可查看的大厅" }
                    @for h in &halls {
                        option value=(h.id) selected[f.hall.as_deref() == Some(h.id.as_str())] { (h.name) }
                    }
                }
            }
            label { "从" input type="date" name="from" id="f-from" value=(f.from_day()) required; }
            label { "到" input type="date" name="to" id="f-to" value=(f.to_day()) required; }
            label { "分组"
                select name="by" id="f-by" {
                    @for g in GroupBy::ALL {
                        option value=(g.as_str()) selected[g == f.by] { "按" (g.label()) }
                    }
                }
            }
            label { "业务"
                input name="business" id="f-business" list="businesses" value=(f.business.as_deref().unwrap_or("")) placeholder="全部" maxlength="64" autocomplete="off";
                datalist id="businesses" { @for b in &businesses { option value=(b) {} } }
            }
            label { "窗口"
                input name="window" id="f-window" type="number" min="1" max="9999" value=(f.window.map(|w| w.to_string()).unwrap_or_default()) placeholder="全部" style="width:6em";
            }
            div class="buttons" {
                button type="submit" id="apply" { "统计" }
                a class="button secondary" id="export-csv" href={ "/statistics.csv?" (q) } { "导出 CSV" }
                a class="button secondary" id="export-xlsx" href={ "/statistics.xlsx?" (q) } { "导出 Excel" }
            }
        }
    }
}

/// What the report covers, in a sentence.
fn scope_line(server: &Server, f: &Filters) -> String {
    let halls = match (&f.hall, &f.halls) {
        (Some(h), _) => hall_name(server, h),
        (None, None) => "全部大厅".into(),
        (None, Some(hs)) => hs
            .iter()
            .map(|h| hall_name(server, h))
            .collect::<Vec<_>>()
            .join("、"),
    };
    let mut s = format!("{halls} · {} 至 {}", f.from_day(), f.to_day());
    if let Some(b) = &f.business {
        s.push_str(&format!(" · {b}"));
    }
    if let Some(w) = f.window {
        s.push_str(&format!(" · {w} 号窗口"));
    }
    s
}

/// The charts of the same halls and days (drawn by `charts.rs`; business and window filters
/// do not apply to them).
fn charts(f: &Filters) -> Markup {
    let (from, to) = (f.from_day(), f.to_day());
    let mut pairs: Vec<(&str, &str)> = vec![("from", &from), ("to", &to)];
    if let Some(h) = &f.hall {
        pairs.insert(0, ("hall", h));
    }
    let q = serde_urlencoded::to_string(pairs).unwrap_or_default();
    html! {
        h2 { "图表" }
        @if f.business.is_some() || f.window.is_some() {
            p class="muted" { "图表按大厅和日期绘制，不按业务、窗口筛选。" }
        }
        div id="charts" {
            @for c in CHARTS {
                img class="chart" src={ "/statistics/charts/" (c) ".svg?" (q) } alt=(chart_title(c)) loading="lazy";
            }
        }
    }
}

fn chart_title(chart: &str) -> &'static str {
    match chart {
        "arrivals" => "各时段到达人数",
        "waits" => "各时段平均等候与90%分位等候",
        "wait-distribution" => "等候时长分布",
        "satisfaction" => "每日满意率",
        "windows" => "各窗口办结量与平均办理时长",
        _ => "图表",
    }
}

/// `/statistics`: the report of the filters.
pub(super) fn report(
    server: &Server,
    op: &Operator,
    f: &Filters,
    r: &Report,
    usage: Option<Markup>,
) -> Markup {
    let body = html! {
        h1 { "统计分析" }
        (filters_form(server, op, f))
        p id="scope" { strong { (scope_line(server, f)) } }
        p class="muted" { "每个数字都可点开，查看背后的号和它们的每一步记录，或背后的预约、评价和呼叫。等候、办理时长为 分:秒。" }
        @for t in tables(r) { (table(f, &t)) }
        (charts(f))
        // The terminals' usage (searches, guides, prints) sits here: `statistics::usage`.
        @if let Some(u) = usage { (u) }
    };
    let page = Page::new("统计分析 · 门牌", style());
    console_page(op, Section::Statistics, page, body)
}

fn state_label(state: &str) -> &str {
    match state {
        "waiting" => "等候",
        "called" => "叫号",
        "recalled" => "重呼",
        "serving" => "办理中",
        "done" => "办结",
        "no_show" => "过号",
        "transferred" => "转出",
        "cancelled" => "取消",
        other => other,
    }
}

fn time_of(at: &Option<String>) -> &str {
    at.as_deref().and_then(|a| a.get(11..19)).unwrap_or("—")
}

/// The hops behind a figure, shown.
#[derive(Debug)]
pub(super) struct Behind<'a> {
    pub filters: &'a Filters,
    pub key: Option<&'a str>,
    pub key_label: String,
    pub figure: Figure,
    /// Every hop behind it.
    pub all: usize,
    pub shown: &'a [HopFact],
    pub events: &'a [TicketEvent],
    pub waits: &'a [Option<u64>],
}

/// `/statistics/tickets`: the hops behind a count, each with its events.
pub(super) fn behind(server: &Server, op: &Operator, b: &Behind<'_>) -> Markup {
    let f = b.filters;
    let many = f.many_halls();
    // Each name looked up once, however many events carry it.
    let mut names: HashMap<&str, String> = HashMap::new();
    let people = b.shown.iter().filter_map(|h| h.staff.as_deref());
    for who in people.chain(b.events.iter().map(|e| e.actor.as_str())) {
        names
            .entry(who)
            .or_insert_with(|| display_name(server, who));
    }
    let name = |who: &str| names.get(who).cloned().unwrap_or_else(|| who.to_owned());
    let body = html! {
        h1 { "号码明细：" (b.figure.label()) }
        p id="scope" {
            strong { (scope_line(server, f)) }
            " · " (f.by.label()) "：" (b.key.map(|_| b.key_label.as_str()).unwrap_or("合计"))
        }
        p { a href={ "/statistics?" (f.query()) } { "‹ 返回统计" } }
        p id="count" {
            "共 " strong { (b.all) } " 个"
            @if b.all > b.shown.len() { "，只列出前 " (b.shown.len()) " 个" }
            "。"
        }
        @if b.shown.is_empty() { p id="none" { "没有符合条件的号。" } }
        @else {
            div class="scroll" {
                table id="tickets" {
                    thead { tr {
                        th { "号码" } th { "日期" }
                        @if many { th { "大厅" } }
                        th { "业务" } th { "窗口" } th { "工作人员" } th { "开始等候" } th { "首次叫号" } th { "结束" } th { "状态" } th class="n" { "等候" } th { "记录" }
                    } }
                    tbody {
                        @for (h, wait) in b.shown.iter().zip(b.waits) {
                            tr id={ "hop-" (h.ticket) } {
                                td data-label="号码" { (h.number) @if h.hop > 0 { span class="muted" { "（转入）" } } }
                                td data-label="日期" { (h.day) }
                                @if many { td data-label="大厅" { (hall_name(server, &h.hall)) } }
                                td data-label="业务" { (h.business) }
                                td data-label="窗口" { (h.window.map(|w| format!("{w} 号窗口")).unwrap_or_else(|| "—".into())) }
                                td data-label="工作人员" { (h.staff.as_deref().map(name).unwrap_or_else(|| "—".into())) }
                                td data-label="开始等候" { (time_of(&h.waiting_since)) }
                                td data-label="首次叫号" { (time_of(&h.first_called)) }
                                td data-label="结束" { (time_of(&h.ended_at)) }
                                td data-label="状态" { (state_label(&h.state)) }
                                td class="n" data-label="等候" { (min_sec(wait.map(|w| w as f64))) }
                                td data-label="记录" {
                                    details {
                                        summary { "每一步" }
                                        ol class="events" {
                                            @for e in b.events.iter().filter(|e| e.ticket == h.ticket) {
                                                li {
                                                    (e.at.get(11..19).unwrap_or(&e.at)) " " (state_label(&e.state))
                                                    @if let Some(w) = e.window { " · " (w) " 号窗口" }
                                                    @if !e.actor.is_empty() { " · " (name(&e.actor)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = Page::new("号码明细 · 统计分析 · 门牌", style());
    console_page(op, Section::Statistics, page, body)
}

/// `/statistics/records`: the appointments, ratings or help calls behind a count. People by
/// the names pages show; an appointment's holder masked only (never the sealed name or phone).
pub(super) fn records(server: &Server, op: &Operator, r: &Records, key_label: &str) -> Markup {
    let f = &r.filters;
    let many = f.many_halls();
    let hall = |h: &str| hall_name(server, h);
    let dash = || "—".to_owned();
    let rows = match &r.shown {
        Rows::Appointments(v) => html! {
            table id="appointments" {
                thead { tr {
                    th { "日期" } th { "时段" }
                    @if many { th { "大厅" } }
                    th { "事项" } th { "状态" } th { "号码" } th { "预约人" }
                } }
                tbody {
                    @for (a, state) in v {
                        tr id={ "appt-" (a.id) } {
                            td data-label="日期" { (a.fact.date) }
                            td data-label="时段" { (a.fact.start) "–" (a.fact.end) }
                            @if many { td data-label="大厅" { (hall(&a.fact.hall)) } }
                            td data-label="事项" { (a.fact.item_name) }
                            td data-label="状态" { (state.label()) }
                            td data-label="号码" {
                                (a.ticket.as_deref().filter(|_| a.fact.checked_in_at.is_some()).map(str::to_owned).unwrap_or_else(dash))
                            }
                            td data-label="预约人" { (a.holder_masked) }
                        }
                    }
                }
            }
        },
        Rows::Ratings(v) => html! {
            table id="ratings" {
                thead { tr {
                    th { "时间" }
                    @if many { th { "大厅" } }
                    th { "评价" } th { "窗口" } th { "业务" } th { "号码" } th { "原因" } th { "意见" }
                } }
                tbody {
                    @for x in v {
                        tr id={ "rating-" (x.id) } {
                            td data-label="时间" { (x.fact.rated_at.get(..19).unwrap_or(&x.fact.rated_at)) }
                            @if many { td data-label="大厅" { (hall(&x.fact.hall)) } }
                            td data-label="评价" { (level(x.fact.stars)) }
                            td data-label="窗口" { (x.fact.window.map(|w| format!("{w} 号窗口")).unwrap_or_else(dash)) }
                            td data-label="业务" { @if x.fact.business.is_empty() { "—" } @else { (x.fact.business) } }
                            td data-label="号码" { (x.number.clone().unwrap_or_else(|| "大厅整体评价".into())) }
                            td data-label="原因" { @if x.reasons.is_empty() { "—" } @else { (x.reasons.join("、")) } }
                            td data-label="意见" class="comment" { (x.comment) }
                        }
                    }
                }
            }
        },
        Rows::Help(v) => {
            // Each name looked up once, however many calls carry it.
            let mut names: HashMap<&str, String> = HashMap::new();
            let mut places: HashMap<(&str, &str), String> = HashMap::new();
            for c in v {
                if let Some(who) = c.acknowledged_by.as_deref() {
                    names
                        .entry(who)
                        .or_insert_with(|| display_name(server, who));
                }
                places
                    .entry((c.fact.hall.as_str(), c.fact.position.as_str()))
                    .or_insert_with(|| position_name(server, &c.fact.hall, &c.fact.position));
            }
            html! {
                table id="help" {
                    thead { tr {
                        th { "时间" }
                        @if many { th { "大厅" } }
                        th { "位置" } th { "画面" } th { "响应人" } th class="n" { "响应用时" } th { "升级提醒" }
                    } }
                    tbody {
                        @for c in v {
                            tr id={ "help-" (c.id) } {
                                td data-label="时间" {
                                    (report::utc_as_local(&c.fact.created_at).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| c.fact.created_at.clone()))
                                }
                                @if many { td data-label="大厅" { (hall(&c.fact.hall)) } }
                                td data-label="位置" { (places.get(&(c.fact.hall.as_str(), c.fact.position.as_str())).cloned().unwrap_or_default()) }
                                td data-label="画面" { (screen_name(&c.screen)) }
                                td data-label="响应人" {
                                    (c.acknowledged_by.as_deref().and_then(|w| names.get(w)).cloned().unwrap_or_else(dash))
                                }
                                td class="n" data-label="响应用时" {
                                    (report::ack_s(&c.fact).map(|s| format!("{s} 秒")).unwrap_or_else(dash))
                                }
                                td data-label="升级提醒" { @if c.fact.escalated_at.is_some() { "是" } @else { "否" } }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { "记录明细：" (r.record.label()) }
        p id="scope" {
            strong { (scope_line(server, f)) }
            " · " (f.by.label()) "：" (r.key.as_ref().map(|_| key_label).unwrap_or("合计"))
        }
        p { a href={ "/statistics?" (f.query()) } { "‹ 返回统计" } }
        p id="count" {
            "共 " strong { (r.all) } " 条"
            @if r.all > r.shown.len() { "，只列出前 " (r.shown.len()) " 条" }
            "。"
        }
        @if r.shown.is_empty() { p id="none" { "没有符合条件的记录。" } }
        @else { div class="scroll" { (rows) } }
    };
    let page = Page::new("记录明细 · 统计分析 · 门牌", style());
    console_page(op, Section::Statistics, page, body)
}

/// A refusal or a bad filter, inside the console.
pub(super) fn message(op: &Operator, title: &str, text: &str) -> Markup {
    console(
        op,
        Section::Statistics,
        title,
        html! { h1 { (title) } (error_line(text)) p { a href="/statistics" { "‹ 返回统计分析" } } },
    )
}
