//! Search with an on-screen keyboard: letters for pinyin and initials, results on every key.

use bevy::prelude::*;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::Agent;
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Search, build);
    app.add_systems(Update, type_query.in_set(PageSystems::React));
}

const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

fn build(b: &mut Build) {
    let shown = if b.session.query.is_empty() {
        "输入拼音或首字母，如 shebaoka、gjj".to_owned()
    } else {
        b.session.query.clone()
    };
    let ink = if b.session.query.is_empty() {
        MUTED
    } else {
        TEXT
    };
    b.add((
        Node {
            width: percent(100),
            min_height: px(110),
            padding: UiRect::axes(px(36), px(20)),
            align_items: AlignItems::Center,
            border: UiRect::all(px(4)),
            border_radius: BorderRadius::all(px(24)),
            ..default()
        },
        BorderColor::all(PRIMARY),
        BackgroundColor(CARD),
        children![text(shown, HEADING, ink)],
    ));
    let keyboard = b.add((Node {
        width: percent(100),
        flex_direction: FlexDirection::Column,
        row_gap: px(12),
        align_items: AlignItems::Center,
        ..default()
    },));
    for keys in ROWS {
        let line = b.add_to(
            keyboard,
            Node {
                column_gap: px(10),
                ..default()
            },
        );
        for k in keys.chars() {
            b.add_to(line, key(&k.to_string(), Action::Key(k), 90.0));
        }
    }
    let last = b.add_to(
        keyboard,
        Node {
            column_gap: px(16),
            ..default()
        },
    );
    b.add_to(last, key("删除", Action::Backspace, 220.0));
    b.add_to(last, key("清空", Action::ClearQuery, 220.0));

    if b.session.query.is_empty() {
        return;
    }
    let hits = b
        .data
        .search
        .as_ref()
        .filter(|s| s.query == b.session.query)
        .map(|s| s.hits.clone());
    match hits {
        None => b.waiting("搜索结果"),
        Some(hits) if hits.is_empty() => {
            b.add(text(
                "没有找到，换个说法试试，或到「有事请教」问问工作人员。",
                BODY,
                MUTED,
            ));
        }
        Some(hits) => {
            let list = b.add(card());
            for h in hits {
                let detail = format!("{} · {}", h.item.department, h.matched);
                b.add_to(
                    list,
                    list_row(
                        h.item.name.clone(),
                        detail,
                        Action::OpenItem(h.item.id.clone()),
                    ),
                );
            }
        }
    }
}

fn key(label: &str, action: Action, width: f32) -> impl Bundle {
    (
        Button,
        action,
        Node {
            width: px(width),
            height: px(100),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(px(14)),
            ..default()
        },
        BackgroundColor(PRIMARY_DARK),
        children![text(label, HEADING, ON_PRIMARY)],
    )
}

/// The longest query the box takes.
const MAX_QUERY: usize = 24;

/// Keys edit the query and each change searches at once; clearing forgets the results.
fn type_query(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
) {
    for action in actions.read() {
        match action {
            Action::Key(c) => {
                if session.query.chars().count() < MAX_QUERY {
                    session.query.push(*c);
                }
                search(&session, &mut agent);
            }
            Action::Backspace => {
                session.query.pop();
                search(&session, &mut agent);
            }
            Action::ClearQuery => {
                session.query.clear();
                data.search = None;
            }
            _ => {}
        }
    }
}

/// Sends the query as it stands; answers to older queries are dropped when they arrive.
fn search(session: &Session, agent: &mut Agent) {
    if session.query.is_empty() {
        return;
    }
    agent.status.search_seq += 1;
    let seq = agent.status.search_seq;
    agent.ask(Request::Search {
        q: session.query.clone(),
        seq,
    });
}
