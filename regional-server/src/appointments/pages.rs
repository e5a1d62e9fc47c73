//! The booking pages on the phone: a hall's items, the booking form and the confirmation.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use menpai_model::appointment::sign;
use menpai_model::queue::mask_phone;

use super::{item_at, open_days};
use crate::Server;
use crate::error::AppError;
use crate::html::{Markup, Page, PreEscaped, error_line, html};
use crate::phone::{message_page, private_page};
use crate::web::FormToken;

/// The booking pages share the phone pages' look.
fn page(title: &str, body: Markup) -> Markup {
    Page::phone(&format!("{title} · 办事预约")).render(body)
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
    let body = html! {
        p { a href={ "/h/" (h.id) } { "‹ " (h.name) } }
        h1 { "预约办事" }
        p class="muted" { (h.name) " · 选择要办的事项" }
        div class="card list" id="items" {
            @for (id, (name, _)) in items {
                a href={ "/book/" (h.id) "/" (id) } { (name) }
            }
        }
    };
    private_page(StatusCode::OK, page(&h.name, body), "")
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
    csrf_field: &Markup,
    error: Option<&str>,
) -> std::result::Result<Markup, AppError> {
    let (item_name, _) = item_at(server, hall, item)?;
    let hall_name = server
        .halls
        .get(hall)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let days = open_days(server, hall, item)?;
    let body = html! {
        p { a href={ "/book/" (hall) } { "‹ 换个事项" } }
        h1 { "预约：" (item_name) }
        p class="muted" { (hall_name) }
        @if let Some(e) = error { (error_line(e)) }
        form method="post" action={ "/book/" (hall) "/" (item) } {
            (csrf_field)
            @for (date, open) in &days {
                p { b { (date.format("%m月%d日")) } }
                @for s in open {
                    label class="slot" {
                        input type="radio" name="slot" value={ (date) " " (s.start) } required;
                        " " (s.start) "-" (s.end) "（余" (s.left) "）"
                    }
                }
            }
            @if days.is_empty() {
                p { "近期没有可预约的时段。" }
            }
            label {
                "姓名 "
                input type="text" name="name" id="name" maxlength="20" required autocomplete="name";
            }
            label {
                "手机号 "
                input type="tel" name="phone" id="phone" maxlength="11" required inputmode="numeric"
                    autocomplete="tel";
            }
            button id="book" type="submit" { "预约" }
        }
        p class="muted" { "提交后会给这个手机号发验证码。姓名和手机号加密保存，只用于本次预约，到期自动删除。" }
    };
    Ok(page(&item_name, body))
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
    let checked_in = match (&a.checked_in_at, &a.ticket) {
        (Some(at), Some(number)) => {
            Some((at.get(..10).unwrap_or_default().replace('-', ""), number))
        }
        _ => None,
    };
    // Our own QR code of the signed booking, rendered by the qrcode crate: constant markup with
    // no text from the citizen, so it goes into the page unescaped.
    let qr = checked_in.is_none().then(|| {
        let token = sign(c, &server.appointment_key);
        qrcode::QrCode::new(token.as_bytes())
            .map(|q| {
                q.render::<qrcode::render::svg::Color>()
                    .min_dimensions(240, 240)
                    .build()
            })
            .unwrap_or_default()
    });
    let body = html! {
        h1 { "预约成功" }
        div class="card" {
            p { b id="item" { (c.item_name) } }
            p id="slot" { (c.slot_label()) }
            p { (hall_name) }
            p { (c.holder) " " (phone) }
            @if let Some((day, number)) = &checked_in {
                p id="checked-in" { "已签到，排队号 " b { (number) } }
                p { a href={ "/t/" (c.hall) "/" (day) "/" (number) } { "查看排队进度 ›" } }
            }
            @if let Some(svg) = qr {
                div id="qr" { (PreEscaped(svg)) }
                p { "到大厅后，在门牌终端扫这个二维码签到，领取优先号。" }
                p class="muted" { "请提前 10 分钟到达；本页可收藏，短信里也有链接。" }
            }
        }
    };
    private_page(StatusCode::OK, page("预约成功", body), "")
}
