//! The hall's queue as this terminal knows it: tickets issued from a block of numbers, calls,
//! waiting counts and estimates, appointment check-in.
//!
//! Without a regional server the agent is the hall's authority and holds the whole day's
//! numbers as one `local` block; with one, blocks are leased from it and calls arrive on its
//! live stream. Every change writes its outbox event in the same transaction. The desk
//! (`desk.rs`) decides, for the HTTP API, where each ticket comes from and what is printed.

pub mod desk;

use chrono::{NaiveDateTime, NaiveTime};
use menpai_model::appointment::AppointmentClaims;
use menpai_model::queue::{
    BusinessQueue, IssuedTicket, Priority, QueueView, TicketState, WindowCall,
};
use menpai_model::{BusinessType, FloorPlan, Outlet};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::json;

use crate::store::{Result as StoreResult, Store, StoreError, enqueue_in};

/// Numbers per prefix and day when the agent is the authority: A001–A999.
const LOCAL_BLOCK: (u32, u32) = (1, 999);
/// Training tickets' numbers: four digits, so they never look like a real one.
const TRAINING_BLOCK: (u32, u32) = (9001, 9999);

/// Recent services averaged for the waiting estimate.
const RECENT_SERVICES: u32 = 20;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Minutes one service takes, until the hall has served enough to measure it.
    pub service_min: u32,
    /// Issue tickets outside the hall's hours (demo).
    pub allow_outside_hours: bool,
    /// Ed25519 public key (base64) appointment tokens are signed with; empty refuses check-in.
    pub appointment_public_key: String,
    /// How long before the slot check-in opens, and after its end it stays open, in minutes.
    pub checkin_early_min: i64,
    pub checkin_late_min: i64,
    /// Tickets (and check-ins) this terminal hands out at once, then per minute.
    pub tickets_burst: u32,
    pub tickets_per_minute: u32,
    /// This terminal's ticket key (base64), from its enrollment: every ticket's link carries a
    /// secret made with it, which rating the service needs. Empty when standalone.
    #[serde(default)]
    pub ticket_key: String,
}

impl QueueConfig {
    /// The ticket key, when the terminal has one.
    pub fn ticket_key(&self) -> Option<[u8; 32]> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(self.ticket_key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
    }
}

/// Why a ticket or check-in was refused, in words for the citizen.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("本大厅没有“{0}”类业务")]
    NoSuchBusiness(String),
    #[error("{0}")]
    Closed(String),
    #[error("今日{0}类号码已取完，请到咨询台")]
    Exhausted(String),
    /// Any other refusal (a used or mistimed appointment, an unknown window), with the status
    /// to answer with.
    #[error("{1}")]
    Refused(u16, String),
    /// Tickets are asked for faster than this terminal hands them out (seconds to wait).
    #[error("取号的人太多，请 {0} 秒后再试")]
    TooFast(u64),
    /// The terminal cannot do it now (its hall is not in the content, no appointment key).
    #[error("{0}")]
    Unavailable(String),
    /// A scanned appointment code that is not one, or not genuine.
    #[error(transparent)]
    Token(#[from] menpai_model::appointment::TokenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for QueueError {
    fn from(e: rusqlite::Error) -> Self {
        QueueError::Store(e.into())
    }
}

/// The hall a terminal stands in, as the queue needs it.
#[derive(Debug, Clone, Copy)]
pub struct Hall<'a> {
    pub outlet: &'a Outlet,
    pub plan: Option<&'a FloorPlan>,
}

impl Hall<'_> {
    pub fn business(&self, prefix: &str) -> Option<&BusinessType> {
        self.outlet
            .business_types
            .iter()
            .find(|b| b.prefix == prefix)
    }

    /// Windows that call `prefix`, by number.
    pub fn windows_for(&self, prefix: &str) -> Vec<u32> {
        let mut w: Vec<u32> = self
            .plan
            .iter()
            .flat_map(|p| &p.floors)
            .flat_map(|f| &f.windows)
            .filter(|w| w.business_types.iter().any(|b| b == prefix))
            .map(|w| w.number)
            .collect();
        w.sort_unstable();
        w
    }

    /// Prefixes window `number` calls.
    pub fn window_types(&self, number: u32) -> Option<Vec<String>> {
        self.plan
            .iter()
            .flat_map(|p| &p.floors)
            .flat_map(|f| &f.windows)
            .find(|w| w.number == number)
            .map(|w| w.business_types.clone())
    }
}

