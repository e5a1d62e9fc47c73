//! The editor of one record: its fields as a form the page's script checks as they are typed
//! and saves into the editor's draft; 删除 for a record that exists.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use menpai_model::ContentPack;
use serde_json::Value;

use super::fields::record_form;
use super::kind::Kind;
use super::{blocking, detail, editor_of};
use crate::Server;
use crate::error::AppError;
use crate::html::{CONSOLE_STYLE, Page, Section, console_page};
use crate::operators::PageSession;
use crate::storage::Operator;
use crate::studio::draft_pack;
use crate::web::FormToken;

/// `GET /studio/edit/{kind}/{key}`: the record as the editor's draft has it.
pub(super) async fn edit(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path((kind, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let op = match editor_of(&server, &s, "studio.view", &detail(&kind, &key)) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let Some(kind) = Kind::parse(&kind) else {
        return super::refused(&op, AppError::new(StatusCode::NOT_FOUND, "没有这类内容"));
    };
    let (s2, name, key2) = (server.clone(), op.name.clone(), key.clone());
    let read = blocking(move || {
        let changed = s2
            .storage
            .draft(&name)
            .map_err(AppError::internal)?
            .into_iter()
            .find(|r| r.kind == kind.as_str() && r.key == key2)
            .map(|r| r.updated_at);
        Ok((draft_pack(&s2, &name)?, changed))
    })
    .await;
    let (pack, changed) = match read {
        Ok(r) => r,
        Err(e) => return super::refused(&op, e),
    };
    let Some(record) = kind.record(&pack, &key) else {
        let e = AppError::new(
            StatusCode::NOT_FOUND,
            format!("草稿里没有{} {key}（可能已在草稿中删除）", kind.label()),
        );
        return super::refused(&op, e);
    };
    let at = changed.as_deref();
    editor_page(&op, &pack, kind, (Some(&key), at), &record, &headers)
}

/// `GET /studio/new/{kind}`: an empty record of that kind.
pub(super) async fn new_record(
    State(server): State<Arc<Server>>,
    PageSession(s): PageSession,
    Path(kind): Path<String>,
    headers: HeaderMap,
) -> Response {
    let op = match editor_of(&server, &s, "studio.view", &detail("new", &kind)) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let Some(kind) = Kind::parse(&kind).filter(|k| k.creatable()) else {
        return super::refused(&op, AppError::new(StatusCode::NOT_FOUND, "没有这类内容"));
    };
    let (s2, name) = (server.clone(), op.name.clone());
    let pack = match blocking(move || draft_pack(&s2, &name)).await {
        Ok(p) => p,
        Err(e) => return super::refused(&op, e),
    };
    editor_page(&op, &pack, kind, (None, None), &kind.blank(), &headers)
}

/// The editor of `record`; `(key, changed)`: the record's key (`None` for a new one) and when
/// the editor's draft last changed it (`None`: as published).
fn editor_page(
    op: &Operator,
    pack: &ContentPack,
    kind: Kind,
    (key, changed): (Option<&str>, Option<&str>),
    record: &Value,
    headers: &HeaderMap,
) -> Response {
    let token = FormToken::of(headers);
    let title = match key {
        Some(k) => {
            let name = record
                .get("name")
                .or_else(|| record.get("title"))
                .or_else(|| record.get("question"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("编辑{} {k} {name}", kind.label())
        }
        None => format!("新建{}", kind.label()),
    };
    let locked: &[&str] = if key.is_some() { &["id"] } else { &[] };
    let body = html! {
        p { a href="/studio" { "‹ 内容编辑" } }
        h1 id="title" { (title) }
        @if let (Kind::Item, Some(k)) = (kind, key) {
            p { a href={ "/studio/preview/item/" (k) } target="_blank" { "预览草稿（手机页面）" } }
        }
        @if let (Some(k), Some(at)) = (key, changed) {
            form method="post" id="draft-state" class="buttons"
                action={ "/studio/draft/" (kind.as_str()) "/" (k) "/revert" } {
                (token.field())
                span class="tag" { "草稿中已修改" }
                span class="muted" { (at.get(..16).unwrap_or(at)) }
                button class="secondary" { "撤销此项（恢复为已发布的内容）" }
            }
        }
        p class="muted" {
            "边填边检查（与导入内容相同的规则）；有问题的字段旁会标红。保存后只在你的草稿里，提交审核并通过后才发布。"
        }
        form id="editor" data-kind=(kind.as_str()) data-key=(key.unwrap_or_default())
            data-csrf=(token.value) {
            (record_form(kind.fields(), record, locked))
            ul id="problems" role="alert" {}
            div class="editor-bar" {
                button type="button" id="save" { "保存到草稿" }
                span id="state" class="muted" role="status" {}
            }
        }
        @if let (Kind::Item, Some(k)) = (kind, key) {
            (item_faqs(pack, k))
        }
        @if let Some(k) = key {
            form method="post" id="delete" action={ "/studio/draft/" (kind.as_str()) "/" (k) "/delete" } {
                (token.field())
                button class="danger" { "在草稿中删除这条" (kind.label()) }
            }
        }
        (datalists(pack))
    };
    let page_title = format!("{title} · 门牌");
    let page = Page::new(&page_title, CONSOLE_STYLE)
        .head(html! { style { (PreEscaped(include_str!("editor.css"))) } })
        .script(include_str!("editor.js"));
    let mut res = console_page(op, Section::Studio, page, body).into_response();
    token.set_on(&mut res);
    res
}

/// The suggestions text fields offer: topics, departments, life events, target groups, and the
/// draft's items, outlets and forms.
fn datalists(pack: &ContentPack) -> Markup {
    let region = pack.region.as_ref();
    let names = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    let topics = names(
        region
            .map(|r| r.topics.iter().map(|t| t.name.as_str()).collect())
            .unwrap_or_default(),
    );
    let departments = names(
        region
            .map(|r| r.departments.iter().map(|d| d.name.as_str()).collect())
            .unwrap_or_default(),
    );
    let events = names(
        region
            .map(|r| r.life_events.iter().map(|l| l.name.as_str()).collect())
            .unwrap_or_default(),
    );
    let groups = region.map(|r| r.target_groups.clone()).unwrap_or_default();
    html! {
        datalist id="dl-topics" { @for t in &topics { option value=(t) {} } }
        datalist id="dl-departments" { @for d in &departments { option value=(d) {} } }
        datalist id="dl-life-events" { @for e in &events { option value=(e) {} } }
        datalist id="dl-target-groups" { @for g in &groups { option value=(g) {} } }
        datalist id="dl-items" { @for i in &pack.items { option value=(i.id) { (i.name) } } }
        datalist id="dl-outlets" { @for o in &pack.outlets { option value=(o.id) { (o.name) } } }
        datalist id="dl-forms" { @for f in &pack.forms { option value=(f.id) { (f.name) } } }
    }
}

/// The FAQs that name item `id`, to edit beside it.
fn item_faqs(pack: &ContentPack, id: &str) -> Markup {
    let faqs: Vec<_> = pack
        .faqs
        .iter()
        .filter(|f| f.items.iter().any(|i| i == id))
        .collect();
    html! {
        div class="card" id="item-faqs" {
            h2 { "本事项的常见问题" }
            @if faqs.is_empty() {
                p class="muted" { "还没有。" }
            }
            ul {
                @for f in &faqs {
                    li { a href={ "/studio/edit/faq/" (f.id) } { (f.question) } }
                }
            }
            p { a class="button secondary" href="/studio/new/faq" { "＋ 新建常见问题" } }
        }
    }
}
