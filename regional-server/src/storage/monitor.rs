//! What the live hall monitor and the charts read beyond hop facts: who waits now and since
//! when, what each window is doing, tickets served today, and ratings per day.

use rusqlite::params;

use super::{Result, Database};

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
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT t.queue, t.number, COALESCE(h.waiting_since, t.issued_at) AS since
             FROM tickets t LEFT JOIN ticket_hops h ON h.ticket_id = t.id
             WHERE t.hall = ?1 AND t.day = ?2 AND t.state = 'waiting'
             ORDER BY since, t.id",
        )?;
        let rows = stmt.query_map(params![hall, day], |r| {
            Ok(WaitingNow {
                queue: r.get(0)?,
                number: r.get(1)?,
                since: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn windows_now(&self, hall: &str, day: &str) -> Result<Vec<WindowNow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT h.window, t.number, t.state,
                    COALESCE(t.called_at, MAX(COALESCE(h.ended_at, h.serving_at, h.first_called)))
             FROM ticket_hops h
             LEFT JOIN tickets t ON t.hall = h.hall AND t.day = h.day AND t.window = h.window
                                AND t.state IN ('called', 'serving')
             WHERE h.hall = ?1 AND h.day = ?2 AND h.window IS NOT NULL
               AND h.first_called IS NOT NULL
             GROUP BY h.window ORDER BY h.window",
        )?;
        let rows = stmt.query_map(params![hall, day], |r| {
            let state: Option<String> = r.get(2)?;
            Ok(WindowNow {
                window: r.get(0)?,
                number: r.get(1)?,
                state: state.unwrap_or_else(|| "idle".into()),
                since: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn served_on(&self, hall: &str, day: &str) -> Result<u64> {
        let n: i64 = self.conn().query_row(
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
        let conn = self.conn();
        let halls = halls.map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        let mut stmt = conn.prepare_cached(
            "SELECT substr(rated_at, 1, 10) AS d, COUNT(*), SUM(stars >= 4) FROM ratings
             WHERE (?1 IS NULL OR hall IN (SELECT value FROM json_each(?1)))
               AND substr(rated_at, 1, 10) BETWEEN ?2 AND ?3
             GROUP BY d ORDER BY d",
        )?;
        let rows = stmt.query_map(params![halls, from, to], |r| {
            Ok(RatingDay {
                day: r.get(0)?,
                count: r.get::<_, i64>(1)?.max(0) as u64,
                satisfied: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