fn day(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d").to_string()
}

fn stamp(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// SQL rank of a priority: lower is called first.
const RANK: &str =
    "CASE priority WHEN 'appointment' THEN 0 WHEN 'elder' THEN 1 WHEN 'green' THEN 1 ELSE 2 END";

fn rank(p: Priority) -> i64 {
    match p {
        Priority::Appointment => 0,
        Priority::Elder | Priority::Green => 1,
        Priority::Normal => 2,
    }
}

/// Average minutes of the hall's recent services of `prefix`, else the configured guess.
fn service_minutes(
    conn: &rusqlite::Connection,
    hall: &str,
    prefix: &str,
    cfg: &QueueConfig,
) -> StoreResult<f64> {
    let avg: Option<f64> = conn.query_row(
        "SELECT AVG((julianday(finished_at) - julianday(called_at)) * 1440.0), COUNT(*) FROM (
             SELECT called_at, finished_at FROM tickets
             WHERE hall = ?1 AND prefix = ?2 AND state = 'done' AND called_at IS NOT NULL
               AND finished_at IS NOT NULL
             ORDER BY id DESC LIMIT ?3)",
        params![hall, prefix, RECENT_SERVICES],
        |r| {
            let n: i64 = r.get(1)?;
            Ok(if n >= 3 {
                r.get::<_, Option<f64>>(0)?
            } else {
                None
            })
        },
    )?;
    Ok(avg.filter(|m| *m > 0.0).unwrap_or(cfg.service_min as f64))
}

fn estimate(ahead: u32, minutes: f64, windows: usize) -> u32 {
    (ahead as f64 * minutes / windows.max(1) as f64).ceil() as u32
}

fn waiting_before(
    conn: &rusqlite::Connection,
    hall: &str,
    day: &str,
    prefix: &str,
    p: Priority,
) -> StoreResult<u32> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT COUNT(*) FROM tickets WHERE hall = ?1 AND day = ?2 AND prefix = ?3
             AND state = 'waiting' AND {RANK} <= ?4"
        ),
        params![hall, day, prefix, rank(p)],
        |r| r.get(0),
    )?;
    Ok(n as u32)
}

