//! Appointments: slots per item and hall with a capacity, booking (API and a phone page),
//! the citizen's signed check-in token, and personal data sealed at rest and wiped after the
//! retention period.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{Duration, NaiveDate};
use menpai_model::appointment::{AppointmentClaims, sign};
use menpai_model::queue::{mask_name, mask_phone};
use ring::aead::{CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Server;
use crate::error::{AppError, JsonBody};
use crate::fleet::esc;
use crate::operators::{Role, Session};
use crate::phone::{FormToken, message_page, private_page};
use crate::queue::{local_now, stamp};
use crate::storage::{Result, Sqlite, StorageError};

/// Minutes per slot.
pub const SLOT_MIN: u16 = 30;

/// Seals names and phone numbers (ChaCha20-Poly1305, a random nonce per value) and keys the
/// phone hash that limits bookings. The key lives in the data directory (mode 0600).
pub struct Sealer {
    key: LessSafeKey,
    mac: ring::hmac::Key,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn load_or_create(path: &Path) -> anyhow::Result<Sealer> {
        Ok(Sealer::from_key(&crate::secret_key(path)?))
    }

    pub fn from_key(bytes: &[u8; 32]) -> Sealer {
        let key =
            LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("32-byte key"));
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes);
        Sealer { key, mac }
    }

    /// nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the OS gives random bytes");
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                &mut buf,
            )
            .expect("sealing cannot fail for small values");
        [nonce.to_vec(), buf].concat()
    }

    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        let (nonce, rest) = sealed.split_at_checked(12)?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::try_assume_unique_for_key(nonce).ok()?,
                ring::aead::Aad::empty(),
                &mut buf,
            )
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    pub fn phone_hash(&self, phone: &str) -> String {
        hex::encode(ring::hmac::sign(&self.mac, phone.as_bytes()).as_ref())
    }
}

/// A booking to store.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub claims: AppointmentClaims,
    pub name_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub phone_hash: String,
    pub booked_at: String,
    pub capacity: u32,
}

/// A stored appointment, personal data still sealed (or wiped).
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub claims: AppointmentClaims,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub checked_in_at: Option<String>,
    pub ticket: Option<String>,
}

pub trait AppointmentStore {
    /// Booked places per slot start.
    fn booked(&self, hall: &str, item: &str, date: &str) -> Result<HashMap<String, u32>>;
    fn capacity(&self, hall: &str, item: &str) -> Result<Option<u32>>;
    fn set_capacity(&self, hall: &str, item: &str, capacity: u32) -> Result<()>;
    /// Books a place if the slot has one and the phone has no booking of the item that day.
    fn book(&self, a: &NewAppointment) -> Result<()>;
    fn appointment(&self, id: &str) -> Result<Option<Appointment>>;
    /// Wipes names and phones of appointments dated before `before`; how many.
    fn purge_personal_data(&self, before: &str, now: &str) -> Result<usize>;
}

