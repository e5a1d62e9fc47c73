//! The booking pages on the phone: a hall's items, the booking form and the confirmation.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use menpai_model::appointment::sign;
use menpai_model::queue::mask_phone;

use super::{Slot, item_at, slots};
use crate::Server;
use crate::error::AppError;
use crate::fleet::esc;
use crate::phone::{FormToken, message_page, private_page};
use crate::queue::local_now;

/// The booking pages share the phone pages' look.
fn page(title: &str, body: &str) -> String {
    crate::phone::shell(&format!("{title} · 办事预约"), body)
}

pub(crate) fn refused_page(e: &AppError, back: Option<(&str, &str)>) -> Response {
    message_page(e.status, "预约没有成功", &e.message, back)
}

/// `/book/{hall}`: the items a hall takes bookings for.
pub(super) async fn items_page(
    State(server): State<Arc<Server>>,
    UrlPath(hall): UrlPath<String>,
) -> Response {
    let Some(h) = server.halls.get(&hall) else {
        return crate::phone::not_found("这个服务大厅", None);
    };
    let mut items: Vec<(&String, &(String, String))> = h.items.iter().collect();
    items.sort_by(|a, b| a.1.0.cmp(&b.1.0));
    let mut b = format!(
        "<p><a href=\"/h/{0}\">‹ {1}</a></p><h1>预约办事</h1><p class=\"muted\">{1} · 选择要办的事项</p>\
         <div class=\"card list\" id=\"items\">",
        esc(&h.id),
        esc(&h.name)
    );
    for (id, (name, _)) in items {
        b.push_str(&format!(
            "<a href=\"/book/{}/{}\">{}</a>",
            esc(&h.id),
            esc(id),
            esc(name)
        ));
    }
    b.push_str("</div>");
    private_page(StatusCode::OK, page(&h.name, &b), "")
}

/// The phone booking page: the next open days' slots, name and phone.
pub(super) async fn book_page(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    UrlPath((hall, item)): UrlPath<(String, String)>,
) -> Response {
    let token = FormToken::of(&headers);
    let s2 = server.clone();
    let (h2, i2, t2) = (hall.clone(), item.clone(), token.field());
    let made = tokio::task::spawn_blocking(move || form_page(&s2, &h2, &i2, &t2, None)).await;
    let mut response = match made {
        Ok(Ok(html)) => private_page(StatusCode::OK, html, ""),
        Ok(Err(e)) if e.status == StatusCode::NOT_FOUND => {
            let back = format!("/h/{hall}");
            return crate::phone::not_found("这个预约事项", Some((&back, "回到大厅门牌")));
        }
        Ok(Err(e)) => return refused_page(&e, None),
        Err(e) => return AppError::internal(e).into_response(),
    };
    token.set_on(&mut response);
    response
}

