//! Appointments: slots per item and hall with a capacity, booking (API and a phone page),
//! the citizen's signed check-in token, and personal data sealed at rest and wiped after the
//! retention period.

mod device;
mod pages;
mod routes;
pub mod sealing;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use menpai_model::appointment::{AppointmentClaims, sign};
use menpai_model::queue::{mask_name, mask_phone};
use serde::{Deserialize, Serialize};

use crate::Server;
use crate::clock::{local_now, stamp};
use crate::error::AppError;
use crate::shutdown::Shutdown;
use crate::storage::{NewAppointment, StorageError};

pub use device::routes as device_routes;
pub(crate) use pages::{form_page, refused_page};
pub use routes::routes;
pub(crate) use routes::same_site;
pub use sealing::Sealer;

/// Who holds a booking made at a plate, as slips and the check-in screen show it.
pub const PLATE_HOLDER: &str = "现场预约";

/// Minutes per slot.
pub const SLOT_MIN: u16 = 30;

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

/// The next three days with open slots, and those slots.
pub fn open_days(
    server: &Server,
    hall: &str,
    item: &str,
) -> std::result::Result<Vec<(NaiveDate, Vec<Slot>)>, AppError> {
    let today = local_now().date();
    let mut days = Vec::new();
    for d in 0..=server.config.appointment_days_ahead as i64 {
        let date = today + Duration::days(d);
        let open: Vec<Slot> = slots(server, hall, item, date)?
            .into_iter()
            .filter(|s| s.left > 0)
            .collect();
        if open.is_empty() {
            continue;
        }
        days.push((date, open));
        if days.len() == 3 {
            break;
        }
    }
    Ok(days)
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
    /// Booked at a plate in the hall: no name is asked (the citizen types only the phone
    /// number); the holder is shown as [`PLATE_HOLDER`].
    #[serde(skip)]
    pub at_plate: bool,
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
    /// The confirmation reached the text-message gateway (the plate says so only then).
    pub texted: bool,
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
    if (name.is_empty() && !r.at_plate) || name.chars().count() > 20 {
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
        id: format!("ap-{}", &crate::web::random_token()[..12]),
        hall: r.hall.clone(),
        item: r.item.clone(),
        item_name: item_name.clone(),
        prefix,
        date: r.date.clone(),
        start: slot.start.clone(),
        end: slot.end.clone(),
        // At a plate no name is asked: no digit of the phone goes into the token or the
        // table either (the slip may be left behind).
        holder: match r.at_plate {
            true => PLATE_HOLDER.to_owned(),
            false => mask_name(name),
        },
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
    let texted = match server.sms.send(phone, &text) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(id = %claims.id, error = %e, "The booking's text message was not sent.");
            false
        }
    };
    Ok(Booked {
        texted,
        confirmation_url: url,
        id: claims.id.clone(),
        token: sign(&claims, &server.appointment_key),
        slot: claims.slot_label(),
        holder: claims.holder.clone(),
        phone: mask_phone(phone),
        item_name,
    })
}

/// Wipes personal data past the retention period, now and every hour, until `stop` fires.
pub async fn purge_loop(server: Arc<Server>, mut stop: Shutdown) {
    while !stop.fired() {
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
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = stop.wait() => {}
        }
    }
}