impl AppointmentStore for Sqlite {
    fn booked(&self, hall: &str, item: &str, date: &str) -> Result<HashMap<String, u32>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT start, COUNT(*) FROM appointments WHERE hall = ?1 AND item = ?2 AND date = ?3 GROUP BY start",
        )?;
        let rows = stmt
            .query_map(params![hall, item, date], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(rows)
    }

    fn capacity(&self, hall: &str, item: &str) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT capacity FROM slot_capacity WHERE hall = ?1 AND item = ?2",
                params![hall, item],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_capacity(&self, hall: &str, item: &str, capacity: u32) -> Result<()> {
        self.conn().execute(
            "INSERT INTO slot_capacity (hall, item, capacity) VALUES (?1, ?2, ?3)
             ON CONFLICT (hall, item) DO UPDATE SET capacity = excluded.capacity",
            params![hall, item, capacity],
        )?;
        Ok(())
    }

    fn book(&self, a: &NewAppointment) -> Result<()> {
        let c = &a.claims;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let taken: u32 = tx.query_row(
            "SELECT COUNT(*) FROM appointments WHERE hall = ?1 AND item = ?2 AND date = ?3 AND start = ?4",
            params![c.hall, c.item, c.date, c.start],
            |r| r.get(0),
        )?;
        if taken >= a.capacity {
            return Err(StorageError::Conflict(
                "这个时段已约满，请换一个时段".into(),
            ));
        }
        let inserted = tx.execute(
            "INSERT INTO appointments (id, hall, item, item_name, prefix, date, start, end, holder_masked,
                                       name_enc, phone_enc, phone_hash, booked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                c.id, c.hall, c.item, c.item_name, c.prefix, c.date, c.start, c.end, c.holder,
                a.name_enc, a.phone_enc, a.phone_hash, a.booked_at
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StorageError::Conflict(
                    "这个手机号当天已预约过这个事项".into(),
                ));
            }
            r => r?,
        };
        tx.commit()?;
        Ok(())
    }

    fn appointment(&self, id: &str) -> Result<Option<Appointment>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, hall, item, item_name, prefix, date, start, end, holder_masked,
                        name_enc, phone_enc, checked_in_at, ticket
                 FROM appointments WHERE id = ?1",
                [id],
                |r| {
                    Ok(Appointment {
                        claims: AppointmentClaims {
                            id: r.get(0)?,
                            hall: r.get(1)?,
                            item: r.get(2)?,
                            item_name: r.get(3)?,
                            prefix: r.get(4)?,
                            date: r.get(5)?,
                            start: r.get(6)?,
                            end: r.get(7)?,
                            holder: r.get(8)?,
                        },
                        name_enc: r.get(9)?,
                        phone_enc: r.get(10)?,
                        checked_in_at: r.get(11)?,
                        ticket: r.get(12)?,
                    })
                },
            )
            .optional()?)
    }

    fn purge_personal_data(&self, before: &str, now: &str) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE appointments SET name_enc = NULL, phone_enc = NULL, phone_hash = NULL, purged_at = ?2
             WHERE date < ?1 AND purged_at IS NULL",
            params![before, now],
        )?)
    }
}

/// A slot as offered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    pub start: String,
    pub end: String,
    pub left: u32,
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// What a hall offers for an item: its name and ticket prefix.
fn item_at(
    server: &Server,
    hall: &str,
    item: &str,
) -> std::result::Result<(String, String), AppError> {
    let h = server
        .halls
        .get(hall)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个大厅"))?;
    let info = h
        .items
        .get(item)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "这个大厅不办理这个事项"))?;
    Ok(info.clone())
}

/// Places per slot for an item in a hall: its own, else the default.
fn capacity_of(server: &Server, hall: &str, item: &str) -> std::result::Result<u32, AppError> {
    Ok(server
        .storage
        .capacity(hall, item)
        .map_err(AppError::internal)?
        .unwrap_or(server.config.appointment_slot_capacity))
}

