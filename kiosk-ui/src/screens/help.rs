//! Help (有事请教): questions people often ask, by category, and a button that calls staff.

use bevy::prelude::*;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::{self, Agent};
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Help, build);
    requests::asks(app, Screen::Help, |_, _| vec![Request::Faqs]);
    app.add_systems(Update, ask_for_help.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    let call = match (
        b.session.staff_called,
        b.data.staff_called,
        &b.data.staff_call_failed,
    ) {
        (true, _, Some(why)) => why.clone(),
        (true, true, None) => "已通知工作人员，请稍候，马上来帮您。".into(),
        (true, false, None) => "正在呼叫工作人员…".into(),
        _ => String::new(),
    };
    b.add((
        card(),
        children![
            heading("需要人帮忙？"),
            primary_button("呼叫工作人员", Action::CallStaff),
            text(call, BODY, OK),
        ],
    ));
    let Some(faqs) = b.data.faqs.clone() else {
        b.waiting("常见问题");
        return;
    };
    let chosen = b
        .session
        .faq_category
        .clone()
        .or_else(|| faqs.categories.keys().next().cloned());
    let tabs = b.add(row(12.0));
    for (c, n) in &faqs.categories {
        let (fill, ink) = if Some(c) == chosen.as_ref() {
            (PRIMARY, ON_PRIMARY)
        } else {
            (CHIP, PRIMARY_DARK)
        };
        b.add_to(
            tabs,
            button(
                format!("{c}（{n}）"),
                Action::FaqCategory(c.clone()),
                fill,
                ink,
            ),
        );
    }
    for f in faqs
        .faqs
        .iter()
        .filter(|f| Some(&f.category) == chosen.as_ref())
    {
        b.add((
            card(),
            children![
                text(format!("问：{}", f.question), BODY, TEXT),
                text(format!("答：{}", f.answer), BODY, MUTED)
            ],
        ));
    }
}

/// A tab picks the questions shown; the button calls staff, saying from which screen.
fn ask_for_help(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::FaqCategory(c) => session.faq_category = Some(c.clone()),
            Action::CallStaff => {
                session.staff_called = true;
                data.staff_called = false;
                data.staff_call_failed = None;
                agent.ask(Request::CallStaff {
                    context: Some(format!("{:?}", screen.get())),
                });
            }
            _ => {}
        }
    }
}
