//! Anonymous usage counts for the hall's statistics (统计分析): what was searched (the words
//! only) and with how many results, guides opened, checklists printed or taken by QR, tickets
//! taken, help asked, kiosk sessions and their length. Nothing about a person is kept; each
//! count is a `usage` outbox event, marked when the terminal is in training mode.
//!
//! The plate searches as the citizen types, so a search counts once, as it stood when they
//! moved on: a query that extends or shortens the pending one replaces it; anything else (a
//! new query, a guide opened, the session's end) counts the pending one first.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Agent;

/// The outbox event's kind.
pub const EVENT_KIND: &str = "usage";
/// The longest subject kept (a search's words, an item id), in characters.
pub const MAX_SUBJECT_CHARS: usize = 64;
/// The longest session counted; longer ones (a plate left on a screen) count as this.
pub const MAX_SESSION_S: u64 = 4 * 3600;
/// A pending search older than this counts before the next one, whatever its words.
const SEARCH_SETTLE: Duration = Duration::from_secs(60);

/// What was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageKind {
    Search,
    Guide,
    Print,
    Qr,
    Ticket,
    Help,
    Session,
}

/// The search being typed, not yet counted.
#[derive(Debug)]
struct PendingSearch {
    query: String,
    hits: usize,
    at: Instant,
}

/// The agent's usage recorder.
#[derive(Debug, Default)]
pub struct Usage {
    pending: Mutex<Option<PendingSearch>>,
}

/// A search's words as counted: trimmed, inner spaces collapsed, at most
/// [`MAX_SUBJECT_CHARS`] characters.
pub fn normalize_query(q: &str) -> String {
    q.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

/// A subject (item id, business prefix) as counted: at most [`MAX_SUBJECT_CHARS`] characters.
fn bounded(s: &str) -> String {
    s.trim().chars().take(MAX_SUBJECT_CHARS).collect()
}

/// Whether `b` continues the typing of `a` (one extends the other).
fn same_typing(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Queues one count; a failure is logged, never the caller's (the citizen's screen goes on).
fn enqueue(
    agent: &Agent,
    kind: UsageKind,
    subject: &str,
    hits: Option<usize>,
    seconds: Option<u64>,
) {
    let body = json!({
        "kind": kind,
        "subject": subject,
        "hits": hits,
        "seconds": seconds,
        // Practice stays out of the statistics even when it reaches the server later.
        "training": agent.training.on(),
    });
    if let Err(e) = agent.store.enqueue(EVENT_KIND, &body) {
        tracing::warn!(error = %e, ?kind, "A usage count could not be queued.");
    }
}

impl Usage {
    /// Counts the search being typed, if any.
    pub fn flush(&self, agent: &Agent) {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(p) = pending {
            enqueue(agent, UsageKind::Search, &p.query, Some(p.hits), None);
        }
    }

    /// A search answered with `hits` results (counted once the citizen moves on).
    pub fn searched(&self, agent: &Agent, q: &str, hits: usize) {
        let query = normalize_query(q);
        if query.is_empty() {
            return;
        }
        let now = Instant::now();
        let done = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let done = pending
                .take()
                .filter(|p| !same_typing(&p.query, &query) || now - p.at > SEARCH_SETTLE);
            *pending = Some(PendingSearch {
                query,
                hits,
                at: now,
            });
            done
        };
        if let Some(p) = done {
            enqueue(agent, UsageKind::Search, &p.query, Some(p.hits), None);
        }
    }

    /// Something other than a search was used: the pending search counts first.
    pub fn used(&self, agent: &Agent, kind: UsageKind, subject: &str) {
        self.flush(agent);
        enqueue(agent, kind, &bounded(subject), None, None);
    }

    /// A kiosk session ended after `seconds` (bounded to [`MAX_SESSION_S`]).
    pub fn session_ended(&self, agent: &Agent, seconds: u64) {
        self.flush(agent);
        enqueue(
            agent,
            UsageKind::Session,
            "",
            None,
            Some(seconds.min(MAX_SESSION_S)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_trimmed_collapsed_and_bounded() {
        assert_eq!(normalize_query("  社保   卡 \n"), "社保 卡");
        assert_eq!(normalize_query(&"证".repeat(100)).chars().count(), 64);
        assert_eq!(normalize_query("   "), "");
    }

    fn counted(agent: &Agent) -> Vec<serde_json::Value> {
        agent
            .store
            .unsent(100)
            .unwrap()
            .into_iter()
            .filter(|(_, kind, _, _)| kind == EVENT_KIND)
            .map(|(_, _, body, _)| serde_json::from_str(&body).unwrap())
            .collect()
    }

    #[test]
    fn a_search_counts_once_as_it_stood_when_the_citizen_moved_on() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let agent = Agent::with_store(crate::config::Config::default(), store);
        for q in ["社", "社保", "社保卡", "社保"] {
            agent.usage.searched(&agent, q, 3);
        }
        assert!(counted(&agent).is_empty(), "still typing");
        agent.usage.searched(&agent, "养犬登记", 0);
        agent.usage.used(&agent, UsageKind::Guide, "E01");
        agent.usage.session_ended(&agent, 999_999);
        let c = counted(&agent);
        let brief: Vec<(&str, &str)> = c
            .iter()
            .map(|e| (e["kind"].as_str().unwrap(), e["subject"].as_str().unwrap()))
            .collect();
        assert_eq!(
            brief,
            [
                ("search", "社保"),
                ("search", "养犬登记"),
                ("guide", "E01"),
                ("session", "")
            ]
        );
        assert_eq!(
            (c[0]["hits"].as_u64(), c[1]["hits"].as_u64()),
            (Some(3), Some(0))
        );
        assert_eq!(
            c[3]["seconds"].as_u64(),
            Some(MAX_SESSION_S),
            "a forgotten plate is capped"
        );
        assert!(c.iter().all(|e| e["training"] == false));
    }

    #[test]
    fn typing_continues_while_one_query_extends_the_other() {
        assert!(same_typing("社保", "社保卡"));
        assert!(same_typing("社保卡", "社保"));
        assert!(!same_typing("社保卡", "护照"));
    }
}
