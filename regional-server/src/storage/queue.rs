//! The queue's storage: tickets through their states, online counters and leased blocks.
//! Every change is one transaction, so concurrent terminals and windows never share a number
//! or a ticket.

use menpai_model::queue::{NumberLease, Priority, TicketState, WindowCall};

use super::{Database, Dialect, Exec, OptionalExt, Result, Row, StorageError};
use crate::params;

/// Highest number of a prefix in a day: A001–A999.
pub const MAX_SEQ: u32 = 999;

/// SQL rank of a priority: lower is called first.
const RANK: &str =
    "CASE priority WHEN 'appointment' THEN 0 WHEN 'elder' THEN 1 WHEN 'green' THEN 1 ELSE 2 END";

/// Call order: priority, then when the citizen took the ticket (offline ones included).
const ORDER: &str = "CASE priority WHEN 'appointment' THEN 0 WHEN 'elder' THEN 1 WHEN 'green' THEN 1 ELSE 2 END, issued_at, id";

const COLUMNS: &str = "id, number, prefix, queue, business, priority, state, issued_at, \"window\", offline, only_window, hop, recalls, device, conflict";

/// A ticket row (one hop of a ticket).
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub prefix: String,
    pub queue: String,
    pub business: String,
    pub priority: Priority,
    pub state: TicketState,
    pub issued_at: String,
    pub window: Option<u32>,
    pub offline: bool,
    pub only_window: Option<u32>,
    pub hop: u32,
    pub recalls: u32,
    pub device: Option<String>,
    /// Why staff should look at it (an appointment checked in twice).
    pub conflict: Option<String>,
}

impl Ticket {
    fn from_row(r: &Row) -> Result<Ticket> {
        let priority: String = r.get(5)?;
        let state: String = r.get(6)?;
        Ok(Ticket {
            id: r.get(0)?,
            number: r.get(1)?,
            prefix: r.get(2)?,
            queue: r.get(3)?,
            business: r.get(4)?,
            priority: Priority::parse(&priority).unwrap_or_default(),
            state: TicketState::parse(&state).unwrap_or(TicketState::Waiting),
            issued_at: r.get(7)?,
            window: r.get(8)?,
            offline: r.get(9)?,
            only_window: r.get(10)?,
            hop: r.get(11)?,
            recalls: r.get(12)?,
            device: r.get(13)?,
            conflict: r.get(14)?,
        })
    }

    pub fn call(&self, at: &str) -> Option<WindowCall> {
        Some(WindowCall {
            window: self.window?,
            number: self.number.clone(),
            business: self.business.clone(),
            at: at.get(11..16).unwrap_or(at).to_owned(),
            recall: self.recalls > 0,
        })
    }
}

/// A ticket to issue online.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub hall: &'a str,
    pub day: &'a str,
    pub prefix: &'a str,
    pub business: &'a str,
    pub priority: Priority,
    /// Local time, `YYYY-MM-DD HH:MM:SS.mmm`; none takes the time the number is drawn, so
    /// the call order matches the numbers.
    pub issued_at: Option<&'a str>,
    pub device: &'a str,
    pub request_id: &'a str,
    pub appointment_id: Option<&'a str>,
}

/// A ticket issued offline from a leased block, as the terminal's outbox reports it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OfflineTicket {
    pub hall: String,
    pub day: String,
    pub prefix: String,
    pub seq: u32,
    pub number: String,
    pub business: String,
    pub priority: String,
    pub issued_at: String,
    #[serde(default)]
    pub appointment_id: Option<String>,
    /// The online request whose answer was lost: its ticket is cancelled.
    #[serde(default)]
    pub replaces: Option<String>,
}

/// What a window does, resolved against the hall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act<'a> {
    CallNext,
    Recall,
    Serve,
    Finish,
    NoShow,
    Transfer {
        queue: &'a str,
        business: &'a str,
        window: Option<u32>,
    },
}

fn conflict(message: impl Into<String>) -> StorageError {
    StorageError::Conflict(message.into())
}

