//! Reactive rendering: the kiosk sleeps until a touch, a reply from the agent, or the next thing
//! that must change on its own (a slide, the clock's minute, the idle countdown). Untouched, it
//! draws nothing.

use std::time::Duration;

use bevy::prelude::*;
use bevy::winit::{UpdateMode, WinitSettings};

use crate::screens::Screen;
use crate::session::Idle;

pub(crate) fn plugin(app: &mut App) {
    app.add_systems(Last, plan_next_wake);
}

/// Seconds a slide stays on the attract loop.
pub const SLIDE_SECS: u64 = 8;

fn plan_next_wake(
    settings: Option<ResMut<WinitSettings>>,
    idle: Option<Res<Idle>>,
    screen: Res<State<Screen>>,
    options: Res<crate::Options>,
) {
    let Some(mut settings) = settings else { return };
    if options.shots.is_some() {
        // Scripted screenshots step on every frame.
        let mode = UpdateMode::Continuous;
        if settings.focused_mode != mode {
            settings.focused_mode = mode;
            settings.unfocused_mode = mode;
        }
        return;
    }
    let now = chrono::Utc::now();
    let to_next_minute = Duration::from_secs(60 - u64::from(chrono::Timelike::second(&now)))
        + Duration::from_millis(50);
    let mut wait = to_next_minute;
    if *screen.get() == Screen::Attract {
        wait = wait.min(Duration::from_secs(SLIDE_SECS));
    } else if let Some(idle) = idle {
        wait = wait.min(idle.next_deadline());
    }
    let mode = UpdateMode::reactive(wait.max(Duration::from_millis(50)));
    // Only write when it changes, so change detection stays quiet.
    if settings.focused_mode != mode {
        settings.focused_mode = mode;
        settings.unfocused_mode = mode;
    }
}
