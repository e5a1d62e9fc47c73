//! Nearby outlets by distance: halls, self-service machines, service stations; open now; and a
//! QR that opens navigation in the citizen's map app.

use bevy::prelude::*;
use menpai_model::OutletKind;

use super::frame::{self, Build};
use super::requests;
use crate::agent::Request;
use crate::nav::Screen;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Outlets, build);
    requests::asks(app, Screen::Outlets, |_, _| vec![Request::Outlets]);
}

fn build(b: &mut Build) {
    let Some(list) = b.data.outlets.clone() else {
        b.waiting("附近网点");
        return;
    };
    b.add(text("离这里最近的办事地点", HEADING, TEXT));
    let per_page = if b.session.elder { 6 } else { 12 };
    let shown: Vec<_> = list.outlets.iter().take(per_page).cloned().collect();
    // Landscape: the map on the left, the outlets (each with its QR code) beside it.
    b.two_columns(1.0, 1.0);
    if let Some(map) = &list.base_map {
        draw_map(b, map, list.from, &shown);
    }
    b.right_column();
    for (n, o) in shown.iter().enumerate() {
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
        // The outlet's phone page: hours, and navigation in Amap, Baidu or Tencent maps.
        let url = b.phone_url(&format!("/o/{}", o.id));
        let qr = b.qr(&url, 200.0);
        let card_id = b.add((
            card(),
            children![
                (
                    row(16.0),
                    children![
                        text(format!("{}. {}", n + 1, o.name), BODY, TEXT),
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
        // What it handles and how to get there, as on the outlet's phone page.
        if o.item_count > 0 {
            b.add_to(
                card_id,
                text(
                    format!("可办 {} 项：{}", o.item_count, o.top_items.join("、")),
                    SMALL,
                    TEXT,
                ),
            );
        }
        for line in o.transit.iter().take(2) {
            b.add_to(card_id, text(format!("乘车：{line}"), SMALL, MUTED));
        }
    }
}

/// The district with its main roads, numbered pins for the outlets, and a red dot for here.
fn draw_map(
    b: &mut Build,
    map: &menpai_model::BaseMap,
    here: menpai_model::geo::GeoPoint,
    outlets: &[menpai_model::api::OutletSummary],
) {
    use crate::basemap::{Projection, image};
    let points = map
        .outline
        .iter()
        .copied()
        .chain(outlets.iter().map(|o| o.location))
        .chain([here]);
    let (width, height) = match b.landscape {
        true => (860.0, 560.0),
        false => (1000.0, 700.0),
    };
    let projection = Projection::fit(points, width, height);
    let handle = b
        .images
        .as_mut()
        .map(|images| images.add(image(map, &projection)))
        .unwrap_or_default();
    let size = projection.size();
    let frame = b.add((
        ImageNode::new(handle),
        Node {
            width: px(size.x),
            height: px(size.y),
            // Its pins are absolute: without this the scrolling column would squash it to nothing.
            flex_shrink: 0.0,
            border_radius: BorderRadius::all(px(16)),
            ..default()
        },
    ));
    for road in &map.roads {
        let mid = projection.pixel(road.points[road.points.len() / 2]);
        b.add_to(
            frame,
            (
                Node {
                    position_type: PositionType::Absolute,
                    left: px(mid.x + 6.0),
                    top: px(mid.y - 30.0),
                    ..default()
                },
                children![text(road.name.clone(), 20.0, MUTED)],
            ),
        );
    }
    for (n, o) in outlets.iter().enumerate() {
        let p = projection.pixel(o.location);
        let fill = if o.open_now { OK } else { WARN };
        b.add_to(
            frame,
            (
                Node {
                    position_type: PositionType::Absolute,
                    left: px(p.x - 20.0),
                    top: px(p.y - 20.0),
                    width: px(40),
                    height: px(40),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    border_radius: BorderRadius::all(px(20)),
                    ..default()
                },
                BackgroundColor(fill),
                children![text((n + 1).to_string(), 22.0, ON_PRIMARY)],
            ),
        );
    }
    let p = projection.pixel(here);
    b.add_to(
        frame,
        (
            Node {
                position_type: PositionType::Absolute,
                left: px(p.x - 14.0),
                top: px(p.y - 14.0),
                width: px(28),
                height: px(28),
                border_radius: BorderRadius::all(px(14)),
                ..default()
            },
            BackgroundColor(ACCENT),
        ),
    );
    b.add(text(
        "红点是您所在的位置；绿色正在营业，橙色休息中。",
        SMALL,
        MUTED,
    ));
}
