//! What the live hall monitor and the charts read beyond hop facts: who waits now and since
//! when, what each window is doing, tickets served today, and ratings per day.

use super::{Database, Exec, Result};
use crate::params;

/// A ticket waiting now. Times are local stamps (`YYYY-MM-DD HH:MM:SS.mmm`).
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingNow {
    /// The business type's prefix it waits for.
    pub queue: String,
    pub number: String,
    /// When it began to wait here: issued, or transferred in.
    pub since: String,
}

/// A window that worked today: the ticket at it now, or since when it has been idle.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowNow {
    pub window: u32,
    /// The ticket at the window (called or serving), if any.
    pub number: Option<String>,
    /// `called` or `serving` with a ticket; `idle` without.
    pub state: String,
    /// When the ticket was called, or when the window's last ticket left.
    pub since: String,
}

/// Ratings of one day (by when they were given).
#[derive(Debug, Clone, PartialEq)]
pub struct RatingDay {
    pub day: String,
    pub count: u64,
    /// Four stars or five.
    pub satisfied: u64,
}

pub trait MonitorStore {
    /// Tickets of `hall` waiting on `day`, longest first.
    fn waiting_now(&self, hall: &str, day: &str) -> Result<Vec<WaitingNow>>;
    /// Windows of `hall` that handled a ticket on `day`, by number.
    fn windows_now(&self, hall: &str, day: &str) -> Result<Vec<WindowNow>>;
    /// Hops of `hall` finished as served on `day`.
    fn served_on(&self, hall: &str, day: &str) -> Result<u64>;
    /// Ratings of `halls` (`None`: all) given on days `from..=to`, by day.
    fn ratings_by_day(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingDay>>;
}

impl MonitorStore for Database {
    fn waiting_now(&self, hall: &str, day: &str) -> Result<Vec<WaitingNow>> {
        self.query_map(
            "SELECT t.queue, t.number, COALESCE(h.waiting_since, t.issued_at) AS since
             FROM tickets t LEFT JOIN ticket_hops h ON h.ticket_id = t.id
             WHERE t.hall = ?1 AND t.day = ?2 AND t.state = 'waiting'
             ORDER BY since, t.id",
            params![hall, day],
            |r| {
                Ok(WaitingNow {
                    queue: r.get(0)?,
                    number: r.get(1)?,
                    since: r.get(2)?,
                })
            },
        )
    }

