//! The cases' routes: pages for the browser (forms with the anti-forgery token) and the same as
//! JSON. A hall manager sees and acts on their halls' cases only (403, audited); admins on all.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Filter, pages};
use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::operators::{HallWork, PageSession, Session};
use crate::storage::cases::{Case, CaseStep};
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/cases", get(list_page))
        .route("/cases/ranking", get(ranking_page))
        .route("/cases/{id}", get(case_page).post(step_form))
        .route("/api/v1/cases", get(list_json))
        .route("/api/v1/cases/ranking", get(ranking_json))
        .route("/api/v1/cases/{id}", get(case_json))
        .route("/api/v1/cases/{id}/steps", post(step_json))
}

/// Runs storage work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)?
}

/// A page's answer to a refusal: the message in the console (a browser without a session, or
/// with an admin-set password, was sent on by [`PageSession`]).
fn refused(s: &Session, e: AppError) -> Response {
    let title = if e.status == StatusCode::FORBIDDEN {
        "无权查看"
    } else {
        "无法打开"
    };
    (e.status, pages::message(&s.0, title, &e.message)).into_response()
}

/// A page's operator when their role works on cases; else the 403 page, in Chinese.
fn page_operator(s: &Session) -> Result<(), AppError> {
    s.require(HallWork::Cases.role()).map(|_| ()).map_err(|_| {
        AppError::new(
            StatusCode::FORBIDDEN,
            "评价整改只对大厅负责人和管理员开放，请联系管理员。",
        )
    })
}

fn case_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个评价整改案件"))
}

/// The case `raw` names, when `s` may act in its hall (a refusal is audited).
fn case_for(server: &Server, s: &Session, raw: &str) -> Result<(Case, bool), AppError> {
    s.halls_for(HallWork::Cases)?;
    let case = super::find(server, case_id(raw)?)?;
    // Cases come from real ratings only: a training login touches none.
    s.on_record(server, HallWork::Cases, &case.hall, false)?;
    let overdue = super::is_overdue(server, &case);
    Ok((case, overdue))
}

/// The case `raw` names when `s` may see it, checked without a second audit line.
fn visible_case(server: &Server, s: &Session, raw: &str) -> Option<(Case, bool)> {
    let case = super::find(server, case_id(raw).ok()?).ok()?;
    let may = s.0.role.allows(HallWork::Cases.role()) && s.0.acts_in(&case.hall) && !s.training();
    may.then(|| {
        let overdue = super::is_overdue(server, &case);
        (case, overdue)
    })
}

/// The halls whose cases `s` lists (`None`: all): none for a training login, as cases come
/// from real ratings only.
fn case_halls(s: &Session) -> Result<Option<Vec<String>>, AppError> {
    let halls = s.halls_for(HallWork::Cases)?.map(<[String]>::to_vec);
    Ok(if s.training() {
        Some(Vec::new())
    } else {
        halls
    })
}

#[derive(Debug, Deserialize)]
struct Show {
    #[serde(default)]
    show: Option<String>,
}

fn filter(q: &Show) -> Result<Filter, AppError> {
    match q.show.as_deref() {
        None | Some("") => Ok(Filter::default()),
        Some(f) => Filter::ALL
            .into_iter()
            .find(|x| x.as_str() == f)
            .ok_or_else(|| AppError::bad_request("show 只能是 open、overdue、closed 或 all")),
    }
}

async fn list_page(
    State(server): S,
    PageSession(s): PageSession,
    Query(q): Query<Show>,
) -> Response {
    let shown = async {
        let op = &s;
        page_operator(op)?;
        let f = filter(&q)?;
        let halls = case_halls(op)?;
        let s2 = server.clone();
        let cases = blocking(move || super::list(&s2, halls.as_deref(), f)).await?;
        Ok::<_, AppError>(pages::list(&server, &op.0, f, &cases))
    }
    .await;
    match shown {
        Ok(page) => page.into_response(),
        Err(e) => refused(&s, e),
    }
}

async fn case_page(
    State(server): S,
    PageSession(s): PageSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = page_operator(&s) {
        return refused(&s, e);
    }
    let op = s.clone();
    let (s2, op2) = (server.clone(), op.clone());
    match blocking(move || case_for(&s2, &op2, &id)).await {
        Ok((case, overdue)) => case_with(&server, &op, &case, overdue, &headers, None),
        Err(e) => refused(&s, e),
    }
}

/// A case's page (with why a step was refused), setting the form cookie when it is new.
fn case_with(
    server: &Server,
    s: &Session,
    case: &Case,
    overdue: bool,
    headers: &HeaderMap,
    error: Option<&AppError>,
) -> Response {
    let token = FormToken::of(headers);
    let page = pages::case(
        server,
        &s.0,
        case,
        overdue,
        &token,
        error.map(|e| e.message.as_str()),
    );
    let status = error.map(|e| e.status).unwrap_or(StatusCode::OK);
    let mut res = (status, page).into_response();
    token.set_on(&mut res);
    res
}

