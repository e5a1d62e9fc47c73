//! Proof that a phone belongs to whoever books with it: a booking is held until the code
//! texted to that phone is typed in. Until then the answer is the same for every number, so it
//! tells nothing about anyone's bookings; wrong codes and repeated requests count against the
//! requester and the held booking, never against the phone's owner.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json, Router};
use menpai_model::queue::mask_phone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Server;
use crate::appointments::{self, BookRequest, Booked};
use crate::error::{AppError, JsonBody};
use crate::html::{Markup, Page, error_line, html};
use crate::phone::{message_page, private_page};
use crate::ratelimit::{RateLimit, address_key, wait_words};
use crate::storage::Held;
use crate::storage::booking_codes::MAX_TRIES;
use crate::web::{FormToken, check_form};

/// A code is good for this long.
const CODE_TTL_S: i64 = 10 * 60;

/// How often codes may be asked for: per requester address, per requester and number, and per
/// number (a short cooldown, so texts cannot be used to flood a phone).
#[derive(Debug)]
pub struct CodeLimits {
    per_address: RateLimit,
    /// A plate's booking requests (it books for every citizen in front of it).
    per_terminal: RateLimit,
    per_address_and_phone: RateLimit,
    per_phone: RateLimit,
}

impl CodeLimits {
    /// Counts in the region's shared database (several replicas).
    pub fn share(&self, storage: &Arc<dyn crate::storage::Storage>) {
        self.per_address.share(storage.clone(), "booking.address");
        self.per_terminal.share(storage.clone(), "booking.terminal");
        self.per_address_and_phone
            .share(storage.clone(), "booking.address_phone");
        self.per_phone.share(storage.clone(), "booking.phone");
    }

    pub fn new(c: &crate::config::Config) -> CodeLimits {
        CodeLimits {
            per_address: RateLimit::new(c.booking_per_ip_per_hour, Duration::from_secs(3600)),
            per_terminal: RateLimit::new(
                c.booking_per_terminal_per_hour,
                Duration::from_secs(3600),
            ),
            per_address_and_phone: RateLimit::new(
                c.booking_codes_per_phone_per_hour,
                Duration::from_secs(3600),
            ),
            per_phone: RateLimit::new(1, Duration::from_secs(c.booking_code_interval_s.into())),
        }
    }
}

fn too_often(wait: Duration) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("操作太频繁，请 {} 后再试", wait_words(wait)),
    )
}

/// Counts a request from `address`; 429 with the time to wait over the limit.
pub fn admit(server: &Server, address: &str) -> std::result::Result<(), AppError> {
    server
        .code_limits
        .per_address
        .hit(address, Instant::now())
        .map_err(|w| {
            tracing::warn!("Booking requests from one address over the limit were refused.");
            too_often(w)
        })
}

/// Counts a plate's booking request; 429 with the time to wait over the limit.
pub fn admit_terminal(server: &Server, device: &str) -> std::result::Result<(), AppError> {
    server
        .code_limits
        .per_terminal
        .hit(device, Instant::now())
        .map_err(|w| {
            tracing::warn!(
                device,
                "Booking requests from one plate over the limit were refused."
            );
            too_often(w)
        })
}

/// What the requester learns: the same for every number.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSent {
    /// Where to type the code in (`/api/v1/appointments/{id}/confirm`, or the page).
    pub pending: String,
    pub sent_to: String,
    pub expires_in_s: i64,
}

fn code_hash(server: &Server, id: &str, code: &str) -> String {
    server
        .sealer
        .phone_hash(&format!("booking code\0{id}\0{code}"))
}

