//! Terminals' anonymous usage beside the queue figures: searches and those that found nothing
//! (the content team's to-do list), guides opened, checklists printed or taken by QR, tickets
//! taken at terminals, help requests, sessions and their mean length; and the page section
//! that shows them.

use maud::{Markup, html};
use serde::Serialize;

use crate::Server;
use crate::storage::StorageError;
use crate::storage::usage::SubjectCount;

/// How many entries each top list holds.
pub const TOP: usize = 10;

/// A guide opened, with the item's name from the published content (its id when unknown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuideCount {
    pub item: String,
    pub name: String,
    pub count: u64,
}

/// What terminals were used for over some halls and days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    pub searches: u64,
    pub searches_no_result: u64,
    pub top_searches: Vec<SubjectCount>,
    /// Searches that found nothing, most frequent first: what the content lacks.
    pub top_no_result: Vec<SubjectCount>,
    pub top_guides: Vec<GuideCount>,
    pub prints: u64,
    pub qr_takes: u64,
    pub tickets: u64,
    pub help_requests: u64,
    pub sessions: u64,
    pub session_mean_s: Option<f64>,
}

/// The usage of `halls` (`None`: every hall of the region) on days `from..=to` (`YYYY-MM-DD`).
pub fn summary(
    server: &Server,
    halls: Option<&[String]>,
    from: &str,
    to: &str,
) -> Result<UsageSummary, StorageError> {
    let all: Vec<String>;
    let halls = match halls {
        Some(h) => h,
        None => {
            all = server.halls.all().iter().map(|h| h.id.clone()).collect();
            &all
        }
    };
    let store = server.storage.as_ref();
    let mut s = UsageSummary::default();
    let mut session_s = 0;
    for k in store.usage_counts(halls, from, to)? {
        match k.kind.as_str() {
            "search" => (s.searches, s.searches_no_result) = (k.count, k.no_result),
            "print" => s.prints = k.count,
            "qr" => s.qr_takes = k.count,
            "ticket" => s.tickets = k.count,
            "help" => s.help_requests = k.count,
            "session" => (s.sessions, session_s) = (k.count, k.seconds),
            _ => {}
        }
    }
    s.session_mean_s = (s.sessions > 0).then(|| session_s as f64 / s.sessions as f64);
    s.top_searches = store.top_subjects(halls, from, to, "search", false, TOP)?;
    s.top_no_result = store.top_subjects(halls, from, to, "search", true, TOP)?;
    let pack = server.phone.current();
    s.top_guides = store
        .top_subjects(halls, from, to, "guide", false, TOP)?
        .into_iter()
        .map(|g| GuideCount {
            name: pack
                .as_ref()
                .and_then(|c| c.pack.items.iter().find(|i| i.id == g.subject))
                .map_or_else(|| g.subject.clone(), |i| i.name.clone()),
            item: g.subject,
            count: g.count,
        })
        .collect();
    Ok(s)
}

/// Seconds as `3分05秒`.
fn minutes_seconds(s: f64) -> String {
    let s = s.round() as u64;
    format!("{}分{:02}秒", s / 60, s % 60)
}

fn top_list(caption: &str, empty: &str, rows: &[SubjectCount]) -> Markup {
    html! {
        table class="usage-top" {
            caption { (caption) }
            thead { tr { th { "搜索词" } th class="num" { "次数" } } }
            tbody {
                @for r in rows {
                    tr { td { (r.subject) } td class="num" { (r.count) } }
                }
                @if rows.is_empty() {
                    tr { td colspan="2" { (empty) } }
                }
            }
        }
    }
}

/// The 终端使用 section of the statistics page.
pub fn section(u: &UsageSummary) -> Markup {
    let figures: [(&str, String); 8] = [
        ("搜索次数", u.searches.to_string()),
        ("无结果搜索", u.searches_no_result.to_string()),
        ("打印清单", u.prints.to_string()),
        ("扫码带走清单", u.qr_takes.to_string()),
        ("终端取号", u.tickets.to_string()),
        ("呼叫帮助", u.help_requests.to_string()),
        ("使用次数", u.sessions.to_string()),
        (
            "平均使用时长",
            u.session_mean_s.map_or_else(|| "—".into(), minutes_seconds),
        ),
    ];
    html! {
        section class="usage" id="usage" {
            h2 { "终端使用" }
            p class="hint" { "只统计次数与搜索词，不记录任何个人信息；培训模式的终端不计入。" }
            dl class="figures" {
                @for (label, value) in &figures {
                    div { dt { (label) } dd { (value) } }
                }
            }
            div class="usage-lists" {
                (top_list("无结果的搜索（内容待补充）", "没有无结果的搜索", &u.top_no_result))
                (top_list("热门搜索", "还没有搜索", &u.top_searches))
                table class="usage-top" {
                    caption { "最常打开的办事指南" }
                    thead { tr { th { "事项" } th class="num" { "打开次数" } } }
                    tbody {
                        @for g in &u.top_guides {
                            tr { td { (g.name) } td class="num" { (g.count) } }
                        }
                        @if u.top_guides.is_empty() {
                            tr { td colspan="2" { "还没有打开过指南" } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_shows_the_figures_and_the_content_teams_to_do_list_first() {
        let u = UsageSummary {
            searches: 12,
            searches_no_result: 3,
            top_no_result: vec![SubjectCount {
                subject: "<公积金>".into(),
                count: 2,
            }],
            top_guides: vec![GuideCount {
                item: "i1".into(),
                name: "社保卡补办".into(),
                count: 4,
            }],
            sessions: 2,
            session_mean_s: Some(125.0),
            ..UsageSummary::default()
        };
        let page = section(&u).into_string();
        assert!(page.contains("<dt>搜索次数</dt><dd>12</dd>"), "{page}");
        assert!(page.contains("<dd>2分05秒</dd>"));
        assert!(page.contains("&lt;公积金&gt;"), "escaped: {page}");
        assert!(page.contains("社保卡补办"));
        assert!(page.find("无结果的搜索") < page.find("热门搜索"));
        assert!(page.contains("还没有搜索"));
    }
}
