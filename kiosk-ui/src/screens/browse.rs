//! Browse: the categories of one audience — by topic, life event or department — with counts.

use bevy::prelude::*;
use menpai_model::Audience;

use super::frame::{self, Build};
use super::tap::go;
use super::{PageSystems, requests};
use crate::agent::Request;
use crate::nav::{Action, CategoryKind, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Browse, build);
    requests::asks(app, Screen::Browse, |_, _| vec![Request::Home]);
    app.add_systems(Update, choose.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    let Some(home) = b.data.home.clone() else {
        b.waiting("分类");
        return;
    };
    let audience = b.session.audience;
    let who = if audience == Audience::Personal {
        "个人办事"
    } else {
        "企业办事"
    };
    b.add(text(who, TITLE, TEXT));
    let kind = b.session.category_kind;
    let tabs = b.add(row(16.0));
    for (k, label) in [
        (CategoryKind::Topic, "按主题"),
        (CategoryKind::LifeEvent, "按人生事件"),
        (CategoryKind::Department, "按部门"),
    ] {
        let (fill, ink) = if k == kind {
            (PRIMARY, ON_PRIMARY)
        } else {
            (CHIP, PRIMARY_DARK)
        };
        b.add_to(
            tabs,
            (
                Node {
                    width: percent(31),
                    ..default()
                },
                children![button(label, Action::BrowseKind(k), fill, ink)],
            ),
        );
    }
    let Some(counts) = home
        .audiences
        .iter()
        .find(|a| a.audience == audience)
        .map(|a| a.counts.clone())
    else {
        return;
    };
    let values = match kind {
        CategoryKind::Topic => counts.topics,
        CategoryKind::LifeEvent => counts.life_events,
        CategoryKind::Department => counts.departments,
    };
    let grid = b.add(row(20.0));
    for (name, n) in values {
        b.add_to(
            grid,
            (
                Node {
                    width: percent(48),
                    ..default()
                },
                children![plain_button(
                    format!("{name}（{n}）"),
                    Action::OpenCategory(kind, name)
                )],
            ),
        );
    }
}

/// An audience opens its categories, a tab picks how they are grouped, a category its items.
fn choose(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::BrowseAudience(a) => {
                session.audience = *a;
                go(Screen::Browse, &screen, &mut session, &mut next);
            }
            Action::BrowseKind(k) => session.category_kind = *k,
            Action::OpenCategory(kind, value) => {
                session.category = Some((*kind, value.clone()));
                session.page = 0;
                go(Screen::Items, &screen, &mut session, &mut next);
            }
            _ => {}
        }
    }
}
