//! Appointment check-in: hold the appointment's QR code to the scanner; a good one prints a
//! priority ticket, a bad one says plainly why not.

use bevy::prelude::*;

use super::{Action, Build, Screen};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn build(b: &mut Build) {
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
