//! Service rating (好差评): five levels, and reasons when it was not good.

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
    frame::page(app, Screen::Rating, build);
    app.add_systems(Update, rate.in_set(PageSystems::React));
}

pub(super) const LEVELS: [&str; 5] = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];
pub(super) const REASONS: [&str; 6] = [
    "等待时间长",
    "材料要求多",
    "指引不清楚",
    "态度不好",
    "跑了多次",
    "系统故障",
];

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
    let pick = b.add((card(), children![heading("您对今天的服务满意吗？")]));
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
                    agent.ask(Request::Rate {
                        level,
                        reasons: session.rating_reasons.clone(),
                        item: session.item.clone(),
                    });
                }
            }
            _ => {}
        }
    }
}