/// The queue panel: current calls, and who waits for what.
pub fn view(
    store: &Store,
    hall: Hall,
    now: NaiveDateTime,
    cfg: &QueueConfig,
) -> StoreResult<QueueView> {
    let id = &hall.outlet.id;
    let today = day(now);
    store.read(|conn| {
        let mut stmt = conn.prepare_cached(
            "SELECT window, number, business, called_at FROM tickets
             WHERE hall = ?1 AND day = ?2 AND state = 'called'
             ORDER BY called_at DESC, id DESC LIMIT 12",
        )?;
        let calls = stmt
            .query_map(params![id, today], |r| {
                let at: String = r.get(3)?;
                Ok(WindowCall {
                    window: r.get(0)?,
                    number: r.get(1)?,
                    business: r.get(2)?,
                    at: at.get(11..16).unwrap_or_default().to_owned(),
                    recall: false,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut businesses = Vec::new();
        for b in &hall.outlet.business_types {
            let waiting = waiting_before(conn, id, &today, &b.prefix, Priority::Normal)?;
            let windows = hall.windows_for(&b.prefix);
            let minutes = service_minutes(conn, id, &b.prefix, cfg)?;
            businesses.push(BusinessQueue {
                prefix: b.prefix.clone(),
                name: b.name.clone(),
                waiting,
                estimated_wait_min: estimate(waiting, minutes, windows.len()),
                windows,
            });
        }
        Ok(QueueView {
            hall: hall.outlet.name.clone(),
            calls,
            businesses,
            taking: true,
            closed_reason: None,
        })
    })
}

/// Where a terminal's numbers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numbering {
    /// No regional server: the terminal is the hall's authority.
    Local,
    /// The regional server is away: blocks leased from it. `replaces` names an online request
    /// whose answer was lost, so the server cancels the ticket it may have issued.
    Leased { replaces: Option<String> },
    /// Training mode: the terminal's own training numbers (9001 up), never the hall's.
    Training,
}

/// Takes the next number of `prefix` from this terminal's blocks.
fn take_number(
    tx: &Transaction<'_>,
    hall: &str,
    day: &str,
    prefix: &str,
    numbering: &Numbering,
) -> Result<(u32, bool), QueueError> {
    let source = match numbering {
        Numbering::Local => "local",
        Numbering::Leased { .. } => "lease",
        Numbering::Training => "training",
    };
    let block: Option<(u32, u32, String)> = tx
        .query_row(
            "SELECT first, next, source FROM number_blocks
             WHERE hall = ?1 AND day = ?2 AND prefix = ?3 AND next <= last AND source = ?4
             ORDER BY first LIMIT 1",
            params![hall, day, prefix, source],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (first, seq, source) = match block {
        Some(b) => b,
        None if matches!(numbering, Numbering::Leased { .. }) => {
            return Err(QueueError::Refused(
                503,
                "暂时连不上取号系统，本机备用号码已用完，请到咨询台取号".into(),
            ));
        }
        None => {
            // Local numbers are the hall's only when no other block exists today.
            let (range, others) = match numbering {
                Numbering::Training => (TRAINING_BLOCK, "source = 'training'"),
                _ => (LOCAL_BLOCK, "1"),
            };
            let any: i64 = tx.query_row(
                &format!(
                    "SELECT COUNT(*) FROM number_blocks
                     WHERE hall = ?1 AND day = ?2 AND prefix = ?3 AND {others}"
                ),
                params![hall, day, prefix],
                |r| r.get(0),
            )?;
            if any > 0 {
                return Err(QueueError::Exhausted(prefix.to_owned()));
            }
            tx.execute(
                "INSERT INTO number_blocks (hall, day, prefix, first, last, next, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6)",
                params![hall, day, prefix, range.0, range.1, source],
            )?;
            (range.0, range.0, source.to_owned())
        }
    };
    tx.execute(
        "UPDATE number_blocks SET next = next + 1 WHERE hall = ?1 AND day = ?2 AND prefix = ?3 AND first = ?4",
        params![hall, day, prefix, first],
    )?;
    Ok((seq, source == "lease"))
}

/// What a new ticket needs besides the hall.
#[derive(Debug, Clone)]
pub struct TicketRequest<'a> {
    pub prefix: &'a str,
    pub priority: Priority,
    pub appointment: Option<&'a AppointmentClaims>,
    pub now: NaiveDateTime,
    /// Base of the phone pages, for the follow link.
    pub phone_base_url: &'a str,
    /// Makes the secret the follow link carries.
    pub ticket_key: Option<&'a [u8; 32]>,
}

/// Issues a ticket and queues its event, in one transaction. Not printed yet.
pub fn issue(
    store: &Store,
    hall: Hall,
    r: &TicketRequest,
    cfg: &QueueConfig,
    numbering: &Numbering,
) -> Result<IssuedTicket, QueueError> {
    let business = hall
        .business(r.prefix)
        .ok_or_else(|| QueueError::NoSuchBusiness(r.prefix.to_owned()))?
        .clone();
    let id = hall.outlet.id.clone();
    let today = day(r.now);
    store.transaction(|tx| {
        if let Some(a) = r.appointment {
            let used: Option<String> = tx
                .query_row(
                    "SELECT number FROM tickets WHERE appointment_id = ?1",
                    [&a.id],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(number) = used {
                return Err(QueueError::Refused(
                    409,
                    format!("这个预约已经签到过了，票号 {number}"),
                ));
            }
        }
        let (seq, offline) = take_number(tx, &id, &today, r.prefix, numbering)?;
        let number = format!("{}{seq:03}", r.prefix);
        let ahead = waiting_before(tx, &id, &today, r.prefix, r.priority)?;
        tx.execute(
            "INSERT INTO tickets (hall, day, prefix, seq, number, business, priority, state,
                                  issued_at, appointment_id, offline)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'waiting', ?8, ?9, ?10)",
            params![
                id,
                today,
                r.prefix,
                seq,
                number,
                business.name,
                r.priority.as_str(),
                stamp(r.now),
                r.appointment.map(|a| a.id.clone()),
                offline
            ],
        )?;
        enqueue_in(
            tx,
            "ticket_issued",
            &json!({
                "hall": id, "day": today, "number": number, "prefix": r.prefix,
                "priority": r.priority.as_str(), "issued_at": stamp(r.now),
                "appointment_id": r.appointment.map(|a| a.id.clone()), "offline": offline,
                "seq": seq, "business": business.name,
                "replaces": match numbering { Numbering::Leased { replaces } => replaces.clone(), _ => None },
                "training": *numbering == Numbering::Training,
            }),
        )?;
        let windows = hall.windows_for(r.prefix);
        let minutes = service_minutes(tx, &id, r.prefix, cfg)?;
        Ok(IssuedTicket {
            follow_url: follow_url(r.phone_base_url, &id, &today, &number, r.ticket_key),
            number,
            prefix: r.prefix.to_owned(),
            business: business.name.clone(),
            priority: r.priority,
            people_ahead: ahead,
            estimated_wait_min: estimate(ahead, minutes, windows.len()),
            issued_at: r.now.format("%Y-%m-%d %H:%M").to_string(),
            offline,
            windows,
            printed: false,
            print_error: None,
        })
    })
}

/// The phone page that follows a ticket: `BASE/t/HALL/YYYYMMDD/NUMBER`, with `?k=SECRET`
/// when the terminal has a ticket key (the holder of the slip may then rate the service).
pub fn follow_url(
    base: &str,
    hall: &str,
    day: &str,
    number: &str,
    key: Option<&[u8; 32]>,
) -> String {
    let day = day.replace('-', "");
    let secret = key
        .map(|k| format!("?k={}", menpai_model::ticket::secret(k, hall, &day, number)))
        .unwrap_or_default();
    format!(
        "{}/t/{hall}/{day}/{number}{secret}",
        base.trim_end_matches('/')
    )
}

/// The number an appointment was checked in with at this terminal, if it was.
pub fn checked_in(store: &Store, appointment_id: &str) -> Result<Option<String>, QueueError> {
    Ok(store.read(|conn| {
        Ok(conn
            .query_row(
                "SELECT number FROM tickets WHERE appointment_id = ?1",
                [appointment_id],
                |r| r.get(0),
            )
            .optional()?)
    })?)
}

/// Keeps a copy of a ticket the regional server issued (for reprints, the local panel when
/// the server is away, and refusing an appointment checked in twice here).
pub fn record_online(
    store: &Store,
    hall: &str,
    t: &IssuedTicket,
    appointment_id: Option<&str>,
) -> Result<(), QueueError> {
    let seq: u32 = t
        .number
        .get(t.prefix.len()..)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let day = t.issued_at.get(..10).unwrap_or_default();
    store.transaction(|tx| {
        tx.execute(
            "INSERT OR IGNORE INTO tickets (hall, day, prefix, seq, number, business, priority, state,
                                            issued_at, appointment_id, offline)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'waiting', ?8, ?9, 0)",
            params![hall, day, t.prefix, seq, t.number, t.business, t.priority.as_str(), format!("{}:00", t.issued_at), appointment_id],
        )?;
        Ok(())
    })
}