fn log(
    tx: &impl Exec,
    ticket: i64,
    at: &str,
    state: &str,
    window: Option<u32>,
    actor: &str,
) -> Result<()> {
    // The ticket's hall, day, queue and channel ride along: statistics read this table alone.
    tx.execute(
        "INSERT INTO ticket_log (ticket_id, at, state, \"window\", actor, hall, day, queue, channel)
         SELECT ?1, ?2, ?3, ?4, ?5, hall, day, queue,
                CASE WHEN appointment_id IS NOT NULL THEN 'appointment'
                     WHEN offline <> 0 THEN 'offline' ELSE 'online' END
         FROM tickets WHERE id = ?1",
        params![ticket, at, state, window, actor],
    )?;
    // And the hop as its events tell it, for reports (see 0014_ticket_hops.sql).
    tx.execute(
        "INSERT INTO ticket_hops (ticket_id, hall, day, queue, channel, waiting_since,
                                  first_called, serving_at, ended_at, state, \"window\", staff, recalls)
         SELECT ?1, hall, day, queue,
                CASE WHEN appointment_id IS NOT NULL THEN 'appointment'
                     WHEN offline <> 0 THEN 'offline' ELSE 'online' END,
                CASE WHEN ?3 = 'waiting' THEN ?2 END,
                CASE WHEN ?3 = 'called' THEN ?2 END,
                CASE WHEN ?3 = 'serving' THEN ?2 END,
                CASE WHEN ?3 IN ('done', 'no_show', 'transferred', 'cancelled') THEN ?2 END,
                state, \"window\",
                CASE WHEN ?3 = 'called' THEN ?4 END,
                recalls
         FROM tickets WHERE id = ?1
         ON CONFLICT (ticket_id) DO UPDATE SET
             waiting_since = COALESCE(ticket_hops.waiting_since, excluded.waiting_since),
             first_called = COALESCE(ticket_hops.first_called, excluded.first_called),
             serving_at = COALESCE(ticket_hops.serving_at, excluded.serving_at),
             ended_at = COALESCE(excluded.ended_at, ticket_hops.ended_at),
             staff = COALESCE(ticket_hops.staff, excluded.staff),
             state = excluded.state, \"window\" = excluded.\"window\", recalls = excluded.recalls",
        params![ticket, at, state, actor],
    )?;
    Ok(())
}

/// Marks an appointment checked in with its ticket (online or offline, the first stands).
fn record_check_in(tx: &impl Exec, appointment: &str, at: &str, number: &str) -> Result<()> {
    tx.execute(
        "UPDATE appointments SET checked_in_at = ?1, ticket = ?2 WHERE id = ?3 AND checked_in_at IS NULL",
        params![at, number, appointment],
    )?;
    Ok(())
}

/// The ticket called to (or served at) a window now.
fn at_window_in(db: &impl Exec, hall: &str, day: &str, window: u32) -> Result<Option<Ticket>> {
    db.query_row(
        &format!(
            "SELECT {COLUMNS} FROM tickets WHERE hall = ?1 AND day = ?2 AND \"window\" = ?3
             AND state IN ('called', 'serving') ORDER BY called_at DESC NULLS LAST LIMIT 1"
        ),
        params![hall, day, window],
        Ticket::from_row,
    )
    .optional()
}

fn ticket_by_id(tx: &impl Exec, id: i64) -> Result<Ticket> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM tickets WHERE id = ?1"),
        [id],
        Ticket::from_row,
    )
}

/// The counter row of a prefix today: (next online number, lowest leased number).
fn counter(tx: &impl Exec, hall: &str, day: &str, prefix: &str) -> Result<(u32, u32)> {
    tx.execute(
        "INSERT INTO number_counters (hall, day, prefix, next_online, lease_floor)
         VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT DO NOTHING",
        params![hall, day, prefix, MAX_SEQ + 1],
    )?;
    tx.query_row(
        "SELECT next_online, lease_floor FROM number_counters WHERE hall = ?1 AND day = ?2 AND prefix = ?3",
        params![hall, day, prefix],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// On PostgreSQL, makes the transaction that draws or leases numbers wait for any other doing
/// so: its first statement, taken before the snapshot (LOCK does not take one), so it sees what
/// the one before it committed instead of failing on the shared counter row and being tried
/// again, which under a burst of tickets would otherwise run out of tries. SQLite has one writer.
fn counters_in_turn(tx: &impl Exec) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        tx.execute("LOCK TABLE number_counters IN SHARE ROW EXCLUSIVE MODE", ())?;
    }
    Ok(())
}

