//! The cases' pages in the console: the list (overdue first, in red), a case with its rating
//! and the form of its next step, and the monthly ranking of windows by satisfaction.

use maud::Markup;

use super::{Filter, MAX_STEP_CHARS, level_label};
use crate::Server;
use crate::html::{CONSOLE_STYLE, Page, Section, console, console_page, error_line, hidden, html};
use crate::operators::{display_name, hall_name};
use crate::storage::Operator;
use crate::storage::cases::{Case, CaseStage, CaseStep};
use crate::storage::ratings::{Rating, WindowRank};
use crate::web::FormToken;

/// Reloads the list when a case of the operator's halls opens or moves.
const LIST_SCRIPT: &str = "(function(){var es=new EventSource('/console/live?topics=case');\
es.addEventListener('case',function(){location.reload();});\
es.addEventListener('lagged',function(){location.reload();});})();";

/// Reloads a case's page when it moves, unless the operator is typing.
const CASE_SCRIPT: &str = "(function(){var id=document.getElementById('case').dataset.id;\
var es=new EventSource('/console/live?topics=case');es.addEventListener('case',function(m){\
var n=JSON.parse(m.data);if(String(n.id)===id&&!document.querySelector('textarea:focus'))location.reload();});})();";

fn window_label(w: Option<u32>) -> String {
    w.map(|w| format!("{w} 号窗口"))
        .unwrap_or_else(|| "—".into())
}

/// What was rated: `2026-11-30 E012`, or 大厅整体评价.
fn subject(r: &Rating) -> String {
    match &r.ticket {
        Some(t) => format!("{} {}", t.day, t.number),
        None => "大厅整体评价（未关联排队号）".into(),
    }
}

fn nav(current: &str) -> Markup {
    html! {
        p {
            @for f in Filter::ALL {
                @if f.as_str() == current {
                    strong { (f.label()) }
                } @else {
                    a href={ "/cases?show=" (f.as_str()) } { (f.label()) }
                }
                " · "
            }
            @if current == "ranking" {
                strong { "窗口满意度排名" }
            } @else {
                a href="/cases/ranking" { "窗口满意度排名" }
            }
        }
    }
}

/// `/cases`: the cases a filter keeps, overdue first.
pub(super) fn list(
    server: &Server,
    op: &Operator,
    filter: Filter,
    cases: &[(Case, bool)],
) -> Markup {
    let body = html! {
        h1 { "评价整改" }
        (nav(filter.as_str()))
        p class="muted" {
            "不满意、非常不满意的评价自动立案，须在 " (super::WORKING_DAYS)
            " 个工作日内回复、整改、核查并回访办结（节假日不计，调休上班日计入）。"
        }
        @if cases.is_empty() {
            p id="none" { "没有" (filter.label()) "的案件。" }
            @if op.training {
                p class="muted" id="training-none" {
                    "培训登录看不到真实案件：培训中的评价不立案。请退出后用正式登录处理。"
                }
            }
        } @else {
            table id="cases" {
                thead { tr {
                    th { "案件" } th { "大厅" } th { "窗口 · 业务" } th { "评价" }
                    th { "状态" } th { "办结期限" } th { "负责人" }
                } }
                tbody {
                    @for (c, overdue) in cases {
                        tr id={ "case-" (c.id) } class=[overdue.then_some("overdue")] {
                            td { a href={ "/cases/" (c.id) } { "#" (c.id) } }
                            td { (hall_name(server, &c.hall)) }
                            td { (window_label(c.rating.window)) " · " (if c.rating.business.is_empty() { "—" } else { &c.rating.business }) }
                            td { (level_label(c.rating.stars)) }
                            td { (c.stage.label()) }
                            td {
                                (c.deadline.as_deref().unwrap_or("—"))
                                @if *overdue { " " strong class="red" { "已超期" } }
                            }
                            td { (c.assignee.as_deref().map(|a| display_name(server, a)).as_deref().unwrap_or("未分配")) }
                        }
                    }
                }
            }
        }
    };
    let page = Page::new("评价整改 · 门牌", CONSOLE_STYLE).script(LIST_SCRIPT);
    console_page(op, Section::Cases, page, body)
}

