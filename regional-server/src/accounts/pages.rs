//! `/operators`: the admin's page of accounts: the list (name, role, halls by their Chinese
//! names, state), a form to add one, and per account disable, re-enable and reset the password.
//! Every form carries the anti-forgery token; every post answers by redirecting back with
//! what was done, or the page again with why not.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::actions::{self, MAX_HALLS, MIN_PASSWORD_CHARS, NewAccount};
use super::fields::Fields;
use crate::Server;
use crate::error::AppError;
use crate::html::{Markup, Section, console, error_line, html};
use crate::operators::{PageSession, Role, Session, hall_name};
use crate::storage::Operator;
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/operators", get(page).post(add))
        .route("/operators/disable", post(disable))
        .route("/operators/enable", post(enable))
        .route("/operators/reset", post(reset))
}

const ROLES: [Role; 6] = [
    Role::QueueStaff,
    Role::HallManager,
    Role::Viewer,
    Role::ContentEditor,
    Role::Reviewer,
    Role::Admin,
];

/// What the last post did, named by the redirect back (never free text from the URL).
#[derive(Deserialize)]
struct Done {
    done: Option<String>,
    name: Option<String>,
}

fn done_words(d: &Done) -> Option<String> {
    let name = d.name.as_deref().unwrap_or("");
    let what = match d.done.as_deref()? {
        "added" => "已添加，首次登录时须修改密码",
        "disabled" => "已停用，登录已失效",
        "enabled" => "已启用",
        "reset" => "密码已重置，下次登录时须修改密码",
        _ => return None,
    };
    Some(format!("{name} {what}"))
}

fn state_words(op: &Operator) -> (&'static str, &'static str) {
    match (op.disabled, op.must_change_password) {
        (true, _) => ("disabled", "已停用"),
        (false, true) => ("must-change", "在用 · 待改密码"),
        (false, false) => ("active", "在用"),
    }
}

