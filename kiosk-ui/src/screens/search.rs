//! Search with the on-screen keyboard (letters for pinyin and initials, or handwriting),
//! results on every change.

use bevy::prelude::*;

use super::PageSystems;
use super::frame::{self, Build};
use super::keyboard::Typed;
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

fn build(b: &mut Build) {
    b.add(input_box(&b.session.query, "拼音、首字母或手写，如 gjj"));
    super::keyboard::keyboard(b);

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

/// Each change of the query searches at once; an empty query forgets the results.
fn type_query(
    mut typed: MessageReader<Typed>,
    session: Res<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
) {
    if typed.read().count() == 0 || *screen.get() != Screen::Search {
        return;
    }
    if session.query.is_empty() {
        data.search = None;
    } else {
        search(&session, &mut agent);
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
