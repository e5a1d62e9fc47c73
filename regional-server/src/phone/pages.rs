//! The hall's plate and an item's guide.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use menpai_model::item::Item;
use menpai_model::outlet::Outlet;
use menpai_search::MAX_QUERY_CHARS;
use serde::Deserialize;

use super::downloads::{file_url, sample_url};
use super::{Current, cached, hall_of, not_found, urlencode};
use crate::Server;
use crate::html::{Markup, Page, footer, html, list, tel_link};

#[derive(Debug, Deserialize)]
pub(super) struct HallQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    topic: Option<String>,
}

/// This hall's items (positions in the pack, `here`) searched for, best first, by the plate's
/// search engine: characters, pinyin, initials, typos, everyday words and whole sentences.
async fn found_in(
    c: &Arc<Current>,
    here: HashSet<usize>,
    q: &str,
) -> Result<Vec<usize>, &'static str> {
    let q = q.to_owned();
    super::ask::with_engines(c, move |a| {
        a.search()
            .search_among(&q, FOUND_MAX, &|p| here.contains(&p))
            .into_iter()
            .map(|hit| hit.doc)
            .collect()
    })
    .await
}

/// Items a search lists at most.
const FOUND_MAX: usize = 60;

/// `/h/{hall}`: the hall's plate: hours, address, phone, search, topics, most asked-for items.
pub(super) async fn hall(
    State(server): State<Arc<Server>>,
    Path(id): Path<String>,
    Query(query): Query<HallQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个服务大厅", None);
    };
    let Some(hall) = hall_of(&c, &id) else {
        return not_found("这个服务大厅", None);
    };
    let (open, hours) = super::outlets::Today::read(&server).of(hall);
    // What the engine reads of a query: a longer one is cut before any work.
    let q: String = query
        .q
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    let offered: HashSet<&str> = hall.items.iter().map(String::as_str).collect();
    let positions: HashSet<usize> = (c.pack.items.iter().enumerate())
        .filter(|(_, i)| offered.contains(i.id.as_str()))
        .map(|(p, _)| p)
        .collect();
    let here: Vec<&Item> = c
        .pack
        .items
        .iter()
        .enumerate()
        .filter(|(p, _)| positions.contains(p))
        .map(|(_, i)| i)
        .collect();
    let topic = query.topic.clone().unwrap_or_default();
    let mut unavailable = None;
    let (heading, mut shown): (String, Vec<&Item>) = if !q.trim().is_empty() {
        let found = found_in(&c, positions, &q).await.unwrap_or_else(|words| {
            unavailable = Some(words);
            Vec::new()
        });
        (
            format!("搜索“{}”", q.trim()),
            found.into_iter().map(|i| &c.pack.items[i]).collect(),
        )
    } else if !topic.is_empty() {
        (
            topic.clone(),
            here.iter().copied().filter(|i| i.topic == topic).collect(),
        )
    } else {
        let mut top: Vec<&Item> = here.clone();
        top.sort_by_key(|i| (!i.featured, std::cmp::Reverse(i.popularity)));
        top.truncate(12);
        ("常办事项".into(), top)
    };
    if q.trim().is_empty() && !topic.is_empty() {
        shown.sort_by_key(|i| std::cmp::Reverse(i.popularity));
    }
    let mut topics: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &here {
        *topics.entry(i.topic.as_str()).or_default() += 1;
    }
    let notices = super::notices::current(&server, &c.pack, &hall.id);
    let body = html! {
        h1 id="hall" { (hall.name) }
        (super::notices::cards(&notices))
        div class="card" {
            p {
                (hours) " · "
                b class=(if open { "open" } else { "closed" }) {
                    (if open { "正在办公" } else { "现在不办公" })
                }
            }
            p { (hall.address) }
            p { "电话 " (tel_link(&hall.phone)) }
        }
        p {
            a href={ "/book/" (hall.id) } { "预约办事" } " · "
            a href={ "/o?h=" (hall.id) } { "附近办事地点" } " · "
            a href={ "/o/" (hall.id) } { "怎么去" }
        }
        p id="ask" {
            a href={ "/ask/" (hall.id) } { "帮办代办 / 上门取件" } " · "
            a href={ "/ask/" (hall.id) "?kind=consult" } { "在线咨询" }
        }
        form method="get" action={ "/h/" (hall.id) } role="search" {
            input type="search" name="q" value=(q) placeholder="搜事项：汉字或拼音，如 社保、sb"
                aria-label="搜索事项";
        }
        form method="post" action={ "/q/" (hall.id) } id="ask-box" {
            input type="text" name="q" maxlength="200" placeholder="问一问：如 退休了公积金怎么取"
                aria-label="问一个问题";
            button type="submit" { "问" }
        }
        h2 { (heading) }
        div class="card list" id="items" {
            @if let Some(words) = unavailable {
                p class="err" { (words) }
            } @else if shown.is_empty() {
                p { "没有找到相关事项。换个说法试试，或到咨询台询问。" }
            }
            @for i in &shown {
                a href={ "/i/" (i.id) "?h=" (hall.id) } { (i.name) }
            }
        }
        h2 { "按主题找" }
        div class="card" id="topics" {
            @for (t, n) in topics {
                a class="tag" href={ "/h/" (hall.id) "?topic=" (urlencode(t)) } { (t) " " (n) }
            }
        }
        (footer(&c.version))
    };
    let page = Page::phone(&hall.name).render(body);
    if unavailable.is_some() {
        return super::private_page(axum::http::StatusCode::SERVICE_UNAVAILABLE, page, "");
    }
    cached(&headers, page)
}

