//! The hall's plate and an item's guide.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use menpai_model::item::Item;
use menpai_model::outlet::{Outlet, OutletKind};
use pinyin::ToPinyin;
use serde::Deserialize;

use super::{Current, cached, not_found, shell, urlencode};
use crate::Server;
use crate::fleet::esc;

#[derive(Debug, Deserialize)]
pub(super) struct HallQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    topic: Option<String>,
}

/// Full pinyin and initials of a name, lower case: 护照 → ("huzhao", "hz").
fn pinyin_keys(s: &str) -> (String, String) {
    let (mut full, mut initials) = (String::new(), String::new());
    for (c, p) in s.chars().zip(s.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(&p.plain()[..1]);
            }
            None if c.is_ascii_alphanumeric() => {
                full.push(c.to_ascii_lowercase());
                initials.push(c.to_ascii_lowercase());
            }
            None => {}
        }
    }
    (full, initials)
}

/// Whether an item matches what was typed: its name or everyday words, in characters or in
/// pinyin (full or initials).
fn matches(item: &Item, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    let q_ascii: String = q
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'')
        .collect();
    std::iter::once(&item.name)
        .chain(&item.aliases)
        .any(|name| {
            if name.contains(&q) {
                return true;
            }
            if !q_ascii.is_ascii() {
                return false;
            }
            let (full, initials) = pinyin_keys(name);
            full.contains(&q_ascii) || initials.starts_with(&q_ascii)
        })
}

pub(super) fn hall_of<'a>(c: &'a Current, id: &str) -> Option<&'a Outlet> {
    c.pack
        .outlets
        .iter()
        .find(|o| o.id == id && o.kind == OutletKind::Hall)
}

