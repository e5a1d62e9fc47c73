//! Nearby outlets by distance: halls, self-service machines, service stations; open now; and a
//! QR that opens navigation in the citizen's map app.

use bevy::prelude::*;
use menpai_model::OutletKind;

use super::Build;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn build(b: &mut Build) {
    let Some(list) = b.data.outlets.clone() else {
        b.waiting("附近网点");
        return;
    };
    b.add(text("离这里最近的办事地点", HEADING, TEXT));
    for o in list.outlets.iter().take(12) {
        let distance = if o.distance_m < 1000 {
            format!("{} 米", o.distance_m)
        } else {
            format!("{:.1} 公里", o.distance_m as f32 / 1000.0)
        };
        let (open, fill) = if o.open_now {
            ("营业中", OK)
        } else {
            ("休息中", WARN)
        };
        let kind = match o.kind {
            OutletKind::Hall => "政务大厅",
            OutletKind::SelfService => "自助终端",
            OutletKind::ServiceStation => "便民服务站",
        };
        // Amap's marker link takes GCJ-02 coordinates.
        let nav = format!(
            "https://uri.amap.com/marker?position={:.6},{:.6}&name={}",
            o.location_gcj02.lon,
            o.location_gcj02.lat,
            crate::agent::encode(&o.name)
        );
        let qr = b.qr(&nav, 200.0);
        b.add((
            card(),
            children![
                (
                    row(16.0),
                    children![
                        text(o.name.clone(), BODY, TEXT),
                        chip(open, fill, ON_PRIMARY),
                        chip(kind, CHIP, PRIMARY_DARK)
                    ],
                ),
                (
                    row(24.0),
                    children![
                        qr,
                        (
                            Node {
                                flex_direction: FlexDirection::Column,
                                row_gap: px(8),
                                width: percent(70),
                                ..default()
                            },
                            children![
                                text(
                                    format!("{distance} · 今日 {}", o.hours_today),
                                    BODY,
                                    PRIMARY_DARK
                                ),
                                text(o.address.clone(), SMALL, MUTED),
                                text(format!("电话 {} · 扫码导航", o.phone), SMALL, MUTED),
                            ],
                        ),
                    ],
                ),
            ],
        ));
    }
}
