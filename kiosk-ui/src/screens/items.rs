//! The items of a category, most asked for first.

use bevy::prelude::*;

use super::frame::{self, Build};
use super::requests;
use crate::agent::Request;
use crate::nav::{Action, CategoryKind, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Items, build);
    requests::asks(app, Screen::Items, asks);
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
    let list = b.add(card());
    for item in &items.items {
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
}
