//! `/studio`: the editor's draft (each change with 撤销此项), the 提交审核 form, and every record
//! of the draft's content to search and open, with 新建 for each kind.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use menpai_model::ContentPack;
use serde::Deserialize;

use super::kind::{Kind, Listed};
use super::validate::plain;
use super::{blocking, editor_of};
use crate::Server;
use crate::html::{CONSOLE_STYLE, Page, Section, console_page};
use crate::operators::PageSession;
use crate::storage::ChangedRecord;
use crate::studio::draft_pack;
use crate::web::FormToken;

#[derive(Debug, Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    q: Option<String>,
}

pub(super) async fn page(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Query(search): Query<Search>,
    headers: HeaderMap,
) -> Response {
    let op = match editor_of(&server, &s, "studio.view", "drafts") {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let name = op.name.clone();
    let s2 = server.clone();
    let read = blocking(move || {
        let draft = s2
            .storage
            .draft(&name)
            .map_err(crate::error::AppError::internal)?;
        Ok((draft_pack(&s2, &name)?, draft))
    })
    .await;
    let (pack, changes) = match read {
        Ok(r) => r,
        Err(e) => return super::refused(&op, e),
    };
    let q: String = search.q.unwrap_or_default().chars().take(50).collect();
    let token = FormToken::of(&headers);
    let body = html! {
        h1 { "内容编辑" }
        p class="muted" {
            "在自己的草稿里修改事项、办事地点、常见问题、轮播图、临时通知和表格；"
            "提交审核后由另一位审核人员通过才会发布到门牌和手机页面。"
        }
        (draft_card(&pack, &changes, &token))
        form method="get" action="/studio" role="search" class="filters" {
            label { "搜索" input type="search" name="q" value=(q) id="q" size="32"
                placeholder="编号、名称、俗称、实施编码或内容"; }
            button { "搜索" }
            @if !q.is_empty() { a href="/studio" { "清除" } }
        }
        p class="kinds" {
            @for kind in Kind::ALL {
                a class="button secondary" href={ "#list-" (kind.as_str()) } { (kind.label()) }
            }
        }
        @for kind in Kind::ALL { (kind_list(&pack, kind, &q)) }
    };
    let page = Page::new("内容编辑 · 门牌", CONSOLE_STYLE)
        .head(html! { style { (PreEscaped(include_str!("editor.css"))) } });
    let mut res = console_page(&op, Section::Studio, page, body).into_response();
    token.set_on(&mut res);
    res
}

/// The title of record `kind`/`key` in the draft's content, if it is still there.
fn title_of(pack: &ContentPack, kind: &str, key: &str) -> Option<String> {
    let kind = Kind::parse(kind)?;
    kind.listed(pack)
        .into_iter()
        .find(|l| l.key == key)
        .map(|l| l.title)
}

fn draft_card(pack: &ContentPack, changes: &[ChangedRecord], token: &FormToken) -> Markup {
    // The draft as a whole against the importer's rules (the published content may have moved
    // on since a record was saved): what would stop 提交审核.
    let problems = if changes.is_empty() {
        Vec::new()
    } else {
        pack.validate().err().unwrap_or_default()
    };
    html! {
        div class="card" id="draft" {
            h2 { "我的草稿" }
            @if changes.is_empty() {
                p class="muted" { "草稿是空的：打开下面的任何一条内容即可开始修改。" }
            } @else {
                table class="draft" {
                    thead { tr { th { "内容" } th { "编号" } th { "名称" } th { "改动" } th { "时间" } th { "" } } }
                    tbody {
                        @for c in changes {
                            @let label = Kind::parse(&c.kind).map(Kind::label).unwrap_or(c.kind.as_str());
                            @let (what, class) = match (&c.base_sha, &c.body) {
                                (_, None) => ("删除", "tag removed"),
                                (None, Some(_)) => ("新建", "tag new"),
                                (Some(_), Some(_)) => ("修改", "tag"),
                            };
                            tr data-record={ (c.kind) " " (c.key) } {
                                td data-label="内容" { (label) }
                                td data-label="编号" { (c.key) }
                                td data-label="名称" { (title_of(pack, &c.kind, &c.key).unwrap_or_else(|| "（已删除）".into())) }
                                td data-label="改动" { span class=(class) { (what) } }
                                td data-label="时间" { (c.updated_at.get(..16).unwrap_or(&c.updated_at)) }
                                td class="actions" {
                                    @if c.body.is_some() {
                                        a href={ "/studio/edit/" (c.kind) "/" (c.key) } { "编辑" } " "
                                        @if c.kind == "item" {
                                            a href={ "/studio/preview/item/" (c.key) } { "预览" } " "
                                        }
                                    }
                                    form method="post" action={ "/studio/draft/" (c.kind) "/" (c.key) "/revert" } {
                                        (token.field())
                                        button class="secondary" { "撤销此项" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !problems.is_empty() {
                    div class="err" id="draft-problems" role="alert" {
                        p { "草稿现在有 " (problems.len()) " 处问题，改好后才能提交审核：" }
                        ul {
                            @for p in problems.iter().take(20) {
                                @let (kind, key) = p.record.split_once(' ').unwrap_or((p.record.as_str(), ""));
                                li {
                                    @if Kind::parse(kind).is_some() {
                                        a href={ "/studio/edit/" (kind) "/" (key) } { (p.record) }
                                    } @else {
                                        (p.record)
                                    }
                                    " · " (p.field) "：" (plain(&p.message))
                                }
                            }
                        }
                    }
                }
                h2 { "提交审核" }
                form method="post" action="/studio/submit" class="filters" id="submit" {
                    (token.field())
                    label { "这次修改的说明" input type="text" name="title" required maxlength="100" size="40"
                        placeholder="如：更新居民身份证申领的材料要求"; }
                    button { "提交审核" }
                }
            }
        }
    }
}

fn matches(l: &Listed, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || [&l.key, &l.title, &l.extra, &l.words]
            .iter()
            .any(|s| s.to_lowercase().contains(&q))
}

fn kind_list(pack: &ContentPack, kind: Kind, q: &str) -> Markup {
    let shown: Vec<Listed> = kind
        .listed(pack)
        .into_iter()
        .filter(|l| matches(l, q))
        .collect();
    let open = !q.trim().is_empty() || kind == Kind::Item;
    html! {
        details class="card" id={ "list-" (kind.as_str()) } open[open] {
            summary {
                strong { (kind.label()) } " "
                span class="muted" { (shown.len()) " 条" }
            }
            @if kind.creatable() {
                p { a class="button secondary" href={ "/studio/new/" (kind.as_str()) } { "＋ 新建" (kind.label()) } }
            }
            @if shown.is_empty() {
                p class="muted" { "没有符合的内容。" }
            } @else {
                table {
                    thead { tr { th { "编号" } th { "名称" } th { "" } th { "" } } }
                    tbody {
                        @for l in &shown {
                            tr {
                                td data-label="编号" { (l.key) }
                                td data-label="名称" {
                                    a href={ "/studio/edit/" (kind.as_str()) "/" (l.key) } { (l.title) }
                                }
                                td class="muted" { (l.extra) }
                                td {
                                    @if kind == Kind::Item {
                                        a href={ "/studio/preview/item/" (l.key) } { "预览" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
