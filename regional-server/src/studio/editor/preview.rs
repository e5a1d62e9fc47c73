//! An item of the editor's draft exactly as the phone guide page will show it (the phone
//! pages' own rendering), under a banner saying it is a draft; and the same page at phone and
//! desktop width side by side.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::{blocking, detail, editor_of};
use crate::Server;
use crate::error::AppError;
use crate::html::{Page, Section, console};
use crate::operators::PageSession;
use crate::phone::{Current, guide_body};
use crate::studio::{draft_pack, published};

#[derive(Debug, Deserialize)]
pub(super) struct Via {
    /// The hall the guide is opened from (its way back and booking links), as on phones.
    #[serde(default)]
    h: Option<String>,
}

/// `GET /studio/preview/item/{id}`: the draft guide with the banner 预览（草稿，未发布）.
pub(super) async fn item(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path(id): Path<String>,
    Query(via): Query<Via>,
) -> Response {
    let op = match editor_of(&server, &s, "studio.view", &detail("preview item", &id)) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let (s2, name) = (server.clone(), op.name.clone());
    let read = blocking(move || {
        let version = published(&s2)?.version.clone();
        Ok((version, draft_pack(&s2, &name)?))
    })
    .await;
    let (version, pack) = match read {
        Ok(r) => r,
        Err(e) => return super::refused(&op, e),
    };
    let draft = Current::new(format!("{version} + 草稿"), pack);
    let Some(item) = draft.pack.items.iter().find(|i| i.id == id) else {
        let e = AppError::new(StatusCode::NOT_FOUND, format!("草稿里没有事项 {id}"));
        return super::refused(&op, e);
    };
    let hall = via.h.as_deref().and_then(|h| {
        draft
            .pack
            .outlets
            .iter()
            .find(|o| o.id == h && o.kind == menpai_model::OutletKind::Hall)
    });
    let body = html! {
        div id="preview-banner" role="note"
            style="background:#fff3cd;color:#7a4b00;border:2px solid #e0a800;border-radius:10px;padding:8px 12px;margin:0 0 8px;font-weight:bold" {
            "预览（草稿，未发布）"
            span style="font-weight:normal;font-size:14px;display:block" {
                "这是你的草稿在手机页面上的样子。 "
                a href={ "/studio/edit/item/" (item.id) } { "回到编辑" } " · "
                a href={ "/studio/preview/item/" (item.id) "/sizes" } { "手机与电脑宽度对照" }
            }
        }
        (guide_body(&draft, item, hall))
    };
    Page::phone(&item.name).render(body).into_response()
}

/// `GET /studio/preview/item/{id}/sizes`: the preview at phone width (390 px) and desktop
/// width side by side, and what the plate's screen preview does not cover.
pub(super) async fn sizes(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path(id): Path<String>,
) -> Response {
    let op = match editor_of(&server, &s, "studio.view", &detail("preview item", &id)) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let src = format!("/studio/preview/item/{}", menpai_model::percent_encode(&id));
    let body = html! {
        p { a href={ "/studio/edit/item/" (id) } { "‹ 回到编辑" } }
        h1 { "预览事项 " (id) "（草稿，未发布）" }
        div class="card plate-note" id="plate-note" style="background:#fff8e1;border-left:4px solid #e0a800" {
            "门牌终端上的办事指南由终端自己绘制（要有图形环境，每张画面要好几秒），服务器不生成终端画面的预览；"
            "门牌上的样子在发布后到终端上查看，并由自动化测试的终端截图核对。手机页面的预览与发布后完全一致。"
        }
        div style="display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start" {
            figure style="margin:0" {
                figcaption class="muted" { "手机（390 像素宽）" }
                iframe src=(src) title="手机宽度预览"
                    style="width:390px;height:844px;border:1px solid #c3ccd8;border-radius:16px;background:#fff" {}
            }
            figure style="margin:0;flex:1;min-width:320px" {
                figcaption class="muted" { "电脑" }
                iframe src=(src) title="电脑宽度预览"
                    style="width:100%;height:844px;border:1px solid #c3ccd8;border-radius:8px;background:#fff" {}
            }
        }
    };
    console(&op, Section::Studio, "预览", body).into_response()
}