pub(crate) fn form_page(
    server: &Server,
    hall: &str,
    item: &str,
    csrf_field: &str,
    error: Option<&str>,
) -> std::result::Result<String, AppError> {
    let (item_name, _) = item_at(server, hall, item)?;
    let hall_name = server
        .halls
        .get(hall)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let mut b = format!(
        "<p><a href=\"/book/{}\">‹ 换个事项</a></p><h1>预约：{}</h1><p class=\"muted\">{}</p>",
        esc(hall),
        esc(&item_name),
        esc(&hall_name)
    );
    if let Some(e) = error {
        b.push_str(&format!("<p class=\"err\" id=\"error\">{}</p>", esc(e)));
    }
    b.push_str(&format!(
        "<form method=\"post\" action=\"/book/{}/{}\">{csrf_field}",
        esc(hall),
        esc(item)
    ));
    let today = local_now().date();
    let mut days = 0;
    for d in 0..=server.config.appointment_days_ahead as i64 {
        let date = today + Duration::days(d);
        let open: Vec<Slot> = slots(server, hall, item, date)?
            .into_iter()
            .filter(|s| s.left > 0)
            .collect();
        if open.is_empty() {
            continue;
        }
        b.push_str(&format!("<p><b>{}</b></p>", date.format("%m月%d日")));
        for s in open {
            b.push_str(&format!(
                "<label class=\"slot\"><input type=\"radio\" name=\"slot\" value=\"{date} {0}\" required> {0}-{1}（余{2}）</label>",
                s.start, s.end, s.left
            ));
        }
        days += 1;
        if days == 3 {
            break;
        }
    }
    if days == 0 {
        b.push_str("<p>近期没有可预约的时段。</p>");
    }
    b.push_str(
        "<label>姓名 <input type=\"text\" name=\"name\" id=\"name\" maxlength=\"20\" required autocomplete=\"name\"></label>\
         <label>手机号 <input type=\"tel\" name=\"phone\" id=\"phone\" maxlength=\"11\" required inputmode=\"numeric\" autocomplete=\"tel\"></label>\
         <button id=\"book\" type=\"submit\">预约</button></form>\
         <p class=\"muted\">提交后会给这个手机号发验证码。姓名和手机号加密保存，只用于本次预约，到期自动删除。</p>",
    );
    Ok(page(&item_name, &b))
}

/// `/a/{id}`: a booking's confirmation, with the QR code to scan at the hall's terminal; once
/// checked in, the way to follow its ticket.
pub(super) async fn appointment_page(
    State(server): State<Arc<Server>>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let well_formed =
        id.len() == 15 && id.starts_with("ap-") && id[3..].bytes().all(|b| b.is_ascii_hexdigit());
    let s2 = server.clone();
    let found = tokio::task::spawn_blocking(move || {
        well_formed
            .then(|| s2.storage.appointment(&id))
            .transpose()
            .map(Option::flatten)
    })
    .await;
    let a = match found {
        Ok(Ok(Some(a))) => a,
        Ok(Ok(None)) => return crate::phone::not_found("这个预约", None),
        Ok(Err(e)) => return AppError::internal(e).into_response(),
        Err(e) => return AppError::internal(e).into_response(),
    };
    let c = &a.claims;
    let hall_name = server
        .halls
        .get(&c.hall)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let phone = a
        .phone_enc
        .as_ref()
        .and_then(|p| server.sealer.open(p))
        .map(|p| mask_phone(&p))
        .unwrap_or_default();
    let mut b = format!(
        "<h1>预约成功</h1><div class=\"card\"><p><b id=\"item\">{}</b></p><p id=\"slot\">{}</p>\
         <p>{}</p><p>{} {}</p>",
        esc(&c.item_name),
        esc(&c.slot_label()),
        esc(&hall_name),
        esc(&c.holder),
        esc(&phone)
    );
    match (&a.checked_in_at, &a.ticket) {
        (Some(at), Some(number)) => {
            let day = at.get(..10).unwrap_or_default().replace('-', "");
            b.push_str(&format!(
                "<p id=\"checked-in\">已签到，排队号 <b>{0}</b></p>\
                 <p><a href=\"/t/{1}/{2}/{0}\">查看排队进度 ›</a></p></div>",
                esc(number),
                esc(&c.hall),
                esc(&day)
            ));
        }
        _ => {
            let token = sign(c, &server.appointment_key);
            let svg = qrcode::QrCode::new(token.as_bytes())
                .map(|q| {
                    q.render::<qrcode::render::svg::Color>()
                        .min_dimensions(240, 240)
                        .build()
                })
                .unwrap_or_default();
            b.push_str(&format!(
                "<div id=\"qr\">{svg}</div><p>到大厅后，在门牌终端扫这个二维码签到，领取优先号。</p>\
                 <p class=\"muted\">请提前 10 分钟到达；本页可收藏，短信里也有链接。</p></div>"
            ));
        }
    }
    private_page(StatusCode::OK, page("预约成功", &b), "")
}
