//! An item's guide: who can apply, where (windows, on the map), how (hall, online, machines,
//! steps), what to bring, fees, limits, visits — and the way to a personal checklist.

use bevy::prelude::*;

use super::frame::{self, Build};
use super::tap::go;
use super::{PageSystems, requests};
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::pictures::picture;
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
    app.add_systems(Update, enlarge.in_set(PageSystems::Draw));
}

/// 听指南: read the summary aloud; while it plays, stop or start again. Returns its row (other
/// actions on the guide join it).
fn listen(b: &mut Build) -> Entity {
    let playing = b.data.reading_now();
    let actions = b.add(row(16.0));
    if playing {
        b.add_to(actions, primary_button("停止朗读", Action::StopReading));
        b.add_to(actions, plain_button("从头再听", Action::ReadPage));
    } else {
        b.add_to(
            actions,
            primary_button("听指南：读给我听", Action::ReadPage),
        );
    }
    match &b.data.reading {
        Some(Ok(r)) if r.playing => {
            b.add(text(
                "正在朗读：谁可以办、在哪里办、要带什么",
                BODY,
                PRIMARY_DARK,
            ));
        }
        Some(Err(why)) => {
            b.add(text(why.clone(), BODY, WARN));
        }
        _ => {}
    }
    actions
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
    b.add(text(format!("实施编码 {}", item.code), SMALL, MUTED));
    let actions = listen(b);
    if item.business_type.is_some() && g.halls.iter().any(|h| h.here) {
        b.add_to(
            actions,
            plain_button("预约到本大厅办理", Action::Go(Screen::Book)),
        );
    }
    // Landscape has the width for it beside the others; portrait gives it a row.
    let checklist = primary_button("选择我的情况，生成材料清单", Action::OpenChecklist);
    match b.landscape {
        true => b.add_to(actions, checklist),
        false => b.add((
            Node {
                width: percent(100),
                ..default()
            },
            children![checklist],
        )),
    };

    // Landscape: who, where and how on the left, what to bring and the rest on the right.
    b.two_columns(1.0, 1.0);
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

    b.right_column();
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
        // 审查要点: what the window checks, short; a sample picture to enlarge.
        if let Some(points) = review_points(m) {
            b.add_to(bring, text(points, SMALL, PRIMARY_DARK));
        }
        if let Some(f) = m.sample_image.as_ref().filter(|f| f.is_image()) {
            b.add_to(bring, thumbnail(&f.sha256, "样例"));
        }
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
        if let Some(f) = form.sample_image.as_ref().filter(|f| f.is_image()) {
            b.add_to(bring, thumbnail(&f.sha256, "填写样表"));
        }
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

    if !item.legal_basis.is_empty() {
        let basis = b.add((card(), children![heading("设定依据")]));
        for l in item.legal_basis.iter().take(4) {
            b.add_to(basis, text(format!("• {}", short(l, 60)), SMALL, TEXT));
        }
    }

    if !g.faqs.is_empty() {
        let faqs = b.add((card(), children![heading("常见问题")]));
        for f in g.faqs.iter().take(4) {
            b.add_to(
                faqs,
                text(format!("问：{}", short(&f.question, 40)), BODY, TEXT),
            );
            b.add_to(
                faqs,
                text(format!("答：{}", short(&f.answer, 70)), SMALL, MUTED),
            );
        }
    }

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

/// A sample picture, small; a tap shows it full screen.
fn thumbnail(sha256: &str, label: &str) -> impl Bundle + use<> {
    (
        Button,
        Action::ShowPicture(Some(sha256.to_owned())),
        Node {
            flex_direction: FlexDirection::Row,
            align_items: AlignItems::Center,
            column_gap: px(24),
            padding: UiRect::all(px(12)),
            border: UiRect::all(px(2)),
            border_radius: BorderRadius::all(px(12)),
            ..default()
        },
        BorderColor::all(LINE),
        BackgroundColor(CARD),
        children![
            picture(sha256, THUMB_WIDTH),
            text(format!("{label}（轻触放大）"), SMALL, PRIMARY_DARK)
        ],
    )
}

/// Thumbnails' width, and the enlarged picture's.
const THUMB_WIDTH: u32 = 240;
const LARGE_WIDTH: u32 = 1000;

/// The picture shown full screen over the guide.
#[derive(Component)]
struct Enlarged;

/// Shows the chosen picture over everything, dimmed around; a tap anywhere closes it.
fn enlarge(
    mut commands: Commands,
    session: Res<Session>,
    shown: Query<Entity, With<Enlarged>>,
    options: Res<crate::Options>,
) {
    if !session.is_changed() {
        return;
    }
    for e in &shown {
        commands.entity(e).despawn();
    }
    let Some(sha) = &session.picture else { return };
    // Portrait: as wide as fits; landscape: as tall as fits.
    let mut large = picture(sha, LARGE_WIDTH);
    if options.landscape {
        large.3.width = Val::Auto;
        large.3.height = px(860);
    }
    commands.spawn((
        Enlarged,
        DespawnOnExit(Screen::Guide),
        Button,
        Action::ShowPicture(None),
        GlobalZIndex(50),
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            row_gap: px(32),
            ..default()
        },
        BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.85)),
        children![large, text("轻触任意处关闭", BODY, ON_PRIMARY)],
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
                session.picture = None;
                data.printed = None;
                data.guide = None;
                go(Screen::Guide, &screen, &mut session, &mut next);
            }
            Action::ShowWindowsOnMap => go(Screen::Map, &screen, &mut session, &mut next),
            Action::ShowPicture(p) => session.picture = p.clone(),
            _ => {}
        }
    }
}
