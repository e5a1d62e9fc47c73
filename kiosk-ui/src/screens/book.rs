//! Booking at the plate (预约办理): a day, a slot, the phone number on a digit keypad, the code
//! texted to it, then the check-in QR on screen, on a printed slip and in a text message. The
//! regional server holds, checks and books with the phone booking's rules; the number typed is
//! the citizen's own and goes with the session.

use bevy::prelude::*;
use menpai_model::api::{BookingDay, BookingHold};

use super::frame::{self, Build};
use super::read_aloud::Unread;
use super::{PageSystems, requests};
use crate::agent::{AgentLink, AgentStatus, Data, Request, send};
use crate::nav::{Action, Screen};
use crate::session::{Booking, Session};
use crate::theme::palette::*;
use crate::theme::widget::*;

const PHONE_DIGITS: usize = 11;
const CODE_DIGITS: usize = 6;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Book, build);
    requests::asks(app, Screen::Book, |session, _| {
        session
            .item
            .iter()
            .map(|i| Request::BookingDays(i.clone()))
            .collect()
    });
    app.add_systems(OnEnter(Screen::Book), start_over);
    app.add_systems(Update, act.in_set(PageSystems::React));
}

/// Each visit starts a new booking.
fn start_over(mut session: ResMut<Session>, mut data: ResMut<Data>) {
    session.booking = Booking::default();
    data.booking_days = None;
    data.booking_sent = None;
    data.booked = None;
}

fn act(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
) {
    for action in actions.read() {
        let code_step = matches!(data.booking_sent, Some(Ok(_)));
        let item = session.item.clone();
        let bk = &mut session.booking;
        match action {
            Action::BookDay(d) => {
                bk.date = Some(d.clone());
                bk.start = None;
            }
            Action::BookSlot(s) => bk.start = Some(s.clone()),
            Action::Digit(_) | Action::DigitBack if matches!(data.booked, Some(Err(_))) => {
                // Typing again puts the last refusal away.
                data.booked = None;
                if let Action::Digit(c) = action
                    && code_step
                    && bk.code.len() < CODE_DIGITS
                {
                    bk.code.push(*c);
                } else if *action == Action::DigitBack {
                    bk.code.pop();
                }
            }
            Action::Digit(c) if c.is_ascii_digit() => {
                let (field, max) = match code_step {
                    true => (&mut bk.code, CODE_DIGITS),
                    false => (&mut bk.phone, PHONE_DIGITS),
                };
                if field.len() < max {
                    field.push(*c);
                }
            }
            Action::DigitBack => {
                match code_step {
                    true => bk.code.pop(),
                    false => bk.phone.pop(),
                };
            }
            Action::BookSubmit => {
                let Some(link) = link.as_deref() else {
                    continue;
                };
                if bk.sending {
                    continue;
                }
                let request = match (&data.booking_sent, &item, &bk.date, &bk.start) {
                    (Some(Ok(sent)), _, _, _) if bk.code.len() == CODE_DIGITS => {
                        Request::BookConfirm {
                            pending: sent.pending.clone(),
                            code: bk.code.clone(),
                        }
                    }
                    (Some(Ok(_)), ..) => continue,
                    (_, Some(item), Some(date), Some(start)) if bk.phone.len() == PHONE_DIGITS => {
                        Request::BookHold(BookingHold {
                            item: item.clone(),
                            date: date.clone(),
                            start: start.clone(),
                            phone: bk.phone.clone(),
                        })
                    }
                    _ => continue,
                };
                if matches!(request, Request::BookHold(_)) {
                    data.booking_sent = None;
                }
                data.booked = None;
                bk.sending = true;
                send(link, &mut status, request);
            }
            _ => {}
        }
    }
    // An answer came: the next tap may send again.
    if session.booking.sending && (data.is_changed()) && !pending(&data, &session.booking) {
        session.booking.sending = false;
    }
}

/// Still waiting for the answer to what was sent.
fn pending(data: &Data, bk: &Booking) -> bool {
    match &data.booking_sent {
        None => true,
        Some(Ok(_)) => bk.code.len() == CODE_DIGITS && data.booked.is_none(),
        Some(Err(_)) => false,
    }
}

/// 11月24日 周二 (今天 / 明天 when it is).
fn day_label(date: &str, today: Option<&str>) -> String {
    let Ok(d) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return date.to_owned();
    };
    let week = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    use chrono::Datelike;
    let near = today
        .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .map(|t| (d - t).num_days());
    let name = match near {
        Some(0) => "今天 ".to_owned(),
        Some(1) => "明天 ".to_owned(),
        _ => String::new(),
    };
    format!(
        "{name}{}月{}日 {}",
        d.month(),
        d.day(),
        week[d.weekday().num_days_from_monday() as usize]
    )
}

