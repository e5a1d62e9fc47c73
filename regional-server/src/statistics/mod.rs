//! Hall statistics (统计分析): queue figures computed from ticket events, terminals' anonymous
//! usage beside them, charts, CSV and XLSX exports, and the live hall monitor.
//!
//! `report.rs` computes the figures; the other files serve them.

pub mod api;
pub mod charts;
pub mod export;
pub mod monitor;
pub mod pages;
pub mod query;
pub mod records;
pub mod report;
pub mod usage;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;

use crate::Server;
use crate::error::AppError;
use crate::operators::{Role, Session};
use crate::storage::statistics::HopFact;

/// Reports that run at once: each reads up to a year of a region's hops. Others wait their
/// turn a while, then are refused, so a loop of exports never starves the queue and the kiosks.
static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
const WAIT_FOR_TURN: std::time::Duration = std::time::Duration::from_secs(15);

/// Runs a report's storage work off the runtime, at most [`RUNNING`] at once.
pub async fn heavy<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let _turn = tokio::time::timeout(WAIT_FOR_TURN, RUNNING.acquire())
        .await
        .map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "统计正忙，请稍后再试"))?
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
}

/// A day a report may ask for: `YYYY-MM-DD` in the years 2000 to 2100 (chrono reads years far
/// beyond, where adding a day overflows).
pub fn parse_day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
}

/// The statistics pages and API.
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .merge(charts::routes())
        .merge(monitor::routes())
        .merge(api::routes())
}

/// The halls `s` may read statistics of (`None`: every hall); with `hall`, that one alone when
/// theirs (403, audited, when not; 404 for a hall the region does not have).
pub fn scope(
    server: &Server,
    s: &Session,
    hall: Option<&str>,
) -> Result<Option<Vec<String>>, AppError> {
    let op = s.require(Role::Viewer)?;
    let readable = op.reads_halls();
    let Some(hall) = hall.filter(|h| !h.is_empty()) else {
        return Ok(readable.map(<[String]>::to_vec));
    };
    if server.halls.get(hall).is_none() {
        return Err(AppError::new(StatusCode::NOT_FOUND, "没有这个大厅"));
    }
    if readable.is_some_and(|hs| !hs.iter().any(|h| h == hall)) {
        let _ =
            server
                .storage
                .audit_in_hall(&op.name, "statistics.access", hall, hall, "forbidden");
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "你没有这个大厅的统计查看权限",
        ));
    }
    Ok(Some(vec![hall.to_owned()]))
}

/// A hop's service level in seconds: its business type's, else the default.
pub fn level_s(server: &Server, f: &HopFact) -> u64 {
    let minutes = server
        .halls
        .get(&f.hall)
        .and_then(|h| h.business(&f.queue).and_then(|b| b.service_level_min))
        .unwrap_or(report::DEFAULT_SERVICE_LEVEL_MIN);
    u64::from(minutes) * 60
}
