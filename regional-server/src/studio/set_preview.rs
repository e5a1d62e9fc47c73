//! A change set's item as the phone guide page will show it once published (the phone pages'
//! own rendering, over the latest published version), for the reviewer.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{access, blocking, set_id};
use crate::Server;
use crate::error::AppError;
use crate::html::{Page, html};
use crate::operators::PageSession;
use crate::phone::{Current, guide_body};

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new().route("/studio/review/{id}/preview/item/{key}", get(item))
}

async fn item(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    let op = s.0.clone();
    let shown = blocking(move || {
        access::reader(&server, &s)?;
        let set = super::workflow::find(&server, set_id(&id)?)?;
        let pack = super::set_pack(&server, set.id)?;
        let current = Current::new(
            format!("{} + 变更 #{}", super::published(&server)?.version, set.id),
            pack,
        );
        let item = current
            .pack
            .items
            .iter()
            .find(|i| i.id == key)
            .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, format!("变更后没有事项 {key}")))?;
        let body = html! {
            div id="preview-banner" role="note"
                style="background:#fff3cd;color:#7a4b00;border:2px solid #e0a800;border-radius:10px;padding:8px 12px;margin:0 0 8px;font-weight:bold" {
                "预览（变更 #" (set.id) "，未发布）"
                span style="font-weight:normal;font-size:14px;display:block" {
                    "这是发布这条变更后手机页面上的样子。 "
                    a href=(format!("/studio/review/{}", set.id)) { "回到审核" }
                }
            }
            (guide_body(&current, item, None))
        };
        Ok(Page::phone(&item.name).render(body))
    })
    .await;
    match shown {
        Ok(page) => page.into_response(),
        Err(e) => super::review::refused(&op, &e),
    }
}
