//! `/audit`: the audit log for admins, newest first, filtered by operator, action, hall and
//! time (China time on the page, UTC in the log), a page at a time; the same as a CSV file
//! for spreadsheets and as JSON.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions;
use super::csv::{BOM, csv_line};
use crate::Server;
use crate::error::AppError;
use crate::html::{Markup, Section, console, html};
use crate::operators::{PageSession, Session, hall_name};
use crate::storage::AuditEntry;
use crate::storage::operators::AuditFilter;

type S = State<Arc<Server>>;

/// Entries on one page.
const PAGE: usize = 50;
/// Rows in one CSV export at most.
const EXPORT_ROWS: usize = 10_000;
/// A filter value longer than this is not one the log holds.
const MAX_FILTER_CHARS: usize = 64;
/// China time, the halls' and the operators' clock.
const CHINA_HOURS: i64 = 8;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/audit", get(page))
        .route("/audit.csv", get(export))
        .route("/api/v1/admin/audit", get(as_json))
}

/// The filters as the page's form sends them (times as `datetime-local`, China time).
#[derive(Debug, Default, Deserialize)]
struct Params {
    operator: Option<String>,
    action: Option<String>,
    hall: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

impl Params {
    /// The query string that repeats these filters (for the next page and the export).
    fn query(&self, before: Option<i64>) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("operator", &self.operator),
            ("action", &self.action),
            ("hall", &self.hall),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
        .collect();
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// A China-time `2026-11-30T08:00` (or a bare date) as the log's UTC text.
fn utc_text(local: &str, field: &str) -> Result<String, AppError> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(local, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
        })
        .map_err(|_| AppError::bad_request(format!("{field}的格式不对，应为 2026-11-30T08:00")))?;
    Ok((naive - Duration::hours(CHINA_HOURS))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string())
}

/// The log's UTC time in China time, for people.
fn china_time(at: &str) -> String {
    DateTime::parse_from_rfc3339(at)
        .map(|t| {
            (t.with_timezone(&Utc) + Duration::hours(CHINA_HOURS))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_owned())
}

fn filter(p: &Params) -> Result<AuditFilter, AppError> {
    let text = |v: &Option<String>, field: &str| -> Result<Option<String>, AppError> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > MAX_FILTER_CHARS => {
                Err(AppError::bad_request(format!("{field}太长")))
            }
            v => Ok(v.map(str::to_owned)),
        }
    };
    let time = |v: &Option<String>, field: &str| -> Result<Option<String>, AppError> {
        text(v, field)?.map(|v| utc_text(&v, field)).transpose()
    };
    let before = text(&p.before, "页码")?
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| AppError::bad_request("页码不对"))
        })
        .transpose()?;
    Ok(AuditFilter {
        operator: text(&p.operator, "操作员")?,
        action: text(&p.action, "操作")?,
        hall: text(&p.hall, "大厅")?,
        from: time(&p.from, "开始时间")?,
        to: time(&p.to, "结束时间")?,
        before,
    })
}

/// An action's name for people; the code itself when it has none.
fn action_words(action: &str) -> &str {
    match action {
        "login" => "登录",
        "login.locked" => "登录锁定",
        "operator.create" => "添加人员",
        "operator.disable" => "停用人员",
        "operator.enable" => "启用人员",
        "operator.reset_password" => "重置密码",
        "operator.password" => "修改本人密码",
        "operators.view" => "查看人员",
        "audit.read" => "查看日志",
        "queue.access" => "叫号越权",
        "help.access" => "呼叫处理越权",
        "requests.access" => "帮办咨询越权",
        "cases.access" => "评价整改越权",
        "statistics.access" => "统计查看越权",
        "statistics.export" => "导出统计",
        "login.training" => "培训登录",
        "device.training" => "切换终端培训模式",
        "enrollment.create" => "生成终端登记码",
        "device.revoke" => "吊销终端",
        "content.import" => "导入内容",
        "content.publish" => "发布内容",
        "content.republish" => "回滚内容版本",
        "studio.submit" => "提交内容审核",
        "studio.withdraw" => "撤回内容变更",
        "studio.approve" => "审核通过",
        "studio.return" => "审核退回",
        "studio.schedule" => "定时发布",
        "studio.publish" => "发布内容变更",
        "studio.failed" => "内容变更发布失败",
        "studio.view" => "审核发布越权",
        other => other,
    }
}

fn outcome_words(outcome: &str) -> &str {
    match outcome {
        "ok" => "成功",
        "forbidden" => "无权限，已拒绝",
        "refused" => "已拒绝",
        "not found" => "不存在",
        "exists" => "已存在",
        "locked" => "已锁定",
        "failed" => "失败",
        other => other,
    }
}

fn search(server: &Server, f: &AuditFilter, limit: usize) -> Result<Vec<AuditEntry>, AppError> {
    server
        .storage
        .audit_search(f, limit)
        .map_err(AppError::internal)
}

