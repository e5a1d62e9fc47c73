//! What statistics read: the ticket events (`ticket_log`, each carrying its hall, day, queue
//! and channel) gathered per hop of a ticket (`ticket_hops`, which the event writer keeps in
//! the same transaction), the events behind one ticket, and the appointments, ratings and help
//! calls of a period.

use rusqlite::params;

use super::{Result, Database};

/// Every hop rebuilt from its events alone (as migration 0014 first filled `ticket_hops`): for
/// stores written around the event writer (the benchmark's bulk load), and to check that the
/// hops kept always equal their events.
pub const HOPS_FROM_EVENTS: &str = "DELETE FROM ticket_hops;
INSERT INTO ticket_hops
SELECT l.ticket_id, l.hall, l.day, l.queue, l.channel,
       MIN(CASE WHEN l.state = 'waiting' THEN l.at END),
       MIN(CASE WHEN l.state = 'called' THEN l.at END),
       MIN(CASE WHEN l.state = 'serving' THEN l.at END),
       MAX(CASE WHEN l.state IN ('done', 'no_show', 'transferred', 'cancelled') THEN l.at END),
       t.state, t.window,
       MIN(CASE WHEN l.state = 'called' THEN l.actor END),
       t.recalls
FROM ticket_log l JOIN tickets t ON t.id = l.ticket_id
GROUP BY l.ticket_id;";

/// One hop of a ticket (a transfer starts the next) as its events tell it. Times are local
/// stamps (`YYYY-MM-DD HH:MM:SS.mmm`).
#[derive(Debug, Clone, PartialEq)]
pub struct HopFact {
    /// The hop's row: the tickets behind a figure are listed by it.
    pub ticket: i64,
    pub hall: String,
    pub day: String,
    pub number: String,
    pub hop: u32,
    /// The business type's prefix it waited for.
    pub queue: String,
    pub business: String,
    /// `online`, `offline` or `appointment`.
    pub channel: String,
    pub priority: String,
    /// When it began to wait: issued, or transferred in.
    pub waiting_since: Option<String>,
    /// The first call (a recall does not move it).
    pub first_called: Option<String>,
    pub serving_at: Option<String>,
    /// Finished, no-show, transferred on or cancelled.
    pub ended_at: Option<String>,
    /// Its state now: waiting, called, serving, done, no_show, transferred, cancelled.
    pub state: String,
    pub window: Option<u32>,
    /// Who called it.
    pub staff: Option<String>,
    pub recalls: u32,
}

/// One event of a ticket, for the page behind a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    pub ticket: i64,
    pub at: String,
    pub state: String,
    pub window: Option<u32>,
    pub actor: String,
}

/// An appointment as statistics count it (no name, no phone).
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentFact {
    pub hall: String,
    /// The business type's prefix its ticket waits in.
    pub prefix: String,
    pub item_name: String,
    /// The slot: `YYYY-MM-DD`, `HH:MM`.
    pub date: String,
    pub start: String,
    pub end: String,
    pub checked_in_at: Option<String>,
}

/// A citizen's rating as statistics count it.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingFact {
    pub hall: String,
    /// Local stamp.
    pub rated_at: String,
    pub business: String,
    pub window: Option<u32>,
    pub stars: u8,
}

/// A help call from a plate (never a training terminal's). Times are UTC, RFC 3339.
#[derive(Debug, Clone, PartialEq)]
pub struct HelpFact {
    pub hall: String,
    pub position: String,
    pub created_at: String,
    pub escalated_at: Option<String>,
    pub acknowledged_at: Option<String>,
}

/// An appointment behind a figure: its fact, the masked holder (never the sealed name or
/// phone) and the ticket number it was checked in with.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentRecord {
    pub id: String,
    pub fact: AppointmentFact,
    pub holder_masked: String,
    pub ticket: Option<String>,
}

/// A rating behind a figure: its fact, the ticket number it rates (none: the hall as a whole),
/// the reasons and the comment.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingRecord {
    pub id: i64,
    pub fact: RatingFact,
    pub number: Option<String>,
    pub reasons: Vec<String>,
    pub comment: String,
}

/// A help call behind a figure: its fact, the screen it was made from and who acknowledged it
/// (their login).
#[derive(Debug, Clone, PartialEq)]
pub struct HelpRecord {
    pub id: String,
    pub fact: HelpFact,
    pub screen: String,
    pub acknowledged_by: Option<String>,
}

