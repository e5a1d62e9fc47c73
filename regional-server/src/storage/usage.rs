//! Terminals' anonymous usage (`usage_events`): a `usage` outbox event kept in its terminal's
//! hall, and the counts statistics read. Nothing about a person: what was searched (the words
//! only), opened, printed, taken, asked, and how long a session lasted.

use super::{Database, Exec, OptionalExt, Result};
use crate::params;

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
    tx: &impl Exec,
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
    tx.execute(
        "INSERT INTO usage_events (hall, device, day, at, kind, subject, hits, seconds)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            hall,
            device,
            at.get(..10).unwrap_or_default(),
            at,
            u.kind,
            u.subject,
            u.hits,
            u.seconds
        ],
    )?;
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
        self.query_map(
            &format!(
                "SELECT kind, COUNT(*), COALESCE(SUM(CASE WHEN hits = 0 THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(seconds), 0)
                 FROM usage_events
                 WHERE hall IN ({}) AND day BETWEEN ?2 AND ?3
                 GROUP BY kind",
                self.dialect().json_strings("?1")
            ),
            params![json_list(halls), from, to],
            |r| {
                Ok(KindCount {
                    kind: r.get(0)?,
                    count: r.get(1)?,
                    no_result: r.get(2)?,
                    seconds: r.get(3)?,
                })
            },
        )
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
        let only_no_result = if no_result { "AND hits = 0" } else { "" };
        self.query_map(
            &format!(
                "SELECT subject, COUNT(*) AS n FROM usage_events
                 WHERE hall IN ({}) AND day BETWEEN ?2 AND ?3 AND kind = ?4 {only_no_result}
                 GROUP BY subject ORDER BY n DESC, subject LIMIT ?5",
                self.dialect().json_strings("?1")
            ),
            params![json_list(halls), from, to, kind, limit as i64],
            |r| {
                Ok(SubjectCount {
                    subject: r.get(0)?,
                    count: r.get(1)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::storage::testing::databases;

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

    #[test]
    fn usage_is_kept_in_the_terminals_hall_and_counted() {
        for db in databases() {
            for (id, hall, training) in
                [("d1", "futian", 0), ("d2", "luohu", 0), ("t1", "futian", 1)]
            {
                db.execute(
                    "INSERT INTO devices (id, hall, position, cert_sha256, enrolled_at, training)
                     VALUES (?1, ?2, '入口', ?1, '2026-11-01T00:00:00Z', ?3)",
                    params![id, hall, training],
                )
                .unwrap();
            }
            let events = [
                (
                    "d1",
                    json!({"kind": "search", "subject": "社保卡", "hits": 0}),
                    "2026-11-20 09:00:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "search", "subject": "社保卡", "hits": 0}),
                    "2026-11-20 09:01:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "search", "subject": "护照", "hits": 3}),
                    "2026-11-20 09:02:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "search", "subject": "驾驶证", "hits": 0}),
                    "2026-11-21 09:00:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "session", "seconds": 95}),
                    "2026-11-20 09:03:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "session", "seconds": 5}),
                    "2026-11-20 09:04:00.000",
                ),
                (
                    "d2",
                    json!({"kind": "print", "subject": "P43", "hall": "futian"}),
                    "2026-11-20 09:05:00.000",
                ),
                (
                    "d2",
                    json!({"kind": "print", "subject": "P43"}),
                    "2026-11-20 09:05:00.000",
                ),
                (
                    "d1",
                    json!({"kind": "print", "subject": "P43", "training": true}),
                    "2026-11-20 09:06:00.000",
                ),
                (
                    "t1",
                    json!({"kind": "print", "subject": "P43"}),
                    "2026-11-20 09:07:00.000",
                ),
                (
                    "x9",
                    json!({"kind": "print", "subject": "P43"}),
                    "2026-11-20 09:08:00.000",
                ),
            ];
            let kept: Vec<bool> = events
                .iter()
                .map(|(device, body, at)| {
                    db.transaction(|tx| apply_usage(tx, device, body, at))
                        .unwrap()
                })
                .collect();
            assert_eq!(
                kept,
                [
                    true, true, true, true, true, true, false, true, false, false, false
                ]
            );
            let halls = |h: &[&str]| h.iter().map(|h| h.to_string()).collect::<Vec<_>>();
            let mut counts = db
                .usage_counts(&halls(&["futian"]), "2026-11-20", "2026-11-21")
                .unwrap();
            counts.sort_by(|a, b| a.kind.cmp(&b.kind));
            assert_eq!(
                counts,
                vec![
                    KindCount {
                        kind: "search".into(),
                        count: 4,
                        no_result: 3,
                        seconds: 0
                    },
                    KindCount {
                        kind: "session".into(),
                        count: 2,
                        no_result: 0,
                        seconds: 100
                    },
                ]
            );
            let luohu = db
                .usage_counts(&halls(&["luohu"]), "2026-11-20", "2026-11-20")
                .unwrap();
            assert_eq!(
                luohu,
                vec![KindCount {
                    kind: "print".into(),
                    count: 1,
                    no_result: 0,
                    seconds: 0
                }]
            );
            assert!(
                db.usage_counts(&[], "2026-11-20", "2026-11-21")
                    .unwrap()
                    .is_empty()
            );
            let both = halls(&["futian", "luohu"]);
            let subject = |s: &str, count| SubjectCount {
                subject: s.into(),
                count,
            };
            assert_eq!(
                db.top_subjects(&both, "2026-11-20", "2026-11-21", "search", false, 10)
                    .unwrap(),
                vec![
                    subject("社保卡", 2),
                    subject("护照", 1),
                    subject("驾驶证", 1)
                ]
            );
            assert_eq!(
                db.top_subjects(&both, "2026-11-20", "2026-11-21", "search", true, 1)
                    .unwrap(),
                vec![subject("社保卡", 2)]
            );
            assert_eq!(
                db.top_subjects(&both, "2026-11-20", "2026-11-20", "search", true, 10)
                    .unwrap(),
                vec![subject("社保卡", 2)]
            );
        }
    }
}
