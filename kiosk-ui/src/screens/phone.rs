//! Continue on your phone: the hall's plate as a QR code.

use bevy::prelude::*;

use super::Build;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn build(b: &mut Build) {
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
