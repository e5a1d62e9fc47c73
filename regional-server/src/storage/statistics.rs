//! What statistics read: the ticket events (`ticket_log`, each carrying its hall, day, queue
//! and channel) gathered per hop of a ticket (`ticket_hops`, which the event writer keeps in
//! the same transaction), the events behind one ticket, and the appointments, ratings and help
//! calls of a period.

use super::{Database, Exec, Result, Row, ToValue, Value};
use crate::params;

/// Every hop rebuilt from its events alone (as migration 0014 first filled `ticket_hops`): for
/// stores written around the event writer (the benchmark's bulk load), and to check that the
/// hops kept always equal their events. Two statements, in the SQL both engines speak (a hop's
/// hall, day, queue and channel are the same in each of its events).
pub const HOPS_FROM_EVENTS: &str = r#"DELETE FROM ticket_hops;
INSERT INTO ticket_hops
SELECT l.ticket_id, l.hall, l.day, l.queue, l.channel,
       MIN(CASE WHEN l.state = 'waiting' THEN l.at END),
       MIN(CASE WHEN l.state = 'called' THEN l.at END),
       MIN(CASE WHEN l.state = 'serving' THEN l.at END),
       MAX(CASE WHEN l.state IN ('done', 'no_show', 'transferred', 'cancelled') THEN l.at END),
       t.state, t."window",
       MIN(CASE WHEN l.state = 'called' THEN l.actor END),
       t.recalls
FROM ticket_log l JOIN tickets t ON t.id = l.ticket_id
GROUP BY l.ticket_id, l.hall, l.day, l.queue, l.channel, t.state, t."window", t.recalls;"#;

/// Tickets whose events one statement reads.
const TICKETS_PER_STATEMENT: usize = 500;

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

/// `hall` among the JSON list of halls in `?1`, or any hall when `?1` is NULL.
fn in_halls(db: &impl Exec, hall: &str) -> String {
    format!(
        "(CAST(?1 AS TEXT) IS NULL OR {hall} IN ({}))",
        db.dialect().json_strings("?1")
    )
}

fn rating_fact(r: &Row) -> Result<RatingFact> {
    Ok(RatingFact {
        hall: r.get(0)?,
        rated_at: r.get(1)?,
        business: r.get(2)?,
        window: r.get(3)?,
        stars: r.get(4)?,
    })
}

fn appointment_fact(r: &Row) -> Result<AppointmentFact> {
    Ok(AppointmentFact {
        hall: r.get(0)?,
        prefix: r.get(1)?,
        item_name: r.get(2)?,
        date: r.get(3)?,
        start: r.get(4)?,
        end: r.get(5)?,
        checked_in_at: r.get(6)?,
    })
}

fn help_fact(r: &Row) -> Result<HelpFact> {
    Ok(HelpFact {
        hall: r.get(0)?,
        position: r.get(1)?,
        created_at: r.get(2)?,
        escalated_at: r.get(3)?,
        acknowledged_at: r.get(4)?,
    })
}

impl StatisticsStore for Database {
    fn hop_facts(&self, halls: Option<&[String]>, from: &str, to: &str) -> Result<Vec<HopFact>> {
        self.query_map(
            &format!(
                "SELECT h.ticket_id, h.hall, h.day, t.number, t.hop, h.queue, t.business,
                        h.channel, t.priority, h.waiting_since, h.first_called, h.serving_at,
                        h.ended_at, h.state, h.\"window\", h.staff, h.recalls
                 FROM ticket_hops h JOIN tickets t ON t.id = h.ticket_id
                 WHERE {} AND h.day BETWEEN ?2 AND ?3",
                in_halls(self, "h.hall")
            ),
            params![halls_json(halls), from, to],
            |r| {
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
            },
        )
    }

