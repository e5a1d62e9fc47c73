//! The studio's editors (内容编辑) in the browser: the editor's draft and every record to
//! browse and search (`browse`), one form per record kind whose fields are checked as they are
//! typed with the importer's rules (`page`, `fields`, `validate`), saved into the editor's
//! draft (`draft`), and an item's draft guide exactly as phones will show it (`preview`).
//! Open to content editors and admins; never to a training login.

mod browse;
mod draft;
mod faq;
mod fields;
mod form;
mod item;
mod kind;
mod notice;
mod outlet;
mod page;
mod preview;
mod region;
mod slide;
mod validate;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use maud::html;

use crate::Server;
use crate::error::AppError;
use crate::html::{Section, console};
use crate::operators::Session;
use crate::storage::{Operator, Role};

/// Checks and saves one editor may make a minute: the page checks at most every 0.4 s while
/// one types; a script looping on the route is held back.
pub const CHECKS_PER_MINUTE: u32 = 240;

/// A record's JSON body is at most this large (the longest demo item is under 20 KiB).
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/studio", get(browse::page))
        .route("/studio/new/{kind}", get(page::new_record))
        .route("/studio/edit/{kind}/{key}", get(page::edit))
        .route("/studio/draft/{kind}/{key}/revert", post(draft::revert))
        .route("/studio/draft/{kind}/{key}/delete", post(draft::delete))
        .route("/studio/preview/item/{id}", get(preview::item))
        .route("/studio/preview/item/{id}/sizes", get(preview::sizes))
        .route("/api/v1/studio/check/{kind}", post(draft::check))
        .route("/api/v1/studio/draft/{kind}/{key}", put(draft::save))
        .layer(DefaultBodyLimit::max(MAX_RECORD_BYTES))
}

/// The operator of a studio request when they may edit content (content editor or admin, not
/// a training login); a refusal is audited as `action` (`studio.view`, `studio.edit`) with
/// `detail` (what was asked for, e.g. `item P43`).
fn editor_of(
    server: &Server,
    s: &Session,
    action: &str,
    detail: &str,
) -> Result<Operator, AppError> {
    match s.require(Role::ContentEditor) {
        Ok(op) => Ok(op.clone()),
        Err(e) => {
            let _ = server.storage.audit(&s.0.name, action, detail, "forbidden");
            let message = if s.training() || s.0.must_change_password {
                e.message
            } else {
                "内容编辑只对内容编辑人员和管理员开放，请联系管理员。".to_owned()
            };
            Err(AppError::new(e.status, message))
        }
    }
}

/// An audit line's detail: `item P43` (bounded: the words come from the request's path).
fn detail(kind: &str, key: &str) -> String {
    format!("{kind} {key}").chars().take(120).collect()
}

/// Runs storage work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)?
}

/// A console page saying why a studio page cannot be shown.
fn refused(op: &Operator, e: AppError) -> Response {
    let title = match e.status {
        StatusCode::FORBIDDEN => "无权编辑",
        StatusCode::NOT_FOUND => "没有找到",
        _ => "无法打开",
    };
    let body = html! {
        h1 { (title) }
        div class="card" {
            p class="err" id="message" { (e.message) }
            @if e.status == StatusCode::FORBIDDEN {
                p { a href=(crate::operators::landing(op)) { "回到首页" } }
            } @else {
                p { a href="/studio" { "回到内容编辑" } }
            }
        }
    };
    (e.status, console(op, Section::Studio, title, body)).into_response()
}
