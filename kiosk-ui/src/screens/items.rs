//! The items of a category, most asked for first.

use bevy::prelude::*;

use super::frame::{self, Build};
use super::{PageSystems, requests};
use crate::agent::Request;
use crate::nav::{Action, CategoryKind, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

/// Items per page in elder mode (otherwise all of them scroll).
const ELDER_PAGE: usize = 6;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Items, build);
    requests::asks(app, Screen::Items, asks);
    app.add_systems(Update, turn_pages.in_set(PageSystems::React));
}

fn turn_pages(mut actions: MessageReader<Action>, mut session: ResMut<Session>) {
    for action in actions.read() {
        if let Action::Page(by) = action {
            session.page = session.page.saturating_add_signed(*by as isize);
        }
    }
}

/// The chosen category's items, for the chosen audience.
fn asks(session: &Session, _hall: Option<String>) -> Vec<Request> {
    let mut q = vec![
        ("audience".to_owned(), session.audience.label().to_owned()),
        ("limit".into(), "200".into()),
    ];
    if let Some((kind, value)) = &session.category {
        let key = match kind {
            CategoryKind::Topic => "topic",
            CategoryKind::LifeEvent => "life_event",
            CategoryKind::Department => "department",
        };
        q.push((key.into(), value.clone()));
    }
    vec![Request::Items(q)]
}

fn build(b: &mut Build) {
    let title = b
        .session
        .category
        .as_ref()
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    b.add(text(title, TITLE, TEXT));
    let Some(items) = b.data.items.clone() else {
        b.waiting("事项");
        return;
    };
    if items.items.is_empty() {
        b.add(text("这一类暂时没有事项。", BODY, MUTED));
        return;
    }
    let per_page = match b.session.elder {
        true => ELDER_PAGE,
        false => items.items.len().max(1),
    };
    let pages = items.items.len().div_ceil(per_page);
    let page = b.session.page.min(pages - 1);
    let list = b.add(card());
    for item in items.items.iter().skip(page * per_page).take(per_page) {
        let detail = format!(
            "{} · 承诺时限 {}{}",
            item.department,
            item.promised,
            if item.online { " · 可网上办" } else { "" }
        );
        b.add_to(
            list,
            list_row(item.name.clone(), detail, Action::OpenItem(item.id.clone())),
        );
    }
    if pages > 1 {
        let turn = b.add(row(16.0));
        if page > 0 {
            b.add_to(turn, plain_button("上一页", Action::Page(-1)));
        }
        b.add_to(
            turn,
            text(format!("第 {} / {pages} 页", page + 1), BODY, TEXT),
        );
        if page + 1 < pages {
            b.add_to(turn, primary_button("下一页", Action::Page(1)));
        }
    }
}
