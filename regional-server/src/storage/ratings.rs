//! Citizens' ratings of finished tickets (好差评) and their summaries per window.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Result, Sqlite, StorageError};

/// A citizen's rating of a finished ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub hall: String,
    pub day: String,
    pub number: String,
    pub business: String,
    pub window: Option<u32>,
    pub stars: u8,
    pub comment: String,
    pub rated_at: String,
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

pub trait RatingStore {
    /// Stores a rating; a ticket is rated once.
    fn rate(&self, r: &Rating) -> Result<()>;
    fn rating(&self, hall: &str, day: &str, number: &str) -> Result<Option<u8>>;
    /// Per window and business since a day; the latest comments.
    fn ratings(&self, hall: &str, since: &str) -> Result<(Vec<RatingSummary>, Vec<Value>)>;
}

impl RatingStore for Sqlite {
    fn rate(&self, r: &Rating) -> Result<()> {
        let done = self.conn().execute(
            "INSERT INTO ratings (hall, day, number, business, window, stars, comment, rated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            params![
                r.hall, r.day, r.number, r.business, r.window, r.stars, r.comment, r.rated_at
            ],
        )?;
        if done == 0 {
            return Err(StorageError::Conflict("这张号已经评价过了，谢谢您".into()));
        }
        Ok(())
    }

    fn rating(&self, hall: &str, day: &str, number: &str) -> Result<Option<u8>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT stars FROM ratings WHERE hall = ?1 AND day = ?2 AND number = ?3",
                params![hall, day, number],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn ratings(&self, hall: &str, since: &str) -> Result<(Vec<RatingSummary>, Vec<Value>)> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT window, business, COUNT(*), AVG(stars), SUM(stars <= 2) FROM ratings
             WHERE hall = ?1 AND day >= ?2 GROUP BY window, business ORDER BY window, business",
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
             WHERE hall = ?1 AND day >= ?2 AND comment != '' ORDER BY rated_at DESC LIMIT 20",
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
}
