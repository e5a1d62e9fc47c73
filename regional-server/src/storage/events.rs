//! Terminals' outbox events, held once by their key; offline tickets among them change a queue.

use menpai_model::sync::OutboxEvent;
use rusqlite::params;

use super::queue::{OfflineTicket, apply_offline_ticket};
use super::{Result, Sqlite};

/// What a batch of events did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    pub new: usize,
    pub duplicates: usize,
    /// Halls whose queue changed (offline tickets arrived).
    pub halls: Vec<String>,
}

/// The events terminals send.
pub trait EventStore {
    /// Holds each event once by its key, and applies the new ones that change a queue (offline
    /// tickets) in the same transaction.
    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested>;
    fn event_count(&self) -> Result<u64>;
}

impl EventStore for Sqlite {
    fn insert_events(&self, device: &str, events: &[OutboxEvent], now: &str) -> Result<Ingested> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        let mut halls = Vec::new();
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
                            if apply_offline_ticket(&tx, device, &t)? && !halls.contains(&t.hall) {
                                halls.push(t.hall);
                            }
                        }
                        Err(err) => {
                            tracing::warn!(%device, error = %err, "An offline ticket event could not be read.")
                        }
                    }
                }
            }
        }
        tx.commit()?;
        Ok(Ingested {
            new,
            duplicates: events.len() - new,
            halls,
        })
    }

    fn event_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