fn well_formed(id: &str) -> bool {
    id.len() == 19 && id.starts_with("bk-") && id[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks the booking, holds it and texts a code to the phone.
pub fn request(
    server: &Server,
    address: &str,
    r: &BookRequest,
) -> std::result::Result<CodeSent, AppError> {
    let (phone, _) = appointments::check(server, r)?;
    let phone_key = server.sealer.phone_hash(&phone);
    let now = Instant::now();
    let l = &server.code_limits;
    // Counted as checked (one lock or transaction each): parallel requests cannot all pass.
    let pair = format!("{address} {phone_key}");
    l.per_address_and_phone.hit(&pair, now).map_err(too_often)?;
    if let Err(wait) = l.per_phone.hit(&phone_key, now) {
        l.per_address_and_phone.forget_one(&pair);
        return Err(too_often(wait));
    }
    let id = format!("bk-{}", &crate::web::random_token()[..16]);
    let mut n = [0u8; 4];
    getrandom::fill(&mut n).map_err(AppError::internal)?;
    let code = format!("{:06}", u32::from_le_bytes(n) % 1_000_000);
    let expires_at = chrono::Utc::now().timestamp() + CODE_TTL_S;
    server
        .storage
        .hold(
            &Held {
                id: id.clone(),
                hall: r.hall.clone(),
                item: r.item.clone(),
                date: r.date.clone(),
                start: r.start.clone(),
                // A plate's booking has no name: an empty one says so when it is confirmed.
                name_enc: server.sealer.seal(r.name.trim()),
                phone_enc: server.sealer.seal(&phone),
                code_hash: code_hash(server, &id, &code),
                expires_at,
            },
            chrono::Utc::now().timestamp(),
        )
        .map_err(AppError::internal)?;
    let text =
        format!("【政务服务】您的预约验证码是 {code}，10 分钟内有效。如非本人操作，请忽略。");
    if let Err(e) = server.sms.send(&phone, &text) {
        tracing::warn!(error = %e, "A booking code was not sent.");
        server.storage.release(&id).map_err(AppError::internal)?;
        return Err(AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "验证码没有发出去，请稍后再试",
        ));
    }
    Ok(CodeSent {
        pending: id,
        sent_to: mask_phone(&phone),
        expires_in_s: CODE_TTL_S,
    })
}

/// Books the held booking once its code is right.
pub fn confirm(server: &Server, id: &str, code: &str) -> std::result::Result<Booked, AppError> {
    confirm_in(server, id, code, None)
}

/// [`confirm`], for a booking held in `hall` only (a plate confirms its own hall's bookings).
pub fn confirm_in(
    server: &Server,
    id: &str,
    code: &str,
    hall: Option<&str>,
) -> std::result::Result<Booked, AppError> {
    let gone = || AppError::new(StatusCode::GONE, "验证码已过期或已用过，请重新预约");
    let now = chrono::Utc::now().timestamp();
    if !well_formed(id) {
        return Err(gone());
    }
    let (held, tries) = server
        .storage
        .try_code(id, hall, now)
        .map_err(AppError::internal)?
        .ok_or_else(gone)?;
    let given = code_hash(server, id, code.trim());
    if !menpai_model::secret::same(given.as_bytes(), held.code_hash.as_bytes()) {
        if tries >= MAX_TRIES {
            server.storage.release(id).map_err(AppError::internal)?;
            return Err(AppError::new(
                StatusCode::GONE,
                "验证码错误次数太多，请重新预约",
            ));
        }
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            format!("验证码不对，还可以再试 {} 次", MAX_TRIES - tries),
        ));
    }
    server.storage.release(id).map_err(AppError::internal)?;
    let open = |b: &[u8]| server.sealer.open(b).ok_or_else(gone);
    let r = BookRequest {
        hall: held.hall,
        item: held.item,
        date: held.date,
        start: held.start,
        name: open(&held.name_enc)?,
        phone: open(&held.phone_enc)?,
        at_plate: false,
    };
    let r = BookRequest {
        at_plate: r.name.trim().is_empty(),
        ..r
    };
    appointments::book(server, &r)
}

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route(
            "/api/v1/appointments/{id}/confirm",
            axum::routing::post(confirm_json),
        )
        .route(
            "/book/code/{id}",
            axum::routing::get(code_page).post(code_form),
        )
        .route("/api/v1/appointments", axum::routing::post(book_json))
        .route("/book/{hall}/{item}", axum::routing::post(book_form))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

async fn confirm_json(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CodeBody>,
) -> std::result::Result<(StatusCode, Json<Booked>), AppError> {
    if crate::web::cross_site(&headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "请在本站页面提交预约"));
    }
    admit(&server, &address_key(peer.ip()))?;
    let b = tokio::task::spawn_blocking(move || confirm(&server, &id, &b.code))
        .await
        .map_err(AppError::internal)??;
    Ok((StatusCode::CREATED, Json(b)))
}

