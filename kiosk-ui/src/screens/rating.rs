//! Service rating (好差评): five levels, and reasons when it was not good. From the ticket just
//! taken here it rates that ticket (the server ties it to the window and business that served
//! it); from the home screen it is a general rating of the hall.

use bevy::prelude::*;
use menpai_model::api::{RATING_LEVELS, RATING_REASONS, RatedTicket};

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::Agent;
use super::tap::go;
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Rating, build);
    app.add_systems(Update, (rate, rate_ticket).in_set(PageSystems::React));
    app.add_systems(OnExit(Screen::Rating), forget_ticket);
}

pub(super) const LEVELS: [&str; 5] = RATING_LEVELS;
pub(super) const REASONS: [&str; 6] = RATING_REASONS;

fn build(b: &mut Build) {
    if b.session.rated {
        let thanks = match (&b.data.rating_failed, b.data.rated) {
            (Some(why), _) => why.clone(),
            (None, true) => "感谢您的评价！我们会认真改进。".into(),
            (None, false) => "正在提交…".into(),
        };
        b.add((card(), children![text(thanks, TITLE, OK)]));
        return;
    }
    let about = match &b.session.rating_ticket {
        Some(t) => format!("评价对象：{} 号的办理服务", t.number),
        None => "评价对象：大厅整体服务".to_owned(),
    };
    let pick = b.add((
        card(),
        children![heading("您对今天的服务满意吗？"), text(about, BODY, MUTED)],
    ));
    for (i, label) in LEVELS.iter().enumerate() {
        let level = 5 - i as u8;
        let chosen = b.session.rating == Some(level);
        let (fill, ink) = if chosen {
            (PRIMARY, ON_PRIMARY)
        } else {
            (CHIP, PRIMARY_DARK)
        };
        b.add_to(pick, button(*label, Action::Rate(level), fill, ink));
    }
    if b.session.rating.is_some_and(|l| l <= 3) {
        let why = b.add((card(), children![heading("哪里不满意？（可多选）")]));
        let chips = b.add_to(why, row(12.0));
        for r in REASONS {
            let chosen = b.session.rating_reasons.iter().any(|x| x == r);
            let (fill, ink) = if chosen {
                (PRIMARY, ON_PRIMARY)
            } else {
                (CHIP, PRIMARY_DARK)
            };
            b.add_to(chips, button(r, Action::RateReason(r.into()), fill, ink));
        }
    }
    if b.session.rating.is_some() {
        b.add(primary_button("提交评价", Action::SubmitRating));
    }
}

/// A level, reasons (toggled), then the rating is sent.
fn rate(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
) {
    for action in actions.read() {
        match action {
            Action::Rate(level) => session.rating = Some(*level),
            Action::RateReason(r) => {
                if let Some(i) = session.rating_reasons.iter().position(|x| x == r) {
                    session.rating_reasons.remove(i);
                } else {
                    session.rating_reasons.push(r.clone());
                }
            }
            Action::SubmitRating => {
                if let Some(level) = session.rating {
                    session.rated = true;
                    data.rated = false;
                    data.rating_failed = None;
                    let reasons = session.rating_reasons.clone();
                    agent.ask(match session.rating_ticket.clone() {
                        Some(ticket) => Request::RateTicket {
                            level,
                            reasons,
                            ticket,
                        },
                        None => Request::Rate {
                            level,
                            reasons,
                            item: session.item.clone(),
                        },
                    });
                }
            }
            _ => {}
        }
    }
}

/// 评价本次服务 on the ticket just taken: the rating screen, naming that ticket.
fn rate_ticket(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        if let Action::RateTicket { day, number } = action {
            session.rating_ticket = Some(RatedTicket {
                day: day.clone(),
                number: number.clone(),
            });
            session.rating = None;
            session.rating_reasons.clear();
            session.rated = false;
            go(Screen::Rating, &screen, &mut session, &mut next);
        }
    }
}

/// Leaving the rating screen: the next rating from home is a general one.
fn forget_ticket(mut session: ResMut<Session>) {
    session.rating_ticket = None;
}
