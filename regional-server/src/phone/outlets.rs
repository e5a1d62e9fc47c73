//! Outlets near me: halls, self-service machines and service stations by distance, open now,
//! with navigation links for Amap, Baidu and Tencent maps (GCJ-02). Distances are counted from
//! the hall until the citizen allows the browser's location; then a small script sorts the
//! list on the phone, and the position never leaves it.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, Timelike, Weekday};
use menpai_model::geo::GeoPoint;
use menpai_model::outlet::{Outlet, OutletKind};
use serde::Deserialize;

use super::{cached, cached_with, hall_of, not_found, urlencode};
use crate::Server;
use crate::html::{Markup, Page, footer, html, tel_link};

/// Navigation links for the three map apps most phones have, at the outlet's GCJ-02 position.
pub(super) fn nav_links(o: &Outlet) -> Markup {
    let p = o.location.to_gcj02();
    let (name, addr) = (urlencode(&o.name), urlencode(&o.address));
    let amap = format!(
        "https://uri.amap.com/marker?position={:.6},{:.6}&name={name}&coordinate=gaode&callnative=1&src=menpai",
        p.lon, p.lat
    );
    let baidu = format!(
        "https://api.map.baidu.com/marker?location={:.6},{:.6}&title={name}&content={addr}&coord_type=gcj02&output=html&src=menpai",
        p.lat, p.lon
    );
    let tencent = format!(
        "https://apis.map.qq.com/uri/v1/marker?marker=coord:{:.6},{:.6};title:{name};addr:{addr}&referer=menpai",
        p.lat, p.lon
    );
    html! {
        p class="nav" {
            "导航：" a class="amap" href=(amap) { "高德地图" } " · "
            a class="baidu" href=(baidu) { "百度地图" } " · "
            a class="tencent" href=(tencent) { "腾讯地图" }
        }
    }
}

/// The halls' clock for one page: today, the minute of the day, and how the calendar treats
/// today (working day, weekend, holiday).
pub(super) struct Today {
    date: chrono::NaiveDate,
    minute: u16,
    kind: menpai_model::hours::DayKind,
}

impl Today {
    pub(super) fn read(server: &Server) -> Today {
        let now = crate::clock::local_now();
        Today {
            date: now.date(),
            minute: u16::try_from(now.hour() * 60 + now.minute()).unwrap_or_default(),
            kind: server.halls.day_kind(now.date()),
        }
    }

    /// Whether an outlet is open now, and its hours today in words (`今日 09:00-17:00`,
    /// `今日休息`).
    pub(super) fn of(&self, o: &Outlet) -> (bool, String) {
        let hours = o.hours.label_on(self.date, self.kind);
        let words = if hours.starts_with("今日") {
            hours
        } else {
            format!("今日 {hours}")
        };
        (o.hours.is_open(self.date, self.minute, self.kind), words)
    }
}

fn open_label(open: bool) -> Markup {
    html! {
        @if open { b class="open" { "营业中" } } @else { b class="closed" { "休息中" } }
    }
}