/// A digit keypad: 1–9, 删除, 0.
fn keypad(b: &mut Build, parent: Entity) {
    let pad = b.add_to(
        parent,
        Node {
            width: percent(100),
            max_width: px(720),
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            column_gap: px(16),
            row_gap: px(16),
            align_self: AlignSelf::Center,
            ..default()
        },
    );
    let keys: Vec<(String, Action)> = "123456789"
        .chars()
        .map(|c| (c.to_string(), Action::Digit(c)))
        .chain([
            ("删除".to_owned(), Action::DigitBack),
            ("0".to_owned(), Action::Digit('0')),
        ])
        .collect();
    for (label, action) in keys {
        let key = b.add_to(
            pad,
            Node {
                width: percent(31),
                ..default()
            },
        );
        // Lower than other buttons, so the whole pad fits above the fold.
        b.add_to(
            key,
            compact_button(label, action, (CHIP, PRIMARY_DARK), 84.0),
        );
    }
}

/// 138 1234 5678 as typed so far, with blanks for what is missing.
fn grouped(digits: &str, len: usize) -> String {
    let mut out = String::new();
    for i in 0..len {
        if len == PHONE_DIGITS && (i == 3 || i == 7) {
            out.push(' ');
        }
        out.push(digits.chars().nth(i).unwrap_or('_'));
    }
    out
}

fn build(b: &mut Build) {
    let name = b
        .data
        .guide
        .as_ref()
        .map(|g| g.item.name.clone())
        .unwrap_or_default();
    b.add(text(name, TITLE, TEXT));
    if let Some(Ok(done)) = b.data.booked.clone() {
        booked(b, &done);
        return;
    }
    let days: Vec<BookingDay> = match b.data.booking_days.clone() {
        None => {
            b.waiting("可预约的时段");
            return;
        }
        Some(Err(why)) => {
            b.add(text(why, BODY, WARN));
            return;
        }
        Some(Ok(d)) => d.days,
    };
    if days.is_empty() {
        b.add(text(
            "近几天都约满了，请改天再来预约，或直接取号排队。",
            BODY,
            TEXT,
        ));
        return;
    }
    let bk = b.session.booking.clone();
    let today = b
        .data
        .home
        .as_ref()
        .map(|h| h.now.chars().take(10).collect::<String>());
    let chosen = bk
        .date
        .as_ref()
        .and_then(|d| days.iter().find(|x| &x.date == d));
    if let (Some(day), Some(start)) = (chosen, &bk.start) {
        // Day and slot chosen: one line, and a way to change them.
        let end = day
            .slots
            .iter()
            .find(|s| &s.start == start)
            .map(|s| s.end.clone())
            .unwrap_or_default();
        let line = b.add(row(16.0));
        b.add_to(
            line,
            text(
                format!("{} {start}-{end}", day_label(&day.date, today.as_deref())),
                HEADING,
                PRIMARY_DARK,
            ),
        );
        let change = b.add_to(
            line,
            Node {
                width: px(240),
                ..default()
            },
        );
        b.add_to(
            change,
            plain_button("改时间", Action::BookDay(day.date.clone())),
        );
    } else {
        choose_slot(b, &days, chosen, today.as_deref());
        return;
    }
    // 3 The phone number, then 4 the code texted to it: in landscape the keypad stands beside
    // what it types, so both are above the fold.
    let (info, pad) = step_columns(b);
    let (lines, submit, ready): (Vec<(String, f32, Color)>, &str, bool) =
        match b.data.booking_sent.clone() {
            Some(Ok(sent)) => {
                let mut l = vec![
                    ("4 输入短信验证码".to_owned(), HEADING, PRIMARY_DARK),
                    (
                        format!("验证码已发到 {}，10 分钟内有效", sent.sent_to),
                        BODY,
                        TEXT,
                    ),
                    (grouped(&bk.code, CODE_DIGITS), TITLE, PRIMARY_DARK),
                ];
                if let Some(Err(why)) = &b.data.booked {
                    l.push((why.clone(), BODY, WARN));
                }
                if bk.sending {
                    l.push(("正在预约…".into(), BODY, MUTED));
                }
                (l, "确认预约", bk.code.len() == CODE_DIGITS)
            }
            sent => {
                let mut l = vec![
                    ("3 输入手机号".to_owned(), HEADING, PRIMARY_DARK),
                    ("预约成功后，签到码会发到这个手机上".into(), SMALL, MUTED),
                    (grouped(&bk.phone, PHONE_DIGITS), TITLE, PRIMARY_DARK),
                ];
                if let Some(Err(why)) = sent {
                    l.push((why, BODY, WARN));
                }
                if bk.sending {
                    l.push(("正在发送验证码…".into(), BODY, MUTED));
                }
                (l, "获取验证码", bk.phone.len() == PHONE_DIGITS)
            }
        };
    for (i, (line, size, ink)) in lines.into_iter().enumerate() {
        let shown = b.add_to(info, text(line, size, ink));
        // The number or code typed is never read aloud (third line).
        if i == 2 {
            b.commands.entity(shown).insert(Unread);
        }
    }
    // The send key beside what it sends (a key too small for its words would wrap).
    match ready {
        true => b.add_to(info, primary_button(submit, Action::BookSubmit)),
        false => b.add_to(info, plain_button(submit, Action::BookSubmit)),
    };
    keypad(b, pad);
}

