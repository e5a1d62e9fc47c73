//! Terminals' outbox events, held once by their key; offline tickets among them change a queue,
//! ratings among them are kept tied to what they rate (and a poor one opens a case), usage
//! counts among them go to the hall's statistics.

use menpai_model::sync::OutboxEvent;

use super::cases::record_rating;
use super::queue::{OfflineTicket, apply_offline_ticket};
use super::ratings::{RatedTicket, Rating, RatingSource};
use super::usage::apply_usage;
use super::{Database, Exec, OptionalExt, Result};
use crate::params;

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
        let arrived = local_stamp(now);
        // Everything is counted afresh on each try: on PostgreSQL the transaction runs again
        // when a concurrent replica kept one of these keys meanwhile.
        self.transaction(|tx| {
            let mut new = 0;
            let mut halls = Vec::new();
            let mut cases = Vec::new();
            for e in events {
                let added = tx.execute(
                    "INSERT INTO events (idempotency_key, device_id, kind, body, created_at, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (idempotency_key) DO NOTHING",
                    params![e.key, device, e.kind, e.body.to_string(), e.created_at, now],
                )?;
                new += added;
                if added == 1 && e.kind == "ticket_issued" && e.body["offline"] == true {
                    match serde_json::from_value::<OfflineTicket>(e.body.clone()) {
                        Ok(t) => {
                            if apply_offline_ticket(tx, device, &t, &arrived)?
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
                    apply_usage(tx, device, &e.body, &local_stamp(&e.created_at))?;
                }
                // A help call that never reached the hall still counts as asked.
                if added == 1 && e.kind == "help_request" && e.body["reached"] == false {
                    let item = e.body["item"].as_str().unwrap_or_default();
                    let counted = serde_json::json!({ "kind": "help", "subject": item });
                    apply_usage(tx, device, &counted, &local_stamp(&e.created_at))?;
                }
                if added == 1
                    && e.kind == "rating"
                    && let Some(case) = apply_rating(tx, device, &e.body, &e.created_at)?
                {
                    cases.push(case);
                }
            }
            Ok(Ingested {
                new,
                duplicates: events.len() - new,
                halls,
                cases,
            })
        })
    }

    fn event_count(&self) -> Result<u64> {
        let n: i64 = self.query_row("SELECT COUNT(*) FROM events", (), |r| r.get(0))?;
        Ok(n.max(0) as u64)
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
    tx: &impl Exec,
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
                    "SELECT last.business, last.\"window\", last.state, first.device
                     FROM tickets last JOIN tickets first
                       ON first.hall = last.hall AND first.day = last.day
                      AND first.number = last.number AND first.hop = 0
                     WHERE last.hall = ?1 AND last.day = ?2 AND last.number = ?3
                     ORDER BY last.hop DESC LIMIT 1",
                    params![hall, t.day, t.number],
                    |row| {
                        Ok((
                            row.get::<String>(0)?,
                            row.get::<Option<u32>>(1)?,
                            row.get::<String>(2)?,
                            row.get::<Option<String>>(3)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;
    use serde_json::json;
    use std::sync::Arc;

    fn event(key: &str, kind: &str, body: serde_json::Value) -> OutboxEvent {
        OutboxEvent {
            key: key.into(),
            kind: kind.into(),
            body,
            created_at: "2026-11-23T02:00:00.000Z".into(),
        }
    }

    fn count(db: &Database, sql: &str) -> i64 {
        db.query_row(sql, (), |r| r.get(0)).unwrap()
    }

    #[test]
    fn events_are_kept_once_by_key_and_the_new_ones_applied() {
        for db in databases() {
            db.execute(
                "INSERT INTO devices (id, hall, position, cert_sha256, enrolled_at)
                 VALUES ('d1', 'h', 'entrance', 'c1', '2026-11-01T00:00:00Z')",
                (),
            )
            .unwrap();
            db.execute(
                "INSERT INTO tickets (hall, day, prefix, seq, number, queue, business, priority,
                     state, issued_at, device, \"window\")
                 VALUES ('h', '2026-11-23', 'A', 1, 'A001', 'A', 'biz', 'normal', 'done',
                     '2026-11-23 09:00:00.000', 'd1', 3)",
                (),
            )
            .unwrap();
            let now = "2026-11-23T02:00:01.000Z";
            let first = vec![
                event("k1", "note", json!({"any": 1})),
                event("k1", "note", json!({"any": 2})),
                event("k2", "rating", json!({"level": 1, "reasons": ["慢"]})),
                event(
                    "k3",
                    "rating",
                    json!({"level": 5, "ticket": {"day": "2026-11-23", "number": "A001"}}),
                ),
                event(
                    "k4",
                    "rating",
                    json!({"level": 1, "ticket": {"day": "2026-11-23", "number": "Z999"}}),
                ),
                event("k5", "usage", json!({"kind": "session", "seconds": 95})),
            ];
            let got = db.insert_events("d1", &first, now).unwrap();
            assert_eq!((got.new, got.duplicates), (5, 1));
            assert!(got.halls.is_empty());
            assert_eq!(got.cases.len(), 1);
            assert_eq!(got.cases[0].0, "h");
            assert_eq!(db.event_count().unwrap(), 5);
            let body: String = db
                .query_row(
                    "SELECT body FROM events WHERE idempotency_key = 'k1'",
                    (),
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(body, r#"{"any":1}"#, "the first one is kept");
            assert_eq!(count(&db, "SELECT COUNT(*) FROM ratings"), 2);
            let rated: (String, Option<u32>) = db
                .query_row(
                    "SELECT business, \"window\" FROM ratings WHERE subject = 'ticket'",
                    (),
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(rated, ("biz".to_string(), Some(3)));
            assert_eq!(count(&db, "SELECT COUNT(*) FROM usage_events"), 1);

            // Sent again (the terminal did not hear the answer): nothing is applied twice.
            let again = vec![
                first[2].clone(),
                first[4].clone(),
                event("k6", "note", json!({})),
            ];
            let got = db.insert_events("d1", &again, now).unwrap();
            assert_eq!((got.new, got.duplicates), (1, 2));
            assert!(got.cases.is_empty());
            assert_eq!(db.event_count().unwrap(), 6);
            assert_eq!(count(&db, "SELECT COUNT(*) FROM ratings"), 2);
            assert_eq!(count(&db, "SELECT COUNT(*) FROM cases"), 1);
        }
    }

    #[test]
    fn replicas_sending_the_same_events_together_keep_each_once() {
        for db in databases() {
            let db = Arc::new(db);
            let batch: Vec<OutboxEvent> = (0..40)
                .map(|i| event(&format!("k{i}"), "note", json!({ "i": i })))
                .collect();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let db = Arc::clone(&db);
                    let batch = batch.clone();
                    std::thread::spawn(move || {
                        db.insert_events("d1", &batch, "2026-11-23T02:00:01.000Z")
                            .unwrap()
                    })
                })
                .collect();
            let (mut new, mut duplicates) = (0, 0);
            for t in threads {
                let got = t.join().unwrap();
                new += got.new;
                duplicates += got.duplicates;
            }
            assert_eq!(new, 40);
            assert_eq!(duplicates, 3 * 40);
            assert_eq!(db.event_count().unwrap(), 40);
        }
    }
}