/// The page: the add form (kept as typed after a refusal, the password excepted), then the list.
fn render(
    server: &Server,
    me: &Operator,
    token: &FormToken,
    message: Option<&str>,
    error: Option<&str>,
    typed: &NewAccount,
) -> Result<Markup, AppError> {
    let ops = server.storage.operators().map_err(AppError::internal)?;
    let halls = server.halls.all();
    let body = html! {
        h1 { "人员管理" }
        @if let Some(m) = message { p class="card ok" id="done" { (m) } }
        @if let Some(e) = error { (error_line(e)) }
        details class="card" open[error.is_some() || ops.len() <= 1] {
            summary id="add-open" { b { "添加人员" } }
            form method="post" action="/operators" class="stack" id="add-form" {
                (token.field())
                label { "登录名（字母、数字）" input name="name" id="new-name" value=(typed.name) required autocomplete="off"; }
                label { "姓名" input name="display_name" id="new-display" value=(typed.display_name) required autocomplete="off"; }
                label { "角色"
                    select name="role" id="new-role" {
                        @for r in ROLES {
                            option value=(r.as_str()) selected[typed.role == r.as_str()] { (r.label()) }
                        }
                    }
                }
                label { "所在大厅（窗口人员、大厅负责人必选；只读人员选了就只看这些大厅；可多选）"
                    select name="halls" id="new-halls" multiple size=(halls.len().clamp(2, 6)) {
                        @for h in &halls {
                            option value=(h.id) selected[typed.halls.contains(&h.id)] { (h.name) }
                        }
                    }
                }
                label {
                    "初始密码（" (MIN_PASSWORD_CHARS) " 个字符以上，首次登录须修改）"
                    input type="password" name="password" id="new-password" autocomplete="new-password" required
                        minlength=(MIN_PASSWORD_CHARS);
                }
                button id="add" type="submit" { "添加" }
            }
        }
        h2 { "全部人员（" (ops.len()) "）" }
        table id="operators" {
            thead { tr { th { "登录名" } th { "姓名" } th { "角色" } th { "大厅" } th { "状态" } th { "操作" } } }
            tbody {
                @for op in &ops {
                    @let (state, words) = state_words(op);
                    tr class="operator" data-name=(op.name) data-state=(state) {
                        td data-label="登录名" { (op.name) }
                        td data-label="姓名" { (op.display_name) }
                        td data-label="角色" { (op.role.label()) }
                        td data-label="大厅" {
                            @if op.role == Role::Admin { "全部大厅" }
                            @else if !op.role.takes_halls() || op.halls.is_empty() { span class="muted" { "—" } }
                            @else {
                                (op.halls.iter().map(|h| hall_name(server, h)).collect::<Vec<_>>().join("、"))
                            }
                        }
                        td class={ "state " (state) } data-label="状态" { (words) }
                        td class="actions" {
                            @if op.id != me.id {
                                @if op.disabled {
                                    form method="post" action="/operators/enable" {
                                        (token.field())
                                        input type="hidden" name="name" value=(op.name);
                                        button class="enable" { "启用" }
                                    }
                                } @else {
                                    form method="post" action="/operators/disable" {
                                        (token.field())
                                        input type="hidden" name="name" value=(op.name);
                                        button class="disable danger" { "停用" }
                                    }
                                }
                                form method="post" action="/operators/reset" class="reset" {
                                    (token.field())
                                    input type="hidden" name="name" value=(op.name);
                                    input type="password" name="password" placeholder="新的临时密码"
                                        autocomplete="new-password" required minlength=(MIN_PASSWORD_CHARS);
                                    button class="reset secondary" { "重置密码" }
                                }
                            } @else {
                                span class="muted" { "（本人）" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(console(me, Section::Operators, "人员管理", body))
}

fn respond(status: StatusCode, token: &FormToken, page: Result<Markup, AppError>) -> Response {
    match page {
        Ok(m) => {
            let mut r = (status, Html(m.into_string())).into_response();
            token.set_on(&mut r);
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Query(d): Query<Done>,
) -> Response {
    let me = match actions::admin(&server, &s, "operators.view") {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    let token = FormToken::of(&headers);
    let message = done_words(&d);
    let page = render(
        &server,
        me,
        &token,
        message.as_deref(),
        None,
        &NewAccount::default(),
    );
    respond(StatusCode::OK, &token, page)
}

/// After a post: back to the page, saying what was done.
fn done(what: &str, name: &str) -> Response {
    let q = serde_urlencoded::to_string([("done", what), ("name", name)]).unwrap_or_default();
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/operators?{q}"))],
    )
        .into_response()
}

async fn add(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let token = FormToken::of(&headers);
    let mut typed = NewAccount {
        name: f.one("name"),
        display_name: f.one("display_name"),
        role: f.one("role"),
        halls: Vec::new(),
        password: f.raw("password").cloned().unwrap_or_default(),
    };
    let me = match actions::admin(&server, &s, "operator.create") {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    let result = async {
        check_form(&headers, f.raw("csrf"))?;
        typed.halls = f.all("halls", MAX_HALLS)?;
        actions::add(&server, me, &typed).await
    }
    .await;
    match result {
        Ok(()) => done("added", &typed.name),
        Err(e) => {
            let page = render(&server, me, &token, None, Some(&e.message), &typed);
            respond(e.status, &token, page)
        }
    }
}

/// A post about one account (disable, enable, reset): checked, done, and answered.
async fn one_account<F, Fut>(
    server: &Arc<Server>,
    s: &Session,
    headers: &HeaderMap,
    f: &Fields,
    action: &str,
    act: F,
) -> Response
where
    F: FnOnce(Arc<Server>, Operator, String) -> Fut,
    Fut: Future<Output = Result<&'static str, AppError>>,
{
    let token = FormToken::of(headers);
    let me = match actions::admin(server, s, action) {
        Ok(me) => me.clone(),
        Err(e) => return e.into_response(),
    };
    let name = f.one("name");
    let result = match check_form(headers, f.raw("csrf")) {
        Ok(()) => act(server.clone(), me.clone(), name.clone()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(what) => done(what, &name),
        Err(e) => {
            let page = render(
                server,
                &me,
                &token,
                None,
                Some(&e.message),
                &NewAccount::default(),
            );
            respond(e.status, &token, page)
        }
    }
}

async fn disable(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    one_account(&server, &s, &headers, &f, "operator.disable", |server, me, name| async move {
        actions::disable(&server, &me, &name).map(|()| "disabled")
    })
    .await
}

async fn enable(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    one_account(
        &server,
        &s,
        &headers,
        &f,
        "operator.enable",
        |server, me, name| async move { actions::enable(&server, &me, &name).map(|()| "enabled") },
    )
    .await
}

async fn reset(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let password = f.raw("password").cloned().unwrap_or_default();
    one_account(
        &server,
        &s,
        &headers,
        &f,
        "operator.reset_password",
        |server, me, name| async move {
            actions::reset(&server, &me, &name, &password)
                .await
                .map(|()| "reset")
        },
    )
    .await
}
