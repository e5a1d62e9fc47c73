//! `/c/{item}?s=a,b&h={hall}`: a personal materials list. The link holds only the chosen
//! situations, so it can be kept or shared; choosing again works without JavaScript.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use menpai_model::api::Checklist;

use super::pages::{footer, hall_of, material_line};
use super::{cached, not_found, shell, urlencode};
use crate::Server;
use crate::fleet::esc;

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
    let mut b = String::new();
    b.push_str(&format!(
        "<p><a href=\"/i/{}?{}\">‹ 办事指南</a></p><h1 id=\"item\">{}</h1><p class=\"muted\">我的材料清单</p>",
        esc(&item.id),
        esc(hall_q.trim_start_matches('&')),
        esc(&item.name)
    ));
    if !stale.is_empty() {
        b.push_str("<p class=\"err\">链接里有的情形已经变更，已略去。</p>");
    }
    if !item.situations.is_empty() {
        b.push_str(&format!(
            "<form method=\"get\" action=\"/c/{}\" id=\"situations\"><b>您的情况（可多选）</b>",
            esc(&item.id)
        ));
        for s in &item.situations {
            b.push_str(&format!(
                "<label><input type=\"checkbox\" name=\"s\" value=\"{}\"{}> {}<br><span class=\"muted\">{}</span></label>",
                esc(&s.id),
                if chosen.contains(&s.id) { " checked" } else { "" },
                esc(&s.name),
                esc(&s.description)
            ));
        }
        if let Some(h) = hall {
            b.push_str(&format!(
                "<input type=\"hidden\" name=\"h\" value=\"{}\">",
                esc(&h.id)
            ));
        }
        b.push_str("<button type=\"submit\">更新清单</button></form>");
    }
    b.push_str(&format!(
        "<div class=\"card\" id=\"materials\"><h2>要带的材料（{} 项）</h2><ol>",
        list.materials.len()
    ));
    for line in &list.materials {
        let who = if line.for_situations.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"tag\">{}</span>",
                esc(&line.for_situations.join("、"))
            )
        };
        b.push_str(&format!(
            "<li>{}{who}</li>",
            material_line(&c, &line.material)
        ));
    }
    b.push_str("</ol></div>");
    let link = format!("/c/{}?s={}{}", item.id, chosen.join(","), hall_q);
    b.push_str(&format!(
        "<div class=\"card\"><p>保存或转发这个链接，随时查看这份清单（链接里没有个人信息）：</p>\
         <p><a id=\"share\" href=\"{0}\">{0}</a></p></div>",
        esc(&link)
    ));
    if let Some(h) = hall {
        b.push_str(&format!(
            "<p><a href=\"/h/{}\">‹ 回到{}</a></p>",
            esc(&h.id),
            esc(&h.name)
        ));
    }
    b.push_str(&footer(&c));
    cached(&headers, shell(&format!("{} · 材料清单", item.name), &b))
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
