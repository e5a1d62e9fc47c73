//! An item's guide: who can apply, where (windows, on the map), how (hall, online, machines,
//! steps), what to bring, fees, limits, visits — and the way to a personal checklist.

use bevy::prelude::*;

use super::frame::{self, Build};
use super::tap::go;
use super::{PageSystems, requests};
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Guide, build);
    requests::asks(app, Screen::Guide, |session, _| {
        session
            .item
            .iter()
            .map(|i| Request::Guide(i.clone()))
            .collect()
    });
    app.add_systems(Update, open.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    let Some(g) = b.data.guide.clone() else {
        b.waiting("办事指南");
        return;
    };
    let item = &g.item;
    b.add(text(item.name.clone(), TITLE, TEXT));
    let fee = if item.fees.charged {
        "收费"
    } else {
        "不收费"
    };
    b.add((
        row(12.0),
        children![
            chip(format!("承诺 {}", g.promised), CHIP, PRIMARY_DARK),
            chip(g.visits_label.clone(), CHIP, PRIMARY_DARK),
            chip(fee, CHIP, PRIMARY_DARK),
            chip(g.online_depth_label.clone(), CHIP, PRIMARY_DARK),
        ],
    ));
    b.add((
        Node {
            width: percent(100),
            ..default()
        },
        children![primary_button(
            "选择我的情况，生成材料清单",
            Action::OpenChecklist
        )],
    ));

    let who = b.add((card(), children![heading("谁可以办")]));
    for c in &item.conditions {
        b.add_to(who, text(format!("• {c}"), BODY, TEXT));
    }

    let place = b.add((card(), children![heading("在哪里办")]));
    for h in &g.halls {
        let windows: Vec<String> = h.windows.iter().map(|w| w.number.to_string()).collect();
        let zone = h
            .windows
            .first()
            .and_then(|w| w.zone.clone())
            .unwrap_or_default();
        let here = if h.here { "（本大厅）" } else { "" };
        b.add_to(place, text(format!("{}{here}", h.name), BODY, TEXT));
        b.add_to(
            place,
            text(
                format!("{} 号窗口  {zone}", windows.join("、")),
                BODY,
                PRIMARY_DARK,
            ),
        );
        b.add_to(
            place,
            text(
                format!("今日 {} · {}", h.hours_today, h.address),
                SMALL,
                MUTED,
            ),
        );
    }
    if g.halls.iter().any(|h| h.here) {
        b.add_to(
            place,
            plain_button("在大厅地图上看窗口", Action::ShowWindowsOnMap),
        );
    }
    for s in &g.self_service {
        b.add_to(
            place,
            text(
                format!("自助办理：{}（{}）", s.name, s.address),
                SMALL,
                MUTED,
            ),
        );
    }

    let how = b.add((card(), children![heading("怎么办")]));
    for (i, s) in item.steps.iter().enumerate() {
        b.add_to(
            how,
            text(format!("{}. {}：{}", i + 1, s.title, s.detail), BODY, TEXT),
        );
    }
    if let Some(online) = &item.channels.online {
        let qr = b.qr(&online.url, 280.0);
        let app = online
            .mobile_app
            .clone()
            .map(|a| format!("，或在「{a}」里办"))
            .unwrap_or_default();
        b.add_to(
            how,
            (
                row(24.0),
                children![
                    qr,
                    text(
                        format!("网上办：扫码打开{}{app}", online.platform),
                        BODY,
                        TEXT
                    )
                ],
            ),
        );
    }

    let bring = b.add((card(), children![heading("要带的材料")]));
    for m in &item.materials {
        b.add_to(
            bring,
            text(
                format!("• {}（{} {}份）", m.name, m.form.label(), m.copies),
                BODY,
                TEXT,
            ),
        );
    }
    if !item.situations.is_empty() {
        b.add_to(
            bring,
            text(
                "不同情况还要带其他材料，点上方按钮选择您的情况。",
                SMALL,
                MUTED,
            ),
        );
    }
    // Blank forms: scan to download and fill in at home.
    for form in &g.forms {
        let url = if form.url.starts_with("https://") {
            form.url.clone()
        } else {
            b.phone_url(&form.url)
        };
        let qr = b.qr(&url, 200.0);
        b.add_to(
            bring,
            (
                row(24.0),
                children![
                    qr,
                    text(format!("空白表格：{}（扫码下载）", form.name), BODY, TEXT)
                ],
            ),
        );
    }

    let more = b.add((card(), children![heading("费用和时限")]));
    let fees = if item.fees.charged {
        item.fees
            .items
            .iter()
            .map(|f| format!("{} {}", f.name, f.amount))
            .collect::<Vec<_>>()
            .join("；")
    } else {
        "不收费".into()
    };
    b.add_to(more, text(format!("费用：{fees}"), BODY, TEXT));
    b.add_to(
        more,
        text(
            format!("法定时限 {} · 承诺时限 {}", g.legal, g.promised),
            BODY,
            TEXT,
        ),
    );
    b.add_to(more, text(format!("办理结果：{}", item.result), BODY, TEXT));
    b.add_to(
        more,
        text(
            format!(
                "咨询电话 {} · 投诉电话 {}",
                item.consult_phone, item.complaint_phone
            ),
            SMALL,
            MUTED,
        ),
    );

    // The same guide on the phone, from this hall.
    let url = b.phone_url(&format!("/i/{}?h={}", item.id, b.hall_id()));
    let qr = b.qr(&url, 220.0);
    b.add((
        card(),
        children![(
            row(24.0),
            children![
                qr,
                text("扫码在手机上看这份指南，随时查阅、转发给家人", BODY, TEXT)
            ],
        )],
    ));
}

/// An item opens its guide, forgetting the last item's situations and print; the guide's
/// windows open the map.
fn open(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::OpenItem(id) => {
                session.item = Some(id.clone());
                session.situations.clear();
                session.printing = false;
                data.printed = None;
                data.guide = None;
                go(Screen::Guide, &screen, &mut session, &mut next);
            }
            Action::ShowWindowsOnMap => go(Screen::Map, &screen, &mut session, &mut next),
            _ => {}
        }
    }
}
