//! Cases a poor rating opens (差评 → 回复 → 整改 → 核查 → 回访), each step kept with who and when.

use serde::Serialize;

use super::ratings::{RATING_COLUMNS, Rating, insert_rating, rating_row};
use super::{Database, Exec, OptionalExt, Result, Row, StorageError};
use crate::params;

/// Where a case stands: the step it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStage {
    /// Waits for the reply to the citizen.
    Open,
    /// Replied; waits for the rectification note.
    Replied,
    /// Rectified; waits for a second operator's verification.
    Rectified,
    /// Verified; waits for the follow-up call (回访) and closing.
    Verified,
    Closed,
}

impl CaseStage {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStage::Open => "open",
            CaseStage::Replied => "replied",
            CaseStage::Rectified => "rectified",
            CaseStage::Verified => "verified",
            CaseStage::Closed => "closed",
        }
    }

    fn parse(s: &str) -> CaseStage {
        match s {
            "replied" => CaseStage::Replied,
            "rectified" => CaseStage::Rectified,
            "verified" => CaseStage::Verified,
            "closed" => CaseStage::Closed,
            _ => CaseStage::Open,
        }
    }

    /// What the stage means on pages.
    pub fn label(self) -> &'static str {
        match self {
            CaseStage::Open => "待回复",
            CaseStage::Replied => "待整改",
            CaseStage::Rectified => "待核查",
            CaseStage::Verified => "待回访",
            CaseStage::Closed => "已办结",
        }
    }
}

/// A step of a case, in the order they are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStep {
    /// The reply the citizen reads on the ticket's page.
    Reply,
    /// What was put right.
    Rectify,
    /// A second operator checked the rectification.
    Verify,
    /// The follow-up call's result; the case ends.
    Close,
}

impl CaseStep {
    pub const ALL: [CaseStep; 4] = [
        CaseStep::Reply,
        CaseStep::Rectify,
        CaseStep::Verify,
        CaseStep::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStep::Reply => "reply",
            CaseStep::Rectify => "rectify",
            CaseStep::Verify => "verify",
            CaseStep::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStep> {
        CaseStep::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStep::Reply => "回复市民",
            CaseStep::Rectify => "整改情况",
            CaseStep::Verify => "核查意见",
            CaseStep::Close => "回访结果",
        }
    }

    /// The stage a case must be at for this step.
    pub fn from(self) -> CaseStage {
        match self {
            CaseStep::Reply => CaseStage::Open,
            CaseStep::Rectify => CaseStage::Replied,
            CaseStep::Verify => CaseStage::Rectified,
            CaseStep::Close => CaseStage::Verified,
        }
    }

    /// The stage it leaves the case at.
    pub fn to(self) -> CaseStage {
        match self {
            CaseStep::Reply => CaseStage::Replied,
            CaseStep::Rectify => CaseStage::Rectified,
            CaseStep::Verify => CaseStage::Verified,
            CaseStep::Close => CaseStage::Closed,
        }
    }

    /// Its text, operator and time columns.
    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            CaseStep::Reply => ("reply", "replied_by", "replied_at"),
            CaseStep::Rectify => ("rectification", "rectified_by", "rectified_at"),
            CaseStep::Verify => ("verification", "verified_by", "verified_at"),
            CaseStep::Close => ("follow_up", "closed_by", "closed_at"),
        }
    }
}

/// A step taken: what was written, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDone {
    pub step: CaseStep,
    pub text: String,
    pub by: String,
    pub at: String,
}

/// A case with the rating that opened it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: i64,
    pub hall: String,
    /// Local time of the rating.
    pub opened_at: String,
    /// The last working day to close it (`YYYY-MM-DD`); `None` until the calendar set it.
    pub deadline: Option<String>,
    /// The hall manager it is assigned to; `None` when the hall has none (admins see it).
    pub assignee: Option<String>,
    pub stage: CaseStage,
    /// The steps taken, in order.
    pub steps: Vec<StepDone>,
    pub rating: Rating,
}

impl Case {
    pub fn step(&self, step: CaseStep) -> Option<&StepDone> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// Which cases a list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseQuery<'a> {
    /// Only these halls' cases; all when `None`.
    pub halls: Option<&'a [String]>,
    /// Only open (`true`) or closed (`false`) cases; both when `None`.
    pub open: Option<bool>,
    /// Only open cases past their deadline.
    pub overdue_only: bool,
    /// Today (`YYYY-MM-DD`): a case whose last working day is before it is overdue.
    pub today: &'a str,
}

