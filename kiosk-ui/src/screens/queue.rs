//! The queue panel: what each window calls now, how many wait for each business, and a button
//! to take a ticket.

use bevy::prelude::*;

use menpai_model::api::AgentEvent;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::{self, Reload};
use crate::agent::{AgentPush, Data, Request};
use crate::nav::{Action, Screen};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Queue, build);
    requests::asks(app, Screen::Queue, |_, _| vec![Request::Queue]);
    app.add_systems(Update, follow_calls.in_set(PageSystems::Pushed));
}

fn build(b: &mut Build) {
    let Some(queue) = b.data.queue.clone() else {
        b.waiting("排队信息");
        return;
    };
    let calls = b.add((card(), children![heading("正在呼叫")]));
    if queue.calls.is_empty() {
        b.add_to(calls, text("暂时没有呼叫。", BODY, MUTED));
    }
    let grid = b.add_to(calls, row(16.0));
    for call in queue.calls.iter().take(6) {
        b.add_to(
            grid,
            (
                Node {
                    width: percent(31),
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    padding: UiRect::all(px(16)),
                    border_radius: BorderRadius::all(px(16)),
                    ..default()
                },
                BackgroundColor(PRIMARY_DARK),
                children![
                    text(call.number.clone(), TITLE, HIGHLIGHT),
                    text(format!("请到 {} 号窗口", call.window), SMALL, ON_PRIMARY),
                ],
            ),
        );
    }

    let take = b.add((card(), children![heading("选择业务，领取排队号")]));
    if let Some(reason) = &queue.closed_reason {
        b.add_to(take, text(reason.clone(), BODY, WARN));
    }
    for q in &queue.businesses {
        let wait = if q.waiting == 0 {
            "无人等候，取号后请留意呼叫".to_owned()
        } else {
            format!("等候 {} 人，约 {} 分钟", q.waiting, q.estimated_wait_min)
        };
        let line = b.add_to(
            take,
            (
                Node {
                    width: percent(100),
                    align_items: AlignItems::Center,
                    justify_content: JustifyContent::SpaceBetween,
                    column_gap: px(24),
                    padding: UiRect::vertical(px(12)),
                    border: UiRect::bottom(px(2)),
                    ..default()
                },
                BorderColor::all(LINE),
            ),
        );
        b.add_to(
            line,
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    flex_grow: 1.0,
                    row_gap: px(6),
                    ..default()
                },
                children![
                    text(format!("{}  {}", q.prefix, q.name), BODY, TEXT),
                    text(wait, SMALL, MUTED),
                ],
            ),
        );
        if queue.taking {
            b.add_to(
                line,
                (
                    Node {
                        width: px(220),
                        flex_shrink: 0.0,
                        ..default()
                    },
                    children![primary_button("取号", Action::TakeTicket(q.prefix.clone()))],
                ),
            );
        }
    }
    b.add((
        card(),
        children![
            text("已在网上或手机上预约？扫预约码签到，优先办理。", BODY, TEXT),
            plain_button("预约签到", Action::Go(Screen::CheckIn)),
        ],
    ));
}

/// Remembers the newest call; calls and queue changes refresh the panel while it is shown.
fn follow_calls(
    mut pushes: MessageReader<AgentPush>,
    screen: Res<State<Screen>>,
    mut data: ResMut<Data>,
    mut reloads: MessageWriter<Reload>,
) {
    for push in pushes.read() {
        let changed = match push {
            AgentPush::Event(AgentEvent::QueueCalled { call }) => {
                data.last_call = Some(call.clone());
                true
            }
            AgentPush::Event(AgentEvent::QueueChanged) => true,
            _ => false,
        };
        if changed && *screen.get() == Screen::Queue {
            reloads.write(Reload);
        }
    }
}