/// The events statistics are computed from.
pub trait StatisticsStore {
    /// Every hop of the tickets of `halls` (`None`: all) on days `from..=to` (`YYYY-MM-DD`).
    fn hop_facts(&self, halls: Option<&[String]>, from: &str, to: &str) -> Result<Vec<HopFact>>;
    /// The events of these hops, oldest first.
    fn ticket_events(&self, tickets: &[i64]) -> Result<Vec<TicketEvent>>;
    /// Appointments of `halls` for days `from..=to`.
    fn appointment_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentFact>>;
    /// Ratings of `halls` given on days `from..=to` (local time).
    fn rating_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingFact>>;
    /// Help calls of `halls` made from `from_utc` (inclusive) to `until_utc` (exclusive),
    /// RFC 3339 stamps; training terminals' calls left out.
    fn help_facts(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpFact>>;
    /// The appointments of [`Self::appointment_facts`] with what the page behind a figure shows.
    fn appointment_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentRecord>>;
    /// The ratings of [`Self::rating_facts`] with what the page behind a figure shows.
    fn rating_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingRecord>>;
    /// The help calls of [`Self::help_facts`] with what the page behind a figure shows.
    fn help_records(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpRecord>>;
}

fn halls_json(halls: Option<&[String]>) -> Option<String> {
    halls.map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()))
}

