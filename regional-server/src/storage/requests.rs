//! Citizens' requests (帮代办, 上门取件) and consultations (在线咨询), with sealed personal data.

use super::{Database, Exec, OptionalExt, Result, Row, ToValue, Value};
use crate::params;
use menpai_model::assist::{Author, RequestKind, RequestState};

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

fn row(r: &Row) -> Result<StoredRequest> {
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
        self.transaction(|tx| {
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
            Ok(())
        })
    }

    fn request(&self, id: &str) -> Result<Option<StoredRequest>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM requests WHERE id = ?1"),
            [id],
            row,
        )
        .optional()
    }

    fn request_by_token(&self, token_hash: &str) -> Result<Option<StoredRequest>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM requests WHERE token_hash = ?1"),
            [token_hash],
            row,
        )
        .optional()
    }

    fn request_messages(&self, id: &str) -> Result<Vec<RequestMessage>> {
        self.query_map(
            "SELECT author, by_name, body, at FROM request_messages WHERE request = ?1 ORDER BY id",
            [id],
            |r| {
                let author: String = r.get(0)?;
                Ok(RequestMessage {
                    author: Author::parse(&author).unwrap_or(Author::Staff),
                    by: r.get(1)?,
                    body: r.get(2)?,
                    at: r.get(3)?,
                })
            },
        )
    }

    fn requests(&self, f: &RequestFilter) -> Result<Vec<StoredRequest>> {
        let mut sql = format!("SELECT {COLUMNS} FROM requests WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(halls) = &f.halls {
            if halls.is_empty() {
                return Ok(Vec::new());
            }
            let marks: Vec<String> = halls
                .iter()
                .map(|h| {
                    args.push(h.to_value());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND hall IN ({})", marks.join(", ")));
        }
        if let Some(k) = f.kind {
            args.push(k.as_str().to_value());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(s) = f.state {
            args.push(s.as_str().to_value());
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if f.training_only {
            sql.push_str(" AND training <> 0");
        }
        // Same creation time: the id decides (PostgreSQL keeps no insertion order).
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT {}",
            f.limit.max(1)
        ));
        self.query_map(&sql, args, row)
    }

    fn move_request(&self, m: &RequestMove<'_>) -> Result<bool> {
        self.transaction(|tx| {
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
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    fn new(id: &str, hall: &str, kind: RequestKind, at: &str) -> NewRequest {
        NewRequest {
            id: id.into(),
            token_hash: format!("token-{id}"),
            kind,
            hall: hall.into(),
            item: Some("P43".into()),
            item_name: "居住证".into(),
            channel: "kiosk".into(),
            device: Some("d1".into()),
            training: false,
            name_enc: Some(vec![0, 1, 2, 255]),
            phone_enc: None,
            name_masked: "王*".into(),
            phone_masked: "138****0000".into(),
            preferred_time: "上午".into(),
            text: "怎么办理？".into(),
            at: at.into(),
        }
    }

    #[test]
    fn requests_are_kept_listed_and_moved_with_their_thread() {
        for db in databases() {
            db.add_request(&new(
                "r1",
                "h1",
                RequestKind::Assist,
                "2026-11-23 10:00:00.000",
            ))
            .unwrap();
            db.add_request(&new(
                "r2",
                "h2",
                RequestKind::Consult,
                "2026-11-23 11:00:00.000",
            ))
            .unwrap();
            db.add_request(&NewRequest {
                training: true,
                ..new("r3", "h1", RequestKind::Pickup, "2026-11-23 12:00:00.000")
            })
            .unwrap();
            // A second request with the same id keeps nothing of itself, not even its message.
            assert!(
                db.add_request(&new(
                    "r1",
                    "h1",
                    RequestKind::Assist,
                    "2026-11-23 13:00:00.000"
                ))
                .is_err()
            );
            assert_eq!(db.request_messages("r1").unwrap().len(), 1);

            let r1 = db.request("r1").unwrap().unwrap();
            assert_eq!(r1.kind, RequestKind::Assist);
            assert_eq!(r1.state, RequestState::New);
            assert_eq!(r1.name_enc, Some(vec![0, 1, 2, 255]));
            assert_eq!(r1.phone_enc, None);
            assert_eq!(r1.item.as_deref(), Some("P43"));
            assert_eq!(r1.created_at, r1.updated_at);
            assert!(!r1.training);
            assert_eq!(db.request_by_token("token-r1").unwrap(), Some(r1));
            assert_eq!(db.request("nope").unwrap(), None);
            assert_eq!(db.request_by_token("nope").unwrap(), None);

            let ids = |f: RequestFilter| -> Vec<String> {
                db.requests(&f).unwrap().into_iter().map(|r| r.id).collect()
            };
            let all = RequestFilter {
                limit: 50,
                ..Default::default()
            };
            assert_eq!(ids(all.clone()), ["r3", "r2", "r1"]);
            assert_eq!(
                ids(RequestFilter {
                    limit: 2,
                    ..all.clone()
                }),
                ["r3", "r2"]
            );
            assert_eq!(
                ids(RequestFilter {
                    halls: Some(vec!["h1".into()]),
                    ..all.clone()
                }),
                ["r3", "r1"]
            );
            assert!(
                ids(RequestFilter {
                    halls: Some(vec![]),
                    ..all.clone()
                })
                .is_empty()
            );
            assert_eq!(
                ids(RequestFilter {
                    halls: Some(vec!["h1".into(), "h2".into()]),
                    kind: Some(RequestKind::Consult),
                    ..all.clone()
                }),
                ["r2"]
            );
            assert_eq!(
                ids(RequestFilter {
                    training_only: true,
                    ..all.clone()
                }),
                ["r3"]
            );

            let take = RequestMove {
                id: "r1",
                from: &[RequestState::New],
                to: RequestState::Taken,
                taken_by: Some("staff"),
                outcome: None,
                message: Some((Author::Staff, "王小明", "马上联系您")),
                at: "2026-11-23 10:05:00.000",
            };
            assert!(db.move_request(&take).unwrap());
            assert!(!db.move_request(&take).unwrap(), "no longer new");
            assert!(
                !db.move_request(&RequestMove {
                    id: "nope",
                    ..take.clone()
                })
                .unwrap()
            );
            let close = RequestMove {
                id: "r1",
                from: &[RequestState::Taken],
                to: RequestState::Closed,
                taken_by: None,
                outcome: Some("办好了"),
                message: None,
                at: "2026-11-23 10:30:00.000",
            };
            assert!(db.move_request(&close).unwrap());
            let r1 = db.request("r1").unwrap().unwrap();
            assert_eq!(r1.state, RequestState::Closed);
            assert_eq!(r1.taken_by.as_deref(), Some("staff"), "kept when not given");
            assert_eq!(r1.outcome.as_deref(), Some("办好了"));
            assert_eq!(r1.updated_at, "2026-11-23 10:30:00.000");
            assert_eq!(
                ids(RequestFilter {
                    state: Some(RequestState::Closed),
                    ..all.clone()
                }),
                ["r1"]
            );
            assert_eq!(
                db.request_messages("r1").unwrap(),
                vec![
                    RequestMessage {
                        author: Author::Citizen,
                        by: String::new(),
                        body: "怎么办理？".into(),
                        at: "2026-11-23 10:00:00.000".into(),
                    },
                    RequestMessage {
                        author: Author::Staff,
                        by: "王小明".into(),
                        body: "马上联系您".into(),
                        at: "2026-11-23 10:05:00.000".into(),
                    },
                ]
            );
        }
    }
}