#[derive(Debug, Deserialize)]
pub(super) struct GuideQuery {
    /// The hall the citizen came from (for the way back and booking).
    #[serde(default)]
    h: Option<String>,
}

fn materials(c: &Current, ms: &[menpai_model::item::Material]) -> Markup {
    html! {
        ul { @for m in ms { li { (material_line(c, m)) } } }
    }
}

/// One material: name, form and copies, when it is needed, where it comes from, its blank form.
pub(super) fn material_line(c: &Current, m: &menpai_model::item::Material) -> Markup {
    let form = m
        .template_form
        .as_ref()
        .and_then(|f| c.pack.forms.iter().find(|x| &x.id == f));
    // What the window checks: the sample's description and the note.
    let checks: Vec<&str> = [&m.sample, &m.note]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    html! {
        (m.name) "（" (m.form.label()) " " (m.copies) " 份）"
        @if !m.required {
            " " span class="muted" { (m.condition.as_deref().unwrap_or("特定情况")) "时需要" }
        }
        @if let Some(src) = &m.source {
            " " span class="muted" { "· " (src) }
        }
        @if let Some(form) = form {
            " " a href=(form.url) { "下载表格" }
            @if form.sample.is_some() {
                " · " a href=(sample_url(form)) { "下载样表" }
            }
        }
        @if !checks.is_empty() || m.sample_image.is_some() {
            div class="muted check" {
                "审查要点："
                (checks.join("；")) " "
                @if let Some(img) = &m.sample_image {
                    a href=(file_url(img)) { "看示例图" }
                }
            }
        }
    }
}

/// `/i/{item}`: the whole guide (办事指南), every element, readable without JavaScript.
pub(super) async fn guide(
    State(server): State<Arc<Server>>,
    Path(id): Path<String>,
    Query(query): Query<GuideQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个事项", None);
    };
    let hall = query.h.as_deref().and_then(|h| hall_of(&c, h));
    let back = hall.map(|h| (format!("/h/{}", h.id), format!("回到{}", h.name)));
    let Some(item) = c.pack.items.iter().find(|i| i.id == id) else {
        return not_found(
            "这个事项",
            back.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        );
    };
    cached(
        &headers,
        Page::phone(&item.name).render(guide_body(&c, item, hall)),
    )
}