fn appointment_unused(tx: &impl Exec, id: Option<&str>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let used: Option<String> = tx
        .query_row(
            "SELECT number FROM tickets WHERE appointment_id = ?1 AND hop = 0",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    match used {
        Some(n) => Err(conflict(format!("这个预约已经签到过了，票号 {n}"))),
        None => Ok(()),
    }
}

/// The queue's storage, behind the same trait pattern as the rest of the server's data.
pub trait QueueStore {
    /// Issues the next online number (the same ticket again for a repeated request id).
    fn issue_ticket(&self, t: &NewTicket) -> Result<Ticket>;
    /// Leases a block of `size` numbers for each (day, prefix) wanted, from the top down; none
    /// for a (day, prefix) of which `device` already holds `cap` blocks.
    fn lease_blocks(
        &self,
        hall: &str,
        device: &str,
        wants: &[(String, String)],
        size: u32,
        cap: u32,
        now: &str,
    ) -> Result<Vec<NumberLease>>;
    /// Waiting tickets called before one of `priority` taken at `issued_at` (id breaks ties).
    fn people_ahead(&self, hall: &str, day: &str, queue: &str, t: &Ticket) -> Result<u32>;
    /// Waiting tickets per queue.
    fn waiting_counts(&self, hall: &str, day: &str) -> Result<Vec<(String, u32)>>;
    /// Tickets at windows now (called or serving), latest call first.
    fn current_calls(&self, hall: &str, day: &str, limit: usize) -> Result<Vec<WindowCall>>;
    /// Average minutes of the recent services of a queue, once there are 3.
    fn service_minutes(&self, hall: &str, queue: &str, recent: u32) -> Result<Option<f64>>;
    /// A window's action; the ticket it touched (none when nobody waits).
    #[allow(clippy::too_many_arguments)]
    fn act(
        &self,
        hall: &str,
        day: &str,
        window: u32,
        serves: &[String],
        act: Act,
        now: &str,
        actor: &str,
    ) -> Result<Option<Ticket>>;
    /// The ticket at a window now.
    fn at_window(&self, hall: &str, day: &str, window: u32) -> Result<Option<Ticket>>;
    /// Waiting tickets of some queues in call order.
    fn waiting(
        &self,
        hall: &str,
        day: &str,
        queues: &[String],
        limit: usize,
    ) -> Result<Vec<Ticket>>;
    /// The latest hop of a ticket by its number.
    fn ticket(&self, hall: &str, day: &str, number: &str) -> Result<Option<Ticket>>;
}

impl QueueStore for Database {
    fn issue_ticket(&self, t: &NewTicket) -> Result<Ticket> {
        self.transaction(|tx| {
            counters_in_turn(tx)?;
            let again: Option<i64> = tx
                .query_row(
                    "SELECT id FROM tickets WHERE request_id = ?1",
                    [t.request_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = again {
                return ticket_by_id(tx, id);
            }
            appointment_unused(tx, t.appointment_id)?;
            let (next, floor) = counter(tx, t.hall, t.day, t.prefix)?;
            if next >= floor {
                return Err(conflict(format!(
                    "今日{}类号码已取完，请到咨询台",
                    t.prefix
                )));
            }
            // Drawn after the counter is read (this try's snapshot), so that on PostgreSQL a
            // later number never carries an earlier time than one committed before it.
            let drawn = crate::clock::stamp(crate::clock::local_now());
            let issued_at = t.issued_at.unwrap_or(&drawn);
            let number = format!("{}{next:03}", t.prefix);
            tx.execute(
                "UPDATE number_counters SET next_online = next_online + 1 WHERE hall = ?1 AND day = ?2 AND prefix = ?3",
                params![t.hall, t.day, t.prefix],
            )?;
            let id: i64 = tx.query_row(
                "INSERT INTO tickets (hall, day, prefix, seq, number, queue, business, priority, state,
                                      issued_at, device, request_id, appointment_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7, 'waiting', ?8, ?9, ?10, ?11)
                 RETURNING id",
                params![
                    t.hall,
                    t.day,
                    t.prefix,
                    next,
                    number,
                    t.business,
                    t.priority.as_str(),
                    issued_at,
                    t.device,
                    t.request_id,
                    t.appointment_id
                ],
                |r| r.get(0),
            )?;
            log(tx, id, issued_at, "waiting", None, t.device)?;
            if let Some(a) = t.appointment_id {
                record_check_in(tx, a, issued_at, &number)?;
            }
            ticket_by_id(tx, id)
        })
    }

    fn lease_blocks(
        &self,
        hall: &str,
        device: &str,
        wants: &[(String, String)],
        size: u32,
        cap: u32,
        now: &str,
    ) -> Result<Vec<NumberLease>> {
        // What was not leased, told once the transaction is over (it may be tried again).
        enum Skipped<'a> {
            Capped(&'a str, &'a str),
            Exhausted(&'a str, &'a str),
        }
        let (out, skipped) = self.transaction(|tx| {
            counters_in_turn(tx)?;
            let mut out = Vec::new();
            let mut skipped = Vec::new();
            for (day, prefix) in wants {
                let held: u32 = tx.query_row(
                    "SELECT COUNT(*) FROM number_leases WHERE hall = ?1 AND day = ?2 AND prefix = ?3 AND device = ?4",
                    params![hall, day, prefix, device],
                    |r| r.get(0),
                )?;
                if held >= cap {
                    skipped.push(Skipped::Capped(day, prefix));
                    continue;
                }
                let (next, floor) = counter(tx, hall, day, prefix)?;
                let first = floor.saturating_sub(size);
                if first <= next || first == 0 {
                    skipped.push(Skipped::Exhausted(day, prefix));
                    continue;
                }
                let last = floor - 1;
                tx.execute(
                    "UPDATE number_counters SET lease_floor = ?4 WHERE hall = ?1 AND day = ?2 AND prefix = ?3",
                    params![hall, day, prefix, first],
                )?;
                tx.execute(
                    "INSERT INTO number_leases (hall, day, prefix, first, last, device, leased_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![hall, day, prefix, first, last, device, now],
                )?;
                out.push(NumberLease {
                    day: day.clone(),
                    prefix: prefix.clone(),
                    first,
                    last,
                });
            }
            Ok((out, skipped))
        })?;
        for s in skipped {
            match s {
                Skipped::Capped(day, prefix) => {
                    tracing::warn!(%hall, %device, %day, %prefix, "A terminal holding its day's cap of blocks asked for more.")
                }
                Skipped::Exhausted(day, prefix) => {
                    tracing::warn!(%hall, %day, %prefix, "No numbers left to lease.")
                }
            }
        }
        Ok(out)
    }

    fn people_ahead(&self, hall: &str, day: &str, queue: &str, t: &Ticket) -> Result<u32> {
        self.query_row(
            &format!(
                "SELECT COUNT(*) FROM tickets WHERE hall = ?1 AND day = ?2 AND queue = ?3 AND state = 'waiting'
                 AND id != ?6 AND ({RANK} < ?4 OR ({RANK} = ?4 AND (issued_at, id) < (?5, ?6)))"
            ),
            params![hall, day, queue, rank(t.priority), t.issued_at, t.id],
            |r| r.get(0),
        )
    }

    fn waiting_counts(&self, hall: &str, day: &str) -> Result<Vec<(String, u32)>> {
        self.query_map(
            "SELECT queue, COUNT(*) FROM tickets WHERE hall = ?1 AND day = ?2 AND state = 'waiting' GROUP BY queue",
            params![hall, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn current_calls(&self, hall: &str, day: &str, limit: usize) -> Result<Vec<WindowCall>> {
        let rows = self.query_map(
            &format!(
                "SELECT {COLUMNS}, called_at FROM tickets WHERE hall = ?1 AND day = ?2
                 AND state IN ('called', 'serving') ORDER BY called_at DESC NULLS LAST, id DESC LIMIT ?3"
            ),
            params![hall, day, limit as i64],
            |r| Ok((Ticket::from_row(r)?, r.get::<String>(15)?)),
        )?;
        Ok(rows.iter().filter_map(|(t, at)| t.call(at)).collect())
    }

    fn service_minutes(&self, hall: &str, queue: &str, recent: u32) -> Result<Option<f64>> {
        Ok(self
            .query_row(
                &format!(
                    "SELECT AVG({}), COUNT(*)
                     FROM (SELECT serving_at, called_at, finished_at FROM tickets
                           WHERE hall = ?1 AND queue = ?2 AND state = 'done' AND called_at IS NOT NULL
                           ORDER BY id DESC LIMIT ?3) AS recent",
                    self.dialect()
                        .minutes_between("COALESCE(serving_at, called_at)", "finished_at")
                ),
                params![hall, queue, recent],
                |r| {
                    let n: i64 = r.get(1)?;
                    Ok(if n >= 3 {
                        r.get::<Option<f64>>(0)?
                    } else {
                        None
                    })
                },
            )?
            .filter(|m| *m > 0.0))
    }

    fn act(
        &self,
        hall: &str,
        day: &str,
        window: u32,
        serves: &[String],
        act: Act,
        now: &str,
        actor: &str,
    ) -> Result<Option<Ticket>> {
        let serves = serde_json::json!(serves).to_string();
        self.transaction(|tx| {
            let current = at_window_in(tx, hall, day, window)?;
            let nothing = || conflict(format!("{window} 号窗口现在没有叫到的号"));
            let set = |t: &Ticket, state: &str, column: &str| -> Result<()> {
                tx.execute(
                    &format!("UPDATE tickets SET state = ?1, {column} = ?2 WHERE id = ?3"),
                    params![state, now, t.id],
                )?;
                log(tx, t.id, now, state, Some(window), actor)
            };
            let touched = match act {
                Act::CallNext => {
                    if let Some(t) = &current {
                        set(t, "done", "finished_at")?;
                    }
                    let next: Option<i64> = tx
                        .query_row(
                            &format!(
                                "SELECT id FROM tickets WHERE hall = ?1 AND day = ?2 AND state = 'waiting'
                                 AND queue IN ({}) AND (only_window IS NULL OR only_window = ?4)
                                 ORDER BY {ORDER} LIMIT 1",
                                tx.dialect().json_strings("?3")
                            ),
                            params![hall, day, serves, window],
                            |r| r.get(0),
                        )
                        .optional()?;
                    match next {
                        Some(id) => {
                            tx.execute(
                                "UPDATE tickets SET state = 'called', \"window\" = ?1, called_at = ?2 WHERE id = ?3",
                                params![window, now, id],
                            )?;
                            log(tx, id, now, "called", Some(window), actor)?;
                            Some(id)
                        }
                        None => None,
                    }
                }
                Act::Recall => {
                    let t = current.ok_or_else(nothing)?;
                    if t.state != TicketState::Called {
                        return Err(conflict(format!("{} 已在办理中，不用重呼", t.number)));
                    }
                    tx.execute(
                        "UPDATE tickets SET recalls = recalls + 1, called_at = ?1 WHERE id = ?2",
                        params![now, t.id],
                    )?;
                    log(tx, t.id, now, "recalled", Some(window), actor)?;
                    Some(t.id)
                }
                Act::Serve => {
                    let t = current.ok_or_else(nothing)?;
                    if t.state == TicketState::Called {
                        set(&t, "serving", "serving_at")?;
                    }
                    Some(t.id)
                }
                Act::Finish => {
                    let t = current.ok_or_else(nothing)?;
                    set(&t, "done", "finished_at")?;
                    Some(t.id)
                }
                Act::NoShow => {
                    let t = current.ok_or_else(nothing)?;
                    if t.state != TicketState::Called {
                        return Err(conflict(format!("{} 已在办理中，不能记过号", t.number)));
                    }
                    set(&t, "no_show", "finished_at")?;
                    Some(t.id)
                }
                Act::Transfer {
                    queue,
                    business,
                    window: to,
                } => {
                    let t = current.ok_or_else(nothing)?;
                    set(&t, "transferred", "finished_at")?;
                    let id: i64 = tx.query_row(
                        "INSERT INTO tickets (hall, day, prefix, seq, hop, number, queue, business, priority,
                                              state, issued_at, device, offline, appointment_id, only_window)
                         SELECT hall, day, prefix, seq, hop + 1, number, ?2, ?3, priority, 'waiting',
                                issued_at, device, offline, NULL, ?4
                         FROM tickets WHERE id = ?1
                         RETURNING id",
                        params![t.id, queue, business, to],
                        |r| r.get(0),
                    )?;
                    log(tx, id, now, "waiting", to, actor)?;
                    Some(id)
                }
            };
            touched.map(|id| ticket_by_id(tx, id)).transpose()
        })
    }

    fn at_window(&self, hall: &str, day: &str, window: u32) -> Result<Option<Ticket>> {
        at_window_in(self, hall, day, window)
    }

    fn waiting(
        &self,
        hall: &str,
        day: &str,
        queues: &[String],
        limit: usize,
    ) -> Result<Vec<Ticket>> {
        self.query_map(
            &format!(
                "SELECT {COLUMNS} FROM tickets WHERE hall = ?1 AND day = ?2 AND state = 'waiting'
                 AND queue IN ({}) ORDER BY {ORDER} LIMIT {limit}",
                self.dialect().json_strings("?3")
            ),
            params![hall, day, serde_json::json!(queues).to_string()],
            Ticket::from_row,
        )
    }

    fn ticket(&self, hall: &str, day: &str, number: &str) -> Result<Option<Ticket>> {
        self.query_row(
            &format!(
                "SELECT {COLUMNS} FROM tickets WHERE hall = ?1 AND day = ?2 AND number = ?3
                 ORDER BY hop DESC LIMIT 1"
            ),
            params![hall, day, number],
            Ticket::from_row,
        )
        .optional()
    }
}
fn rank(p: Priority) -> i64 {
    match p {
        Priority::Appointment => 0,
        Priority::Elder | Priority::Green => 1,
        Priority::Normal => 2,
    }
}

/// Records an offline ticket inside the transaction that holds its event; false when its
/// number is not in a block leased to `device` (it is then refused and logged). `now`: the
/// local stamp it arrived at (a ticket it replaces is cancelled then).
pub fn apply_offline_ticket(
    tx: &impl Exec,
    device: &str,
    t: &OfflineTicket,
    now: &str,
) -> Result<bool> {
    let leased: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM number_leases WHERE hall = ?1 AND day = ?2 AND prefix = ?3
                        AND device = ?4 AND ?5 BETWEEN first AND last)",
        params![t.hall, t.day, t.prefix, device, t.seq],
        |r| r.get(0),
    )?;
    let expected = format!("{}{:03}", t.prefix, t.seq);
    if !leased || t.number != expected || Priority::parse(&t.priority).is_none() {
        tracing::warn!(%device, number = %t.number, "An offline ticket outside the device's leases was refused.");
        return Ok(false);
    }
    // Only the sending terminal's own online request, in its hall, can be replaced.
    if let Some(r) = &t.replaces {
        let cancelled: Option<i64> = tx
            .query_row(
                "UPDATE tickets SET state = 'cancelled', finished_at = ?2
                 WHERE request_id = ?1 AND device = ?3 AND hall = ?4 AND state = 'waiting'
                 RETURNING id",
                params![r, now, device, t.hall],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = cancelled {
            log(tx, id, now, "cancelled", None, device)?;
        }
    }
    // The same appointment checked in offline at two terminals: both printed tickets stay in
    // the queue (their holders wait for them), and each is flagged for staff.
    let first: Option<(i64, String)> = match &t.appointment_id {
        Some(a) => tx
            .query_row(
                "SELECT id, number FROM tickets WHERE appointment_id = ?1 AND hop = 0",
                [a],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?,
        None => None,
    };
    let first = first.filter(|(_, number)| *number != t.number);
    let conflict = first
        .as_ref()
        .map(|(_, other)| format!("同一预约重复签到，另一张为 {other}"));
    let inserted: Option<i64> = tx
        .query_row(
            "INSERT INTO tickets (hall, day, prefix, seq, number, queue, business, priority,
                                  state, issued_at, device, offline, appointment_id, conflict)
             VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7, 'waiting', ?8, ?9, 1, ?10, ?11)
             ON CONFLICT DO NOTHING
             RETURNING id",
            params![
                t.hall,
                t.day,
                t.prefix,
                t.seq,
                t.number,
                t.business,
                t.priority,
                t.issued_at,
                device,
                if first.is_some() {
                    None
                } else {
                    t.appointment_id.as_deref()
                },
                conflict
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = inserted {
        // Issued when the citizen took it, not when the terminal could send it.
        log(tx, id, &t.issued_at, "waiting", None, device)?;
        match (&first, &t.appointment_id) {
            (Some((other, _)), _) => {
                tx.execute(
                    "UPDATE tickets SET conflict = ?2 WHERE id = ?1",
                    params![other, format!("同一预约重复签到，另一张为 {}", t.number)],
                )?;
                tracing::warn!(%device, number = %t.number, "An appointment checked in offline at two terminals: both tickets kept and flagged.");
            }
            (None, Some(a)) => record_check_in(tx, a, &t.issued_at, &t.number)?,
            (None, None) => {}
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;
    use std::sync::Arc;

    fn new<'a>(
        prefix: &'a str,
        priority: Priority,
        at: &'a str,
        request: &'a str,
    ) -> NewTicket<'a> {
        NewTicket {
            hall: "h",
            day: "2026-11-23",
            prefix,
            business: "公积金",
            priority,
            issued_at: Some(at),
            device: "t1",
            request_id: request,
            appointment_id: None,
        }
    }

    #[test]
    fn concurrent_numbers_are_unique_and_gapless_and_leases_never_meet_them() {
        for db in databases() {
            let db = Arc::new(db);
            let leased = db
                .lease_blocks(
                    "h",
                    "t2",
                    &[("2026-11-23".into(), "E".into())],
                    20,
                    10,
                    "now",
                )
                .unwrap();
            assert_eq!(
                leased,
                vec![NumberLease {
                    day: "2026-11-23".into(),
                    prefix: "E".into(),
                    first: 980,
                    last: 999
                }]
            );
            let threads: Vec<_> = (0..8)
                .map(|t| {
                    let db = db.clone();
                    std::thread::spawn(move || {
                        (0..25)
                            .map(|i| {
                                let r = format!("r{t}-{i}");
                                db.issue_ticket(&new(
                                    "E",
                                    Priority::Normal,
                                    "2026-11-23 09:00:00",
                                    &r,
                                ))
                                .unwrap()
                                .number
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<String> = threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            all.sort();
            let expected: Vec<String> = (1..=200).map(|n| format!("E{n:03}")).collect();
            assert_eq!(all, expected);
            // A retried request gets its ticket again.
            let again = db
                .issue_ticket(&new("E", Priority::Normal, "2026-11-23 09:00:00", "r0-0"))
                .unwrap();
            assert!(
                again.number.as_str() <= "E200",
                "the same ticket, not a new one"
            );
            let fresh = db
                .issue_ticket(&new("E", Priority::Normal, "2026-11-23 09:00:00", "new"))
                .unwrap();
            assert_eq!(fresh.number, "E201", "the retry drew no number");
            let next = db
                .lease_blocks(
                    "h",
                    "t3",
                    &[("2026-11-23".into(), "E".into())],
                    20,
                    10,
                    "now",
                )
                .unwrap();
            assert_eq!((next[0].first, next[0].last), (960, 979));
        }
    }

    #[test]
    fn windows_call_in_priority_and_issue_order_and_tickets_move_through_their_states() {
        for db in databases() {
            let day = "2026-11-23";
            let serves = vec!["E".to_owned()];
            db.issue_ticket(&new("E", Priority::Normal, "2026-11-23 09:00:00", "a"))
                .unwrap();
            // t2's online request "b" whose answer it lost; "a" is t1's.
            db.issue_ticket(&NewTicket {
                device: "t2",
                ..new("E", Priority::Normal, "2026-11-23 09:05:00", "b")
            })
            .unwrap();
            // An offline ticket taken at 09:02 at a terminal that leased 980–999.
            db.lease_blocks("h", "t2", &[(day.into(), "E".into())], 20, 10, "now")
                .unwrap();
            let offline = OfflineTicket {
                hall: "h".into(),
                day: day.into(),
                prefix: "E".into(),
                seq: 980,
                number: "E980".into(),
                business: "公积金".into(),
                priority: "normal".into(),
                issued_at: "2026-11-23 09:02:00".into(),
                appointment_id: None,
                replaces: Some("b".into()),
            };
            db.transaction(|tx| {
                assert!(
                    apply_offline_ticket(tx, "t2", &offline, "2026-11-23 10:00:00.000").unwrap()
                );
                let outside = OfflineTicket {
                    seq: 5,
                    number: "E005".into(),
                    ..offline.clone()
                };
                assert!(
                    !apply_offline_ticket(tx, "t2", &outside, "2026-11-23 10:00:00.000").unwrap(),
                    "not in a lease"
                );
                assert!(
                    !apply_offline_ticket(tx, "t9", &offline, "2026-11-23 10:00:00.000").unwrap(),
                    "not this device's lease"
                );
                // t2 cannot cancel t1's ticket through `replaces`.
                let foreign = OfflineTicket {
                    seq: 981,
                    number: "E981".into(),
                    issued_at: "2026-11-23 09:30:00".into(),
                    replaces: Some("a".into()),
                    ..offline.clone()
                };
                assert!(
                    apply_offline_ticket(tx, "t2", &foreign, "2026-11-23 10:00:00.000").unwrap()
                );
                Ok(())
            })
            .unwrap();
            let order: Vec<String> = db
                .waiting("h", day, &serves, 10)
                .unwrap()
                .into_iter()
                .map(|t| t.number)
                .collect();
            assert_eq!(
                order,
                ["E001", "E980", "E981"],
                "E002 was replaced by the offline ticket, E001 was not; issue order"
            );
            db.issue_ticket(&new("E", Priority::Elder, "2026-11-23 09:10:00", "c"))
                .unwrap();

            let call = |a: Act| {
                db.act("h", day, 3, &serves, a, "2026-11-23 09:20:00", "staff")
                    .unwrap()
            };
            assert_eq!(call(Act::CallNext).unwrap().number, "E003", "elders first");
            let recalled = call(Act::Recall).unwrap();
            assert_eq!(
                (
                    recalled.recalls,
                    recalled.call("2026-11-23 09:21:00").unwrap().recall
                ),
                (1, true)
            );
            assert_eq!(call(Act::NoShow).unwrap().state, TicketState::NoShow);
            assert!(matches!(
                db.act("h", day, 3, &serves, Act::Finish, "x", "s"),
                Err(StorageError::Conflict(_))
            ));
            assert_eq!(call(Act::CallNext).unwrap().number, "E001");
            assert_eq!(call(Act::Serve).unwrap().state, TicketState::Serving);
            let moved = call(Act::Transfer {
                queue: "F",
                business: "不动产登记",
                window: Some(7),
            })
            .unwrap();
            assert_eq!(
                (moved.number.as_str(), moved.queue.as_str(), moved.hop),
                ("E001", "F", 1)
            );
            assert_eq!(
                db.ticket("h", day, "E001").unwrap().unwrap().state,
                TicketState::Waiting
            );
            let f = vec!["F".to_owned()];
            assert!(
                db.act("h", day, 8, &f, Act::CallNext, "x", "s")
                    .unwrap()
                    .is_none(),
                "only window 7"
            );
            assert_eq!(
                db.act("h", day, 7, &f, Act::CallNext, "x", "s")
                    .unwrap()
                    .unwrap()
                    .number,
                "E001"
            );
            assert_eq!(call(Act::CallNext).unwrap().number, "E980");
            assert_eq!(db.current_calls("h", day, 12).unwrap().len(), 2);
        }
    }

    #[test]
    fn an_offline_check_in_marks_the_appointment_like_an_online_one() {
        use crate::appointments::Sealer;
        use crate::storage::{AppointmentStore, NewAppointment};
        for db in databases() {
            let sealer = Sealer::from_key(&[3; 32]);
            let claims = menpai_model::appointment::AppointmentClaims {
                id: "ap-1".into(),
                hall: "h".into(),
                item: "P43".into(),
                item_name: "公积金提取".into(),
                prefix: "E".into(),
                date: "2026-11-23".into(),
                start: "10:00".into(),
                end: "10:30".into(),
                holder: "张*明".into(),
            };
            db.book(&NewAppointment {
                claims,
                name_enc: sealer.seal("张小明"),
                phone_enc: sealer.seal("13800000001"),
                phone_hash: sealer.phone_hash("13800000001"),
                booked_at: "2026-11-20 09:00:00".into(),
                capacity: 4,
            })
            .unwrap();
            db.lease_blocks(
                "h",
                "t2",
                &[("2026-11-23".into(), "E".into())],
                20,
                10,
                "now",
            )
            .unwrap();
            let offline = OfflineTicket {
                hall: "h".into(),
                day: "2026-11-23".into(),
                prefix: "E".into(),
                seq: 980,
                number: "E980".into(),
                business: "公积金".into(),
                priority: "appointment".into(),
                issued_at: "2026-11-23 10:01:00.000".into(),
                appointment_id: Some("ap-1".into()),
                replaces: None,
            };
            db.transaction(|tx| {
                assert!(
                    apply_offline_ticket(tx, "t2", &offline, "2026-11-23 10:00:00.000").unwrap()
                );
                Ok(())
            })
            .unwrap();
            let a = db.appointment("ap-1").unwrap().unwrap();
            assert_eq!(a.ticket.as_deref(), Some("E980"));
            assert_eq!(a.checked_in_at.as_deref(), Some("2026-11-23 10:01:00.000"));
            let again = NewTicket {
                appointment_id: Some("ap-1"),
                ..new("E", Priority::Appointment, "2026-11-23 10:05:00", "r-again")
            };
            assert!(
                matches!(db.issue_ticket(&again), Err(StorageError::Conflict(m)) if m.contains("E980")),
                "checked in offline: refused online"
            );
        }
    }

    #[test]
    fn people_ahead_counts_and_service_minutes_read_alike_on_both_engines() {
        for db in databases() {
            let day = "2026-11-23";
            let serves = vec!["E".to_owned()];
            let times = [
                "2026-11-23 09:00:00",
                "2026-11-23 09:01:00",
                "2026-11-23 09:02:00",
                "2026-11-23 09:03:00",
            ];
            for (at, r) in times.iter().zip(["a", "b", "c", "d"]) {
                db.issue_ticket(&new("E", Priority::Normal, at, r)).unwrap();
            }
            db.issue_ticket(&new("E", Priority::Elder, "2026-11-23 09:10:00", "e"))
                .unwrap();
            let last = db.ticket("h", day, "E004").unwrap().unwrap();
            assert_eq!(db.people_ahead("h", day, "E", &last).unwrap(), 4);
            let elder = db.ticket("h", day, "E005").unwrap().unwrap();
            assert_eq!(db.people_ahead("h", day, "E", &elder).unwrap(), 0);
            assert_eq!(db.waiting_counts("h", day).unwrap(), vec![("E".into(), 5)]);
            let act = |a: Act, now: &str| db.act("h", day, 2, &serves, a, now, "s").unwrap();
            // 4 minutes from serving, 2 from the call (never marked serving), 6 from serving.
            act(Act::CallNext, "2026-11-23 10:00:00");
            act(Act::Serve, "2026-11-23 10:01:00");
            act(Act::Finish, "2026-11-23 10:05:00");
            act(Act::CallNext, "2026-11-23 10:06:00");
            act(Act::Finish, "2026-11-23 10:08:00");
            assert_eq!(db.service_minutes("h", "E", 10).unwrap(), None, "two");
            act(Act::CallNext, "2026-11-23 10:10:00");
            act(Act::Serve, "2026-11-23 10:10:30");
            assert_eq!(db.at_window("h", day, 2).unwrap().unwrap().number, "E002");
            act(Act::Finish, "2026-11-23 10:16:30");
            assert_eq!(db.at_window("h", day, 2).unwrap(), None);
            let m = db.service_minutes("h", "E", 10).unwrap().unwrap();
            assert!((m - 4.0).abs() < 1e-6, "{m}");
            assert_eq!(
                db.service_minutes("h", "E", 2).unwrap(),
                None,
                "the last two"
            );
            assert_eq!(db.waiting_counts("h", day).unwrap(), vec![("E".into(), 2)]);
        }
    }
}