/// The (day, prefix) pairs this terminal holds fewer than `low` leased numbers for.
pub fn lease_wants(
    store: &Store,
    hall: &str,
    days: &[String],
    prefixes: &[String],
    low: u32,
) -> StoreResult<Vec<menpai_model::queue::LeaseWant>> {
    store.read(|conn| {
        let mut out = Vec::new();
        for day in days {
            for prefix in prefixes {
                let left: i64 = conn.query_row(
                    "SELECT COALESCE(SUM(last - next + 1), 0) FROM number_blocks
                     WHERE hall = ?1 AND day = ?2 AND prefix = ?3 AND source = 'lease' AND next <= last",
                    params![hall, day, prefix],
                    |r| r.get(0),
                )?;
                if left < low as i64 {
                    out.push(menpai_model::queue::LeaseWant { day: day.clone(), prefix: prefix.clone() });
                }
            }
        }
        Ok(out)
    })
}

/// Keeps blocks the regional server leased to this terminal.
pub fn add_leases(
    store: &Store,
    hall: &str,
    leases: &[menpai_model::queue::NumberLease],
) -> StoreResult<()> {
    store.transaction(|tx| {
        for l in leases {
            tx.execute(
                "INSERT OR IGNORE INTO number_blocks (hall, day, prefix, first, last, next, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?4, 'lease')",
                params![hall, l.day, l.prefix, l.first, l.last],
            )?;
        }
        Ok(())
    })
}