/// Where a step's words and its keypad go: one above the other in portrait, side by side in
/// landscape.
fn step_columns(b: &mut Build) -> (Entity, Entity) {
    let column = |grow: f32| Node {
        width: if b.landscape { auto() } else { percent(100) },
        flex_grow: grow,
        flex_basis: if b.landscape { px(0) } else { auto() },
        flex_direction: FlexDirection::Column,
        row_gap: px(16),
        ..default()
    };
    let (info_node, pad_node) = (column(1.0), column(1.0));
    let both = b.add(Node {
        width: percent(100),
        flex_direction: if b.landscape {
            FlexDirection::Row
        } else {
            FlexDirection::Column
        },
        column_gap: px(32),
        row_gap: px(16),
        ..default()
    });
    let info = b.add_to(both, info_node);
    let pad = b.add_to(both, pad_node);
    (info, pad)
}

/// 1 the day, 2 its slot.
fn choose_slot(
    b: &mut Build,
    days: &[BookingDay],
    chosen: Option<&BookingDay>,
    today: Option<&str>,
) {
    b.add(heading("1 选日期"));
    let row_days = b.add(row(16.0));
    for d in days {
        let label = day_label(&d.date, today);
        let action = Action::BookDay(d.date.clone());
        match chosen.is_some_and(|c| c.date == d.date) {
            true => b.add_to(row_days, primary_button(label, action)),
            false => b.add_to(row_days, plain_button(label, action)),
        };
    }
    let Some(day) = chosen else { return };
    b.add(heading("2 选时段"));
    let slots = b.add(Node {
        width: percent(100),
        flex_direction: FlexDirection::Row,
        flex_wrap: FlexWrap::Wrap,
        column_gap: px(16),
        row_gap: px(16),
        ..default()
    });
    for s in day.slots.iter().filter(|s| s.left > 0) {
        let label = format!("{}-{}（余{}）", s.start, s.end, s.left);
        let cell = b.add_to(
            slots,
            Node {
                width: percent(31),
                ..default()
            },
        );
        b.add_to(cell, plain_button(label, Action::BookSlot(s.start.clone())));
    }
}

/// Booked: the check-in QR on screen, the slip printed (or why not), the text sent.
fn booked(b: &mut Build, done: &menpai_model::api::BookedAtPlate) {
    b.add(text("预约成功", TITLE, OK));
    let printed = match (&done.printed, &done.print_error) {
        (true, _) => "凭条已打印，请取走".to_owned(),
        (false, Some(why)) => format!("凭条没有打印：{why}。请拍下或用短信里的签到码"),
        (false, None) => "凭条没有打印，请拍下或用短信里的签到码".to_owned(),
    };
    // Said sent only when the gateway took it.
    let texted = match done.texted {
        true => format!("签到码已发到 {}", done.phone),
        false => format!("短信没有发到 {}，请取走凭条或拍下二维码", done.phone),
    };
    // The QR beside what it is for, so it is on screen without scrolling in both orientations.
    let qr = b.qr(&done.token, 360.0);
    b.add((
        Node {
            width: percent(100),
            column_gap: px(32),
            align_items: AlignItems::Center,
            ..default()
        },
        children![
            qr,
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    flex_grow: 1.0,
                    flex_shrink: 1.0,
                    row_gap: px(12),
                    ..default()
                },
                children![
                    text(format!("时间：{}", done.slot), BODY, TEXT),
                    text(format!("预约人：{}", done.holder), BODY, TEXT),
                    text(texted, BODY, TEXT),
                    text(printed, BODY, PRIMARY_DARK),
                ]
            ),
        ],
    ));
    b.add(text(
        "到时间来大厅，在门牌终端“预约签到”扫这个码，就能取号。",
        BODY,
        TEXT,
    ));
}