/// `/cases/{id}`: the rating, the steps taken and the form of the next one.
pub(super) fn case(
    server: &Server,
    op: &Operator,
    c: &Case,
    overdue: bool,
    token: &FormToken,
    error: Option<&str>,
) -> Markup {
    let r = &c.rating;
    let next = CaseStep::ALL.into_iter().find(|s| s.from() == c.stage);
    let body = html! {
        div id="case" data-id=(c.id) {
            h1 { "评价整改案件 #" (c.id) }
            (nav(""))
            @if let Some(e) = error { (error_line(e)) }
            div class="card" {
                p {
                    "状态：" strong id="stage" { (c.stage.label()) }
                    " · 办结期限：" span id="deadline" class=[overdue.then_some("red")] {
                        (c.deadline.as_deref().unwrap_or("—"))
                        @if overdue { "（已超期）" }
                    }
                    " · 负责人：" (c.assignee.as_deref().map(|a| display_name(server, a)).as_deref().unwrap_or("未分配（请管理员指派大厅负责人）"))
                }
            }
            h2 { "评价" }
            table id="rating" {
                tr { th { "评价等级" } td { (level_label(r.stars)) "（" (r.stars) " 星）" } }
                tr { th { "原因" } td { @if r.reasons.is_empty() { "—" } @else { (r.reasons.join("、")) } } }
                tr { th { "意见" } td { @if r.comment.is_empty() { "—" } @else { (r.comment) } } }
                tr { th { "评价对象" } td { (subject(r)) } }
                tr { th { "大厅" } td { (hall_name(server, &r.hall)) } }
                tr { th { "窗口" } td { (window_label(r.window)) } }
                tr { th { "业务" } td { @if r.business.is_empty() { "—" } @else { (r.business) } } }
                tr { th { "来源" } td { (r.source.label()) } }
                tr { th { "评价时间" } td { (r.rated_at.get(..16).unwrap_or(&r.rated_at)) } }
            }
            h2 { "办理过程" }
            @if c.steps.is_empty() {
                p class="muted" { "尚未处理。" }
            }
            @for s in &c.steps {
                div class="card" id={ "step-" (s.step.as_str()) } {
                    p { strong { (s.step.label()) } " · " (display_name(server, &s.by)) " · " (s.at.get(..16).unwrap_or(&s.at)) }
                    p style="white-space:pre-wrap" { (s.text) }
                }
            }
            @match next {
                Some(step) => {
                    form method="post" action={ "/cases/" (c.id) } class="card" id="step-form" {
                        h2 { (step.label()) }
                        @match step {
                            CaseStep::Reply => p class="muted" { "市民在排队号页面上能看到这段回复，请用平实的话说明。" },
                            CaseStep::Verify => p class="muted" {
                                "须由整改人以外的另一位工作人员核查（整改："
                                (c.step(CaseStep::Rectify).map(|s| display_name(server, &s.by)).as_deref().unwrap_or("—")) "）。"
                            },
                            CaseStep::Close => p class="muted" { "记录回访市民的结果，案件随之办结。" },
                            CaseStep::Rectify => {},
                        }
                        textarea name="text" id="text" rows="4" maxlength=(MAX_STEP_CHARS) required style="width:100%" {}
                        (hidden("step", step.as_str()))
                        (token.field())
                        p { button type="submit" id="submit" { "提交" (step.label()) } }
                    }
                }
                None => p class="ok" id="closed" { "案件已办结。" },
            }
            @if c.stage == CaseStage::Closed { p class="muted" { "办结时间 " (c.steps.last().map(|s| s.at.as_str()).unwrap_or("")) } }
        }
    };
    let title = format!("案件 #{} · 门牌", c.id);
    let page = Page::new(&title, CONSOLE_STYLE).script(CASE_SCRIPT);
    console_page(op, Section::Cases, page, body)
}

/// `/cases/ranking`: the month's windows by satisfaction.
pub(super) fn ranking(server: &Server, op: &Operator, month: &str, ranks: &[WindowRank]) -> Markup {
    let body = html! {
        h1 { "窗口满意度排名 · " (month) }
        (nav("ranking"))
        form method="get" action="/cases/ranking" {
            label { "月份 " input type="month" name="month" value=(month); }
            " " button type="submit" { "查看" }
        }
        p class="muted" { "满意率 =（非常满意 + 满意）÷ 全部评价；只计关联了窗口的评价。" }
        @if ranks.is_empty() {
            p id="none" { "这个月还没有关联窗口的评价。" }
        } @else {
            table id="ranking" {
                thead { tr { th { "名次" } th { "大厅" } th { "窗口" } th { "评价数" } th { "满意" } th { "满意率" } } }
                tbody {
                    @for (i, r) in ranks.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { (hall_name(server, &r.hall)) }
                            td { (r.window) " 号窗口" }
                            td { (r.count) }
                            td { (r.satisfied) }
                            td { (format!("{:.1}%", r.rate * 100.0)) }
                        }
                    }
                }
            }
        }
    };
    console(op, Section::Cases, "窗口满意度排名", body)
}

/// A refusal or a missing case, inside the console.
pub(super) fn message(op: &Operator, title: &str, text: &str) -> Markup {
    console(
        op,
        Section::Cases,
        title,
        html! { h1 { (title) } (error_line(text)) p { a href="/cases" { "‹ 返回案件列表" } } },
    )
}
