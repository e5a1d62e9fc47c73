//! The hall-duty view (`/duty`): the open help calls of the operator's halls, live, with 马上到
//! and 已处理; the panel alone for the pages' script; and the same as a JSON API.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::calls::{self, CallView};
use super::panel::{self, Back};
use crate::Server;
use crate::error::AppError;
use crate::html::{CONSOLE_STYLE, Page, Section, console, console_page, error_line, html};
use crate::operators::{HallWork, PageSession, Session};
use crate::storage::Operator;
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

#[derive(Debug, Deserialize)]
pub struct Which {
    /// One hall only (it must be one of the operator's).
    hall: Option<String>,
    /// The page the panel sits on.
    #[serde(default)]
    back: String,
}

/// The calls `s` may see: of `hall` (403, audited, when not theirs), else of all their halls.
pub fn visible(
    server: &Server,
    s: &Session,
    hall: Option<&str>,
) -> Result<Vec<CallView>, AppError> {
    match hall {
        Some(h) => {
            s.in_hall(server, HallWork::Help, h)?;
            calls::open_views(server, Some(&[h.to_owned()]), s.training())
        }
        None => {
            let halls = s.halls_for(HallWork::Help)?.map(<[String]>::to_vec);
            calls::open_views(server, halls.as_deref(), s.training())
        }
    }
}

/// The duty view: a browser without a session goes to the login page, one whose password an
/// admin set to the password change (the session extractor); other roles and halls get a 403.
pub async fn page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Query(w): Query<Which>,
) -> Response {
    if s.require(HallWork::Help.role()).is_err() {
        let no = AppError::new(
            StatusCode::FORBIDDEN,
            "你的角色不能处理大厅呼叫，请联系管理员。",
        );
        return refusal(&s.0, no);
    }
    let list = match visible(&server, &s, w.hall.as_deref()) {
        Ok(l) => l,
        Err(e) => return refusal(&s.0, e),
    };
    let token = FormToken::of(&headers);
    let halls: Vec<String> = match s.halls_for(HallWork::Help) {
        Ok(None) => vec!["全部大厅".into()],
        Ok(Some(h)) => h
            .iter()
            .map(|id| {
                server
                    .halls
                    .get(id)
                    .map(|h| h.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect(),
        Err(e) => return refusal(&s.0, e),
    };
    let src = match &w.hall {
        Some(h) => format!("/duty/calls?hall={}", encode(h)),
        None => "/duty/calls".to_owned(),
    };
    let body = html! {
        h1 { "大厅值班 · 呼叫工作人员" }
        p class="muted" {
            "值守大厅：" (halls.join("、"))
            " · 新的呼叫会自动出现并响一声提示；超过 "
            (server.config.help_escalate_after_s) " 秒无人应答的呼叫标红并通知值班主任。"
        }
        (panel::live_box(&src, panel::table(&list, &token, Back::Duty)))
    };
    let page = Page::new("大厅值班 · 门牌", CONSOLE_STYLE).script(panel::SCRIPT);
    let mut res = console_page(&s.0, Section::Duty, page, body).into_response();
    token.set_on(&mut res);
    res
}

fn refusal(op: &Operator, e: AppError) -> Response {
    let body = html! { h1 { "大厅值班" } (error_line(&e.message)) };
    (e.status, console(op, Section::Duty, "大厅值班", body)).into_response()
}

fn encode(s: &str) -> String {
    menpai_model::percent_encode(s)
}

/// The panel alone, for the pages' script.
pub async fn fragment(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Query(w): Query<Which>,
) -> Result<Response, AppError> {
    let list = visible(&server, &s, w.hall.as_deref())?;
    let token = FormToken::of(&headers);
    let mut res = (
        [(header::CACHE_CONTROL, "no-store")],
        panel::table(&list, &token, Back::parse(&w.back)),
    )
        .into_response();
    token.set_on(&mut res);
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    csrf: Option<String>,
    #[serde(default)]
    back: String,
}

/// What a button does.
#[derive(Debug, Clone, Copy)]
pub enum Act {
    Acknowledge,
    Resolve,
}

/// Acts on call `id` for `s`: the call's hall must be theirs (403, audited).
fn act(server: &Server, s: &Session, id: &str, what: Act) -> Result<CallView, AppError> {
    let call = calls::find(server, id)?;
    let op = s.on_record(server, HallWork::Help, &call.hall, call.training)?;
    let done = match what {
        Act::Acknowledge => calls::acknowledge(server, id, &op.name, &op.display_name)?,
        Act::Resolve => calls::resolve(server, id, &op.name)?,
    };
    Ok(calls::view(server, &done))
}

async fn act_form(
    server: Arc<Server>,
    s: Session,
    headers: HeaderMap,
    id: String,
    f: ActForm,
    what: Act,
) -> Response {
    if let Err(e) = check_form(&headers, f.csrf.as_ref()) {
        return refusal(&s.0, e);
    }
    let (s2, srv) = (s.clone(), server.clone());
    let r = tokio::task::spawn_blocking(move || act(&srv, &s2, &id, what)).await;
    match r {
        Ok(Ok(_)) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, Back::parse(&f.back).path())],
        )
            .into_response(),
        Ok(Err(e)) => refusal(&s.0, e),
        Err(e) => AppError::internal(e).into_response(),
    }
}

pub async fn acknowledge_form(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    act_form(server, s, headers, id, f, Act::Acknowledge).await
}

pub async fn resolve_form(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActForm>,
) -> Response {
    act_form(server, s, headers, id, f, Act::Resolve).await
}

/// `{"calls": [...]}`: the open calls the operator may see (`?hall=` for one hall).
pub async fn list_json(
    State(server): S,
    s: Session,
    Query(w): Query<Which>,
) -> Result<Json<Value>, AppError> {
    let list = visible(&server, &s, w.hall.as_deref())?;
    Ok(Json(json!({ "calls": list })))
}

async fn act_json(
    server: Arc<Server>,
    s: Session,
    id: String,
    what: Act,
) -> Result<Json<Value>, AppError> {
    let call = tokio::task::spawn_blocking(move || act(&server, &s, &id, what))
        .await
        .map_err(AppError::internal)??;
    Ok(Json(json!({ "call": call })))
}

pub async fn acknowledge_json(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    act_json(server, s, id, Act::Acknowledge).await
}

pub async fn resolve_json(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    act_json(server, s, id, Act::Resolve).await
}

/// The staff page's part: the open calls of `hall` (else of every hall the operator acts in),
/// live like the duty view.
pub fn staff_section(
    server: &Server,
    op: &Operator,
    hall: Option<&str>,
    token: &FormToken,
) -> crate::html::Markup {
    let halls: Option<Vec<String>> = match hall {
        Some(h) => Some(vec![h.to_owned()]),
        None if op.role == crate::storage::Role::Admin => None,
        None => Some(op.halls.clone()),
    };
    let list = calls::open_views(server, halls.as_deref(), op.training).unwrap_or_default();
    let src = match hall {
        Some(h) => format!("/duty/calls?back=/staff&hall={}", encode(h)),
        None => "/duty/calls?back=/staff".to_owned(),
    };
    html! {
        style { (crate::html::PreEscaped(panel::STYLE)) }
        h2 { "呼叫工作人员" }
        (panel::live_box(&src, panel::table(&list, token, Back::Staff)))
        (panel::script_element())
    }
}
