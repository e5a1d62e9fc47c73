//! Continue on your phone: the hall's plate as a QR code.

use bevy::prelude::*;

use super::frame::{self, Build};
use super::requests;
use crate::agent::Request;
use crate::nav::Screen;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Phone, build);
    requests::asks(app, Screen::Phone, |_, _| vec![Request::Home]);
}

fn build(b: &mut Build) {
    if b.data.home.is_none() {
        b.waiting("二维码");
        return;
    }
    let url = b.phone_url(&format!("/h/{}", b.hall_id()));
    let qr = b.qr(&url, 560.0);
    b.add((
        centred_card(32.0, 48.0),
        children![
            text("用微信扫一扫，在手机上继续办", TITLE, TEXT),
            qr,
            text(
                "查指南、看材料、跟踪排队、预约和评价，都可以在手机上完成。",
                BODY,
                MUTED
            ),
        ],
    ));
}
