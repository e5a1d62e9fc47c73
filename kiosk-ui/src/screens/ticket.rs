//! The ticket just taken: its number big, people ahead, the wait, where it will be called, and a
//! QR code to follow it on a phone.

use bevy::prelude::*;
use menpai_model::queue::IssuedTicket;

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
    frame::page(app, Screen::Ticket, build);
    app.add_systems(Update, take_ticket.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    match b.data.ticket.clone() {
        Some(Ok(t)) => ticket_card(b, &t),
        Some(Err(why)) => {
            b.add((
                card(),
                children![
                    text("没有取到号", HEADING, ACCENT),
                    text(why, BODY, TEXT),
                    plain_button("返回排队信息", Action::Go(Screen::Queue)),
                ],
            ));
        }
        None if b.session.taking_ticket && b.online => {
            b.add(text("正在取号…", BODY, MUTED));
        }
        None => b.waiting("排队号"),
    }
}

/// A taken ticket as the citizen sees it; the check-in screen shows the same.
pub(super) fn ticket_card(b: &mut Build, t: &IssuedTicket) {
    let outer = b.add(centred_card(20.0, 40.0));
    // Landscape: the number on the left, its QR code beside it (above the fold).
    let (card, side) = match b.landscape {
        true => {
            let both = b.add_to(
                outer,
                Node {
                    width: percent(100),
                    column_gap: px(48),
                    align_items: AlignItems::Center,
                    justify_content: JustifyContent::Center,
                    ..default()
                },
            );
            let column = || Node {
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                row_gap: px(20),
                flex_grow: 1.0,
                flex_basis: px(0),
                ..default()
            };
            (b.add_to(both, column()), b.add_to(both, column()))
        }
        false => (outer, outer),
    };
    let mut head = format!("您的排队号 · {}", t.business);
    if let Some(p) = t.priority.label() {
        head.push_str(&format!(" · {p}"));
    }
    b.add_to(card, text(head, BODY, MUTED));
    b.add_to(
        card,
        (
            Text::new(t.number.clone()),
            TextFont::from_font_size(180.0),
            TextColor(PRIMARY_DARK),
        ),
    );
    let ahead = if t.people_ahead == 0 {
        "前面没有人，请留意呼叫".to_owned()
    } else {
        format!(
            "前面还有 {} 人，预计等候约 {} 分钟",
            t.people_ahead, t.estimated_wait_min
        )
    };
    b.add_to(card, text(ahead, HEADING, TEXT));
    if !t.windows.is_empty() {
        let windows: Vec<String> = t.windows.iter().map(u32::to_string).collect();
        b.add_to(
            card,
            text(
                format!("请留意 {} 号窗口的呼叫", windows.join("、")),
                BODY,
                TEXT,
            ),
        );
    }
    match (&t.print_error, t.printed) {
        (_, true) => drop(b.add_to(card, text("已打印，请在下方出纸口取票。", BODY, OK))),
        (Some(why), false) => drop(b.add_to(card, text(why.clone(), BODY, ACCENT))),
        (None, false) => {}
    }
    if t.offline {
        b.add_to(
            card,
            text(
                "网络暂时中断，号码已在本机登记，恢复后自动同步。",
                SMALL,
                MUTED,
            ),
        );
    }
    if t.follow_url.is_empty() {
        // A training ticket: no page to follow.
        b.add_to(card, text("培训票，不是真实排队号。", BODY, ACCENT));
        return;
    }
    let qr = b.qr(&t.follow_url, 300.0);
    b.add_to(
        side,
        (
            row(24.0),
            children![
                qr,
                (
                    Node {
                        width: percent(50),
                        ..default()
                    },
                    children![text(
                        "微信扫码，在手机上看排队进度，叫号前提醒您。",
                        BODY,
                        TEXT
                    )],
                ),
            ],
        ),
    );
    // Rated here or on the phone page: either way it is this ticket's rating.
    if let Some(day) = t.issued_at.get(..10) {
        let rate = Action::RateTicket {
            day: day.to_owned(),
            number: t.number.clone(),
        };
        b.add_to(card, plain_button("办完了？评价本次服务", rate));
    }
}

/// A business's button takes a ticket; the ticket screen waits for it.
fn take_ticket(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        if let Action::TakeTicket(prefix) = action {
            session.taking_ticket = true;
            data.ticket = None;
            agent.ask(Request::TakeTicket {
                prefix: prefix.clone(),
            });
            go(Screen::Ticket, &screen, &mut session, &mut next);
        }
    }
}