    fn windows_now(&self, hall: &str, day: &str) -> Result<Vec<WindowNow>> {
        // Each window's latest moment from its hops, then the ticket at it now (the newest
        // hop called or serving there, should there ever be two).
        self.query_map(
            "SELECT w.\"window\", t.number, t.state, COALESCE(t.called_at, w.last)
             FROM (SELECT \"window\", MAX(COALESCE(ended_at, serving_at, first_called)) AS last
                   FROM ticket_hops
                   WHERE hall = ?1 AND day = ?2 AND \"window\" IS NOT NULL
                     AND first_called IS NOT NULL
                   GROUP BY \"window\") w
             LEFT JOIN tickets t ON t.id = (
                 SELECT MAX(a.id) FROM tickets a
                 WHERE a.hall = ?1 AND a.day = ?2 AND a.\"window\" = w.\"window\"
                   AND a.state IN ('called', 'serving'))
             ORDER BY w.\"window\"",
            params![hall, day],
            |r| {
                let state: Option<String> = r.get(2)?;
                Ok(WindowNow {
                    window: r.get(0)?,
                    number: r.get(1)?,
                    state: state.unwrap_or_else(|| "idle".into()),
                    since: r.get(3)?,
                })
            },
        )
    }

    fn served_on(&self, hall: &str, day: &str) -> Result<u64> {
        let n: i64 = self.query_row(
            "SELECT COUNT(*) FROM ticket_hops WHERE hall = ?1 AND day = ?2 AND state = 'done'",
            params![hall, day],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    fn ratings_by_day(
        &self,
        halls: Option<&[String]>,
        from: &str,
        to: &str,
    ) -> Result<Vec<RatingDay>> {
        let halls = halls.map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        self.query_map(
            &format!(
                "SELECT substr(rated_at, 1, 10) AS d, COUNT(*),
                        SUM(CASE WHEN stars >= 4 THEN 1 ELSE 0 END)
                 FROM ratings
                 WHERE (CAST(?1 AS TEXT) IS NULL OR hall IN ({}))
                   AND substr(rated_at, 1, 10) BETWEEN ?2 AND ?3
                 GROUP BY d ORDER BY d",
                self.dialect().json_strings("?1")
            ),
            params![halls, from, to],
            |r| {
                Ok(RatingDay {
                    day: r.get(0)?,
                    count: r.get::<i64>(1)?.max(0) as u64,
                    satisfied: r.get::<i64>(2)?.max(0) as u64,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    const DAY: &str = "2026-11-23";

    /// A ticket (its row and its hop's facts).
    fn ticket(
        db: &Database,
        id: i64,
        number: &str,
        state: &str,
        window: Option<i64>,
        hop: [Option<&str>; 4],
    ) {
        let [waiting_since, first_called, serving_at, ended_at] = hop;
        let called_at = if matches!(state, "called" | "serving") {
            first_called
        } else {
            None
        };
        db.execute(
            "INSERT INTO tickets (id, hall, day, prefix, seq, number, queue, business, priority,
                 state, issued_at, \"window\", called_at)
             VALUES (?1, 'h', ?2, ?3, ?1, ?4, ?3, 'biz', 'normal', ?5, ?6, ?7, ?8)",
            params![
                id,
                DAY,
                &number[..1],
                number,
                state,
                format!("{DAY} 09:0{id}:00.000"),
                window,
                called_at
            ],
        )
        .unwrap();
        db.execute(
            "INSERT INTO ticket_hops (ticket_id, hall, day, queue, channel, waiting_since,
                 first_called, serving_at, ended_at, state, \"window\")
             VALUES (?1, 'h', ?2, ?3, 'kiosk', ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                DAY,
                &number[..1],
                waiting_since,
                first_called,
                serving_at,
                ended_at,
                state,
                window
            ],
        )
        .unwrap();
    }

    #[test]
    fn the_monitor_sees_who_waits_what_windows_do_and_what_was_served() {
        for db in databases() {
            let t = |hm: &str| Some(format!("{DAY} {hm}:00.000"));
            let (a, b, c, d, e) = (t("10:00"), t("10:01"), t("10:05"), t("10:06"), t("10:03"));
            ticket(
                &db,
                1,
                "A001",
                "done",
                Some(1),
                [None, a.as_deref(), b.as_deref(), c.as_deref()],
            );
            ticket(
                &db,
                2,
                "A002",
                "serving",
                Some(1),
                [None, d.as_deref(), d.as_deref(), None],
            );
            // Transferred in at 10:02 (waits since then), issued at 09:03.
            ticket(
                &db,
                3,
                "A003",
                "waiting",
                None,
                [t("10:02").as_deref(), None, None, None],
            );
            ticket(&db, 4, "B004", "waiting", None, [None, None, None, None]);
            ticket(
                &db,
                5,
                "B005",
                "done",
                Some(2),
                [None, a.as_deref(), a.as_deref(), e.as_deref()],
            );
            ticket(
                &db,
                6,
                "B006",
                "cancelled",
                None,
                [None, a.as_deref(), None, c.as_deref()],
            );
            let waiting = db.waiting_now("h", DAY).unwrap();
            assert_eq!(
                waiting,
                vec![
                    WaitingNow {
                        queue: "B".into(),
                        number: "B004".into(),
                        since: format!("{DAY} 09:04:00.000"),
                    },
                    WaitingNow {
                        queue: "A".into(),
                        number: "A003".into(),
                        since: format!("{DAY} 10:02:00.000"),
                    },
                ]
            );
            assert!(db.waiting_now("other", DAY).unwrap().is_empty());
            assert_eq!(
                db.windows_now("h", DAY).unwrap(),
                vec![
                    WindowNow {
                        window: 1,
                        number: Some("A002".into()),
                        state: "serving".into(),
                        since: d.clone().unwrap(),
                    },
                    WindowNow {
                        window: 2,
                        number: None,
                        state: "idle".into(),
                        since: e.clone().unwrap(),
                    },
                ]
            );
            assert_eq!(db.served_on("h", DAY).unwrap(), 2);
            assert_eq!(db.served_on("h", "2026-11-24").unwrap(), 0);
        }
    }

    #[test]
    fn ratings_are_counted_by_day_and_hall() {
        for db in databases() {
            for (hall, stars, at) in [
                ("h", 5, "2026-11-23 10:00:00.000"),
                ("h", 2, "2026-11-23 11:00:00.000"),
                ("h", 4, "2026-11-23 12:00:00.000"),
                ("x", 4, "2026-11-24 09:00:00.000"),
                ("x", 1, "2026-11-26 09:00:00.000"),
            ] {
                db.execute(
                    "INSERT INTO ratings (hall, subject, stars, source, rated_at)
                     VALUES (?1, 'general', ?2, 'kiosk', ?3)",
                    params![hall, stars, at],
                )
                .unwrap();
            }
            let day = |d: &str, count, satisfied| RatingDay {
                day: d.into(),
                count,
                satisfied,
            };
            assert_eq!(
                db.ratings_by_day(None, "2026-11-23", "2026-11-25").unwrap(),
                vec![day("2026-11-23", 3, 2), day("2026-11-24", 1, 1)]
            );
            let h = ["h".to_owned()];
            assert_eq!(
                db.ratings_by_day(Some(&h), "2026-11-01", "2026-11-30")
                    .unwrap(),
                vec![day("2026-11-23", 3, 2)]
            );
            assert!(
                db.ratings_by_day(Some(&[]), "2026-11-01", "2026-11-30")
                    .unwrap()
                    .is_empty()
            );
        }
    }
}
