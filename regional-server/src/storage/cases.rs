//! Cases a poor rating opens (差评 → 回复 → 整改 → 核查 → 回访), each step kept with who and when.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::ratings::{RATING_COLUMNS, Rating, insert_rating, rating_row};
use super::{Result, Database, StorageError};

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

/// Stores a rating on `conn` (inside the caller's transaction) and opens the case of a poor
/// one; `None` when its ticket was rated already.
pub fn record_rating(conn: &Connection, r: &Rating) -> Result<Option<Rated>> {
    let Some(rating) = insert_rating(conn, r)? else {
        return Ok(None);
    };
    let case = if r.is_poor() {
        Some(open_case(conn, rating, &r.hall, &r.rated_at)?)
    } else {
        None
    };
    Ok(Some(Rated { rating, case }))
}

/// Opens the case of rating `rating` on `conn` (inside the rating's transaction), assigned to
/// the hall's manager when it has one; its id.
fn open_case(conn: &Connection, rating: i64, hall: &str, opened_at: &str) -> Result<i64> {
    let manager: Option<String> = conn
        .query_row(
            "SELECT o.name FROM operators o JOIN operator_halls h ON h.operator_id = o.id
             WHERE h.hall = ?1 AND o.role = 'hall_manager' AND o.disabled_at IS NULL
             ORDER BY o.id LIMIT 1",
            [hall],
            |r| r.get(0),
        )
        .optional()?;
    Ok(conn.query_row(
        "INSERT INTO cases (rating_id, hall, opened_at, assignee) VALUES (?1, ?2, ?3, ?4)
         RETURNING id",
        params![rating, hall, opened_at, manager],
        |r| r.get(0),
    )?)
}

const CASE_COLUMNS: &str = "c.id, c.hall, c.opened_at, c.deadline, c.assignee, c.stage,
     c.reply, c.replied_by, c.replied_at, c.rectification, c.rectified_by, c.rectified_at,
     c.verification, c.verified_by, c.verified_at, c.follow_up, c.closed_by, c.closed_at";
/// Columns of [`CASE_COLUMNS`] before the rating's.
const CASE_WIDTH: usize = 18;

fn case_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Case> {
    let stage: String = r.get(5)?;
    let mut steps = Vec::new();
    for (i, step) in CaseStep::ALL.into_iter().enumerate() {
        let at = 6 + i * 3;
        if let (Some(text), Some(by), Some(when)) = (
            r.get::<_, Option<String>>(at)?,
            r.get::<_, Option<String>>(at + 1)?,
            r.get::<_, Option<String>>(at + 2)?,
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rated = record_rating(&tx, r)?
            .ok_or_else(|| StorageError::Conflict("这张号已经评价过了，谢谢您".into()))?;
        tx.commit()?;
        Ok(rated)
    }

    fn case(&self, id: i64) -> Result<Option<Case>> {
        Ok(self
            .conn()
            .query_row(&format!("{} WHERE c.id = ?1", select()), [id], case_row)
            .optional()?)
    }

    fn cases(&self, q: &CaseQuery<'_>, limit: usize) -> Result<Vec<Case>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{} WHERE (?1 IS NULL OR c.hall IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR (c.stage != 'closed') = ?2)
               AND (?3 = 0 OR (c.stage != 'closed' AND c.deadline < ?4))
             ORDER BY (c.stage != 'closed' AND c.deadline IS NOT NULL AND c.deadline < ?4) DESC,
                      c.id DESC
             LIMIT ?5",
            select()
        ))?;
        let halls = q
            .halls
            .map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        Ok(stmt
            .query_map(
                params![halls, q.open, q.overdue_only, q.today, limit as i64],
                case_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn undated_cases(&self) -> Result<Vec<(i64, String, String)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT id, hall, opened_at FROM cases WHERE deadline IS NULL")?;
        Ok(stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn set_deadline(&self, id: i64, deadline: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE cases SET deadline = ?2 WHERE id = ?1 AND deadline IS NULL",
            params![id, deadline],
        )?;
        Ok(())
    }

    fn take_step(&self, id: i64, step: CaseStep, text: &str, by: &str, at: &str) -> Result<bool> {
        let (text_col, by_col, at_col) = step.columns();
        let n = self.conn().execute(
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
            .conn()
            .query_row(
                "SELECT c.reply FROM cases c JOIN ratings r ON r.id = c.rating_id
                 WHERE r.hall = ?1 AND r.day = ?2 AND r.number = ?3 AND r.subject = 'ticket'",
                params![hall, day, number],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }
}
