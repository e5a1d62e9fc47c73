//! 使用说明: a card over any screen for first-time users — how to find a service, type or
//! write, listen, enlarge the text and get a person — closed with 知道了, read aloud on asking.

use bevy::prelude::*;

use super::PageSystems;
use super::read_aloud::ReadFirst;
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

/// The steps, short enough to be read at a glance and heard in half a minute.
const STEPS: [&str; 5] = [
    "点大按钮找事项：个人办事、企业办事，或点“搜索”。",
    "搜索可以打拼音首字母，也可以点“手写输入”用手指写字。",
    "每页底部：“返回”上一页，“首页”回到开头。",
    "看不清点“大字”，不想看点“朗读”，会读给您听。",
    "不会用或有问题，点“有事请教”，工作人员会过来帮您。",
];

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, open_and_close.in_set(PageSystems::React));
    app.add_systems(Update, show.in_set(PageSystems::Draw));
}

#[derive(Component)]
struct HowToCard;

fn open_and_close(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
) {
    for action in actions.read() {
        if let Action::HowTo(open) = action {
            session.how_to = *open;
        }
    }
    // Another screen (or the attract loop after a wipe) closes it.
    if screen.is_changed() && !screen.is_added() && session.how_to {
        session.how_to = false;
    }
}

fn show(mut commands: Commands, session: Res<Session>, shown: Query<Entity, With<HowToCard>>) {
    let open_now = !shown.is_empty();
    if !session.is_changed() || session.how_to == open_now {
        return;
    }
    for e in &shown {
        commands.entity(e).despawn();
    }
    if !session.how_to {
        return;
    }
    let overlay = commands
        .spawn((
            HowToCard,
            GlobalZIndex(40),
            Node {
                position_type: PositionType::Absolute,
                width: percent(100),
                height: percent(100),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                padding: UiRect::all(px(48)),
                ..default()
            },
            BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.7)),
            // Swallows taps, so nothing under the card is pressed by mistake.
            Button,
            Action::Continue,
        ))
        .id();
    let card_id = commands
        .spawn((
            ReadFirst,
            Node {
                width: percent(100),
                max_width: px(1000),
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(40)),
                row_gap: px(16),
                border_radius: BorderRadius::all(px(24)),
                ..default()
            },
            BackgroundColor(CARD),
            ChildOf(overlay),
        ))
        .id();
    commands.spawn((text("使用说明", TITLE, TEXT), ChildOf(card_id)));
    for (i, step) in STEPS.iter().enumerate() {
        commands.spawn((
            Node {
                width: percent(100),
                column_gap: px(20),
                align_items: AlignItems::Center,
                ..default()
            },
            ChildOf(card_id),
            children![
                text(format!("{}", i + 1), TITLE, PRIMARY),
                (
                    Node {
                        flex_shrink: 1.0,
                        flex_grow: 1.0,
                        ..default()
                    },
                    children![text(*step, BODY, TEXT)]
                ),
            ],
        ));
    }
    commands.spawn((
        row(16.0),
        ChildOf(card_id),
        children![
            plain_button("读给我听", Action::ReadPage),
            primary_button("知道了", Action::HowTo(false)),
        ],
    ));
}
