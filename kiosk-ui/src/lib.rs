//! Menpai's kiosk UI: the citizen-facing plate, Chinese first and touch first, fed entirely by
//! the edge agent's loopback API and event stream. It owns no data: if it restarts, nothing is lost.
//!
//! Modelled on bevy_new_2d: one plugin per concern, a `Screen` state with a file per screen,
//! widgets as plain functions returning bundles.

// Bevy systems take many parameters and nested query types; marker components and system
// parameter bundles have nothing worth printing.
#![allow(
    clippy::too_many_arguments,
    clippy::type_complexity,
    missing_debug_implementations
)]

pub mod agent;
pub mod basemap;
pub mod call_banner;
pub mod nav;
pub mod qr;
mod screens;
pub mod session;
pub mod shots;
pub mod theme;
pub mod wake;

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::window::{WindowMode, WindowResolution};
use bevy::winit::{UpdateMode, WinitSettings};

/// How the kiosk is started.
#[derive(Debug, Clone, Resource)]
pub struct Options {
    /// The agent's base address.
    pub agent: String,
    pub landscape: bool,
    pub windowed: bool,
    /// Scripted screenshots (tests): where to save them, and the steps.
    pub shots: Option<PathBuf>,
    pub script: Vec<String>,
    /// Seconds without a touch before the countdown starts.
    pub idle_secs: f32,
    /// Seconds of countdown before the session is wiped.
    pub countdown_secs: f32,
    /// A CJK font file; found among the system's fonts when not given.
    pub font: Option<PathBuf>,
    /// Writes the screen rectangles of buttons here after each change (tests that click).
    pub layout_file: Option<PathBuf>,
    /// A fixed local time, e.g. `2026-11-23T10:00`, for screenshots that must not change (the
    /// attract loop then holds its first slide).
    pub now: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            agent: "http://127.0.0.1:7700".into(),
            landscape: false,
            windowed: false,
            shots: None,
            script: Vec::new(),
            idle_secs: 90.0,
            countdown_secs: 15.0,
            font: None,
            layout_file: None,
            now: None,
        }
    }
}

impl Options {
    pub const USAGE: &'static str =
        "usage: menpai-kiosk [--agent URL] [--landscape] [--windowed] [--font FILE]
       [--idle SECS] [--countdown SECS] [--layout FILE] [--now 2026-11-23T10:00]
       [--shots DIR --script STEPS]";

    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options::default();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "--agent" => o.agent = value("--agent")?,
                "--landscape" => o.landscape = true,
                "--windowed" => o.windowed = true,
                "--font" => o.font = Some(value("--font")?.into()),
                "--shots" => o.shots = Some(value("--shots")?.into()),
                "--layout" => o.layout_file = Some(value("--layout")?.into()),
                "--now" => {
                    let v = value("--now")?;
                    chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
                        .map_err(|_| format!("--now `{v}` is not like 2026-11-23T10:00"))?;
                    o.now = Some(v);
                }
                "--script" => {
                    o.script = value("--script")?
                        .split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "--idle" => {
                    o.idle_secs = value("--idle")?
                        .parse()
                        .map_err(|_| "--idle needs seconds".to_owned())?
                }
                "--countdown" => {
                    o.countdown_secs = value("--countdown")?
                        .parse()
                        .map_err(|_| "--countdown needs seconds".to_owned())?
                }
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        let sane = |v: f32| v.is_finite() && v > 0.0 && v < 86_400.0;
        if !sane(o.idle_secs) || !sane(o.countdown_secs) {
            return Err("--idle and --countdown need a number of seconds above zero".into());
        }
        if !o.agent.starts_with("http://") {
            return Err(format!(
                "--agent `{}` must be an http:// address on this terminal",
                o.agent
            ));
        }
        Ok(o)
    }
}

/// The kiosk app with its window.
pub fn app(options: Options) -> App {
    let _ = wake::STARTED.set(std::time::Instant::now());
    let (w, h) = if options.landscape {
        (1920, 1080)
    } else {
        (1080, 1920)
    };
    let mode = if options.windowed || options.shots.is_some() {
        WindowMode::Windowed
    } else {
        WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
    };
    let mut app = App::new();
    app.add_plugins(DefaultPlugins.set(WindowPlugin {
        primary_window: Some(Window {
            title: "数字政务门牌".into(),
            resolution: WindowResolution::new(w, h).with_scale_factor_override(1.0),
            mode,
            resizable: false,
            decorations: false,
            ..default()
        }),
        ..default()
    }));
    // Reactive: nothing is drawn while nothing changes; `wake` sets how long to sleep.
    app.insert_resource(WinitSettings {
        focused_mode: UpdateMode::reactive(Duration::from_secs(60)),
        unfocused_mode: UpdateMode::reactive(Duration::from_secs(60)),
    });
    app.add_plugins(KioskPlugin(options));
    app
}

/// Everything but the window: usable headless in tests.
#[derive(Debug)]
pub struct KioskPlugin(pub Options);

impl Plugin for KioskPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.0.clone());
        app.add_plugins((
            theme::plugin,
            agent::plugin,
            session::plugin,
            screens::plugin,
            wake::plugin,
            call_banner::plugin,
        ));
        if self.0.shots.is_some() || self.0.layout_file.is_some() {
            app.add_plugins(shots::plugin);
        }
    }
}