    fn ticket_events(&self, tickets: &[i64]) -> Result<Vec<TicketEvent>> {
        let mut tickets = tickets.to_vec();
        tickets.sort_unstable();
        tickets.dedup();
        // The ids as parameters, some hundreds a statement; the events sorted here.
        let mut events: Vec<(String, i64, TicketEvent)> = Vec::new();
        for chunk in tickets.chunks(TICKETS_PER_STATEMENT) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let ids: Vec<Value> = chunk.iter().map(ToValue::to_value).collect();
            events.extend(self.query_map(
                &format!(
                    "SELECT ticket_id, at, state, \"window\", actor, id FROM ticket_log
                     WHERE ticket_id IN ({})",
                    marks.join(", ")
                ),
                ids,
                |r| {
                    let event = TicketEvent {
                        ticket: r.get(0)?,
                        at: r.get(1)?,
                        state: r.get(2)?,
                        window: r.get(3)?,
                        actor: r.get(4)?,
                    };
                    Ok((event.at.clone(), r.get(5)?, event))
                },
            )?);
        }
        events.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Ok(events.into_iter().map(|(_, _, e)| e).collect())
    }

    fn appointment_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentFact>> {
        self.query_map(
            &format!(
                "SELECT hall, prefix, item_name, date, start, \"end\", checked_in_at
                 FROM appointments
                 WHERE {} AND date BETWEEN ?2 AND ?3",
                in_halls(self, "hall")
            ),
            params![halls_json(halls), from, to],
            appointment_fact,
        )
    }

    fn rating_facts(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingFact>> {
        // `rated_at` starts with its day: before the next day holds every stamp of the last.
        self.query_map(
            &format!(
                "SELECT hall, rated_at, business, \"window\", stars FROM ratings
                 WHERE {} AND rated_at >= ?2 AND rated_at < {}",
                in_halls(self, "hall"),
                self.dialect().next_day("CAST(?3 AS TEXT)")
            ),
            params![halls_json(halls), from, to],
            rating_fact,
        )
    }

    fn help_facts(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpFact>> {
        self.query_map(
            &format!(
                "SELECT hall, position, created_at, escalated_at, acknowledged_at FROM help_calls
                 WHERE {} AND created_at >= ?2 AND created_at < ?3 AND training = 0",
                in_halls(self, "hall")
            ),
            params![halls_json(halls), from_utc, until_utc],
            help_fact,
        )
    }

    fn appointment_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<AppointmentRecord>> {
        self.query_map(
            &format!(
                "SELECT hall, prefix, item_name, date, start, \"end\", checked_in_at, id,
                        holder_masked, ticket FROM appointments
                 WHERE {} AND date BETWEEN ?2 AND ?3
                 ORDER BY date, start, id",
                in_halls(self, "hall")
            ),
            params![halls_json(halls), from, to],
            |r| {
                Ok(AppointmentRecord {
                    fact: appointment_fact(r)?,
                    id: r.get(7)?,
                    holder_masked: r.get(8)?,
                    ticket: r.get(9)?,
                })
            },
        )
    }

    fn rating_records(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingRecord>> {
        self.query_map(
            &format!(
                "SELECT hall, rated_at, business, \"window\", stars, id, number, reasons, comment
                 FROM ratings
                 WHERE {} AND rated_at >= ?2 AND rated_at < {}
                 ORDER BY rated_at, id",
                in_halls(self, "hall"),
                self.dialect().next_day("CAST(?3 AS TEXT)")
            ),
            params![halls_json(halls), from, to],
            |r| {
                let reasons: String = r.get(7)?;
                Ok(RatingRecord {
                    fact: rating_fact(r)?,
                    id: r.get(5)?,
                    number: r.get(6)?,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    comment: r.get(8)?,
                })
            },
        )
    }

    fn help_records(
        &self,
        halls: Option<&[String]>,
        from_utc: &str,
        until_utc: &str,
    ) -> Result<Vec<HelpRecord>> {
        self.query_map(
            &format!(
                "SELECT hall, position, created_at, escalated_at, acknowledged_at, id, screen,
                        acknowledged_by FROM help_calls
                 WHERE {} AND created_at >= ?2 AND created_at < ?3 AND training = 0
                 ORDER BY created_at, id",
                in_halls(self, "hall")
            ),
            params![halls_json(halls), from_utc, until_utc],
            |r| {
                Ok(HelpRecord {
                    fact: help_fact(r)?,
                    id: r.get(5)?,
                    screen: r.get(6)?,
                    acknowledged_by: r.get(7)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use menpai_model::queue::Priority;

    use super::*;
    use crate::storage::testing::databases;
    use crate::storage::{Act, NewTicket, QueueStore};

    #[test]
    fn the_hops_kept_with_each_event_equal_the_hops_rebuilt_from_the_events() {
        for db in databases() {
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
            db.transaction(|tx| {
                for statement in HOPS_FROM_EVENTS.split(';').filter(|s| !s.trim().is_empty()) {
                    tx.execute(statement, ())?;
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(kept, sorted(db.hop_facts(None, day, day).unwrap()));
        }
    }

    #[test]
    fn facts_and_records_are_read_by_hall_and_period() {
        for db in databases() {
            for (id, hall, date, checked_in) in [
                (
                    "a1",
                    "futian",
                    "2026-11-23",
                    Some("2026-11-23 09:10:00.000"),
                ),
                ("a2", "luohu", "2026-11-23", None),
                ("a3", "futian", "2026-11-25", None),
            ] {
                db.execute(
                    "INSERT INTO appointments (id, hall, item, item_name, prefix, date, start,
                         \"end\", holder_masked, booked_at, checked_in_at, ticket)
                     VALUES (?1, ?2, 'i', '公积金', 'E', ?3, '09:00', '09:30', '王*', 'x', ?4, ?5)",
                    params![id, hall, date, checked_in, checked_in.map(|_| "E001")],
                )
                .unwrap();
            }
            for (hall, at, window) in [
                ("futian", "2026-11-23 23:59:59.999", Some(3)),
                ("futian", "2026-11-24 00:00:00.000", None),
                ("luohu", "2026-11-23 10:00:00.000", Some(1)),
            ] {
                db.execute(
                    "INSERT INTO ratings (hall, subject, business, \"window\", stars, reasons,
                         comment, source, rated_at)
                     VALUES (?1, 'general', '公积金', ?2, 4, '[\"快\"]', '好', 'phone', ?3)",
                    params![hall, window, at],
                )
                .unwrap();
            }
            for (id, hall, at, training) in [
                ("h1", "futian", "2026-11-23T01:00:00.000Z", false),
                ("h2", "futian", "2026-11-23T02:00:00.000Z", true),
                ("h3", "luohu", "2026-11-23T03:00:00.000Z", false),
                ("h4", "futian", "2026-11-24T00:00:00.000Z", false),
            ] {
                db.execute(
                    "INSERT INTO help_calls (id, device, hall, position, screen, created_at,
                         acknowledged_by, training)
                     VALUES (?1, 'd', ?2, '入口', 'home', ?3, 'wang', ?4)",
                    params![id, hall, at, training],
                )
                .unwrap();
            }
            let futian = ["futian".to_owned()];
            let both = ["futian".to_owned(), "luohu".to_owned()];
            let (day, next) = ("2026-11-23", "2026-11-24");

            let appointments = db.appointment_facts(Some(&futian), day, day).unwrap();
            assert_eq!(appointments.len(), 1);
            assert_eq!(appointments[0].end, "09:30");
            assert_eq!(
                appointments[0].checked_in_at.as_deref(),
                Some("2026-11-23 09:10:00.000")
            );
            assert_eq!(db.appointment_facts(None, day, day).unwrap().len(), 2);
            assert!(
                db.appointment_facts(Some(&[]), day, day)
                    .unwrap()
                    .is_empty()
            );
            let records = db
                .appointment_records(Some(&both), day, "2026-11-25")
                .unwrap();
            let ids: Vec<_> = records.iter().map(|a| a.id.as_str()).collect();
            assert_eq!(ids, ["a1", "a2", "a3"]);
            assert_eq!(records[0].ticket.as_deref(), Some("E001"));
            assert_eq!(records[0].holder_masked, "王*");

            // The last millisecond of a day is in it; the next day's first is not.
            let ratings = db.rating_facts(Some(&futian), day, day).unwrap();
            assert_eq!(ratings.len(), 1);
            assert_eq!((ratings[0].window, ratings[0].stars), (Some(3), 4));
            assert_eq!(db.rating_facts(None, day, next).unwrap().len(), 3);
            let records = db.rating_records(Some(&both), day, day).unwrap();
            let times: Vec<_> = records.iter().map(|r| r.fact.rated_at.as_str()).collect();
            assert_eq!(
                times,
                ["2026-11-23 10:00:00.000", "2026-11-23 23:59:59.999"]
            );
            assert_eq!(records[0].reasons, ["快".to_owned()]);
            assert_eq!(
                (records[0].comment.as_str(), records[0].number.clone()),
                ("好", None)
            );

            let (from, until) = ("2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z");
            let calls = db.help_facts(Some(&futian), from, until).unwrap();
            assert_eq!(calls.len(), 1, "training calls left out: {calls:?}");
            assert_eq!(calls[0].position, "入口");
            let records = db.help_records(None, from, until).unwrap();
            let ids: Vec<_> = records.iter().map(|h| h.id.as_str()).collect();
            assert_eq!(ids, ["h1", "h3"]);
            assert_eq!(records[0].acknowledged_by.as_deref(), Some("wang"));
            assert_eq!(records[0].screen, "home");
        }
    }

    #[test]
    fn a_tickets_events_come_oldest_first_however_many_tickets_are_asked() {
        for db in databases() {
            let count = TICKETS_PER_STATEMENT + 100;
            let ids = db
                .transaction(|tx| {
                    let mut ids = Vec::new();
                    for seq in 0..count {
                        let id: i64 = tx.query_row(
                            "INSERT INTO tickets (hall, day, prefix, seq, number, queue,
                                 business, priority, state, issued_at)
                             VALUES ('h', 'd', 'E', ?1, 'E', 'E', 'b', 'normal', 'done', 'x')
                             RETURNING id",
                            [seq],
                            |r| r.get(0),
                        )?;
                        // The later a ticket, the earlier its first event: their order is the
                        // events', not the tickets'.
                        for (state, at) in [
                            ("waiting", format!("09:{:05}", count - seq)),
                            ("called", format!("10:{seq:05}")),
                        ] {
                            tx.execute(
                                "INSERT INTO ticket_log (ticket_id, at, state, \"window\", actor)
                                 VALUES (?1, ?2, ?3, 3, 'staff')",
                                params![id, at, state],
                            )?;
                        }
                        ids.push(id);
                    }
                    Ok(ids)
                })
                .unwrap();
            let mut asked = ids.clone();
            asked.push(ids[0]);
            let events = db.ticket_events(&asked).unwrap();
            assert_eq!(events.len(), 2 * count);
            assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
            assert_eq!(events[0].ticket, *ids.last().unwrap());
            assert_eq!(events[count].ticket, ids[0]);
            assert_eq!(
                (events[0].window, events[0].actor.as_str()),
                (Some(3), "staff")
            );
            assert_eq!(db.ticket_events(&ids[..1]).unwrap().len(), 2);
            assert!(db.ticket_events(&[]).unwrap().is_empty());
        }
    }
}
