//! Citizens' requests (帮代办, 上门取件) and consultations (在线咨询), with sealed personal data.

use menpai_model::assist::{Author, RequestKind, RequestState};
use rusqlite::{OptionalExtension, params};

use super::{Result, Database};

/// A request to store, with the citizen's first message.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub id: String,
    pub token_hash: String,
    pub kind: RequestKind,
    pub hall: String,
    pub item: Option<String>,
    pub item_name: String,
    /// `kiosk` or `phone`.
    pub channel: String,
    pub device: Option<String>,
    /// Made at a terminal in training mode.
    pub training: bool,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub name_masked: String,
    pub phone_masked: String,
    pub preferred_time: String,
    /// What help is needed, or the question.
    pub text: String,
    pub at: String,
}

/// A stored request, personal data still sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub id: String,
    pub kind: RequestKind,
    pub hall: String,
    pub item: Option<String>,
    pub item_name: String,
    pub channel: String,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub name_masked: String,
    pub phone_masked: String,
    pub preferred_time: String,
    pub state: RequestState,
    pub taken_by: Option<String>,
    pub outcome: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Made at a terminal in training mode.
    pub training: bool,
}

/// One message of a request's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMessage {
    pub author: Author,
    /// Staff's display name (empty for the citizen and automatic answers).
    pub by: String,
    pub body: String,
    pub at: String,
}

/// A change of state: from one of `from`, to `to`, with an optional message added to the thread.
#[derive(Debug, Clone)]
pub struct RequestMove<'a> {
    pub id: &'a str,
    pub from: &'a [RequestState],
    pub to: RequestState,
    /// Sets who took it (taking).
    pub taken_by: Option<&'a str>,
    /// Sets the outcome (closing).
    pub outcome: Option<&'a str>,
    pub message: Option<(Author, &'a str, &'a str)>,
    pub at: &'a str,
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// `None`: every hall.
    pub halls: Option<Vec<String>>,
    pub kind: Option<RequestKind>,
    pub state: Option<RequestState>,
    /// Only those made in training mode (a training login's lists).
    pub training_only: bool,
    pub limit: usize,
}

/// Requests, consultations and their threads.
pub trait RequestStore {
    /// Stores a request and its first message in one transaction.
    fn add_request(&self, r: &NewRequest) -> Result<()>;
    fn request(&self, id: &str) -> Result<Option<StoredRequest>>;
    fn request_by_token(&self, token_hash: &str) -> Result<Option<StoredRequest>>;
    fn request_messages(&self, id: &str) -> Result<Vec<RequestMessage>>;
    /// Newest first.
    fn requests(&self, f: &RequestFilter) -> Result<Vec<StoredRequest>>;
    /// Moves a request if it is in one of `m.from`, adding the message, in one transaction;
    /// whether it moved.
    fn move_request(&self, m: &RequestMove<'_>) -> Result<bool>;
}

const COLUMNS: &str = "id, kind, hall, item, item_name, channel, name_enc, phone_enc, name_masked,
     phone_masked, preferred_time, state, taken_by, outcome, created_at, updated_at, training";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRequest> {
    let kind: String = r.get(1)?;
    let state: String = r.get(11)?;
    Ok(StoredRequest {
        id: r.get(0)?,
        kind: RequestKind::parse(&kind).unwrap_or_default(),
        hall: r.get(2)?,
        item: r.get(3)?,
        item_name: r.get(4)?,
        channel: r.get(5)?,
        name_enc: r.get(6)?,
        phone_enc: r.get(7)?,
        name_masked: r.get(8)?,
        phone_masked: r.get(9)?,
        preferred_time: r.get(10)?,
        state: RequestState::parse(&state).unwrap_or(RequestState::New),
        taken_by: r.get(12)?,
        outcome: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        training: r.get(16)?,
    })
}

impl RequestStore for Database {
    fn add_request(&self, r: &NewRequest) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO requests (id, token_hash, kind, hall, item, item_name, channel, device,
                 name_enc, phone_enc, name_masked, phone_masked, preferred_time, state,
                 created_at, updated_at, training)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'new', ?14, ?14, ?15)",
            params![
                r.id,
                r.token_hash,
                r.kind.as_str(),
                r.hall,
                r.item,
                r.item_name,
                r.channel,
                r.device,
                r.name_enc,
                r.phone_enc,
                r.name_masked,
                r.phone_masked,
                r.preferred_time,
                r.at,
                r.training
            ],
        )?;
        tx.execute(
            "INSERT INTO request_messages (request, author, body, at) VALUES (?1, 'citizen', ?2, ?3)",
            params![r.id, r.text, r.at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn request(&self, id: &str) -> Result<Option<StoredRequest>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM requests WHERE id = ?1"),
                [id],
                row,
            )
            .optional()?)
    }

    fn request_by_token(&self, token_hash: &str) -> Result<Option<StoredRequest>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM requests WHERE token_hash = ?1"),
                [token_hash],
                row,
            )
            .optional()?)
    }

    fn request_messages(&self, id: &str) -> Result<Vec<RequestMessage>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT author, by_name, body, at FROM request_messages WHERE request = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            let author: String = r.get(0)?;
            Ok(RequestMessage {
                author: Author::parse(&author).unwrap_or(Author::Staff),
                by: r.get(1)?,
                body: r.get(2)?,
                at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn requests(&self, f: &RequestFilter) -> Result<Vec<StoredRequest>> {
        let conn = self.conn();
        let mut sql = format!("SELECT {COLUMNS} FROM requests WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(halls) = &f.halls {
            if halls.is_empty() {
                return Ok(Vec::new());
            }
            let marks: Vec<String> = halls
                .iter()
                .map(|h| {
                    args.push(h.clone());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND hall IN ({})", marks.join(", ")));
        }
        if let Some(k) = f.kind {
            args.push(k.as_str().to_owned());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(s) = f.state {
            args.push(s.as_str().to_owned());
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if f.training_only {
            sql.push_str(" AND training = 1");
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, rowid DESC LIMIT {}",
            f.limit.max(1)
        ));
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn move_request(&self, m: &RequestMove<'_>) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let state: Option<String> = tx
            .query_row("SELECT state FROM requests WHERE id = ?1", [m.id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(state) = state.as_deref().and_then(RequestState::parse) else {
            return Ok(false);
        };
        if !m.from.contains(&state) {
            return Ok(false);
        }
        tx.execute(
            "UPDATE requests SET state = ?2, updated_at = ?3,
                 taken_by = COALESCE(?4, taken_by), outcome = COALESCE(?5, outcome)
             WHERE id = ?1",
            params![m.id, m.to.as_str(), m.at, m.taken_by, m.outcome],
        )?;
        if let Some((author, by, body)) = m.message {
            tx.execute(
                "INSERT INTO request_messages (request, author, by_name, body, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.id, author.as_str(), by, body, m.at],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }
}
