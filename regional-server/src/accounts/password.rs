//! An operator changes their own password: the page every console page sends them to while an
//! admin-set password stands, and the same as JSON.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions::{self, MIN_PASSWORD_CHARS};
use super::fields::Fields;
use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::html::{Markup, Section, console, error_line, html};
use crate::operators::{self, CHANGE_PASSWORD_PAGE, PageSession, SESSION_COOKIE};
use crate::storage::Operator;
use crate::web::{FormToken, check_form, strict_cookie};

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route(CHANGE_PASSWORD_PAGE, get(page).post(page_change))
        .route("/api/v1/account/password", post(change_json))
}

fn form(op: &Operator, token: &FormToken, error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "修改密码" }
        @if op.must_change_password {
            p class="card" id="must-change" {
                "管理员为你设置了临时密码。请先设一个只有你知道的新密码，之后才能使用其他页面。"
            }
        }
        @if let Some(e) = error { (error_line(e)) }
        form class="card stack" method="post" action=(CHANGE_PASSWORD_PAGE) {
            (token.field())
            label { "原密码" input type="password" name="current" id="current" autocomplete="current-password" required; }
            label {
                "新密码（" (MIN_PASSWORD_CHARS) " 个字符以上）"
                input type="password" name="new" id="new" autocomplete="new-password" required
                    minlength=(MIN_PASSWORD_CHARS);
            }
            label { "再输一次新密码" input type="password" name="again" id="again" autocomplete="new-password" required; }
            button id="change" type="submit" { "保存新密码" }
        }
    };
    console(op, Section::Account, "修改密码", body)
}

fn with_token(status: StatusCode, token: &FormToken, markup: Markup) -> Response {
    let mut r = (status, axum::response::Html(markup.into_string())).into_response();
    token.set_on(&mut r);
    r
}

async fn page(PageSession(s): PageSession, headers: HeaderMap) -> Response {
    let token = FormToken::of(&headers);
    with_token(StatusCode::OK, &token, form(&s.0, &token, None))
}

async fn page_change(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let token = FormToken::of(&headers);
    let refused = |e: AppError| with_token(e.status, &token, form(&s.0, &token, Some(&e.message)));
    if let Err(e) = check_form(&headers, f.raw("csrf")) {
        return refused(e);
    }
    let (current, new) = (
        f.raw("current").cloned().unwrap_or_default(),
        f.raw("new").cloned().unwrap_or_default(),
    );
    if f.raw("again").is_none_or(|a| *a != new) {
        return refused(AppError::bad_request("两次输入的新密码不一样"));
    }
    let op = match actions::change_own(&server, peer.ip(), &s.0, &current, &new).await {
        Ok(op) => op,
        Err(e) => return refused(e),
    };
    // Every session ended with the change: this browser gets a new one, practice still if the
    // old one was.
    let opened = match s.training() {
        true => operators::open_training_session(&server, &op),
        false => operators::open_session(&server, &op),
    };
    let session = match opened {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let max_age = server.config.session_hours as i64 * 3600;
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                strict_cookie(SESSION_COOKIE, &session, max_age),
            ),
            (header::LOCATION, operators::landing(&op).to_owned()),
        ],
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current: String,
    new: String,
}

/// The same as JSON; every session ends, this one too (log in again with the new password).
async fn change_json(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    s: crate::operators::Session,
    JsonBody(b): JsonBody<PasswordChange>,
) -> Result<Json<Value>, AppError> {
    actions::change_own(&server, peer.ip(), &s.0, &b.current, &b.new).await?;
    Ok(Json(json!({ "changed": true, "sessions_ended": true })))
}