pub(super) fn footer(c: &Current) -> String {
    format!(
        "<footer>内容版本 {} · 以大厅现场公示为准</footer>",
        esc(&c.version)
    )
}

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
    let mut b = format!(
        "<h1 id=\"hall\">{}</h1><div class=\"card\"><p>{} · <b class=\"{}\">{}</b></p>\
         <p>{}</p><p>电话 <a href=\"tel:{}\">{}</a></p></div>",
        esc(&hall.name),
        esc(&hours),
        if open { "open" } else { "closed" },
        if open {
            "正在办公"
        } else {
            "现在不办公"
        },
        esc(&hall.address),
        esc(&hall.phone),
        esc(&hall.phone),
    );
    let q = query.q.clone().unwrap_or_default();
    b.push_str(&format!(
        "<p><a href=\"/book/{0}\">预约办事</a> · <a href=\"/o?h={0}\">附近办事地点</a> · <a href=\"/o/{0}\">怎么去</a></p>",
        esc(&hall.id)
    ));
    b.push_str(&format!(
        "<form method=\"get\" action=\"/h/{}\" role=\"search\"><input type=\"search\" name=\"q\" \
         value=\"{}\" placeholder=\"搜事项：汉字或拼音，如 社保、sb\" aria-label=\"搜索事项\"></form>",
        esc(&hall.id),
        esc(&q)
    ));
    let here: Vec<&Item> = c
        .pack
        .items
        .iter()
        .filter(|i| hall.items.contains(&i.id))
        .collect();
    let topic = query.topic.clone().unwrap_or_default();
    let (heading, mut shown): (String, Vec<&Item>) = if !q.trim().is_empty() {
        (
            format!("搜索“{}”", q.trim()),
            here.iter().copied().filter(|i| matches(i, &q)).collect(),
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
    if !q.trim().is_empty() || !topic.is_empty() {
        shown.sort_by_key(|i| std::cmp::Reverse(i.popularity));
    }
    b.push_str(&format!(
        "<h2>{}</h2><div class=\"card list\" id=\"items\">",
        esc(&heading)
    ));
    if shown.is_empty() {
        b.push_str("<p>没有找到相关事项。换个说法试试，或到咨询台询问。</p>");
    }
    for i in &shown {
        b.push_str(&format!(
            "<a href=\"/i/{}?h={}\">{}</a>",
            esc(&i.id),
            esc(&hall.id),
            esc(&i.name)
        ));
    }
    b.push_str("</div>");
    let mut topics: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &here {
        *topics.entry(i.topic.as_str()).or_default() += 1;
    }
    b.push_str("<h2>按主题找</h2><div class=\"card\" id=\"topics\">");
    for (t, n) in topics {
        b.push_str(&format!(
            "<a class=\"tag\" href=\"/h/{}?topic={}\">{} {n}</a>",
            esc(&hall.id),
            esc(&urlencode(t)),
            esc(t)
        ));
    }
    b.push_str("</div>");
    b.push_str(&footer(&c));
    cached(&headers, shell(&hall.name, &b))
}

#[derive(Debug, Deserialize)]
pub(super) struct GuideQuery {
    /// The hall the citizen came from (for the way back and booking).
    #[serde(default)]
    h: Option<String>,
}

fn list(items: &[String]) -> String {
    let mut s = String::from("<ul>");
    for i in items {
        s.push_str(&format!("<li>{}</li>", esc(i)));
    }
    s.push_str("</ul>");
    s
}

fn materials(c: &Current, ms: &[menpai_model::item::Material]) -> String {
    let mut s = String::from("<ul>");
    for m in ms {
        s.push_str(&format!("<li>{}</li>", material_line(c, m)));
    }
    s.push_str("</ul>");
    s
}

/// One material: name, form and copies, when it is needed, where it comes from, its blank form.
pub(super) fn material_line(c: &Current, m: &menpai_model::item::Material) -> String {
    {
        let mut line = format!("{}（{} {} 份）", esc(&m.name), m.form.label(), m.copies);
        if !m.required {
            line.push_str(&format!(
                " <span class=\"muted\">{}时需要</span>",
                esc(m.condition.as_deref().unwrap_or("特定情况"))
            ));
        }
        if let Some(src) = &m.source {
            line.push_str(&format!(" <span class=\"muted\">· {}</span>", esc(src)));
        }
        if let Some(form) = m
            .template_form
            .as_ref()
            .and_then(|f| c.pack.forms.iter().find(|x| &x.id == f))
        {
            line.push_str(&format!(" <a href=\"{}\">下载表格</a>", esc(&form.url)));
        }
        line
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
    let kind = serde_json::to_value(item.item_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut b = String::new();
    if let Some((href, label)) = &back {
        b.push_str(&format!(
            "<p><a href=\"{}\">‹ {}</a></p>",
            esc(href),
            esc(label)
        ));
    }
    b.push_str(&format!(
        "<h1 id=\"item\">{}</h1><p><span class=\"tag\">{}</span><span class=\"tag\">{}</span>\
         <span class=\"tag\">{}</span><span class=\"tag\">最多跑 {} 次</span></p>",
        esc(&item.name),
        item.audience.label(),
        esc(&kind),
        esc(&item.department),
        item.visits
    ));
    if let (Some(h), Some(_)) = (hall, &item.business_type) {
        b.push_str(&format!(
            "<p><a href=\"/book/{}/{}\">预约到{}办理</a></p>",
            esc(&h.id),
            esc(&item.id),
            esc(&h.name)
        ));
    }
    let via = hall
        .map(|h| format!("h={}", urlencode(&h.id)))
        .unwrap_or_default();
    if !item.situations.is_empty() {
        b.push_str(&format!(
            "<p><a id=\"mylist\" href=\"/c/{}?{}\">选择我的情况，生成材料清单 ›</a></p>",
            esc(&item.id),
            esc(&via)
        ));
    }
    b.push_str("<div class=\"card\" id=\"materials\"><h2>要带的材料</h2>");
    b.push_str(&materials(&c, &item.materials));
    for s in &item.situations {
        b.push_str(&format!("<h2>{}</h2>", esc(&s.name)));
        if !s.description.is_empty() {
            b.push_str(&format!("<p class=\"muted\">{}</p>", esc(&s.description)));
        }
        b.push_str(&materials(&c, &s.materials));
    }
    b.push_str("</div>");
    b.push_str(&format!(
        "<div class=\"card\" id=\"conditions\"><h2>申请条件</h2>{}</div>",
        list(&item.conditions)
    ));
    let fees = if item.fees.charged {
        let mut f: Vec<String> = item
            .fees
            .items
            .iter()
            .map(|f| format!("{} {}", f.name, f.amount))
            .collect();
        f.extend(item.fees.note.clone());
        list(&f)
    } else {
        "<p>不收费</p>".into()
    };
    b.push_str(&format!(
        "<div class=\"card\" id=\"limits\"><h2>收费</h2>{fees}<h2>办理时限</h2>\
         <p>承诺 {} · 法定 {}</p><h2>办理结果</h2><p>{}</p></div>",
        esc(&item.promised_limit.label()),
        esc(&item.legal_limit.label()),
        esc(&item.result)
    ));
    let steps: Vec<String> = item
        .steps
        .iter()
        .map(|s| format!("{}：{}", s.title, s.detail))
        .collect();
    b.push_str(&format!(
        "<div class=\"card\" id=\"steps\"><h2>办理流程</h2>{}</div>",
        list(&steps)
            .replacen("<ul>", "<ol>", 1)
            .replace("</ul>", "</ol>")
    ));
    let mut places = Vec::new();
    for ch in &item.channels.halls {
        if let Some(o) = c.pack.outlets.iter().find(|o| o.id == ch.outlet) {
            let windows: Vec<String> = ch.windows.iter().map(|w| format!("{w}号")).collect();
            let book = if item.business_type.is_some() && !o.business_types.is_empty() {
                format!(
                    " · <a href=\"/book/{}/{}\">预约</a>",
                    esc(&o.id),
                    esc(&item.id)
                )
            } else {
                String::new()
            };
            places.push(format!(
                "<li><a href=\"/h/{}\">{}</a> {}窗口{book}<br><span class=\"muted\">{}</span> · <a href=\"/o/{}\">导航</a></li>",
                esc(&o.id),
                esc(&o.name),
                esc(&windows.join("、")),
                esc(&o.address),
                esc(&o.id)
            ));
        }
    }
    b.push_str(&format!(
        "<div class=\"card\" id=\"where\"><h2>在哪里办</h2><ul>{}</ul><p><a href=\"/o?item={}&amp;{}\">按距离看所有能办的地点</a></p>",
        places.join(""),
        esc(&urlencode(&item.id)),
        esc(&via)
    ));
    if let Some(online) = &item.channels.online {
        b.push_str(&format!(
            "<p>网上办理：<a href=\"{}\">{}</a></p>",
            esc(&online.url),
            esc(&online.platform)
        ));
    }
    b.push_str("</div>");
    b.push_str(&format!(
        "<div class=\"card\" id=\"contact\"><h2>咨询与投诉</h2><p>咨询 <a href=\"tel:{0}\">{0}</a></p>\
         <p>投诉 <a href=\"tel:{1}\">{1}</a></p><h2>设定依据</h2>{2}</div>",
        esc(&item.consult_phone),
        esc(&item.complaint_phone),
        list(&item.legal_basis)
    ));
    b.push_str(&footer(&c));
    cached(&headers, shell(&item.name, &b))
}

/// `/forms/{file}`: a blank form named by the content. Packs carry the form's name, not its
/// file, so this says where to get it and which items need it.
pub(super) async fn form(
    State(server): State<Arc<Server>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这份表格", None);
    };
    let url = format!("/forms/{file}");
    let Some(form) = c.pack.forms.iter().find(|f| f.url == url) else {
        return not_found("这份表格", None);
    };
    let mut b = format!(
        "<h1 id=\"form\">{}</h1><div class=\"card\"><p>空白表格可在服务大厅咨询台免费领取，窗口备有填写样表。</p>\
         <p class=\"muted\">电子版由主管部门上传后可在这里下载。</p></div><h2>需要这份表格的事项</h2><div class=\"card list\">",
        esc(&form.name)
    );
    for i in c.pack.items.iter().filter(|i| {
        i.materials
            .iter()
            .chain(i.situations.iter().flat_map(|s| &s.materials))
            .any(|m| m.template_form.as_deref() == Some(form.id.as_str()))
    }) {
        b.push_str(&format!(
            "<a href=\"/i/{}\">{}</a>",
            esc(&i.id),
            esc(&i.name)
        ));
    }
    b.push_str("</div>");
    b.push_str(&footer(&c));
    cached(&headers, shell(&form.name, &b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_keys_give_full_spelling_and_initials() {
        assert_eq!(pinyin_keys("社保卡"), ("shebaoka".into(), "sbk".into()));
        assert_eq!(pinyin_keys("A类"), ("alei".into(), "al".into()));
    }
}
