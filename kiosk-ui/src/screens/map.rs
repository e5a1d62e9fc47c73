//! The hall map: zones and numbered windows drawn to scale, you-are-here, and the windows of the
//! chosen item highlighted.

use bevy::prelude::*;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::{self, Agent};
use crate::agent::{Data, Request};
use crate::nav::Screen;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Map, build);
    // Without the hall yet, ask for home first; `ask_for_missing_plan` follows up.
    requests::asks(app, Screen::Map, |_, hall| {
        vec![hall.map(Request::FloorPlan).unwrap_or(Request::Home)]
    });
    app.add_systems(Update, ask_for_missing_plan.in_set(PageSystems::Ask));
}

/// Width of the drawn floor, in pixels.
const MAP_WIDTH: f32 = 1000.0;

fn build(b: &mut Build) {
    let Some(view) = b.data.plan.clone() else {
        b.waiting("大厅地图");
        return;
    };
    // The chosen item's windows in this hall, if an item was chosen.
    let wanted: Vec<u32> = b
        .data
        .guide
        .as_ref()
        .filter(|g| Some(&g.item.id) == b.session.item.as_ref())
        .and_then(|g| g.halls.iter().find(|h| h.here))
        .map(|h| h.windows.iter().map(|w| w.number).collect())
        .unwrap_or_default();
    if let (false, Some(g)) = (wanted.is_empty(), &b.data.guide) {
        let list: Vec<String> = wanted.iter().map(u32::to_string).collect();
        b.add(text(
            format!(
                "办理「{}」请到 {} 号窗口（黄色）",
                g.item.name,
                list.join("、")
            ),
            HEADING,
            TEXT,
        ));
    }
    for floor in &view.plan.floors {
        let scale = MAP_WIDTH / floor.width_m;
        let height = floor.depth_m * scale;
        b.add(text(floor.name.clone(), BODY, MUTED));
        let map = b.add((
            Node {
                width: px(MAP_WIDTH),
                height: px(height),
                flex_shrink: 0.0,
                border: UiRect::all(px(3)),
                border_radius: BorderRadius::all(px(8)),
                ..default()
            },
            BorderColor::all(PRIMARY_DARK),
            BackgroundColor(CARD),
        ));
        for z in &floor.zones {
            b.add_to(
                map,
                (
                    Node {
                        position_type: PositionType::Absolute,
                        left: px(z.rect.x * scale),
                        top: px(z.rect.y * scale),
                        width: px(z.rect.w * scale),
                        height: px(z.rect.h * scale),
                        padding: UiRect::all(px(6)),
                        // Windows line the zones' edges: the name goes in the middle.
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        ..default()
                    },
                    BackgroundColor(CHIP),
                    children![text(z.name.clone(), 20.0, MUTED)],
                ),
            );
        }
        for w in &floor.windows {
            let lit = wanted.contains(&w.number);
            let side = 40.0;
            b.add_to(
                map,
                (
                    Node {
                        position_type: PositionType::Absolute,
                        left: px(w.x * scale - side / 2.0),
                        top: px(w.y * scale - side / 2.0),
                        width: px(side),
                        height: px(side),
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        border_radius: BorderRadius::all(px(6)),
                        ..default()
                    },
                    BackgroundColor(if lit { HIGHLIGHT } else { PRIMARY }),
                    children![text(
                        w.number.to_string(),
                        20.0,
                        if lit { TEXT } else { ON_PRIMARY }
                    )],
                ),
            );
        }
        if let Some(here) = view
            .you_are_here
            .as_ref()
            .filter(|h| h.floor == floor.level)
        {
            let p = &here.position;
            b.add_to(
                map,
                (
                    Node {
                        position_type: PositionType::Absolute,
                        left: px(p.x * scale - 24.0),
                        top: px(p.y * scale - 24.0),
                        width: px(48),
                        height: px(48),
                        border_radius: BorderRadius::all(px(24)),
                        ..default()
                    },
                    BackgroundColor(ACCENT),
                ),
            );
            b.add(text(format!("红点：您在这里（{}）", p.name), BODY, ACCENT));
        }
        let marks: Vec<String> = floor.landmarks.iter().map(|l| l.name.clone()).collect();
        b.add(text(
            format!("大厅设施：{}", marks.join("、")),
            SMALL,
            MUTED,
        ));
    }
}

/// The map needs the hall's id from home; when home arrived late, ask for the plan now.
fn ask_for_missing_plan(screen: Res<State<Screen>>, data: Res<Data>, mut agent: Agent) {
    if *screen.get() != Screen::Map
        || !data.is_changed()
        || data.plan.is_some()
        || agent.status.pending > 0
    {
        return;
    }
    if let Some(hall) = requests::hall_id(&data) {
        agent.ask(Request::FloorPlan(hall));
    }
}
