//! Citizens' ratings (好差评) tied to what they rate — a ticket with its window and business, or
//! the hall in general — their summaries per window and the monthly ranking of windows.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Database, Exec, OptionalExt, Result, Row};
use crate::params;

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

/// Stores a rating on `db` (inside the caller's transaction); its id, `None` when its ticket
/// was rated already.
pub(super) fn insert_rating(db: &impl Exec, r: &Rating) -> Result<Option<i64>> {
    let (subject, day, number) = match &r.ticket {
        Some(t) => ("ticket", Some(t.day.as_str()), Some(t.number.as_str())),
        None => ("general", None, None),
    };
    db.query_row(
        "INSERT INTO ratings (hall, subject, day, number, business, \"window\", item, stars,
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
    .optional()
}

/// The columns [`rating_row`] reads, on a table aliased `r`.
pub(super) const RATING_COLUMNS: &str = "r.hall, r.day, r.number, r.business, r.\"window\", r.item,
     r.stars, r.reasons, r.comment, r.source, r.device, r.rated_at";

/// A rating from [`RATING_COLUMNS`] starting at column `at`.
pub(super) fn rating_row(row: &Row, at: usize) -> Result<Rating> {
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
        self.query_row(
            "SELECT stars FROM ratings
             WHERE hall = ?1 AND day = ?2 AND number = ?3 AND subject = 'ticket'",
            params![hall, day, number],
            |r| r.get(0),
        )
        .optional()
    }

    fn ratings(&self, hall: &str, since: &str) -> Result<(Vec<RatingSummary>, Vec<Value>)> {
        let summary = self.query_map(
            "SELECT \"window\", business, COUNT(*), AVG(stars),
                    SUM(CASE WHEN stars <= 2 THEN 1 ELSE 0 END)
             FROM ratings
             WHERE hall = ?1 AND subject = 'ticket' AND day >= ?2
             GROUP BY \"window\", business ORDER BY \"window\" NULLS FIRST, business",
            params![hall, since],
            |r| {
                Ok(RatingSummary {
                    window: r.get(0)?,
                    business: r.get(1)?,
                    count: r.get(2)?,
                    average: (r.get::<f64>(3)? * 100.0).round() / 100.0,
                    poor: r.get(4)?,
                })
            },
        )?;
        let comments = self.query_map(
            "SELECT day, number, \"window\", stars, comment FROM ratings
             WHERE hall = ?1 AND subject = 'ticket' AND day >= ?2 AND comment <> ''
             ORDER BY rated_at DESC LIMIT 20",
            params![hall, since],
            |r| {
                Ok(json!({
                    "day": r.get::<String>(0)?, "number": r.get::<String>(1)?,
                    "window": r.get::<Option<u32>>(2)?, "stars": r.get::<u8>(3)?,
                    "comment": r.get::<String>(4)?,
                }))
            },
        )?;
        Ok((summary, comments))
    }

    fn ranking(&self, month: &str, halls: Option<&[String]>) -> Result<Vec<WindowRank>> {
        let mut ranks = self.query_map(
            "SELECT hall, \"window\", COUNT(*), SUM(CASE WHEN stars >= 4 THEN 1 ELSE 0 END)
             FROM ratings
             WHERE \"window\" IS NOT NULL AND substr(rated_at, 1, 7) = ?1
             GROUP BY hall, \"window\"",
            [month],
            |r| {
                let count: u32 = r.get(2)?;
                let satisfied: u32 = r.get(3)?;
                Ok(WindowRank {
                    hall: r.get(0)?,
                    window: r.get(1)?,
                    count,
                    satisfied,
                    rate: satisfied as f64 / count.max(1) as f64,
                })
            },
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    fn rating(number: Option<&str>, window: Option<u32>, stars: u8, at: &str) -> Rating {
        Rating {
            hall: "futian".into(),
            ticket: number.map(|n| RatedTicket {
                day: "2026-11-20".into(),
                number: n.into(),
            }),
            business: if number.is_some() { "A" } else { "" }.into(),
            window,
            item: None,
            stars,
            reasons: vec!["态度".into()],
            comment: if stars <= 2 { "等太久" } else { "" }.into(),
            source: RatingSource::Kiosk,
            device: Some("d1".into()),
            rated_at: at.into(),
        }
    }

    #[test]
    fn a_ticket_is_rated_once_and_the_hall_as_often_as_wanted() {
        for db in databases() {
            let first = rating(Some("A001"), Some(3), 5, "2026-11-20 09:00:00.000");
            let id = db.transaction(|tx| insert_rating(tx, &first)).unwrap();
            assert!(id.is_some());
            let again = rating(Some("A001"), Some(3), 1, "2026-11-20 09:05:00.000");
            assert_eq!(
                db.transaction(|tx| insert_rating(tx, &again)).unwrap(),
                None
            );
            assert_eq!(db.rating("futian", "2026-11-20", "A001").unwrap(), Some(5));
            assert_eq!(db.rating("futian", "2026-11-20", "A002").unwrap(), None);
            let general = rating(None, None, 4, "2026-11-20 10:00:00.000");
            let g1 = insert_rating(&db, &general).unwrap().unwrap();
            let g2 = insert_rating(&db, &general).unwrap().unwrap();
            assert_ne!(g1, g2);
            let read = db
                .query_row(
                    &format!("SELECT {RATING_COLUMNS} FROM ratings r WHERE r.id = ?1"),
                    [id.unwrap()],
                    |r| rating_row(r, 0),
                )
                .unwrap();
            assert_eq!(read, first);
        }
    }

    #[test]
    fn summaries_count_poor_ratings_and_windows_rank_by_satisfaction() {
        for db in databases() {
            let ratings = [
                rating(Some("A001"), Some(1), 5, "2026-11-20 09:00:00.000"),
                rating(Some("A002"), Some(1), 4, "2026-11-20 09:01:00.000"),
                rating(Some("A003"), Some(1), 2, "2026-11-20 09:02:00.000"),
                rating(Some("A004"), Some(2), 5, "2026-11-20 09:03:00.000"),
                rating(Some("A005"), None, 1, "2026-11-20 09:04:00.000"),
                rating(None, None, 5, "2026-11-20 09:05:00.000"),
            ];
            for r in &ratings {
                insert_rating(&db, r).unwrap().unwrap();
            }
            let (summary, comments) = db.ratings("futian", "2026-11-01").unwrap();
            assert_eq!(
                summary,
                vec![
                    RatingSummary {
                        window: None,
                        business: "A".into(),
                        count: 1,
                        average: 1.0,
                        poor: 1,
                    },
                    RatingSummary {
                        window: Some(1),
                        business: "A".into(),
                        count: 3,
                        average: 3.67,
                        poor: 1,
                    },
                    RatingSummary {
                        window: Some(2),
                        business: "A".into(),
                        count: 1,
                        average: 5.0,
                        poor: 0,
                    },
                ]
            );
            assert_eq!(
                comments,
                vec![
                    json!({"day": "2026-11-20", "number": "A005", "window": null, "stars": 1,
                           "comment": "等太久"}),
                    json!({"day": "2026-11-20", "number": "A003", "window": 1, "stars": 2,
                           "comment": "等太久"}),
                ]
            );
            assert!(db.ratings("futian", "2026-11-21").unwrap().0.is_empty());
            let ranks = db.ranking("2026-11", None).unwrap();
            let got: Vec<_> = ranks
                .iter()
                .map(|r| (r.window, r.count, r.satisfied))
                .collect();
            assert_eq!(got, vec![(2, 1, 1), (1, 3, 2)]);
            assert!((ranks[1].rate - 2.0 / 3.0).abs() < 1e-9);
            assert!(
                db.ranking("2026-11", Some(&["luohu".to_string()]))
                    .unwrap()
                    .is_empty()
            );
            assert!(db.ranking("2026-12", None).unwrap().is_empty());
        }
    }
}