/// The guide's page body for `item` of `c` (published, or an editor's draft in the studio's
/// preview): the one rendering phones and the preview share.
pub fn guide_body(c: &Current, item: &Item, hall: Option<&Outlet>) -> Markup {
    let back = hall.map(|h| (format!("/h/{}", h.id), format!("回到{}", h.name)));
    let kind = serde_json::to_value(item.item_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let via = hall
        .map(|h| format!("h={}", urlencode(&h.id)))
        .unwrap_or_default();
    let mut fees: Vec<String> = item
        .fees
        .items
        .iter()
        .map(|f| format!("{} {}", f.name, f.amount))
        .collect();
    fees.extend(item.fees.note.clone());
    // Where it is handled: the outlet, its windows, and whether it takes bookings there.
    let places: Vec<(&Outlet, String, bool)> = item
        .channels
        .halls
        .iter()
        .filter_map(|ch| {
            let o = c.pack.outlets.iter().find(|o| o.id == ch.outlet)?;
            let windows: Vec<String> = ch.windows.iter().map(|w| format!("{w}号")).collect();
            let book = item.business_type.is_some() && !o.business_types.is_empty();
            Some((o, windows.join("、"), book))
        })
        .collect();
    let faqs: Vec<_> = c
        .pack
        .faqs
        .iter()
        .filter(|f| f.items.contains(&item.id))
        .collect();
    html! {
        @if let Some((href, label)) = &back {
            p { a href=(href) { "‹ " (label) } }
        }
        h1 id="item" { (item.name) }
        p {
            span class="tag" { (item.audience.label()) }
            span class="tag" { (kind) }
            span class="tag" { (item.department) }
            span class="tag" { "最多跑 " (item.visits) " 次" }
        }
        @if !item.code.is_empty() {
            p class="muted" id="code" { "事项编码 " (item.code) }
        }
        @if let (Some(h), Some(_)) = (hall, &item.business_type) {
            p { a href={ "/book/" (h.id) "/" (item.id) } { "预约到" (h.name) "办理" } }
        }
        @if !item.situations.is_empty() {
            p { a id="mylist" href={ "/c/" (item.id) "?" (via) } { "选择我的情况，生成材料清单 ›" } }
        }
        div class="card" id="materials" {
            h2 { "要带的材料" }
            (materials(c, &item.materials))
            @for s in &item.situations {
                h2 { (s.name) }
                @if !s.description.is_empty() {
                    p class="muted" { (s.description) }
                }
                (materials(c, &s.materials))
            }
        }
        div class="card" id="conditions" { h2 { "申请条件" } (list(&item.conditions)) }
        div class="card" id="limits" {
            h2 { "收费" }
            @if item.fees.charged { (list(&fees)) } @else { p { "不收费" } }
            h2 { "办理时限" }
            p { "承诺 " (item.promised_limit.label()) " · 法定 " (item.legal_limit.label()) }
            h2 { "办理结果" }
            p { (item.result) }
        }
        div class="card" id="steps" {
            h2 { "办理流程" }
            ol { @for s in &item.steps { li { (s.title) "：" (s.detail) } } }
        }
        div class="card" id="where" {
            h2 { "在哪里办" }
            ul {
                @for (o, windows, book) in &places {
                    li {
                        a href={ "/h/" (o.id) } { (o.name) } " " (windows) "窗口"
                        @if *book {
                            " · " a href={ "/book/" (o.id) "/" (item.id) } { "预约" }
                        }
                        br;
                        span class="muted" { (o.address) } " · "
                        a href={ "/o/" (o.id) } { "导航" }
                    }
                }
            }
            p {
                a href={ "/o?item=" (urlencode(&item.id)) "&" (via) } { "按距离看所有能办的地点" }
            }
            @if let Some(online) = &item.channels.online {
                p { "网上办理：" a href=(online.url) { (online.platform) } }
            }
        }
        @if !faqs.is_empty() {
            div class="card" id="faqs" {
                h2 { "常见问题" }
                @for f in &faqs {
                    details { summary { (f.question) } p { (f.answer) } }
                }
            }
        }
        div class="card" id="contact" {
            h2 { "咨询与投诉" }
            p { "咨询 " (tel_link(&item.consult_phone)) }
            p { "投诉 " (tel_link(&item.complaint_phone)) }
            h2 { "设定依据" }
            (list(&item.legal_basis))
        }
        (footer(&c.version))
    }
}