/// Calls the next ticket at `window` and finishes the one it served (the simulated staff of a
/// standalone terminal; the regional server's staff page does this for a real hall).
pub fn call_next(
    store: &Store,
    hall: Hall,
    window: u32,
    now: NaiveDateTime,
) -> Result<Option<WindowCall>, QueueError> {
    let types = hall
        .window_types(window)
        .ok_or_else(|| QueueError::Refused(404, format!("大厅没有 {window} 号窗口")))?;
    let id = hall.outlet.id.clone();
    let today = day(now);
    store.transaction(|tx| {
        tx.execute(
            "UPDATE tickets SET state = 'done', finished_at = ?1
             WHERE hall = ?2 AND window = ?3 AND state IN ('called', 'serving')",
            params![stamp(now), id, window],
        )?;
        let marks = vec!["?"; types.len()].join(",");
        let next: Option<(i64, String, String)> = tx
            .query_row(
                &format!(
                    "SELECT id, number, business FROM tickets
                     WHERE hall = ? AND day = ? AND state = 'waiting' AND prefix IN ({marks})
                     ORDER BY {RANK}, id LIMIT 1"
                ),
                rusqlite::params_from_iter(
                    [id.clone(), today.clone()].into_iter().chain(types.iter().cloned()),
                ),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((ticket, number, business)) = next else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE tickets SET state = ?1, window = ?2, called_at = ?3 WHERE id = ?4",
            params![TicketState::Called.as_str(), window, stamp(now), ticket],
        )?;
        enqueue_in(
            tx,
            "ticket_called",
            &json!({ "hall": id, "day": today, "number": number, "window": window, "at": stamp(now) }),
        )?;
        Ok(Some(WindowCall {
            window,
            number,
            business,
            at: now.format("%H:%M").to_string(),
            recall: false,
        }))
    })
}

