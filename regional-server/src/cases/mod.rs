//! 好差评's closed loop: a poor rating opens a case for the hall's manager with a deadline in
//! working days; reply, rectification, a second person's verification, closed.

mod pages;
mod routes;
pub mod workdays;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::NaiveDate;
use menpai_model::api::RATING_LEVELS;

use crate::Server;
use crate::clock::stamp;
use crate::error::AppError;
use crate::live::Topic;
use crate::storage::Operator;
use crate::storage::cases::{Case, CaseQuery, CaseStage, CaseStep};

/// Working days a hall has to close a case.
pub const WORKING_DAYS: u32 = 15;
/// A step's text (reply, rectification, verification, follow-up), at most.
pub const MAX_STEP_CHARS: usize = 500;
/// Cases a list shows at most.
pub const MAX_LIST: usize = 500;

/// Operators' case pages, rankings and API.
pub fn routes() -> Router<Arc<Server>> {
    routes::routes()
}

/// A level's words: 5 → 非常满意 … 1 → 非常不满意.
pub fn level_label(stars: u8) -> &'static str {
    RATING_LEVELS
        .get(5usize.saturating_sub(stars as usize))
        .copied()
        .unwrap_or("")
}

/// The last working day to close a case opened at `opened_at` (a local stamp).
pub fn deadline_of(server: &Server, opened_at: &str) -> NaiveDate {
    let opened = opened_at
        .get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| server.clock.local_now().date());
    workdays::add_working_days(opened, WORKING_DAYS, |d| server.halls.day_kind(d))
}

/// A case just opened: its deadline fixed from the region's calendar, open pages told.
pub fn opened(server: &Server, hall: &str, case: i64, opened_at: &str) {
    let deadline = deadline_of(server, opened_at).to_string();
    if let Err(e) = server.storage.set_deadline(case, &deadline) {
        tracing::error!(case, error = %e, "A case's deadline could not be set.");
    }
    tracing::info!(%hall, case, %deadline, "A poor rating opened a case.");
    crate::bus::note(server, hall, Topic::Case, case.to_string());
}

/// Cases plates' ratings opened (the event store has no calendar): their deadlines fixed and
/// open pages told. Cheap when there are none.
pub fn settle(server: &Server) {
    match server.storage.undated_cases() {
        Ok(undated) => {
            for (id, hall, opened_at) in undated {
                opened(server, &hall, id, &opened_at);
            }
        }
        Err(e) => tracing::error!(error = %e, "Cases without a deadline could not be read."),
    }
}

/// Whether an open case is past its deadline (the day after its last working day has begun).
pub fn is_overdue(server: &Server, case: &Case) -> bool {
    let today = server.clock.local_now().date();
    case.stage != CaseStage::Closed
        && case
            .deadline
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| today > d)
}

/// Which cases a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    #[default]
    Open,
    Overdue,
    Closed,
    All,
}

impl Filter {
    pub const ALL: [Filter; 4] = [Filter::Open, Filter::Overdue, Filter::Closed, Filter::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Open => "open",
            Filter::Overdue => "overdue",
            Filter::Closed => "closed",
            Filter::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Filter::Open => "未办结",
            Filter::Overdue => "已超期",
            Filter::Closed => "已办结",
            Filter::All => "全部",
        }
    }
}

/// The cases of `halls` (all when `None`) a filter keeps, overdue first, then newest first.
pub fn list(
    server: &Server,
    halls: Option<&[String]>,
    filter: Filter,
) -> Result<Vec<(Case, bool)>, AppError> {
    settle(server);
    let today = server.clock.local_now().date().to_string();
    let query = CaseQuery {
        halls,
        open: match filter {
            Filter::Open | Filter::Overdue => Some(true),
            Filter::Closed => Some(false),
            Filter::All => None,
        },
        overdue_only: filter == Filter::Overdue,
        today: &today,
    };
    Ok(server
        .storage
        .cases(&query, MAX_LIST)
        .map_err(AppError::internal)?
        .into_iter()
        .map(|c| {
            let overdue = is_overdue(server, &c);
            (c, overdue)
        })
        .collect())
}

/// A case, or 404.
pub fn find(server: &Server, id: i64) -> Result<Case, AppError> {
    settle(server);
    server
        .storage
        .case(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个评价整改案件"))
}

/// A step's text as kept: trimmed, without control characters but line breaks; refused when
/// empty or over [`MAX_STEP_CHARS`].
pub fn step_text(step: CaseStep, raw: &str) -> Result<String, AppError> {
    if raw.len() > MAX_STEP_CHARS * 4 || raw.trim().chars().count() > MAX_STEP_CHARS {
        return Err(AppError::bad_request(format!(
            "{}请在 {MAX_STEP_CHARS} 字以内",
            step.label()
        )));
    }
    let text: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if text.is_empty() {
        return Err(AppError::bad_request(format!("请填写{}", step.label())));
    }
    Ok(text)
}

/// `op` takes `step` on case `id` (the caller checked they act in its hall): the step must be
/// the case's next, and a verification must come from someone other than who rectified.
/// Audited, and open pages are told.
pub fn take_step(
    server: &Server,
    op: &Operator,
    case: &Case,
    step: CaseStep,
    text: &str,
) -> Result<(), AppError> {
    let detail = format!("#{}", case.id);
    let action = format!("cases.{}", step.as_str());
    if case.stage != step.from() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!(
                "现在不能填写{}：案件当前为“{}”",
                step.label(),
                case.stage.label()
            ),
        ));
    }
    if step == CaseStep::Verify
        && case
            .step(CaseStep::Rectify)
            .is_some_and(|r| r.by == op.name)
    {
        let _ = server.storage.audit_in_hall(
            &op.name,
            &action,
            &case.hall,
            &detail,
            "refused_same_person",
        );
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "核查须由另一位工作人员完成：整改是你填写的，不能由你核查",
        ));
    }
    let at = stamp(server.clock.local_now());
    let taken = server
        .storage
        .take_step(case.id, step, text, &op.name, &at)
        .map_err(AppError::internal)?;
    if !taken {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "案件刚被他人更新，请刷新后再试",
        ));
    }
    let _ = server
        .storage
        .audit_in_hall(&op.name, &action, &case.hall, &detail, "ok");
    tracing::info!(hall = %case.hall, case = case.id, step = step.as_str(), "A case moved on.");
    crate::bus::note(server, &case.hall, Topic::Case, case.id.to_string());
    Ok(())
}
