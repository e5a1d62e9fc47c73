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
mod layout_table;
pub mod nav;
pub mod pictures;
pub mod qr;
mod remote_shot;
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

/// How the kiosk is started: `menpai-kiosk --help` lists the flags.
#[derive(Debug, Clone, Resource, clap::Parser)]
#[command(name = "menpai-kiosk", version, about = "The plate's fullscreen UI.")]
// A flag given twice takes its last value, as scripts that add to a base command line expect.
#[command(args_override_self = true)]
pub struct Options {
    /// The agent's base address (http:// on this terminal).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:7700", value_parser = agent_url)]
    pub agent: String,
    /// A 1920×1080 screen instead of 1080×1920.
    #[arg(long)]
    pub landscape: bool,
    /// A window instead of the whole screen.
    #[arg(long)]
    pub windowed: bool,
    /// Scripted screenshots (tests): where to save them.
    #[arg(long, value_name = "DIR")]
    pub shots: Option<PathBuf>,
    /// The script's steps, separated by `;` (e.g. `start;go:search;key:gjj;shot:search;quit`).
    // A full path keeps clap from taking one value per flag: the steps come in one string.
    #[arg(long, value_name = "STEPS", default_value = "", value_parser = script_steps)]
    pub script: std::vec::Vec<String>,
    /// Seconds without a touch before the countdown starts.
    #[arg(long = "idle", value_name = "SECS", default_value_t = 90.0, value_parser = seconds)]
    pub idle_secs: f32,
    /// Seconds of countdown before the session is wiped.
    #[arg(long = "countdown", value_name = "SECS", default_value_t = 15.0, value_parser = seconds)]
    pub countdown_secs: f32,
    /// A CJK font file; found among the system's fonts when not given.
    #[arg(long, value_name = "FILE")]
    pub font: Option<PathBuf>,
    /// Writes the screen rectangles of buttons here after each change (tests that click).
    #[arg(long = "layout", value_name = "FILE")]
    pub layout_file: Option<PathBuf>,
    /// A fixed local time, e.g. `2026-11-23T10:00`, for screenshots that must not change (the
    /// attract loop then holds its first slide).
    #[arg(long, value_name = "2026-11-23T10:00", value_parser = fixed_time)]
    pub now: Option<String>,
}

impl Default for Options {
    /// The options of a kiosk started without flags.
    fn default() -> Self {
        <Options as clap::Parser>::parse_from(["menpai-kiosk"])
    }
}

fn agent_url(v: &str) -> Result<String, String> {
    if v.starts_with("http://") {
        Ok(v.to_owned())
    } else {
        Err("must be an http:// address on this terminal".into())
    }
}

fn script_steps(v: &str) -> Result<Vec<String>, String> {
    Ok(v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

fn seconds(v: &str) -> Result<f32, String> {
    match v.parse::<f32>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 86_400.0 => Ok(s),
        _ => Err("needs a number of seconds above zero".into()),
    }
}

fn fixed_time(v: &str) -> Result<String, String> {
    chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .map(|_| v.to_owned())
        .map_err(|_| "is not like 2026-11-23T10:00".into())
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
            pictures::plugin,
            remote_shot::plugin,
        ));
        if self.0.shots.is_some() || self.0.layout_file.is_some() {
            app.add_plugins(shots::plugin);
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Options;

    #[test]
    fn the_flags_parse_as_before() {
        let o = Options::try_parse_from([
            "menpai-kiosk",
            "--agent",
            "http://127.0.0.1:1234",
            "--windowed",
            "--windowed",
            "--idle",
            "3",
            "--countdown",
            "2.5",
            "--now",
            "2026-11-23T10:00",
            "--script",
            "start; shot:home ;;quit",
            "--shots",
            "shots",
            "--layout",
            "layout.tsv",
        ])
        .unwrap();
        assert_eq!(o.agent, "http://127.0.0.1:1234");
        assert!(o.windowed && !o.landscape);
        assert_eq!((o.idle_secs, o.countdown_secs), (3.0, 2.5));
        assert_eq!(o.script, ["start", "shot:home", "quit"]);
        assert_eq!(o.layout_file, Some("layout.tsv".into()));
        let d = Options::default();
        assert_eq!(d.agent, "http://127.0.0.1:7700");
        assert_eq!((d.idle_secs, d.countdown_secs), (90.0, 15.0));
        assert!(d.script.is_empty() && d.now.is_none() && d.shots.is_none());
    }

    #[test]
    fn errors_name_the_bad_flag() {
        for (args, flag) in [
            (&["--idle", "0"][..], "--idle"),
            (&["--countdown", "soon"], "--countdown"),
            (&["--agent", "https://example.cn"], "--agent"),
            (&["--now", "tomorrow"], "--now"),
            (&["--fullscreen"], "--fullscreen"),
            (&["--font"], "--font"),
        ] {
            let e = Options::try_parse_from(["menpai-kiosk"].iter().chain(args))
                .unwrap_err()
                .to_string();
            assert!(e.contains(flag), "{args:?}: {e}");
        }
    }
}
