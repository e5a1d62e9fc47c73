//! Terminals' anonymous usage (`usage_events`): a `usage` outbox event kept in its terminal's
//! hall, and the counts statistics read. Nothing about a person: what was searched (the words
//! only), opened, printed, taken, asked, and how long a session lasted.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Database};

/// The longest subject kept (a search's words, an item id), in characters.
pub const MAX_SUBJECT_CHARS: usize = 64;
/// A search's results as the agent counts them (its limit is 50).
const MAX_HITS: u32 = 1000;
/// The longest session kept, in seconds (the agent caps at 4 hours).
const MAX_SESSION_S: u32 = 4 * 3600;
const KINDS: [&str; 7] = [
    "search", "guide", "print", "qr", "ticket", "help", "session",
];

/// One `usage` event as the agent writes it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageEvent {
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    hits: Option<u32>,
    #[serde(default)]
    seconds: Option<u32>,
    /// Made while the terminal was in training mode.
    #[serde(default)]
    training: bool,
}

impl UsageEvent {
    /// Within bounds, with exactly the figure its kind carries.
    fn bounded(&self) -> bool {
        let shape = match self.kind.as_str() {
            "search" => {
                !self.subject.is_empty()
                    && self.hits.is_some_and(|h| h <= MAX_HITS)
                    && self.seconds.is_none()
            }
            "session" => {
                self.subject.is_empty()
                    && self.hits.is_none()
                    && self.seconds.is_some_and(|s| s <= MAX_SESSION_S)
            }
            k => KINDS.contains(&k) && self.hits.is_none() && self.seconds.is_none(),
        };
        shape
            && self.subject.chars().count() <= MAX_SUBJECT_CHARS
            && !self.subject.chars().any(char::is_control)
            && !(self.kind == "search" && looks_personal(&self.subject))
    }
}

/// Words that may be a phone, ID card or account number (five digits or more): never kept,
/// whoever typed them.
fn looks_personal(subject: &str) -> bool {
    subject.chars().filter(char::is_ascii_digit).count() >= 5
}

/// Keeps a `usage` event in `usage_events` in the terminal's enrolled hall (never a hall the
/// body names) at `at` (the local stamp it was made at). A malformed one, one from an unknown
/// terminal, or one made in training stays only among the raw events. True when kept.
pub(super) fn apply_usage(
    tx: &Transaction,
    device: &str,
    body: &serde_json::Value,
    at: &str,
) -> Result<bool> {
    let u = match serde_json::from_value::<UsageEvent>(body.clone()) {
        Ok(u) if u.bounded() => u,
        Ok(_) | Err(_) => {
            tracing::warn!(%device, "A usage event malformed or out of bounds was kept only as an event.");
            return Ok(false);
        }
    };
    let terminal: Option<(String, bool)> = tx
        .query_row(
            "SELECT hall, training FROM devices WHERE id = ?1",
            [device],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((hall, training)) = terminal else {
        tracing::warn!(%device, "A usage event from an unknown terminal was kept only as an event.");
        return Ok(false);
    };
    if training || u.training {
        // 培训模式: practice is never counted.
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO usage_events (hall, device, day, at, kind, subject, hits, seconds)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        hall,
        device,
        at.get(..10).unwrap_or_default(),
        at,
        u.kind,
        u.subject,
        u.hits,
        u.seconds
    ])?;
    Ok(true)
}

/// The counts of one kind of use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindCount {
    pub kind: String,
    pub count: u64,
    /// Searches that found nothing.
    pub no_result: u64,
    /// Sessions' seconds, summed.
    pub seconds: u64,
}

/// How often a subject (search words, an item) came up.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubjectCount {
    pub subject: String,
    pub count: u64,
}

/// What statistics read of terminals' usage. `halls` are the halls counted, `from..=to` local
/// days (`YYYY-MM-DD`).
pub trait UsageStore {
    /// Counts per kind of use.
    fn usage_counts(&self, halls: &[String], from: &str, to: &str) -> Result<Vec<KindCount>>;
    /// The most frequent subjects of a kind (searches that found nothing only, with
    /// `no_result`), most first, then by subject.
    fn top_subjects(
        &self,
        halls: &[String],
        from: &str,
        to: &str,
        kind: &str,
        no_result: bool,
        limit: usize,
    ) -> Result<Vec<SubjectCount>>;
}

fn json_list(halls: &[String]) -> String {
    serde_json::to_string(halls).unwrap_or_else(|_| "[]".into())
}

impl UsageStore for Database {
    fn usage_counts(&self, halls: &[String], from: &str, to: &str) -> Result<Vec<KindCount>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT kind, COUNT(*), COALESCE(SUM(hits = 0), 0), COALESCE(SUM(seconds), 0)
             FROM usage_events
             WHERE hall IN (SELECT value FROM json_each(?1)) AND day BETWEEN ?2 AND ?3
             GROUP BY kind",
        )?;
        let rows = stmt.query_map(params![json_list(halls), from, to], |r| {
            Ok(KindCount {
                kind: r.get(0)?,
                count: r.get::<_, i64>(1)? as u64,
                no_result: r.get::<_, i64>(2)? as u64,
                seconds: r.get::<_, i64>(3)? as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn top_subjects(
        &self,
        halls: &[String],
        from: &str,
        to: &str,
        kind: &str,
        no_result: bool,
        limit: usize,
    ) -> Result<Vec<SubjectCount>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT subject, COUNT(*) AS n FROM usage_events
             WHERE hall IN (SELECT value FROM json_each(?1)) AND day BETWEEN ?2 AND ?3
               AND kind = ?4 AND (?5 = 0 OR hits = 0)
             GROUP BY subject ORDER BY n DESC, subject LIMIT ?6",
        )?;
        let rows = stmt.query_map(
            params![json_list(halls), from, to, kind, no_result, limit as i64],
            |r| {
                Ok(SubjectCount {
                    subject: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(body: serde_json::Value) -> bool {
        serde_json::from_value::<UsageEvent>(body).is_ok_and(|u| u.bounded())
    }

    #[test]
    fn only_bounded_events_of_a_known_kind_with_their_own_figure_are_kept() {
        assert!(event(
            json!({"kind": "search", "subject": "社保卡", "hits": 0})
        ));
        assert!(event(json!({"kind": "session", "seconds": 95})));
        assert!(event(
            json!({"kind": "guide", "subject": "item-1", "hits": null})
        ));
        assert!(!event(json!({"kind": "search", "subject": "", "hits": 2})));
        assert!(!event(json!({"kind": "search", "subject": "x"})), "no hits");
        assert!(!event(
            json!({"kind": "search", "subject": "证".repeat(65), "hits": 1})
        ));
        assert!(!event(json!({"kind": "session", "seconds": 999_999})));
        assert!(!event(
            json!({"kind": "guide", "subject": "a", "seconds": 3})
        ));
        assert!(!event(json!({"kind": "login", "subject": "a"})));
        assert!(
            !event(json!({"kind": "search", "subject": "13812345678", "hits": 0})),
            "a phone number typed is never kept"
        );
        assert!(event(
            json!({"kind": "search", "subject": "2024年社保", "hits": 3})
        ));
        assert!(!event(json!({"kind": "help", "subject": "a\u{0007}"})));
        assert!(
            !event(json!({"kind": "help", "subject": "a", "hall": "other"})),
            "a hall is never taken from the body"
        );
    }
}
