//! The operators' live channel: what changed in which hall, pushed to open pages as
//! server-sent events that carry only ids; a page then fetches what it shows, so nothing
//! personal rides on the channel and a replica could relay the same notes.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::Server;
use crate::error::AppError;
use crate::operators::{HallWork, Role, Session};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// A help call came, was acknowledged, resolved or escalated.
    Help,
    /// A 帮代办 / 上门取件 request or a consultation came or moved.
    Request,
    /// A rating case opened or moved.
    Case,
    /// A hall's queue changed (a ticket taken, called, served, transferred…): the hall
    /// monitor fetches the hall again. Readable by whoever may read the hall's statistics.
    Queue,
}

impl Topic {
    fn work(self) -> HallWork {
        match self {
            Topic::Help => HallWork::Help,
            Topic::Request => HallWork::Requests,
            Topic::Case => HallWork::Cases,
            Topic::Queue => HallWork::Queue,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Topic::Help => "help",
            Topic::Request => "request",
            Topic::Case => "case",
            Topic::Queue => "queue",
        }
    }
}

/// One change: the hall, the topic and the record's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub hall: String,
    pub topic: Topic,
    pub id: String,
}

/// The channel every page listens on.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<Note>,
    /// Ids of operators whose sessions just ended (disabled, password reset): their open
    /// streams end at once.
    ended: broadcast::Sender<i64>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            tx: broadcast::channel(1024).0,
            ended: broadcast::channel(64).0,
        }
    }
}

impl Live {
    /// Tells every open page that may see it.
    pub fn send(&self, hall: &str, topic: Topic, id: impl Into<String>) {
        let _ = self.tx.send(Note {
            hall: hall.to_owned(),
            topic,
            id: id.into(),
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Note> {
        self.tx.subscribe()
    }

    /// Ends the open streams of an operator whose sessions were just ended.
    pub fn end_operator(&self, operator: i64) {
        let _ = self.ended.send(operator);
    }
}

/// Served outside the request timeout: the channel stays open.
pub fn routes() -> Router<Arc<Server>> {
    Router::new().route("/console/live", get(live))
}

#[derive(Debug, Deserialize)]
struct Topics {
    /// Comma-separated topics, e.g. `help,request`.
    topics: String,
}

/// `event: <topic>` / `data: {"hall":…,"topic":…,"id":…}` for each note the operator may see;
/// `event: lagged` when notes were missed (the page reloads its list).
async fn live(
    State(server): State<Arc<Server>>,
    s: Session,
    Query(q): Query<Topics>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let mut wanted = Vec::new();
    for t in q.topics.split(',').filter(|t| !t.is_empty()) {
        let topic: Topic = serde_json::from_value(serde_json::Value::String(t.to_owned()))
            .map_err(|_| AppError::bad_request(format!("没有这个主题：{t}")))?;
        let halls = match topic {
            Topic::Queue => s
                .require(Role::Viewer)?
                .reads_halls()
                .map(<[String]>::to_vec),
            _ => s.halls_for(topic.work())?.map(<[String]>::to_vec),
        };
        wanted.push((topic, halls));
    }
    if wanted.is_empty() {
        return Err(AppError::bad_request("请给出 topics"));
    }
    let rx = server.live.subscribe();
    let stopping = server.stopping.subscribe();
    let ended = server.live.ended.subscribe();
    let me = s.0.id;
    let notes = futures_util::stream::unfold(
        (rx, stopping, ended, wanted),
        move |(mut rx, mut stopping, mut ended, wanted)| async move {
            loop {
                let note = tokio::select! {
                    r = rx.recv() => r,
                    _ = stopping.wait() => return None,
                    // Its operator was disabled (or missed notes: end, the page reconnects and
                    // its session is checked again).
                    e = ended.recv() => match e {
                        Ok(id) if id != me => continue,
                        _ => return None,
                    },
                };
                let event = match note {
                    Ok(n) => {
                        let seen = wanted.iter().any(|(t, halls)| {
                            *t == n.topic && halls.as_ref().is_none_or(|h| h.contains(&n.hall))
                        });
                        if !seen {
                            continue;
                        }
                        Event::default()
                            .event(n.topic.name())
                            .json_data(&n)
                            .unwrap_or_default()
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        Event::default().event("lagged").data("")
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok(event), (rx, stopping, ended, wanted)));
            }
        },
    );
    Ok(Sse::new(notes).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
