//! Terminals' outbox events, held once by their key; offline tickets among them change a queue,
//! ratings among them are kept tied to what they rate (and a poor one opens a case), usage
//! counts among them go to the hall's statistics.

use menpai_model::sync::OutboxEvent;
use rusqlite::{OptionalExtension, Transaction, params};

use super::cases::record_rating;
use super::queue::{OfflineTicket, apply_offline_ticket};
use super::ratings::{RatedTicket, Rating, RatingSource};
use super::usage::apply_usage;
use super::{Result, Database};

/// What a batch of events did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    pub new: usize,
    pub duplicates: usize,
    /// Halls whose queue changed (offline tickets arrived).
    pub halls: Vec<String>,
    /// Cases poor ratings opened: hall and case id.
    pub cases: Vec<(String, i64)>,
}

/// The events terminals send.
pub trait EventStore {
    /// Holds each event once by its key, and applies the new ones that change a queue (offline
    /// tickets), rate a service (ratings) or count a terminal's use (usage) in the same
    /// transaction.
    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested>;
    fn event_count(&self) -> Result<u64>;
}

impl EventStore for Database {
    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        let mut halls = Vec::new();
        let mut cases = Vec::new();
        let arrived = local_stamp(now);
        {
            let mut put = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (idempotency_key, device_id, kind, body, created_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                let added = put.execute(params![
                    e.key,
                    device,
                    e.kind,
                    e.body.to_string(),
                    e.created_at,
                    now
                ])?;
                new += added;
                if added == 1 && e.kind == "ticket_issued" && e.body["offline"] == true {
                    match serde_json::from_value::<OfflineTicket>(e.body.clone()) {
                        Ok(t) => {
                            if apply_offline_ticket(&tx, device, &t, &arrived)?
                                && !halls.contains(&t.hall)
                            {
                                halls.push(t.hall);
                            }
                        }
                        Err(err) => {
                            tracing::warn!(%device, error = %err, "An offline ticket event could not be read.")
                        }
                    }
                }
                if added == 1 && e.kind == "usage" {
                    apply_usage(&tx, device, &e.body, &local_stamp(&e.created_at))?;
                }
                // A help call that never reached the hall still counts as asked.
                if added == 1 && e.kind == "help_request" && e.body["reached"] == false {
                    let item = e.body["item"].as_str().unwrap_or_default();
                    let counted = serde_json::json!({ "kind": "help", "subject": item });
                    apply_usage(&tx, device, &counted, &local_stamp(&e.created_at))?;
                }
                if added == 1
                    && e.kind == "rating"
                    && let Some(case) = apply_rating(&tx, device, &e.body, &e.created_at)?
                {
                    cases.push(case);
                }
            }
        }
        tx.commit()?;
        Ok(Ingested {
            new,
            duplicates: events.len() - new,
            halls,
            cases,
        })
    }

    fn event_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

/// Bounds of a plate's rating, as the agent checks them.
const MAX_REASONS: usize = 8;
const MAX_REASON_CHARS: usize = 16;
const MAX_COMMENT_CHARS: usize = 200;

/// A plate's rating event as the agent writes it.
#[derive(Debug, serde::Deserialize)]
struct RatingEvent {
    level: u8,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    item: Option<String>,
    /// The ticket rated; absent for a general rating.
    #[serde(default)]
    ticket: Option<EventTicket>,
    /// Made while the terminal was in training mode (sent later, still practice).
    #[serde(default)]
    training: bool,
}

/// General ratings one terminal may add in [`GENERAL_WINDOW_MIN`] minutes; more are kept only
/// as events (a hand tapping 非常不满意 over and over opens no flood of cases).
const GENERAL_PER_WINDOW: i64 = 6;
const GENERAL_WINDOW_MIN: i64 = 10;

#[derive(Debug, serde::Deserialize)]
struct EventTicket {
    day: String,
    number: String,
}

