//! Reactive rendering: the kiosk sleeps until a touch, a reply from the agent, or the next thing
//! that must change on its own (a slide, the clock's minute, the idle countdown). Untouched, it
//! draws nothing.

use std::time::Duration;

use bevy::prelude::*;
use bevy::winit::{UpdateMode, WinitSettings};

use crate::nav::{KeepAwake, PageRoot, Screen};
use crate::session::Idle;

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<KeepAwake>();
    // Present with a window; added here so the plugin also runs headless.
    app.add_message::<bevy::window::RequestRedraw>();
    app.add_systems(Last, (plan_next_wake, keep_awake, report_first_frame));
}

/// When the process started, for the time-to-first-frame figure.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Logs, once, how long it took from start to a laid-out first page.
fn report_first_frame(mut done: Local<bool>, pages: Query<&ComputedNode, With<PageRoot>>) {
    if *done {
        return;
    }
    if pages.iter().any(|n| n.size().x > 0.0) {
        *done = true;
        let ms = STARTED
            .get()
            .map(|t| t.elapsed().as_secs_f64() * 1e3)
            .unwrap_or_default();
        info!(ms = format!("{ms:.0}"), "First frame laid out.");
        println!("menpai-kiosk: first frame after {ms:.0} ms");
    }
}

fn keep_awake(mut keep: ResMut<KeepAwake>, mut redraw: MessageWriter<bevy::window::RequestRedraw>) {
    if keep.0 > 0 {
        keep.0 -= 1;
        redraw.write(bevy::window::RequestRedraw);
    }
}

/// Seconds a slide stays on the attract loop.
pub const SLIDE_SECS: u64 = 8;

fn plan_next_wake(
    settings: Option<ResMut<WinitSettings>>,
    idle: Option<Res<Idle>>,
    screen: Res<State<Screen>>,
    options: Res<crate::Options>,
    banner: Option<Res<crate::call_banner::CallBanner>>,
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
    if let Some(left) = banner.and_then(|b| b.remaining()) {
        wait = wait.min(left + Duration::from_millis(20));
    }
    let mode = UpdateMode::reactive(wait.max(Duration::from_millis(50)));
    // Only write when it changes, so change detection stays quiet.
    if settings.focused_mode != mode {
        settings.focused_mode = mode;
        settings.unfocused_mode = mode;
    }
}
