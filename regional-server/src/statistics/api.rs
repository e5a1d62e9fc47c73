//! The statistics routes: the report page and its JSON twin, the hops behind a count (page and
//! JSON), the appointments, ratings and help calls behind one (page, [`super::records`]), and
//! the CSV and XLSX exports (audited). Every one reads only the halls the operator
//! may ([`super::scope`]).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::export::About;
use super::pages;
use super::query::{self, Filters, MAX_LISTED, Params, Report, row_key};
use super::report::Figure;
use crate::Server;
use crate::error::AppError;
use crate::operators::{PageSession, Session, hall_name};
use crate::storage::statistics::{HopFact, TicketEvent};

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/statistics", get(report_page))
        .route("/statistics/tickets", get(behind_page))
        .route("/statistics/records", get(records_page))
        .route("/statistics.csv", get(export_csv))
        .route("/statistics.xlsx", get(export_xlsx))
        .route("/api/v1/statistics", get(report_json))
        .route("/api/v1/statistics/tickets", get(behind_json))
}

/// Runs storage work off the runtime, a few reports at once.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    super::heavy(f).await
}

/// The filters and report of a request, read off the runtime.
async fn read(server: &Arc<Server>, s: Session, p: Params) -> Result<(Filters, Report), AppError> {
    let server = server.clone();
    blocking(move || {
        let f = Filters::parse(&server, &s, &p)?;
        let r = query::report(&server, &f)?;
        Ok((f, r))
    })
    .await
}

/// A page's answer to a refusal or a bad filter: the message in the console.
fn refused(s: &Session, e: AppError) -> Response {
    let title = match e.status {
        StatusCode::FORBIDDEN => "无权查看",
        StatusCode::BAD_REQUEST => "筛选条件有误",
        _ => "无法打开",
    };
    (e.status, pages::message(&s.0, title, &e.message)).into_response()
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("a header value"),
    );
    res
}

async fn report_page(
    State(server): S,
    PageSession(s): PageSession,
    Query(p): Query<Params>,
) -> Response {
    match read(&server, s.clone(), p).await {
        Ok((f, r)) => {
            let usage = super::usage::section(&r.usage);
            no_store(pages::report(&server, &s.0, &f, &r, Some(usage)).into_response())
        }
        Err(e) => refused(&s, e),
    }
}

async fn report_json(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    let (_, r) = read(&server, s, p).await?;
    Ok(no_store(Json(r).into_response()))
}

/// The hops behind a count: every one, the first [`MAX_LISTED`] with their waits and events.
struct BehindRows {
    filters: Filters,
    key: Option<String>,
    figure: Figure,
    all: usize,
    shown: Vec<HopFact>,
    waits: Vec<Option<u64>>,
    events: Vec<TicketEvent>,
}

fn behind(server: &Server, s: &Session, p: &Params) -> Result<BehindRows, AppError> {
    let f = Filters::parse(server, s, p)?;
    let figure = match p.figure.as_deref().filter(|x| !x.is_empty()) {
        None => Figure::Arrived,
        Some(x) => Figure::parse(x).ok_or_else(|| {
            AppError::bad_request(
                "figure 只能是 tickets、arrived、served、no_shows、transferred、waited、over_level 或 service_0…service_10",
            )
        })?,
    };
    let key = row_key(p)?;
    let mut hops: Vec<HopFact> = query::hops(server, &f)?
        .into_iter()
        .filter(|h| {
            key.as_ref()
                .is_none_or(|k| &super::report::key_of(h, f.by) == k)
        })
        .filter(|h| figure.holds(h, super::level_s(server, h)))
        .collect();
    hops.sort_by(|a, b| {
        (a.waiting_since.as_deref(), a.ticket).cmp(&(b.waiting_since.as_deref(), b.ticket))
    });
    let all = hops.len();
    hops.truncate(MAX_LISTED);
    let ids: Vec<i64> = hops.iter().map(|h| h.ticket).collect();
    let events = server
        .storage
        .ticket_events(&ids)
        .map_err(AppError::internal)?;
    let waits = hops.iter().map(wait_s).collect();
    Ok(BehindRows {
        filters: f,
        key,
        figure,
        all,
        shown: hops,
        waits,
        events,
    })
}

/// A hop's wait in seconds, from the start of waiting to the first call.
fn wait_s(h: &HopFact) -> Option<u64> {
    let since = super::report::parse_stamp(h.waiting_since.as_deref()?)?;
    let called = super::report::parse_stamp(h.first_called.as_deref()?)?;
    Some((called - since).num_seconds().max(0) as u64)
}

async fn behind_page(
    State(server): S,
    PageSession(s): PageSession,
    Query(p): Query<Params>,
) -> Response {
    let (s2, op) = (server.clone(), s.clone());
    match blocking(move || behind(&s2, &op, &p)).await {
        Ok(b) => {
            // A key with nothing behind it in the operator's halls is named as typed: no
            // lookup answers for other halls' people.
            let key_label = b
                .key
                .as_deref()
                .map(|k| match b.all {
                    0 => k.to_owned(),
                    _ => query::key_label(&server, b.filters.by, k, b.filters.many_halls()),
                })
                .unwrap_or_default();
            let shown = pages::Behind {
                filters: &b.filters,
                key: b.key.as_deref(),
                key_label,
                figure: b.figure,
                all: b.all,
                shown: &b.shown,
                events: &b.events,
                waits: &b.waits,
            };
            no_store(pages::behind(&server, &s.0, &shown).into_response())
        }
        Err(e) => refused(&s, e),
    }
}