/// What storing a rating did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rated {
    pub rating: i64,
    /// The case a poor rating opened.
    pub case: Option<i64>,
}

/// Ratings with the cases poor ones open, and the cases' steps.
pub trait CaseStore {
    /// Stores a rating (a ticket is rated once: `Conflict` on the second) and, for a poor one,
    /// opens its case in the same transaction.
    fn rate(&self, r: &Rating) -> Result<Rated>;
    fn case(&self, id: i64) -> Result<Option<Case>>;
    /// The cases a query asks for: past their deadline first, then newest first.
    fn cases(&self, q: &CaseQuery<'_>, limit: usize) -> Result<Vec<Case>>;
    /// Cases opened without a deadline (by a plate's rating): id, hall, opened_at.
    fn undated_cases(&self) -> Result<Vec<(i64, String, String)>>;
    fn set_deadline(&self, id: i64, deadline: &str) -> Result<()>;
    /// Takes `step` when the case is at the stage it follows; false when it is not (anymore).
    fn take_step(&self, id: i64, step: CaseStep, text: &str, by: &str, at: &str) -> Result<bool>;
    /// The reply to the citizen on a rated ticket, once given.
    fn ticket_reply(&self, hall: &str, day: &str, number: &str) -> Result<Option<String>>;
}

/// Stores a rating on `db` (inside the caller's transaction) and opens the case of a poor
/// one; `None` when its ticket was rated already.
pub fn record_rating(db: &impl Exec, r: &Rating) -> Result<Option<Rated>> {
    let Some(rating) = insert_rating(db, r)? else {
        return Ok(None);
    };
    let case = if r.is_poor() {
        Some(open_case(db, rating, &r.hall, &r.rated_at)?)
    } else {
        None
    };
    Ok(Some(Rated { rating, case }))
}

/// Opens the case of rating `rating` on `db` (inside the rating's transaction), assigned to
/// the hall's manager when it has one; its id.
fn open_case(db: &impl Exec, rating: i64, hall: &str, opened_at: &str) -> Result<i64> {
    let manager: Option<String> = db
        .query_row(
            "SELECT o.name FROM operators o JOIN operator_halls h ON h.operator_id = o.id
             WHERE h.hall = ?1 AND o.role = 'hall_manager' AND o.disabled_at IS NULL
             ORDER BY o.id LIMIT 1",
            [hall],
            |r| r.get(0),
        )
        .optional()?;
    db.query_row(
        "INSERT INTO cases (rating_id, hall, opened_at, assignee) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
        params![rating, hall, opened_at, manager],
        |r| r.get(0),
    )
}

const CASE_COLUMNS: &str = "c.id, c.hall, c.opened_at, c.deadline, c.assignee, c.stage,
     c.reply, c.replied_by, c.replied_at, c.rectification, c.rectified_by, c.rectified_at,
     c.verification, c.verified_by, c.verified_at, c.follow_up, c.closed_by, c.closed_at";
/// Columns of [`CASE_COLUMNS`] before the rating's.
const CASE_WIDTH: usize = 18;

fn case_row(r: &Row) -> Result<Case> {
    let stage: String = r.get(5)?;
    let mut steps = Vec::new();
    for (i, step) in CaseStep::ALL.into_iter().enumerate() {
        let at = 6 + i * 3;
        if let (Some(text), Some(by), Some(when)) = (
            r.get::<Option<String>>(at)?,
            r.get::<Option<String>>(at + 1)?,
            r.get::<Option<String>>(at + 2)?,
        ) {
            steps.push(StepDone {
                step,
                text,
                by,
                at: when,
            });
        }
    }
    Ok(Case {
        id: r.get(0)?,
        hall: r.get(1)?,
        opened_at: r.get(2)?,
        deadline: r.get(3)?,
        assignee: r.get(4)?,
        stage: CaseStage::parse(&stage),
        steps,
        rating: rating_row(r, CASE_WIDTH)?,
    })
}

fn select() -> String {
    format!(
        "SELECT {CASE_COLUMNS}, {RATING_COLUMNS} FROM cases c JOIN ratings r ON r.id = c.rating_id"
    )
}

impl CaseStore for Database {
    fn rate(&self, r: &Rating) -> Result<Rated> {
        self.transaction(|tx| {
            record_rating(tx, r)?
                .ok_or_else(|| StorageError::Conflict("这张号已经评价过了，谢谢您".into()))
        })
    }

