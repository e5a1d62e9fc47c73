//! `/c/{item}?s=a,b&h={hall}`: a personal materials list. The link holds only the chosen
//! situations, so it can be kept or shared; choosing again works without JavaScript.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use menpai_model::api::Checklist;

use super::pages::material_line;
use super::{cached, hall_of, not_found, urlencode};
use crate::Server;
use crate::html::{Page, footer, hidden, html};

/// The situations of a query (`s=a,b` or `s=a&s=b`) and the hall.
fn parse(raw: Option<&str>) -> (Vec<String>, Option<String>) {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let mut chosen: Vec<String> = Vec::new();
    let mut hall = None;
    for (k, v) in pairs {
        match k.as_str() {
            "s" => {
                for id in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if !chosen.iter().any(|c| c == id) && chosen.len() < 16 {
                        chosen.push(id.to_owned());
                    }
                }
            }
            "h" => hall = Some(v),
            _ => {}
        }
    }
    (chosen, hall)
}

pub(super) async fn page(
    State(server): State<Arc<Server>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个事项", None);
    };
    let (asked, hall) = parse(raw.as_deref());
    let hall = hall.as_deref().and_then(|h| hall_of(&c, h));
    let Some(item) = c.pack.items.iter().find(|i| i.id == id) else {
        let back = hall.map(|h| (format!("/h/{}", h.id), format!("回到{}", h.name)));
        return not_found(
            "这个事项",
            back.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        );
    };
    // A situation the content no longer has is left out, not refused: the rest still helps.
    let (chosen, stale): (Vec<String>, Vec<String>) = asked
        .into_iter()
        .partition(|s| item.situations.iter().any(|x| &x.id == s));
    let list = Checklist::of(item, &chosen)
        .unwrap_or_else(|_| Checklist::of(item, &[]).expect("no situations always makes a list"));
    let hall_q = hall
        .map(|h| format!("&h={}", urlencode(&h.id)))
        .unwrap_or_default();
    let link = format!("/c/{}?s={}{}", item.id, chosen.join(","), hall_q);
    let body = html! {
        p { a href={ "/i/" (item.id) "?" (hall_q.trim_start_matches('&')) } { "‹ 办事指南" } }
        h1 id="item" { (item.name) }
        p class="muted" { "我的材料清单" }
        @if !stale.is_empty() {
            p class="err" { "链接里有的情形已经变更，已略去。" }
        }
        @if !item.situations.is_empty() {
            form method="get" action={ "/c/" (item.id) } id="situations" {
                b { "您的情况（可多选）" }
                @for s in &item.situations {
                    label {
                        input type="checkbox" name="s" value=(s.id) checked[chosen.contains(&s.id)];
                        " " (s.name) br; span class="muted" { (s.description) }
                    }
                }
                @if let Some(h) = hall { (hidden("h", &h.id)) }
                button type="submit" { "更新清单" }
            }
        }
        div class="card" id="materials" {
            h2 { "要带的材料（" (list.materials.len()) " 项）" }
            ol {
                @for line in &list.materials {
                    li {
                        (material_line(&c, &line.material))
                        @if !line.for_situations.is_empty() {
                            " " span class="tag" { (line.for_situations.join("、")) }
                        }
                    }
                }
            }
        }
        div class="card" {
            p { "保存或转发这个链接，随时查看这份清单（链接里没有个人信息）：" }
            p { a id="share" href=(link) { (link) } }
        }
        @if let Some(h) = hall {
            p { a href={ "/h/" (h.id) } { "‹ 回到" (h.name) } }
        }
        (footer(&c.version))
    };
    let title = format!("{} · 材料清单", item.name);
    cached(&headers, Page::phone(&title).render(body))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn situations_come_as_a_list_or_as_repeated_fields() {
        assert_eq!(
            parse(Some("s=s1,s2&h=hall-futian")),
            (vec!["s1".into(), "s2".into()], Some("hall-futian".into()))
        );
        assert_eq!(
            parse(Some("s=s2&s=s1&s=s2")),
            (vec!["s2".into(), "s1".into()], None)
        );
        assert_eq!(parse(Some("%%%")), (vec![], None));
    }
}
