//! Citizens' ratings (好差评) tied to what they rate — a ticket with its window and business, or
//! the hall in general — their summaries per window and the monthly ranking of windows.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Result, Database};

/// Where a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingSource {
    /// The ticket's page on the citizen's phone.
    Phone,
    /// A plate in the hall.
    Kiosk,
}

impl RatingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingSource::Phone => "phone",
            RatingSource::Kiosk => "kiosk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RatingSource::Phone => "手机",
            RatingSource::Kiosk => "门牌终端",
        }
    }

    fn parse(s: &str) -> RatingSource {
        if s == "kiosk" {
            RatingSource::Kiosk
        } else {
            RatingSource::Phone
        }
    }
}

/// The ticket a rating is about: its hall's day and number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatedTicket {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub number: String,
}

/// A citizen's rating; no personal data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    pub hall: String,
    /// The ticket rated; `None` for a general rating of the hall.
    pub ticket: Option<RatedTicket>,
    /// The ticket's business type ('' for a general rating).
    pub business: String,
    /// The window that served the ticket.
    pub window: Option<u32>,
    /// The item in view when a plate's rating was given.
    pub item: Option<String>,
    /// 5 (非常满意) to 1 (非常不满意).
    pub stars: u8,
    pub reasons: Vec<String>,
    pub comment: String,
    pub source: RatingSource,
    /// The plate it came from.
    pub device: Option<String>,
    /// Local time, `YYYY-MM-DD HH:MM:SS.mmm`.
    pub rated_at: String,
}

impl Rating {
    /// 不满意 or 非常不满意: a case follows.
    pub fn is_poor(&self) -> bool {
        self.stars <= 2
    }
}

/// Ratings of a window and business type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingSummary {
    pub window: Option<u32>,
    pub business: String,
    pub count: u32,
    pub average: f64,
    /// Ratings of 1 or 2 stars (差评), which the hall must follow up.
    pub poor: u32,
}

/// A window's month: how many rated it and how many were satisfied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowRank {
    pub hall: String,
    pub window: u32,
    pub count: u32,
    /// 非常满意 and 满意.
    pub satisfied: u32,
    /// `satisfied / count`, 0..=1.
    pub rate: f64,
}

/// Ratings are stored with the case a poor one opens: see `CaseStore::rate`.
pub trait RatingStore {
    fn rating(&self, hall: &str, day: &str, number: &str) -> Result<Option<u8>>;
    /// Per window and business of the tickets rated since a day; the latest comments.
    fn ratings(&self, hall: &str, since: &str) -> Result<(Vec<RatingSummary>, Vec<Value>)>;
    /// The windows rated in a month (`YYYY-MM`), best satisfaction first; only `halls` when
    /// given.
    fn ranking(&self, month: &str, halls: Option<&[String]>) -> Result<Vec<WindowRank>>;
}

/// Stores a rating on `conn` (inside the caller's transaction); its id, `None` when its ticket
/// was rated already.
pub(super) fn insert_rating(conn: &Connection, r: &Rating) -> Result<Option<i64>> {
    let (subject, day, number) = match &r.ticket {
        Some(t) => ("ticket", Some(t.day.as_str()), Some(t.number.as_str())),
        None => ("general", None, None),
    };
    Ok(conn
        .query_row(
            "INSERT INTO ratings (hall, subject, day, number, business, window, item, stars,
                                  reasons, comment, source, device, rated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT DO NOTHING RETURNING id",
            params![
                r.hall,
                subject,
                day,
                number,
                r.business,
                r.window,
                r.item,
                r.stars,
                serde_json::to_string(&r.reasons).unwrap_or_else(|_| "[]".into()),
                r.comment,
                r.source.as_str(),
                r.device,
                r.rated_at
            ],
            |row| row.get(0),
        )
        .optional()?)
}

/// The columns [`rating_row`] reads, on a table aliased `r`.
pub(super) const RATING_COLUMNS: &str = "r.hall, r.day, r.number, r.business, r.window, r.item,
     r.stars, r.reasons, r.comment, r.source, r.device, r.rated_at";

/// A rating from [`RATING_COLUMNS`] starting at column `at`.
pub(super) fn rating_row(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Rating> {
    let day: Option<String> = row.get(at + 1)?;
    let number: Option<String> = row.get(at + 2)?;
    let reasons: String = row.get(at + 7)?;
    let source: String = row.get(at + 9)?;
    Ok(Rating {
        hall: row.get(at)?,
        ticket: day
            .zip(number)
            .map(|(day, number)| RatedTicket { day, number }),
        business: row.get(at + 3)?,
        window: row.get(at + 4)?,
        item: row.get(at + 5)?,
        stars: row.get(at + 6)?,
        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        comment: row.get(at + 8)?,
        source: RatingSource::parse(&source),
        device: row.get(at + 10)?,
        rated_at: row.get(at + 11)?,
    })
}

impl RatingStore for Database {
    fn rating(&self, hall: &str, day: &str, number: &str) -> Result<Option<u8>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT stars FROM ratings
                 WHERE hall = ?1 AND day = ?2 AND number = ?3 AND subject = 'ticket'",
                params![hall, day, number],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn ratings(&self, hall: &str, since: &str) -> Result<(Vec<RatingSummary>, Vec<Value>)> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT window, business, COUNT(*), AVG(stars), SUM(stars <= 2) FROM ratings
             WHERE hall = ?1 AND subject = 'ticket' AND day >= ?2
             GROUP BY window, business ORDER BY window, business",
        )?;
        let summary = stmt
            .query_map(params![hall, since], |r| {
                Ok(RatingSummary {
                    window: r.get(0)?,
                    business: r.get(1)?,
                    count: r.get(2)?,
                    average: (r.get::<_, f64>(3)? * 100.0).round() / 100.0,
                    poor: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT day, number, window, stars, comment FROM ratings
             WHERE hall = ?1 AND subject = 'ticket' AND day >= ?2 AND comment != ''
             ORDER BY rated_at DESC LIMIT 20",
        )?;
        let comments = stmt
            .query_map(params![hall, since], |r| {
                Ok(json!({
                    "day": r.get::<_, String>(0)?, "number": r.get::<_, String>(1)?,
                    "window": r.get::<_, Option<u32>>(2)?, "stars": r.get::<_, u8>(3)?,
                    "comment": r.get::<_, String>(4)?,
                }))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((summary, comments))
    }

    fn ranking(&self, month: &str, halls: Option<&[String]>) -> Result<Vec<WindowRank>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hall, window, COUNT(*), SUM(stars >= 4) FROM ratings
             WHERE window IS NOT NULL AND substr(rated_at, 1, 7) = ?1
             GROUP BY hall, window",
        )?;
        let mut ranks = stmt
            .query_map([month], |r| {
                let count: u32 = r.get(2)?;
                let satisfied: u32 = r.get(3)?;
                Ok(WindowRank {
                    hall: r.get(0)?,
                    window: r.get(1)?,
                    count,
                    satisfied,
                    rate: satisfied as f64 / count.max(1) as f64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if let Some(halls) = halls {
            ranks.retain(|r| halls.contains(&r.hall));
        }
        ranks.sort_by(|a, b| {
            b.rate
                .total_cmp(&a.rate)
                .then(b.count.cmp(&a.count))
                .then(a.hall.cmp(&b.hall))
                .then(a.window.cmp(&b.window))
        });
        Ok(ranks)
    }
}