/// Checks an appointment's hall and time; the signature is checked before.
pub fn check_appointment(
    claims: &AppointmentClaims,
    hall: Hall,
    other_hall_name: Option<&str>,
    now: NaiveDateTime,
    cfg: &QueueConfig,
) -> Result<(), QueueError> {
    if claims.hall != hall.outlet.id {
        let name = other_hall_name.unwrap_or("其他大厅");
        return Err(QueueError::Refused(
            409,
            format!("这个预约在{name}办理，不在本大厅，请前往{name}签到"),
        ));
    }
    let parse = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").ok();
    let date = chrono::NaiveDate::parse_from_str(&claims.date, "%Y-%m-%d").ok();
    let (Some(date), Some(start), Some(end)) = (date, parse(&claims.start), parse(&claims.end))
    else {
        return Err(QueueError::Refused(
            400,
            "预约码无法识别，请重新扫码".into(),
        ));
    };
    let opens = date.and_time(start) - chrono::Duration::minutes(cfg.checkin_early_min);
    let closes = date.and_time(end) + chrono::Duration::minutes(cfg.checkin_late_min);
    if now > closes {
        return Err(QueueError::Refused(
            410,
            format!(
                "预约时间（{}）已过，请重新预约或取普通号",
                claims.slot_label()
            ),
        ));
    }
    if now < opens {
        return Err(QueueError::Refused(
            409,
            format!(
                "还没到签到时间：预约时间 {}，请在 {} 以后签到",
                claims.slot_label(),
                opens.format("%m月%d日 %H:%M")
            ),
        ));
    }
    if hall.business(&claims.prefix).is_none() {
        return Err(QueueError::NoSuchBusiness(claims.prefix.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use menpai_model::ContentPack;

    fn pack() -> ContentPack {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/demo-region");
        menpai_content::load_dir(&dir).expect("demo region loads")
    }

    fn cfg() -> QueueConfig {
        QueueConfig {
            service_min: 8,
            allow_outside_hours: false,
            appointment_public_key: String::new(),
            checkin_early_min: 60,
            checkin_late_min: 15,
            tickets_burst: 10,
            tickets_per_minute: 20,
            ticket_key: String::new(),
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn numbers_run_per_prefix_priority_goes_first_and_calls_finish_the_last() {
        let p = pack();
        let outlet = p.outlets.iter().find(|o| o.id == "hall-futian").unwrap();
        let plan = p.floor_plans.iter().find(|f| f.hall == "hall-futian");
        let hall = Hall { outlet, plan };
        let store = Store::open_in_memory().unwrap();
        let take = |prefix: &str, priority: Priority, now: &str| {
            issue(
                &store,
                hall,
                &TicketRequest {
                    prefix,
                    priority,
                    appointment: None,
                    now: at(now),
                    phone_base_url: "https://m.example.cn",
                    ticket_key: None,
                },
                &cfg(),
                &Numbering::Local,
            )
            .unwrap()
        };
        let e1 = take("E", Priority::Normal, "2026-11-23 09:00");
        let e2 = take("E", Priority::Normal, "2026-11-23 09:01");
        let a1 = take("A", Priority::Normal, "2026-11-23 09:02");
        let e3 = take("E", Priority::Elder, "2026-11-23 09:03");
        assert_eq!((e1.number.as_str(), e2.number.as_str()), ("E001", "E002"));
        assert_eq!(a1.number, "A001");
        assert_eq!(e2.people_ahead, 1);
        assert_eq!(
            e3.people_ahead, 0,
            "an elder goes before the normal tickets"
        );
        assert_eq!(
            e1.follow_url,
            "https://m.example.cn/t/hall-futian/20261123/E001"
        );
        assert!(!e2.windows.is_empty());
        // The next day starts again at 001.
        assert_eq!(
            take("E", Priority::Normal, "2026-11-24 09:00").number,
            "E001"
        );

        let window = e1.windows[0];
        let first = call_next(&store, hall, window, at("2026-11-23 09:10"))
            .unwrap()
            .unwrap();
        assert_eq!(first.number, "E003", "priority first");
        let second = call_next(&store, hall, window, at("2026-11-23 09:20"))
            .unwrap()
            .unwrap();
        assert_eq!(second.number, "E001");
        let v = view(&store, hall, at("2026-11-23 09:21"), &cfg()).unwrap();
        assert_eq!(
            v.calls.len(),
            1,
            "the first call at this window is finished"
        );
        assert_eq!(v.calls[0].number, "E001");
        let e = v.businesses.iter().find(|b| b.prefix == "E").unwrap();
        assert_eq!(e.waiting, 1);
        assert_eq!(
            store.outbox_depth().unwrap(),
            5 + 2,
            "an event per ticket and per call"
        );
        assert!(matches!(
            issue(
                &store,
                hall,
                &TicketRequest {
                    prefix: "Z",
                    priority: Priority::Normal,
                    appointment: None,
                    now: at("2026-11-23 09:00"),
                    phone_base_url: "https://m.example.cn",
                    ticket_key: None
                },
                &cfg(),
                &Numbering::Local
            ),
            Err(QueueError::NoSuchBusiness(_))
        ));
    }
}
