//! A window's call, on every screen: a band across the bottom of the screen with the number and
//! the window, for some seconds. A recall says so.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use menpai_model::api::AgentEvent;
use menpai_model::queue::WindowCall;

use crate::agent::AgentPush;
use crate::nav::KeepAwake;
use crate::theme::palette::*;
use crate::theme::widget::{BODY, text};

/// How long a call stays on screen.
pub const SHOWN_FOR: Duration = Duration::from_secs(15);

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<CallBanner>();
    app.add_systems(Update, (show_calls, hide_when_due).chain());
}

/// The call on screen, and until when.
#[derive(Resource, Default, Debug)]
pub struct CallBanner {
    pub call: Option<WindowCall>,
    pub until: Option<Instant>,
}

impl CallBanner {
    /// Time until the banner goes, for the reactive wake-up.
    pub fn remaining(&self) -> Option<Duration> {
        self.until
            .map(|u| u.saturating_duration_since(Instant::now()))
    }
}

#[derive(Component)]
struct BannerRoot;

fn show_calls(
    mut commands: Commands,
    mut pushes: MessageReader<AgentPush>,
    mut banner: ResMut<CallBanner>,
    shown: Query<Entity, With<BannerRoot>>,
    mut keep: ResMut<KeepAwake>,
) {
    for push in pushes.read() {
        let AgentPush::Event(AgentEvent::QueueCalled { call }) = push else {
            continue;
        };
        for e in &shown {
            commands.entity(e).despawn();
        }
        let title = format!("请 {} 号到 {} 号窗口", call.number, call.window);
        let note = if call.recall {
            format!("重呼 · {}", call.business)
        } else {
            call.business.clone()
        };
        commands.spawn((
            BannerRoot,
            GlobalZIndex(20),
            Node {
                position_type: PositionType::Absolute,
                left: px(0),
                right: px(0),
                bottom: px(0),
                padding: UiRect::axes(px(48), px(28)),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::Center,
                row_gap: px(8),
                ..default()
            },
            BackgroundColor(HIGHLIGHT),
            children![
                (
                    Text::new(title),
                    TextFont::from_font_size(72.0),
                    TextColor(TEXT),
                ),
                text(note, BODY, TEXT),
            ],
        ));
        info!(number = %call.number, window = call.window, "Call shown.");
        println!(
            "menpai-kiosk: call shown {} window {} at {}",
            call.number,
            call.window,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default()
        );
        banner.call = Some(call.clone());
        banner.until = Some(Instant::now() + SHOWN_FOR);
        keep.ask();
    }
}

fn hide_when_due(
    mut commands: Commands,
    mut banner: ResMut<CallBanner>,
    shown: Query<Entity, With<BannerRoot>>,
    mut keep: ResMut<KeepAwake>,
) {
    if banner.until.is_some_and(|u| Instant::now() >= u) {
        for e in &shown {
            commands.entity(e).despawn();
        }
        banner.until = None;
        banner.call = None;
        keep.ask();
    }
}