    fn case(&self, id: i64) -> Result<Option<Case>> {
        self.query_row(&format!("{} WHERE c.id = ?1", select()), [id], case_row)
            .optional()
    }

    fn cases(&self, q: &CaseQuery<'_>, limit: usize) -> Result<Vec<Case>> {
        // ?2: 1 open only, 0 closed only, NULL both.
        let overdue = "c.stage <> 'closed' AND c.deadline IS NOT NULL AND c.deadline < ?4";
        let halls = q
            .halls
            .map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        self.query_map(
            &format!(
                "{} WHERE (CAST(?1 AS TEXT) IS NULL OR c.hall IN ({}))
                   AND (CAST(?2 AS BIGINT) IS NULL
                        OR (CASE WHEN c.stage <> 'closed' THEN 1 ELSE 0 END) = ?2)
                   AND (?3 = 0 OR ({overdue}))
                 ORDER BY (CASE WHEN {overdue} THEN 1 ELSE 0 END) DESC, c.id DESC
                 LIMIT ?5",
                select(),
                self.dialect().json_strings("?1"),
            ),
            params![halls, q.open, q.overdue_only, q.today, limit],
            case_row,
        )
    }

    fn undated_cases(&self) -> Result<Vec<(i64, String, String)>> {
        self.query_map(
            "SELECT id, hall, opened_at FROM cases WHERE deadline IS NULL ORDER BY id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    fn set_deadline(&self, id: i64, deadline: &str) -> Result<()> {
        self.execute(
            "UPDATE cases SET deadline = ?2 WHERE id = ?1 AND deadline IS NULL",
            params![id, deadline],
        )?;
        Ok(())
    }

    fn take_step(&self, id: i64, step: CaseStep, text: &str, by: &str, at: &str) -> Result<bool> {
        let (text_col, by_col, at_col) = step.columns();
        // One statement: the stage is checked and moved at once, on any replica.
        let n = self.execute(
            &format!(
                "UPDATE cases SET stage = ?2, {text_col} = ?3, {by_col} = ?4, {at_col} = ?5
                 WHERE id = ?1 AND stage = ?6"
            ),
            params![id, step.to().as_str(), text, by, at, step.from().as_str()],
        )?;
        Ok(n == 1)
    }

    fn ticket_reply(&self, hall: &str, day: &str, number: &str) -> Result<Option<String>> {
        Ok(self
            .query_row(
                "SELECT c.reply FROM cases c JOIN ratings r ON r.id = c.rating_id
                 WHERE r.hall = ?1 AND r.day = ?2 AND r.number = ?3 AND r.subject = 'ticket'",
                params![hall, day, number],
                |r| r.get::<Option<String>>(0),
            )
            .optional()?
            .flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ratings::{RatedTicket, RatingSource};
    use crate::storage::testing::databases;

    fn rating(hall: &str, number: &str, stars: u8) -> Rating {
        Rating {
            hall: hall.into(),
            ticket: Some(RatedTicket {
                day: "2026-12-04".into(),
                number: number.into(),
            }),
            business: "社保".into(),
            window: Some(3),
            item: None,
            stars,
            reasons: vec!["等太久".into()],
            comment: "慢".into(),
            source: RatingSource::Phone,
            device: None,
            rated_at: "2026-12-04 10:00:00.000".into(),
        }
    }

    fn ids(db: &Database, q: &CaseQuery<'_>) -> Vec<i64> {
        db.cases(q, 10).unwrap().iter().map(|c| c.id).collect()
    }

    #[test]
    fn a_poor_rating_opens_a_case_for_the_halls_manager() {
        for db in databases() {
            let manager: i64 = db
                .query_row(
                    "INSERT INTO operators (name, role, password_hash, created_at)
                     VALUES ('wang', 'hall_manager', 'x', 'now') RETURNING id",
                    (),
                    |r| r.get(0),
                )
                .unwrap();
            db.execute(
                "INSERT INTO operator_halls (operator_id, hall) VALUES (?1, 'futian')",
                [manager],
            )
            .unwrap();
            let good = db.rate(&rating("futian", "A001", 5)).unwrap();
            assert_eq!(good.case, None);
            let err = db.rate(&rating("futian", "A001", 1)).unwrap_err();
            assert!(matches!(err, StorageError::Conflict(_)), "{err}");
            let poor = db.rate(&rating("futian", "A002", 2)).unwrap();
            let id = poor.case.unwrap();
            let case = db.case(id).unwrap().unwrap();
            assert_eq!(case.assignee.as_deref(), Some("wang"));
            assert_eq!(case.stage, CaseStage::Open);
            assert_eq!(case.rating, rating("futian", "A002", 2));
            assert!(case.steps.is_empty());
            let other = db.rate(&rating("luohu", "B001", 1)).unwrap().case.unwrap();
            assert_eq!(db.case(other).unwrap().unwrap().assignee, None);
            assert_eq!(db.case(999).unwrap(), None);

            assert_eq!(
                db.ticket_reply("futian", "2026-12-04", "A002").unwrap(),
                None
            );
            assert!(
                db.take_step(id, CaseStep::Reply, "已改进", "wang", "2026-12-04 11:00:00")
                    .unwrap()
            );
            assert!(
                !db.take_step(id, CaseStep::Reply, "again", "wang", "2026-12-04 11:01:00")
                    .unwrap()
            );
            assert!(
                !db.take_step(id, CaseStep::Verify, "ok", "li", "2026-12-04 11:02:00")
                    .unwrap()
            );
            assert_eq!(
                db.ticket_reply("futian", "2026-12-04", "A002").unwrap(),
                Some("已改进".into())
            );
            let case = db.case(id).unwrap().unwrap();
            assert_eq!(case.stage, CaseStage::Replied);
            assert_eq!(
                case.step(CaseStep::Reply),
                Some(&StepDone {
                    step: CaseStep::Reply,
                    text: "已改进".into(),
                    by: "wang".into(),
                    at: "2026-12-04 11:00:00".into(),
                })
            );
        }
    }

    #[test]
    fn cases_are_listed_by_hall_state_and_deadline() {
        for db in databases() {
            let a = db.rate(&rating("futian", "A1", 1)).unwrap().case.unwrap();
            let b = db.rate(&rating("futian", "A2", 1)).unwrap().case.unwrap();
            let c = db.rate(&rating("luohu", "B1", 2)).unwrap().case.unwrap();
            let d = db.rate(&rating("luohu", "B2", 2)).unwrap().case.unwrap();
            assert_eq!(
                db.undated_cases()
                    .unwrap()
                    .iter()
                    .map(|u| u.0)
                    .collect::<Vec<_>>(),
                vec![a, b, c, d]
            );
            db.set_deadline(a, "2026-12-08").unwrap();
            db.set_deadline(a, "2027-01-01").unwrap(); // kept: set once
            db.set_deadline(c, "2026-12-09").unwrap();
            db.set_deadline(d, "2026-12-05").unwrap();
            assert_eq!(db.undated_cases().unwrap().len(), 1);
            for step in CaseStep::ALL {
                assert!(
                    db.take_step(d, step, "t", "op", "2026-12-05 09:00:00")
                        .unwrap()
                );
            }
            assert_eq!(db.case(d).unwrap().unwrap().steps.len(), 4);
            assert_eq!(
                db.case(a).unwrap().unwrap().deadline.as_deref(),
                Some("2026-12-08")
            );

            let all = CaseQuery {
                halls: None,
                open: None,
                overdue_only: false,
                today: "2026-12-09",
            };
            // a is overdue (its last day was the 8th), d is closed though late: a first.
            assert_eq!(ids(&db, &all), vec![a, d, c, b]);
            assert_eq!(db.cases(&all, 2).unwrap().len(), 2);
            let futian = ["futian".to_string()];
            let q = CaseQuery {
                halls: Some(&futian),
                ..all
            };
            assert_eq!(ids(&db, &q), vec![a, b]);
            let none: [String; 0] = [];
            let q = CaseQuery {
                halls: Some(&none),
                ..all
            };
            assert!(ids(&db, &q).is_empty());
            let q = CaseQuery {
                open: Some(false),
                ..all
            };
            assert_eq!(ids(&db, &q), vec![d]);
            let q = CaseQuery {
                open: Some(true),
                ..all
            };
            assert_eq!(ids(&db, &q), vec![a, c, b]);
            let q = CaseQuery {
                overdue_only: true,
                ..all
            };
            assert_eq!(ids(&db, &q), vec![a]);
            let q = CaseQuery {
                overdue_only: true,
                today: "2026-12-10",
                ..all
            };
            assert_eq!(ids(&db, &q), vec![c, a]);
        }
    }
}