/// The 30-minute slots of a day in the hall's hours, with places left.
pub fn slots(
    server: &Server,
    hall: &str,
    item: &str,
    date: NaiveDate,
) -> std::result::Result<Vec<Slot>, AppError> {
    item_at(server, hall, item)?;
    let h = server
        .halls
        .get(hall)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个大厅"))?;
    let capacity = capacity_of(server, hall, item)?;
    let booked = server
        .storage
        .booked(hall, item, &date.to_string())
        .map_err(AppError::internal)?;
    let now = local_now();
    let mut out = Vec::new();
    for (open, close) in h.hours.spans_on(date, server.halls.day_kind(date)) {
        let mut m = open;
        while m + SLOT_MIN <= close {
            let start = hhmm(m);
            let starts = date
                .and_hms_opt((m / 60) as u32, (m % 60) as u32, 0)
                .unwrap_or_default();
            if starts > now {
                out.push(Slot {
                    left: capacity.saturating_sub(booked.get(&start).copied().unwrap_or(0)),
                    start,
                    end: hhmm(m + SLOT_MIN),
                });
            }
            m += SLOT_MIN;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    pub hall: String,
    pub item: String,
    pub date: String,
    pub start: String,
    pub name: String,
    pub phone: String,
}

/// A booking made: the token its check-in QR code carries.
#[derive(Debug, Clone, Serialize)]
pub struct Booked {
    pub id: String,
    pub token: String,
    pub item_name: String,
    pub slot: String,
    pub holder: String,
    pub phone: String,
    /// The confirmation page (the check-in QR), also texted to the phone.
    pub confirmation_url: String,
}

fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a booking request before anything is held or sent: the name, the number, the day and
/// a slot with places left. The phone number, trimmed, and the slot.
pub fn check(server: &Server, r: &BookRequest) -> std::result::Result<(String, Slot), AppError> {
    let name = r.name.trim();
    let phone = r.phone.trim();
    if name.is_empty() || name.chars().count() > 20 {
        return Err(AppError::bad_request("请填写姓名（20 个字以内）"));
    }
    if !valid_phone(phone) {
        return Err(AppError::bad_request("请填写 11 位手机号"));
    }
    let date = NaiveDate::parse_from_str(&r.date, "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("日期应为 2026-11-23 这样"))?;
    let today = local_now().date();
    if date < today || date > today + Duration::days(server.config.appointment_days_ahead as i64) {
        return Err(AppError::bad_request(format!(
            "只能预约今天起 {} 天内的时段",
            server.config.appointment_days_ahead
        )));
    }
    let slot = slots(server, &r.hall, &r.item, date)?
        .into_iter()
        .find(|s| s.start == r.start)
        .ok_or_else(|| AppError::bad_request("没有这个时段，请重新选择"))?;
    if slot.left == 0 {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "这个时段已约满，请换一个时段",
        ));
    }
    Ok((phone.to_owned(), slot))
}

/// Books, once the phone is proved (see [`crate::booking_codes`]).
pub fn book(server: &Server, r: &BookRequest) -> std::result::Result<Booked, AppError> {
    let (phone, slot) = check(server, r)?;
    let phone = phone.as_str();
    let name = r.name.trim();
    let (item_name, prefix) = item_at(server, &r.hall, &r.item)?;
    let capacity = capacity_of(server, &r.hall, &r.item)?;
    let claims = AppointmentClaims {
        id: format!("ap-{}", &crate::operators::random_token()[..12]),
        hall: r.hall.clone(),
        item: r.item.clone(),
        item_name: item_name.clone(),
        prefix,
        date: r.date.clone(),
        start: slot.start.clone(),
        end: slot.end.clone(),
        holder: mask_name(name),
    };
    server
        .storage
        .book(&NewAppointment {
            claims: claims.clone(),
            name_enc: server.sealer.seal(name),
            phone_enc: server.sealer.seal(phone),
            phone_hash: server.sealer.phone_hash(phone),
            booked_at: stamp(local_now()),
            capacity,
        })
        .map_err(|e| match e {
            StorageError::Conflict(m) => AppError::new(StatusCode::CONFLICT, m),
            e => AppError::internal(e),
        })?;
    // The log names the appointment, never the person.
    tracing::info!(id = %claims.id, hall = %claims.hall, item = %claims.item, "An appointment was booked.");
    let hall_name = server
        .halls
        .get(&r.hall)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let url = format!(
        "{}/a/{}",
        server
            .public_url
            .get()
            .map(String::as_str)
            .unwrap_or_default(),
        claims.id
    );
    let text = format!(
        "【政务服务】您已预约{item_name}，{}，{hall_name}。到大厅后在门牌终端扫码签到，签到码：{url}",
        claims.slot_label()
    );
    if let Err(e) = server.sms.send(phone, &text) {
        tracing::warn!(id = %claims.id, error = %e, "The booking's text message was not sent.");
    }
    Ok(Booked {
        confirmation_url: url,
        id: claims.id.clone(),
        token: sign(&claims, &server.appointment_key),
        slot: claims.slot_label(),
        holder: claims.holder.clone(),
        phone: mask_phone(phone),
        item_name,
    })
}

/// Wipes personal data past the retention period, now and every hour.
pub async fn purge_loop(server: Arc<Server>) {
    loop {
        let before = (local_now().date()
            - Duration::days(server.config.personal_data_retention_days as i64))
        .to_string();
        match server
            .storage
            .purge_personal_data(&before, &stamp(local_now()))
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                appointments = n,
                "Personal data past its retention period was wiped."
            ),
            Err(e) => tracing::error!(error = %e, "Wiping personal data failed."),
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/api/v1/appointments/slots", get(slots_json))
        .route("/api/v1/admin/appointments/capacity", put(set_capacity))
        .route("/book/{hall}", get(items_page))
        .route("/book/{hall}/{item}", get(book_page))
        .route("/a/{id}", get(appointment_page))
}

#[derive(Deserialize)]
struct SlotQuery {
    hall: String,
    item: String,
    date: String,
}

async fn slots_json(
    State(server): State<Arc<Server>>,
    Query(q): Query<SlotQuery>,
) -> std::result::Result<Json<Value>, AppError> {
    let date = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("日期应为 2026-11-23 这样"))?;
    let s = slots(&server, &q.hall, &q.item, date)?;
    Ok(Json(json!({ "slots": s })))
}

