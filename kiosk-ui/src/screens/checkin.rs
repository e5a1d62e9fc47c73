//! Appointment check-in: hold the appointment's QR code to the scanner; a good one prints a
//! priority ticket, a bad one says plainly why not.

use bevy::prelude::*;

use menpai_model::api::AgentEvent;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::Agent;
use super::tap::go;
use crate::agent::{AgentPush, Data, Request};
use crate::nav::{Action, KeepAwake, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::CheckIn, build);
    app.add_systems(Update, check_in.in_set(PageSystems::React));
    app.add_systems(Update, scanned.in_set(PageSystems::Pushed));
}

fn build(b: &mut Build) {
    match b.data.checkin.clone() {
        Some(Ok(c)) => {
            b.add((
                card(),
                children![
                    text("签到成功", TITLE, OK),
                    text(format!("{} · {}", c.item_name, c.holder), BODY, TEXT),
                    text(format!("预约时间 {}", c.slot), BODY, TEXT),
                ],
            ));
            super::ticket::ticket_card(b, &c.ticket);
        }
        Some(Err(why)) => {
            b.add((
                card(),
                children![
                    text("签到没有成功", HEADING, ACCENT),
                    text(why, BODY, TEXT),
                    text("可以重新扫码，或到咨询台请工作人员帮忙。", BODY, MUTED),
                    plain_button("取普通号", Action::Go(Screen::Queue)),
                ],
            ));
            scan_prompt(b);
        }
        None if b.session.checking_in && b.online => {
            b.add(text("正在核验预约…", BODY, MUTED));
        }
        None => scan_prompt(b),
    }
}

fn scan_prompt(b: &mut Build) {
    b.add((
        centred_card(24.0, 48.0),
        children![
            (
                Text::new("码"),
                TextFont::from_font_size(160.0),
                TextColor(PRIMARY)
            ),
            text("请把手机上的预约二维码对准下方扫码口", HEADING, TEXT),
            text(
                "预约码在预约成功的短信或“我的预约”里。签到后打印优先号，请按号到窗口办理。",
                BODY,
                MUTED
            ),
        ],
    ));
    b.add((
        card(),
        children![
            text("没有预约？", BODY, TEXT),
            plain_button("排队取号", Action::Go(Screen::Queue)),
        ],
    ));
}

/// A fresh visit asks for a scan; a scanned code is checked in and its answer awaited.
fn check_in(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::Go(Screen::CheckIn) => {
                session.checking_in = false;
                data.checkin = None;
            }
            Action::CheckIn(token) => {
                session.checking_in = true;
                data.checkin = None;
                agent.ask(Request::CheckIn {
                    token: token.clone(),
                });
                go(Screen::CheckIn, &screen, &mut session, &mut next);
            }
            _ => {}
        }
    }
}

/// An appointment code scanned on any screen checks it in; other codes do nothing here.
fn scanned(
    mut pushes: MessageReader<AgentPush>,
    mut actions: MessageWriter<Action>,
    mut keep: ResMut<KeepAwake>,
) {
    for push in pushes.read() {
        if let AgentPush::Event(AgentEvent::Scan { payload, .. }) = push
            && let Some(token) = menpai_model::appointment::token_in_scan(payload)
        {
            actions.write(Action::CheckIn(token.to_owned()));
            keep.ask();
        }
    }
}