fn distance_label(m: f64) -> String {
    if m < 1000.0 {
        format!("{:.0} 米", m)
    } else {
        format!("{:.1} 公里", m / 1000.0)
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct NearQuery {
    /// The hall the citizen came from: distances start there.
    #[serde(default)]
    h: Option<String>,
    /// Only outlets handling this item.
    #[serde(default)]
    item: Option<String>,
}

/// Sorts the list by the phone's own position, when the citizen allows it. Distances are
/// computed on the phone (WGS-84, as browsers give it).
const NEAR_SCRIPT: &str = "(function(){var b=document.getElementById('locate');if(!b||!navigator.geolocation)return;\
b.hidden=false;b.onclick=function(){b.textContent='正在定位…';navigator.geolocation.getCurrentPosition(function(p){\
var la=p.coords.latitude,lo=p.coords.longitude,r=Math.PI/180,l=document.getElementById('outlets'),\
c=Array.prototype.slice.call(l.children);c.forEach(function(e){var a=e.dataset.lat*r,o=e.dataset.lon*r,\
x=Math.sin((a-la*r)/2),y=Math.sin((o-lo*r)/2),h=x*x+Math.cos(a)*Math.cos(la*r)*y*y,\
d=12742000*Math.asin(Math.min(1,Math.sqrt(h)));e.dataset.d=d;e.querySelector('.dist').textContent=\
d<1000?Math.round(d)+' 米':(d/1000).toFixed(1)+' 公里';});c.sort(function(p,q){return p.dataset.d-q.dataset.d;});\
c.forEach(function(e){l.appendChild(e);});document.getElementById('from').textContent='离您的距离';b.hidden=true;},\
function(){b.textContent='没有取得位置，仍按大厅距离排列';},{timeout:10000,maximumAge:60000});};})();";

/// `/o?h={hall}&item={item}`: outlets by distance from the hall (or from the phone).
pub(super) async fn near(
    State(server): State<Arc<Server>>,
    Query(q): Query<NearQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("办事地点", None);
    };
    let hall = q.h.as_deref().and_then(|h| hall_of(&c, h));
    let item = q
        .item
        .as_deref()
        .and_then(|id| c.pack.items.iter().find(|i| i.id == id));
    if q.item.is_some() && item.is_none() {
        return not_found("这个事项", None);
    }
    let from: Option<GeoPoint> = hall
        .map(|h| h.location)
        .or_else(|| c.pack.region.as_ref().map(|r| r.center))
        .or_else(|| c.pack.outlets.first().map(|o| o.location));
    let Some(from) = from else {
        return not_found("办事地点", None);
    };
    let mut list: Vec<(&Outlet, f64)> = c
        .pack
        .outlets
        .iter()
        .filter(|o| item.is_none_or(|i| o.items.contains(&i.id)))
        .map(|o| (o, from.distance_m(&o.location)))
        .collect();
    list.sort_by(|a, b| a.1.total_cmp(&b.1));
    let from_words = match hall {
        Some(h) => format!("离{}的距离", h.name),
        None => "离区中心的距离".into(),
    };
    let today = Today::read(&server);
    let body = html! {
        @if let Some(h) = hall {
            p { a href={ "/h/" (h.id) } { "‹ 回到" (h.name) } }
        }
        h1 { "附近的办事地点" }
        @if let Some(i) = item {
            p { "可以办理：" b { (i.name) } }
        }
        p class="muted" {
            span id="from" { (from_words) } " · "
            button id="locate" type="button" hidden
                style="width:auto;padding:6px 12px;font-size:15px" { "按我的位置排列" }
        }
        div id="outlets" {
            @for (o, m) in &list {
                @let (open, hours) = today.of(o);
                div class="card outlet" data-lat=(format!("{:.6}", o.location.lat))
                    data-lon=(format!("{:.6}", o.location.lon)) {
                    b { a href={ "/o/" (o.id) } { (o.name) } }
                    p {
                        span class="tag" { (o.kind.label()) }
                        span class="dist" { (distance_label(*m)) } " · "
                        (open_label(open)) " · " (hours)
                    }
                    p class="muted" { (o.address) }
                    (nav_links(o))
                }
            }
            @if list.is_empty() {
                p { "没有找到可以办理的地点，请到咨询台询问。" }
            }
        }
        p class="muted" { "导航坐标为国测局坐标（GCJ-02）。" }
        (footer(&c.version))
    };
    let page = Page::phone("附近的办事地点")
        .script(NEAR_SCRIPT)
        .render(body);
    cached_with(&headers, page, NEAR_SCRIPT)
}

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Mon, "周一"),
    (Weekday::Tue, "周二"),
    (Weekday::Wed, "周三"),
    (Weekday::Thu, "周四"),
    (Weekday::Fri, "周五"),
    (Weekday::Sat, "周六"),
    (Weekday::Sun, "周日"),
];

/// `/o/{outlet}`: one outlet: open now, the week's hours, address, phone, how to get there,
/// navigation, the items it handles.
pub(super) async fn outlet(
    State(server): State<Arc<Server>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个办事地点", None);
    };
    let Some(o) = c.pack.outlets.iter().find(|o| o.id == id) else {
        return not_found("这个办事地点", None);
    };
    let today = Today::read(&server);
    let (open, hours) = today.of(o);
    let weekday = today.date.weekday();
    let items: Vec<_> = c
        .pack
        .items
        .iter()
        .filter(|i| o.items.contains(&i.id))
        .collect();
    let via = if o.kind == OutletKind::Hall {
        format!("?h={}", urlencode(&o.id))
    } else {
        String::new()
    };
    let notices = super::notices::current(&server, &c.pack, &o.id);
    let body = html! {
        h1 id="outlet" { (o.name) }
        (super::notices::cards(&notices))
        p { span class="tag" { (o.kind.label()) } (open_label(open)) " · " (hours) }
        div class="card" {
            p { (o.address) }
            p { "电话 " (tel_link(&o.phone)) }
            (nav_links(o))
        }
        div class="card" id="hours" {
            h2 { "办公时间" }
            ul {
                @for (d, label) in WEEK {
                    @let spans = o.hours.day(d);
                    li {
                        (label) " "
                        @if spans.is_empty() { "休息" } @else { (spans.join(" ")) }
                        @if d == weekday { " " b { "（今天）" } }
                    }
                }
            }
            @if o.hours.closed_on_holidays {
                p class="muted" { "法定节假日休息，调休上班日照常办公。" }
            }
        }
        @if !o.transit.is_empty() || !o.notes.is_empty() {
            div class="card" {
                h2 { "怎么去" }
                ul { @for t in o.transit.iter().chain(&o.notes) { li { (t) } } }
            }
        }
        @if !items.is_empty() {
            h2 { "可以办理（" (items.len()) " 项）" }
            div class="card list" id="items" {
                @for i in items.iter().take(40) {
                    a href={ "/i/" (i.id) (via) } { (i.name) }
                }
            }
            @if o.kind == OutletKind::Hall {
                p { a href={ "/h/" (o.id) } { "进入" (o.name) "的门牌：搜索事项、预约" } }
            }
        }
        p { a href={ "/o?h=" (urlencode(&o.id)) } { "附近其他办事地点" } }
        (footer(&c.version))
    };
    cached(&headers, Page::phone(&o.name).render(body))
}