async fn records_page(
    State(server): S,
    PageSession(s): PageSession,
    Query(p): Query<Params>,
) -> Response {
    let (s2, op) = (server.clone(), s.clone());
    match blocking(move || super::records::behind(&s2, &op, &p)).await {
        Ok(r) => {
            // As behind a queue count: a key with nothing behind it is named as typed.
            let key_label = r
                .key
                .as_deref()
                .map(|k| match r.all {
                    0 => k.to_owned(),
                    _ => query::key_label(&server, r.filters.by, k, r.filters.many_halls()),
                })
                .unwrap_or_default();
            no_store(pages::records(&server, &s.0, &r, &key_label).into_response())
        }
        Err(e) => refused(&s, e),
    }
}

async fn behind_json(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    let s2 = server.clone();
    let b = blocking(move || behind(&s2, &s, &p)).await?;
    // People by the names pages show, never their logins.
    let name = |login: &str| crate::operators::display_name(&server, login);
    let tickets: Vec<Value> = b
        .shown
        .iter()
        .zip(&b.waits)
        .map(|(h, wait)| {
            let events: Vec<Value> = b
                .events
                .iter()
                .filter(|e| e.ticket == h.ticket)
                .map(|e| {
                    json!({ "at": e.at, "state": e.state, "window": e.window,
                            "actor": name(&e.actor) })
                })
                .collect();
            json!({
                "id": h.ticket, "hall": h.hall, "day": h.day, "number": h.number, "hop": h.hop,
                "business": h.business, "channel": h.channel, "window": h.window,
                "staff": h.staff.as_deref().map(name),
                "waiting_since": h.waiting_since, "first_called": h.first_called,
                "ended_at": h.ended_at, "state": h.state, "wait_s": wait, "events": events,
            })
        })
        .collect();
    Ok(no_store(
        Json(json!({
            "figure": b.figure.as_str(),
            "by": b.filters.by.as_str(),
            "key": b.key,
            "total": b.all,
            "listed": tickets.len(),
            "tickets": tickets,
        }))
        .into_response(),
    ))
}

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csv,
    Xlsx,
}

/// What an export says it covers, in Chinese.
fn about(server: &Server, f: &Filters) -> About {
    let halls = match (&f.hall, &f.halls) {
        (Some(h), _) => hall_name(server, h),
        (None, None) => "全部大厅".into(),
        (None, Some(hs)) => hs
            .iter()
            .map(|h| hall_name(server, h))
            .collect::<Vec<_>>()
            .join("、"),
    };
    vec![
        ("大厅", halls),
        ("开始日期", f.from_day()),
        ("结束日期", f.to_day()),
        ("分组", format!("按{}", f.by.label())),
        ("业务", f.business.clone().unwrap_or_else(|| "全部".into())),
        (
            "窗口",
            f.window
                .map(|w| format!("{w} 号窗口"))
                .unwrap_or_else(|| "全部".into()),
        ),
        (
            "导出时间",
            server
                .clock
                .local_now()
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        ),
    ]
}

async fn export(
    server: Arc<Server>,
    s: Session,
    p: Params,
    kind: Kind,
) -> Result<Response, AppError> {
    let (f, r) = read(&server, s.clone(), p).await?;
    let about = about(&server, &f);
    let mut tables = query::tables(&r);
    tables.extend(query::usage_tables(&r.usage));
    let (bytes, ext, mime) = match kind {
        Kind::Csv => (
            super::export::csv(&about, &tables).map_err(AppError::internal)?,
            "csv",
            "text/csv; charset=utf-8",
        ),
        Kind::Xlsx => (
            super::export::xlsx(&about, &tables).map_err(AppError::internal)?,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    };
    let hall = f.hall.clone().unwrap_or_default();
    let detail = format!(
        "{ext} {}..{} by {}{}",
        f.from_day(),
        f.to_day(),
        f.by.as_str(),
        if hall.is_empty() {
            " all halls".to_owned()
        } else {
            format!(" {hall}")
        }
    );
    let _ = server
        .storage
        .audit_in_hall(&s.0.name, "statistics.export", &hall, &detail, "ok");
    let (hall_part, hall_ascii) = match &f.hall {
        Some(h) => (hall_name(&server, h), super::export::ascii_name(h)),
        None => ("全部大厅".to_owned(), "all".to_owned()),
    };
    let name = format!(
        "统计分析-{hall_part}-{}至{}.{ext}",
        f.from_day(),
        f.to_day()
    );
    let ascii = format!(
        "statistics-{hall_ascii}-{}-{}.{ext}",
        f.from_day(),
        f.to_day()
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                super::export::disposition(&ascii, &name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

async fn export_csv(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    export(server, s, p, Kind::Csv).await
}

async fn export_xlsx(
    State(server): S,
    s: Session,
    Query(p): Query<Params>,
) -> Result<Response, AppError> {
    export(server, s, p, Kind::Xlsx).await
}