fn code_html(
    id: &str,
    sent_to: Option<&str>,
    demo_note: Option<&str>,
    csrf_field: &Markup,
    error: Option<&str>,
) -> Markup {
    let body = html! {
        h1 { "输入验证码" }
        div class="card" {
            @if let Some(to) = sent_to {
                p id="sent" { "验证码已发到 " (to) "，10 分钟内有效。" }
            }
            @if let Some(note) = demo_note {
                p class="muted" id="demo-sms" { (note) }
            }
            @if let Some(e) = error { (error_line(e)) }
            form method="post" action={ "/book/code/" (id) } {
                (csrf_field)
                label {
                    "验证码 "
                    input name="code" id="code" inputmode="numeric" maxlength="6"
                        autocomplete="one-time-code" required;
                }
                button id="confirm" type="submit" { "确认预约" }
            }
        }
    };
    Page::phone("输入验证码 · 办事预约").render(body)
}

/// `/book/code/{id}`: where the texted code is typed in.
async fn code_page(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = chrono::Utc::now().timestamp();
    let s2 = server.clone();
    let id2 = id.clone();
    let held = tokio::task::spawn_blocking(move || {
        well_formed(&id2)
            .then(|| s2.storage.held(&id2, now).ok().flatten())
            .flatten()
    })
    .await
    .ok()
    .flatten();
    let Some(held) = held else {
        return message_page(
            StatusCode::GONE,
            "验证码已失效",
            "验证码已过期或已用过，请重新预约",
            None,
        );
    };
    let sent_to = server.sealer.open(&held.phone_enc).map(|p| mask_phone(&p));
    let token = FormToken::of(&headers);
    let mut response = private_page(
        StatusCode::OK,
        code_html(
            &id,
            sent_to.as_deref(),
            server.sms.demo_note(),
            &token.field(),
            None,
        ),
        "",
    );
    token.set_on(&mut response);
    response
}

async fn code_form(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let refused = |e: &AppError| message_page(e.status, "预约没有成功", &e.message, None);
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return refused(&e);
    }
    if let Err(e) = admit(&server, &address_key(peer.ip())) {
        return refused(&e);
    }
    let code = f.get("code").cloned().unwrap_or_default();
    let s2 = server.clone();
    let id2 = id.clone();
    match tokio::task::spawn_blocking(move || confirm(&s2, &id2, &code)).await {
        Ok(Ok(b)) => Redirect::to(&format!("/a/{}", b.id)).into_response(),
        Ok(Err(e)) if e.status == StatusCode::FORBIDDEN => {
            let csrf = FormToken::of(&headers).field();
            private_page(
                e.status,
                code_html(&id, None, None, &csrf, Some(&e.message)),
                "",
            )
        }
        Ok(Err(e)) => refused(&e),
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// Holds a booking and texts its code: 202 with where to confirm it.
async fn book_json(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(r): JsonBody<BookRequest>,
) -> std::result::Result<(StatusCode, Json<Value>), AppError> {
    appointments::same_site(&headers)?;
    let address = address_key(peer.ip());
    admit(&server, &address)?;
    let sent = tokio::task::spawn_blocking(move || request(&server, &address, &r))
        .await
        .map_err(AppError::internal)??;
    Ok(sent_json(sent))
}

async fn book_form(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((hall, item)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let back = format!("/book/{hall}/{item}");
    if let Err(e) = check_form(&headers, f.get("csrf")) {
        return appointments::refused_page(&e, Some((&back, "重新预约")));
    }
    let address = address_key(peer.ip());
    if let Err(e) = admit(&server, &address) {
        return appointments::refused_page(&e, None);
    }
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (date, start) = field("slot")
        .split_once(' ')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap_or_default();
    let r = BookRequest {
        hall: hall.clone(),
        item: item.clone(),
        date,
        start,
        name: field("name"),
        phone: field("phone"),
        at_plate: false,
    };
    let s2 = server.clone();
    let csrf = FormToken::of(&headers).field();
    let done = tokio::task::spawn_blocking(move || {
        request(&s2, &address, &r).map_err(|e| {
            let again = appointments::form_page(&s2, &r.hall, &r.item, &csrf, Some(&e.message));
            Box::new((e, again))
        })
    })
    .await;
    match done {
        // The code page has its own address (no personal data in it).
        Ok(Ok(sent)) => Redirect::to(&format!("/book/code/{}", sent.pending)).into_response(),
        Ok(Err(failed)) => match *failed {
            (e, Ok(html)) => private_page(e.status, html, ""),
            (e, Err(_)) => appointments::refused_page(&e, Some((&back, "重新预约"))),
        },
        Err(e) => AppError::internal(e).into_response(),
    }
}

/// Answer of `POST /api/v1/appointments`.
pub fn sent_json(sent: CodeSent) -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!(sent)))
}