/// Refuses form and JSON posts another site's page makes a browser send.
pub(crate) fn same_site(headers: &HeaderMap) -> std::result::Result<(), AppError> {
    if crate::operators::cross_site(headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "请在本站页面提交预约"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct CapacityBody {
    hall: String,
    item: String,
    capacity: u32,
}

async fn set_capacity(
    State(server): State<Arc<Server>>,
    s: Session,
    JsonBody(b): JsonBody<CapacityBody>,
) -> std::result::Result<Json<Value>, AppError> {
    let op = s.require(Role::Admin)?.name.clone();
    item_at(&server, &b.hall, &b.item)?;
    if b.capacity > 500 {
        return Err(AppError::bad_request("每个时段最多 500 个名额"));
    }
    server
        .storage
        .set_capacity(&b.hall, &b.item, b.capacity)
        .map_err(AppError::internal)?;
    let _ = server.storage.audit(
        &op,
        "appointments.capacity",
        &format!("{} {} {}", b.hall, b.item, b.capacity),
        "ok",
    );
    Ok(Json(
        json!({ "hall": b.hall, "item": b.item, "capacity": b.capacity }),
    ))
}

/// The booking pages share the phone pages' look.
fn page(title: &str, body: &str) -> String {
    crate::phone::shell(&format!("{title} · 办事预约"), body)
}

pub(crate) fn refused_page(e: &AppError, back: Option<(&str, &str)>) -> Response {
    message_page(e.status, "预约没有成功", &e.message, back)
}

/// `/book/{hall}`: the items a hall takes bookings for.
async fn items_page(State(server): State<Arc<Server>>, UrlPath(hall): UrlPath<String>) -> Response {
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
async fn book_page(
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
async fn appointment_page(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_sealed_and_opens_only_with_the_key() {
        let s = Sealer::from_key(&[7; 32]);
        let sealed = s.seal("13812345678");
        assert!(
            !sealed.windows(11).any(|w| w == b"13812345678"),
            "no plain text at rest"
        );
        assert_eq!(s.open(&sealed).as_deref(), Some("13812345678"));
        assert_ne!(s.seal("13812345678"), sealed, "a fresh nonce each time");
        assert_eq!(Sealer::from_key(&[8; 32]).open(&sealed), None);
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert_eq!(s.open(&tampered), None);
        assert_eq!(s.phone_hash("13812345678").len(), 64);
    }

    #[test]
    fn slots_fill_to_capacity_one_booking_per_phone_and_purged_after_retention() {
        let db = Sqlite::open_in_memory().unwrap();
        let s = Sealer::from_key(&[1; 32]);
        let claims = |id: &str, date: &str| AppointmentClaims {
            id: id.into(),
            hall: "h".into(),
            item: "P43".into(),
            item_name: "公积金提取".into(),
            prefix: "E".into(),
            date: date.into(),
            start: "10:00".into(),
            end: "10:30".into(),
            holder: "张*明".into(),
        };
        let new = |id: &str, phone: &str, date: &str| NewAppointment {
            claims: claims(id, date),
            name_enc: s.seal("张小明"),
            phone_enc: s.seal(phone),
            phone_hash: s.phone_hash(phone),
            booked_at: "2026-11-20 09:00:00".into(),
            capacity: 2,
        };
        db.book(&new("a1", "13800000001", "2026-11-23")).unwrap();
        assert!(
            matches!(db.book(&new("a2", "13800000001", "2026-11-23")), Err(StorageError::Conflict(m)) if m.contains("手机号"))
        );
        db.book(&new("a3", "13800000002", "2026-11-23")).unwrap();
        assert!(
            matches!(db.book(&new("a4", "13800000003", "2026-11-23")), Err(StorageError::Conflict(m)) if m.contains("约满"))
        );
        assert_eq!(db.booked("h", "P43", "2026-11-23").unwrap()["10:00"], 2);
        let a = db.appointment("a1").unwrap().unwrap();
        assert_eq!(
            s.open(a.phone_enc.as_ref().unwrap()).as_deref(),
            Some("13800000001")
        );
        db.book(&new("a5", "13800000001", "2026-12-30")).unwrap();
        assert_eq!(
            db.purge_personal_data("2026-12-01", "2026-12-31 00:00:00")
                .unwrap(),
            2
        );
        let a = db.appointment("a1").unwrap().unwrap();
        assert_eq!((a.name_enc, a.phone_enc), (None, None), "wiped");
        assert!(
            db.appointment("a5").unwrap().unwrap().phone_enc.is_some(),
            "not yet due"
        );
    }
}
