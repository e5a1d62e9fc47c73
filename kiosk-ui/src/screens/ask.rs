//! 智能问答: a question typed in pinyin or written by hand, answered from the hall's FAQs: the
//! best answer with the way to its guide, up to two more; when nothing answers well enough the
//! plate says so and offers a person.

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
    frame::page(app, Screen::Ask, build);
    app.add_systems(Update, ask_question.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    let question = b.session.question.clone();
    let asked = b.add(card());
    b.add_to(asked, heading("您想问什么？"));
    b.add_to(
        asked,
        input_box(&question, "直接问，如：身份证丢了怎么补办"),
    );
    let answers = b
        .data
        .answers
        .as_ref()
        .filter(|(q, _)| *q == question)
        .map(|(_, a)| a.clone());
    let Some(answers) = answers else {
        if !question.is_empty() {
            b.add_to(asked, primary_button("提问", Action::AskQuestion));
        }
        super::keyboard::keyboard(b);
        return;
    };
    b.add_to(asked, plain_button("换个问题", Action::ClearQuery));
    match answers {
        Err(why) => {
            b.add(text(why, BODY, ACCENT));
        }
        Ok(r) if r.answers.is_empty() => {
            b.add((
                card(),
                children![
                    text("暂时没有找到合适的答案", HEADING, TEXT),
                    text("可以换个说法再问，或请工作人员来帮您。", BODY, MUTED),
                    primary_button("请工作人员帮忙", Action::CallStaff),
                ],
            ));
        }
        Ok(r) => {
            for (i, a) in r.answers.iter().enumerate() {
                let c = b.add(card());
                if i == 0 {
                    b.add_to(c, heading("最可能的答案"));
                } else if i == 1 {
                    b.add_to(c, text("其他相关问题", BODY, MUTED));
                }
                b.add_to(c, text(format!("问：{}", a.question), BODY, TEXT));
                let answer = if i == 0 {
                    a.answer.clone()
                } else {
                    short(&a.answer, 60)
                };
                b.add_to(c, text(format!("答：{answer}"), BODY, MUTED));
                for item in &a.items {
                    b.add_to(
                        c,
                        plain_button(
                            format!("查看办事指南：{}", item.name),
                            Action::OpenItem(item.id.clone()),
                        ),
                    );
                }
            }
            b.add((
                card(),
                children![
                    text("没有解决？", BODY, TEXT),
                    plain_button("请工作人员帮忙", Action::CallStaff),
                ],
            ));
        }
    }
}

/// 提问 sends the question; a changed question forgets the old answers; asking for a person
/// goes to 有事请教, where the call is made and followed.
fn ask_question(
    mut actions: MessageReader<Action>,
    mut typed: MessageReader<Typed>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    if *screen.get() != Screen::Ask {
        return;
    }
    if typed.read().count() > 0 && data.answers.is_some() {
        data.answers = None;
    }
    for action in actions.read() {
        match action {
            Action::AskQuestion if !session.question.trim().is_empty() => {
                agent.status.ask_seq += 1;
                let seq = agent.status.ask_seq;
                data.answers = None;
                agent.ask(Request::Ask {
                    q: session.question.clone(),
                    seq,
                });
            }
            Action::CallStaff => super::tap::go(Screen::Help, &screen, &mut session, &mut next),
            _ => {}
        }
    }
}
