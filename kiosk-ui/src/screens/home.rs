//! Home: where you are, when it is open, search, browse for people or companies, the most asked
//! for items, and every other service one tap away.

use bevy::prelude::*;
use menpai_model::{Audience, NoticeKind};

use super::frame::{self, Build};
use super::requests;
use crate::agent::Request;
use crate::nav::{Action, Screen};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Home, build);
    requests::asks(app, Screen::Home, |_, _| vec![Request::Home]);
}

fn build(b: &mut Build) {
    let Some(home) = b.data.home.clone() else {
        b.waiting("首页内容");
        return;
    };
    // Temporary notices (闭厅通知, 系统维护) first, while they last.
    for n in &home.notices {
        let fill = match n.kind {
            NoticeKind::Closure => ACCENT,
            NoticeKind::Maintenance | NoticeKind::General => WARN,
        };
        b.add((
            Node {
                width: percent(100),
                flex_direction: FlexDirection::Column,
                padding: UiRect::axes(px(32), px(20)),
                row_gap: px(8),
                border_radius: BorderRadius::all(px(24)),
                ..default()
            },
            BackgroundColor(fill),
            children![
                text(
                    format!("【{}】{}", n.kind.label(), n.title),
                    BODY,
                    ON_PRIMARY
                ),
                text(n.text.clone(), SMALL, ON_PRIMARY),
            ],
        ));
    }
    // Landscape: search, audiences and the service tiles on the left; the hall and the most
    // asked for items beside them.
    let how_to = || plain_button("第一次用？看使用说明", Action::HowTo(true));
    if b.landscape {
        b.two_columns(1.15, 0.85);
        search_box(b);
        audiences_and_tiles(b);
        b.right_column();
        hall_card(b, &home);
        b.add(how_to());
    } else {
        // Portrait: the hall first, then the way to everything.
        hall_card(b, &home);
        search_box(b);
        b.add(how_to());
        audiences_and_tiles(b);
    }
    featured(b, &home);
    if home.region.demo {
        b.add(text(
            home.region.notice.clone().unwrap_or_default(),
            SMALL,
            MUTED,
        ));
    }
}

fn hall_card(b: &mut Build, home: &menpai_model::api::Home) {
    if let Some(hall) = &home.hall {
        let (open_label, open_fill) = if hall.open_now {
            ("正在办公", OK)
        } else {
            ("休息中", WARN)
        };
        b.add((
            card(),
            children![
                (
                    row(16.0),
                    children![
                        text(hall.name.clone(), HEADING, TEXT),
                        chip(open_label, open_fill, ON_PRIMARY)
                    ],
                ),
                text(format!("今日办公时间  {}", hall.hours_today), BODY, TEXT),
                text(hall.hours_note.clone().unwrap_or_default(), SMALL, MUTED),
                text(
                    format!("{}  ·  咨询电话 {}", hall.address, hall.phone),
                    SMALL,
                    MUTED
                ),
            ],
        ));
    }
}

fn search_box(b: &mut Build) {
    // The search box: a big button that opens the keyboard.
    b.add((
        Button,
        Action::Go(Screen::Search),
        Node {
            width: percent(100),
            min_height: px(120),
            padding: UiRect::axes(px(36), px(24)),
            align_items: AlignItems::Center,
            border: UiRect::all(px(4)),
            border_radius: BorderRadius::all(px(60)),
            ..default()
        },
        BorderColor::all(PRIMARY),
        BackgroundColor(CARD),
        children![text("搜索事项：可输入拼音首字母，如 gjj", BODY, MUTED)],
    ));
}

fn audiences_and_tiles(b: &mut Build) {
    b.add((
        row(24.0),
        children![
            (
                Node {
                    width: percent(48),
                    ..default()
                },
                children![primary_button(
                    "个人办事",
                    Action::BrowseAudience(Audience::Personal)
                )]
            ),
            (
                Node {
                    width: percent(48),
                    ..default()
                },
                children![primary_button(
                    "企业办事",
                    Action::BrowseAudience(Audience::Legal)
                )]
            ),
        ],
    ));
    b.add((
        row(20.0),
        children![
            tile("号", "排队取号", Action::Go(Screen::Queue), ACCENT),
            tile("约", "预约签到", Action::Go(Screen::CheckIn), ACCENT),
            tile("图", "大厅地图", Action::Go(Screen::Map), PRIMARY_DARK),
            tile("网", "附近网点", Action::Go(Screen::Outlets), PRIMARY_DARK),
            tile("问", "有事请教", Action::Go(Screen::Help), PRIMARY_DARK),
            tile("评", "服务评价", Action::Go(Screen::Rating), PRIMARY_DARK),
            tile("码", "手机继续办", Action::Go(Screen::Phone), PRIMARY_DARK),
        ],
    ));
}

fn featured(b: &mut Build, home: &menpai_model::api::Home) {
    let list = b.add((card(), children![heading("高频事项")]));
    let shown = if b.session.elder { 6 } else { 12 };
    for item in home.featured.iter().take(shown) {
        let detail = format!(
            "{} · 承诺时限 {} · {}",
            item.department,
            item.promised,
            if item.visits == 0 {
                "不用跑"
            } else {
                "最多跑一次"
            }
        );
        b.add_to(
            list,
            list_row(item.name.clone(), detail, Action::OpenItem(item.id.clone())),
        );
    }
}