/// Keeps a plate's rating in the ratings, in the terminal's hall, tied to the ticket it names
/// (with the window and business that served it); the case a poor one opened. A malformed
/// rating, one made in training, one of a ticket this terminal did not issue or that is not
/// finished, a second one of the same ticket, or a general one over the terminal's pace stays
/// only among the raw events.
fn apply_rating(
    tx: &Transaction,
    device: &str,
    body: &serde_json::Value,
    created_at: &str,
) -> Result<Option<(String, i64)>> {
    let r = match serde_json::from_value::<RatingEvent>(body.clone()) {
        Ok(r) => r,
        Err(err) => {
            tracing::warn!(%device, error = %err, "A rating event could not be read.");
            return Ok(None);
        }
    };
    let bounded = (1..=5).contains(&r.level)
        && r.reasons.len() <= MAX_REASONS
        && r.reasons
            .iter()
            .all(|x| !x.is_empty() && x.chars().count() <= MAX_REASON_CHARS)
        && r.comment.chars().count() <= MAX_COMMENT_CHARS
        && r.item.as_ref().is_none_or(|i| i.len() <= 64)
        && r.ticket.as_ref().is_none_or(|t| {
            chrono::NaiveDate::parse_from_str(&t.day, "%Y-%m-%d").is_ok()
                && (1..=8).contains(&t.number.len())
                && t.number.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if !bounded {
        tracing::warn!(%device, "A rating event out of bounds was kept only as an event.");
        return Ok(None);
    }
    let terminal: Option<(String, bool)> = tx
        .query_row(
            "SELECT hall, training FROM devices WHERE id = ?1",
            [device],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((hall, training)) = terminal else {
        tracing::warn!(%device, "A rating from an unknown terminal was kept only as an event.");
        return Ok(None);
    };
    if training || r.training {
        // 培训模式: never counted, never a case.
        tracing::info!(%device, "A rating made in training mode was kept only as an event.");
        return Ok(None);
    }
    let (business, window): (String, Option<u32>) = match &r.ticket {
        Some(t) => {
            // Its last hop tells who served it; its first, which terminal issued it.
            let served = tx
                .query_row(
                    "SELECT last.business, last.window, last.state, first.device
                     FROM tickets last JOIN tickets first
                       ON first.hall = last.hall AND first.day = last.day
                      AND first.number = last.number AND first.hop = 0
                     WHERE last.hall = ?1 AND last.day = ?2 AND last.number = ?3
                     ORDER BY last.hop DESC LIMIT 1",
                    params![hall, t.day, t.number],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<u32>>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Option<String>>(3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((business, window, state, issuer)) = served else {
                tracing::warn!(%device, "A rating of a ticket the hall never issued was kept only as an event.");
                return Ok(None);
            };
            if issuer.as_deref() != Some(device) || state != "done" {
                tracing::warn!(%device, %state, "A rating of a ticket another terminal issued, or not finished, was kept only as an event.");
                return Ok(None);
            }
            (business, window)
        }
        None => {
            let since = chrono::NaiveDateTime::parse_from_str(
                &local_stamp(created_at),
                "%Y-%m-%d %H:%M:%S%.3f",
            )
            .map(|t| crate::clock::stamp(t - chrono::Duration::minutes(GENERAL_WINDOW_MIN)))
            .unwrap_or_default();
            let recent: i64 = tx.query_row(
                "SELECT COUNT(*) FROM ratings
                 WHERE hall = ?3 AND rated_at > ?2 AND device = ?1 AND subject = 'general'",
                params![device, since, hall],
                |row| row.get(0),
            )?;
            if recent >= GENERAL_PER_WINDOW {
                tracing::warn!(%device, "General ratings came too fast from a terminal; one was kept only as an event.");
                return Ok(None);
            }
            (String::new(), None)
        }
    };
    let rating = Rating {
        hall: hall.clone(),
        ticket: r.ticket.map(|t| RatedTicket {
            day: t.day,
            number: t.number,
        }),
        business,
        window,
        item: r.item,
        stars: r.level,
        reasons: r.reasons,
        comment: r.comment,
        source: RatingSource::Kiosk,
        device: Some(device.to_owned()),
        rated_at: local_stamp(created_at),
    };
    match record_rating(tx, &rating)? {
        Some(rated) => Ok(rated.case.map(|c| (hall, c))),
        None => {
            tracing::info!(%device, "A second rating of the same ticket was kept only as an event.");
            Ok(None)
        }
    }
}

/// A terminal's UTC time as a hall's local stamp (China Standard Time); now when unreadable.
fn local_stamp(utc: &str) -> String {
    let local = chrono::DateTime::parse_from_rfc3339(utc)
        .map(|t| crate::clock::local_of(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| crate::clock::local_now());
    crate::clock::stamp(local)
}