impl StatisticsStore for Database {
    fn hop_facts(&self, halls: Option<&[String]>, from: &str, to: &str) -> Result<Vec<HopFact>> {
        let conn = self.conn();
        let halls = halls.map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        let mut stmt = conn.prepare_cached(
            "SELECT h.ticket_id, h.hall, h.day, t.number, t.hop, h.queue, t.business, h.channel,
                    t.priority, h.waiting_since, h.first_called, h.serving_at, h.ended_at,
                    h.state, h.window, h.staff, h.recalls
             FROM ticket_hops h JOIN tickets t ON t.id = h.ticket_id
             WHERE (?1 IS NULL OR h.hall IN (SELECT value FROM json_each(?1)))
               AND h.day BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![halls, from, to], |r| {
            Ok(HopFact {
                ticket: r.get(0)?,
                hall: r.get(1)?,
                day: r.get(2)?,
                number: r.get(3)?,
                hop: r.get(4)?,
                queue: r.get(5)?,
                business: r.get(6)?,
                channel: r.get(7)?,
                priority: r.get(8)?,
                waiting_since: r.get(9)?,
                first_called: r.get(10)?,
                serving_at: r.get(11)?,
                ended_at: r.get(12)?,
                state: r.get(13)?,
                window: r.get(14)?,
                staff: r.get(15)?,
                recalls: r.get(16)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ticket_events(&self, tickets: &[i64]) -> Result<Vec<TicketEvent>> {
        let conn = self.conn();
        let ids = serde_json::to_string(tickets).unwrap_or_else(|_| "[]".into());
        let mut stmt = conn.prepare_cached(
            "SELECT ticket_id, at, state, window, actor FROM ticket_log
             WHERE ticket_id IN (SELECT value FROM json_each(?1)) ORDER BY at, id",
        )?;
        let rows = stmt.query_map([ids], |r| {
            Ok(TicketEvent {
                ticket: r.get(0)?,
                at: r.get(1)?,
                state: r.get(2)?,
                window: r.get(3)?,
                actor: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
    fn appointment_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentFact>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, prefix, item_name, date, start, end, checked_in_at FROM appointments
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND date BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from, to], |r| {
            Ok(AppointmentFact {
                hall: r.get(0)?,
                prefix: r.get(1)?,
                item_name: r.get(2)?,
                date: r.get(3)?,
                start: r.get(4)?,
                end: r.get(5)?,
                checked_in_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn rating_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingFact>> {
        let conn = self.conn();
        // `rated_at` starts with its day: before the next day holds every stamp of the last.
        let mut stmt = conn.prepare_cached(
            "SELECT hall, rated_at, business, window, stars FROM ratings
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND rated_at >= ?2 AND rated_at < date(?3, '+1 day')",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from, to], |r| {
            Ok(RatingFact {
                hall: r.get(0)?,
                rated_at: r.get(1)?,
                business: r.get(2)?,
                window: r.get(3)?,
                stars: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn help_facts(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpFact>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, position, created_at, escalated_at, acknowledged_at FROM help_calls
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND created_at >= ?2 AND created_at < ?3 AND training = 0",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from_utc, until_utc], |r| {
            Ok(HelpFact {
                hall: r.get(0)?,
                position: r.get(1)?,
                created_at: r.get(2)?,
                escalated_at: r.get(3)?,
                acknowledged_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn appointment_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, prefix, item_name, date, start, end, checked_in_at, id, holder_masked,
                    ticket FROM appointments
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND date BETWEEN ?2 AND ?3
             ORDER BY date, start, id",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from, to], |r| {
            Ok(AppointmentRecord {
                fact: AppointmentFact {
                    hall: r.get(0)?,
                    prefix: r.get(1)?,
                    item_name: r.get(2)?,
                    date: r.get(3)?,
                    start: r.get(4)?,
                    end: r.get(5)?,
                    checked_in_at: r.get(6)?,
                },
                id: r.get(7)?,
                holder_masked: r.get(8)?,
                ticket: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn rating_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, rated_at, business, window, stars, id, number, reasons, comment
             FROM ratings
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND rated_at >= ?2 AND rated_at < date(?3, '+1 day')
             ORDER BY rated_at, id",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from, to], |r| {
            let reasons: String = r.get(7)?;
            Ok(RatingRecord {
                fact: RatingFact {
                    hall: r.get(0)?,
                    rated_at: r.get(1)?,
                    business: r.get(2)?,
                    window: r.get(3)?,
                    stars: r.get(4)?,
                },
                id: r.get(5)?,
                number: r.get(6)?,
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                comment: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn help_records(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, position, created_at, escalated_at, acknowledged_at, id, screen,
                    acknowledged_by FROM help_calls
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND created_at >= ?2 AND created_at < ?3 AND training = 0
             ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map(params![halls_json(halls), from_utc, until_utc], |r| {
            Ok(HelpRecord {
                fact: HelpFact {
                    hall: r.get(0)?,
                    position: r.get(1)?,
                    created_at: r.get(2)?,
                    escalated_at: r.get(3)?,
                    acknowledged_at: r.get(4)?,
                },
                id: r.get(5)?,
                screen: r.get(6)?,
                acknowledged_by: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use menpai_model::queue::Priority;

    use super::*;
    use crate::storage::{Act, NewTicket, QueueStore};

    #[test]
    fn the_hops_kept_with_each_event_equal_the_hops_rebuilt_from_the_events() {
        let db = Database::open_in_memory().unwrap();
        let day = "2026-11-23";
        for (i, prefix) in ["E", "E", "E", "F"].into_iter().enumerate() {
            let at = format!("{day} 09:0{i}:00.000");
            let request = format!("r{i}");
            db.issue_ticket(&NewTicket {
                hall: "h",
                day,
                prefix,
                business: "公积金",
                priority: Priority::Normal,
                issued_at: Some(&at),
                device: "t1",
                request_id: &request,
                appointment_id: None,
            })
            .unwrap();
        }
        let (e, f) = (["E".to_owned()], ["F".to_owned()]);
        let steps: [(u32, &[String], Act); 10] = [
            (3, &e, Act::CallNext),
            (3, &e, Act::Recall),
            (3, &e, Act::Serve),
            (3, &e, Act::CallNext),
            (3, &e, Act::NoShow),
            (3, &e, Act::CallNext),
            (3, &e, Act::Serve),
            (
                3,
                &e,
                Act::Transfer {
                    queue: "F",
                    business: "不动产登记",
                    window: Some(7),
                },
            ),
            (7, &f, Act::CallNext),
            (7, &f, Act::Finish),
        ];
        for (n, (window, serves, act)) in steps.into_iter().enumerate() {
            let now = format!("{day} 10:{n:02}:00.000");
            db.act("h", day, window, serves, act, &now, "staff")
                .unwrap();
        }
        let sorted = |mut v: Vec<HopFact>| {
            v.sort_by_key(|h| h.ticket);
            v
        };
        let kept = sorted(db.hop_facts(None, day, day).unwrap());
        assert_eq!(kept.len(), 5, "four tickets, one transferred: {kept:?}");
        db.conn().execute_batch(HOPS_FROM_EVENTS).unwrap();
        assert_eq!(kept, sorted(db.hop_facts(None, day, day).unwrap()));
    }
}