/// A step posted from a case's page.
#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    step: String,
    #[serde(default)]
    text: String,
}

async fn step_form(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<StepForm>, FormRejection>,
) -> Response {
    let id2 = id.clone();
    let posted = async {
        let Form(f) =
            form.map_err(|_| AppError::bad_request("表单内容有误，请刷新页面后重新提交"))?;
        check_form(&headers, f.csrf.as_ref())?;
        let (s2, op, id) = (server.clone(), s.clone(), id.clone());
        blocking(move || step(&s2, &op, &id, &f.step, &f.text)).await
    }
    .await;
    match posted {
        Ok(case) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/cases/{}", case.id))],
        )
            .into_response(),
        // A refused step shows the case again with why, when the operator may see it.
        Err(e) => {
            let (s2, op) = (server.clone(), s.clone());
            match blocking(move || Ok(visible_case(&s2, &op, &id2))).await {
                Ok(Some((case, overdue))) => {
                    case_with(&server, &s, &case, overdue, &headers, Some(&e))
                }
                _ => refused(&s, e),
            }
        }
    }
}

/// Takes a step after checking who may, what it is and its text.
fn step(
    server: &Server,
    s: &Session,
    raw_id: &str,
    step: &str,
    text: &str,
) -> Result<Case, AppError> {
    let (case, _) = case_for(server, s, raw_id)?;
    let step = CaseStep::parse(step)
        .ok_or_else(|| AppError::bad_request("step 只能是 reply、rectify、verify 或 close"))?;
    let text = super::step_text(step, text)?;
    super::take_step(server, &s.0, &case, step, &text)?;
    super::find(server, case.id)
}

/// A case as the API gives it.
#[derive(Debug, Serialize)]
struct CaseJson<'a> {
    #[serde(flatten)]
    case: &'a Case,
    overdue: bool,
    level: &'static str,
}

fn case_json_of(server: &Server, case: &Case) -> Value {
    json!(CaseJson {
        case,
        overdue: super::is_overdue(server, case),
        level: super::level_label(case.rating.stars),
    })
}

async fn list_json(
    State(server): S,
    s: Session,
    Query(q): Query<Show>,
) -> Result<Json<Value>, AppError> {
    let f = filter(&q)?;
    let halls = case_halls(&s)?;
    let s2 = server.clone();
    let cases = blocking(move || super::list(&s2, halls.as_deref(), f)).await?;
    let cases: Vec<Value> = cases
        .iter()
        .map(|(c, _)| case_json_of(&server, c))
        .collect();
    Ok(Json(json!({ "show": f.as_str(), "cases": cases })))
}

async fn case_json(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let s2 = server.clone();
    let (case, _) = blocking(move || case_for(&s2, &s, &id)).await?;
    Ok(Json(case_json_of(&server, &case)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    step: String,
    text: String,
}

async fn step_json(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StepBody>,
) -> Result<Json<Value>, AppError> {
    let s2 = server.clone();
    let case = blocking(move || step(&s2, &s, &id, &b.step, &b.text)).await?;
    Ok(Json(case_json_of(&server, &case)))
}

#[derive(Debug, Deserialize)]
struct Month {
    #[serde(default)]
    month: Option<String>,
}

/// The month asked for (`YYYY-MM`), this month by default.
fn month(server: &Server, q: &Month) -> Result<String, AppError> {
    match q.month.as_deref().filter(|m| !m.is_empty()) {
        None => Ok(server.clock.local_now().format("%Y-%m").to_string()),
        Some(m)
            if m.len() == 7
                && NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok() =>
        {
            Ok(m.to_owned())
        }
        Some(_) => Err(AppError::bad_request("month 应为 YYYY-MM，例如 2026-11")),
    }
}

async fn ranking_page(
    State(server): S,
    PageSession(s): PageSession,
    Query(q): Query<Month>,
) -> Response {
    let shown = async {
        let op = &s;
        page_operator(op)?;
        let m = month(&server, &q)?;
        let halls = op.halls_for(HallWork::Cases)?.map(<[String]>::to_vec);
        let (s2, m2) = (server.clone(), m.clone());
        let ranks = blocking(move || {
            s2.storage
                .ranking(&m2, halls.as_deref())
                .map_err(AppError::internal)
        })
        .await?;
        Ok::<_, AppError>(pages::ranking(&server, &op.0, &m, &ranks))
    }
    .await;
    match shown {
        Ok(page) => page.into_response(),
        Err(e) => refused(&s, e),
    }
}

async fn ranking_json(
    State(server): S,
    s: Session,
    Query(q): Query<Month>,
) -> Result<Json<Value>, AppError> {
    let m = month(&server, &q)?;
    let halls = s.halls_for(HallWork::Cases)?.map(<[String]>::to_vec);
    let (s2, m2) = (server.clone(), m.clone());
    let ranks = blocking(move || {
        s2.storage
            .ranking(&m2, halls.as_deref())
            .map_err(AppError::internal)
    })
    .await?;
    Ok(Json(json!({ "month": m, "windows": ranks })))
}