fn render(
    server: &Server,
    p: &Params,
    error: Option<&str>,
    rows: &[AuditEntry],
    more: bool,
) -> Markup {
    let halls = server.halls.all();
    let actions = server.storage.audit_actions().unwrap_or_default();
    let operators = server.storage.operators().unwrap_or_default();
    let val = |v: &Option<String>| v.clone().unwrap_or_default();
    html! {
        h1 { "操作日志" }
        form method="get" action="/audit" class="card filters" id="filters" {
            label { "操作员"
                input name="operator" id="f-operator" list="operators" value=(val(&p.operator)) autocomplete="off";
                datalist id="operators" { @for o in &operators { option value=(o.name) { (o.display_name) } } }
            }
            label { "操作"
                select name="action" id="f-action" {
                    option value="" { "全部" }
                    @for a in &actions {
                        option value=(a) selected[p.action.as_deref() == Some(a.as_str())] { (action_words(a)) }
                    }
                }
            }
            label { "大厅"
                select name="hall" id="f-hall" {
                    option value="" { "全部" }
                    @for h in &halls {
                        option value=(h.id) selected[p.hall.as_deref() == Some(h.id.as_str())] { (h.name) }
                    }
                }
            }
            label { "从" input type="datetime-local" name="from" id="f-from" value=(val(&p.from)); }
            label { "到" input type="datetime-local" name="to" id="f-to" value=(val(&p.to)); }
            div class="buttons" {
                button type="submit" id="filter" { "筛选" }
                a class="button secondary" id="export" href={ "/audit.csv?" (p.query(None)) } { "导出 CSV" }
            }
        }
        @if let Some(e) = error { p class="err" id="error" { (e) } }
        p class="muted" { "时间为北京时间；每页 " (PAGE) " 条，最新的在前；导出最多 " (EXPORT_ROWS) " 条。" }
        @if rows.is_empty() && error.is_none() { p id="empty" { "没有符合条件的记录。" } }
        @else {
            table id="audit" {
                thead { tr { th { "时间" } th { "操作员" } th { "操作" } th { "大厅" } th { "对象" } th { "结果" } } }
                tbody {
                    @for e in rows {
                        tr class={ "entry " (if e.outcome == "ok" { "" } else { "refused" }) } data-action=(e.action) data-hall=(e.hall) {
                            td data-label="时间" { (china_time(&e.at)) }
                            td data-label="操作员" { (e.operator) }
                            td data-label="操作" { (action_words(&e.action)) " " span class="muted" { (e.action) } }
                            td data-label="大厅" { @if !e.hall.is_empty() { (hall_name(server, &e.hall)) } }
                            td data-label="对象" {
                                // A refusal in a hall names the hall: shown once, in Chinese.
                                @if e.detail != e.hall { (e.detail) }
                            }
                            td data-label="结果" { (outcome_words(&e.outcome)) }
                        }
                    }
                }
            }
        }
        p class="pager" {
            @if p.before.is_some() { a href={ "/audit?" (p.query(None)) } { "← 最新" } " " }
            @if more { @if let Some(last) = rows.last() {
                a id="older" href={ "/audit?" (p.query(Some(last.id))) } { "更早的记录 →" }
            } }
        }
    }
}

async fn page(State(server): S, PageSession(s): PageSession, Query(p): Query<Params>) -> Response {
    let me = match actions::admin(&server, &s, "audit.read") {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    let (status, error, rows, more) = match filter(&p).and_then(|f| search(&server, &f, PAGE + 1)) {
        Ok(mut rows) => {
            let more = rows.len() > PAGE;
            rows.truncate(PAGE);
            (axum::http::StatusCode::OK, None, rows, more)
        }
        Err(e) => (e.status, Some(e.message), Vec::new(), false),
    };
    let body = render(&server, &p, error.as_deref(), &rows, more);
    (
        status,
        axum::response::Html(console(me, Section::Audit, "操作日志", body).into_string()),
    )
        .into_response()
}

/// The filtered log as CSV: UTF-8 with a BOM, Chinese headers, formulas neutralised.
async fn export(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    let me = actions::admin(&server, &s, "audit.export")?.name.clone();
    let f = filter(&p)?;
    let rows = search(&server, &f, EXPORT_ROWS)?;
    let mut out = String::from(BOM);
    out.push_str(&csv_line(&[
        "时间（北京时间）",
        "操作员",
        "操作",
        "操作代码",
        "大厅",
        "对象",
        "结果",
    ]));
    for e in &rows {
        let hall = if e.hall.is_empty() {
            String::new()
        } else {
            hall_name(&server, &e.hall)
        };
        out.push_str(&csv_line(&[
            china_time(&e.at).as_str(),
            &e.operator,
            action_words(&e.action),
            &e.action,
            &hall,
            &e.detail,
            outcome_words(&e.outcome),
        ]));
    }
    let _ = server
        .storage
        .audit(&me, "audit.export", &format!("{} rows", rows.len()), "ok");
    let name = format!(
        "audit-{}.csv",
        server.clock.local_now().format("%Y%m%d-%H%M")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        out,
    )
        .into_response())
}

/// The filtered log as JSON (`?before=` pages on, as on the page).
async fn as_json(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Json<Value>, AppError> {
    actions::admin(&server, &s, "audit.read")?;
    let f = filter(&p)?;
    let e: Vec<Value> = search(&server, &f, 200)?
        .into_iter()
        .map(|a| json!({ "id": a.id, "at": a.at, "operator": a.operator, "action": a.action, "hall": a.hall, "detail": a.detail, "outcome": a.outcome }))
        .collect();
    Ok(Json(json!({ "audit": e })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_time_round_trips_through_the_logs_utc() {
        assert_eq!(
            utc_text("2026-11-30T08:00", "从").unwrap(),
            "2026-11-30T00:00:00Z"
        );
        assert_eq!(
            utc_text("2026-11-30", "从").unwrap(),
            "2026-11-29T16:00:00Z"
        );
        assert!(utc_text("yesterday", "从").is_err());
        assert_eq!(china_time("2026-11-30T00:00:00Z"), "2026-11-30 08:00:00");
    }
}
