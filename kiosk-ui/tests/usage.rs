//! The kiosk tells the agent how long each session lasted (an anonymous usage count), once,
//! when the session is wiped and the attract loop returns.

use std::sync::mpsc::Receiver;
use std::time::Duration;

use bevy::input::InputPlugin;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use menpai_kiosk::agent::{AgentLink, Request};
use menpai_kiosk::nav::{Action, Screen};
use menpai_kiosk::{KioskPlugin, Options};

/// A headless kiosk whose frames are 250 ms apart, and what it asks the agent for.
fn app(options: Options) -> (App, Receiver<Request>) {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    app.init_resource::<UiScale>();
    let (link, requests) = AgentLink::detached();
    app.insert_resource(link);
    app.add_plugins(KioskPlugin(options));
    app.insert_resource(menpai_kiosk::session::Clock {
        manual_step: Some(Duration::from_millis(250)),
        ..Default::default()
    });
    app.update();
    (app, requests)
}

fn sessions(requests: &Receiver<Request>) -> Vec<u64> {
    requests
        .try_iter()
        .filter_map(|r| match r {
            Request::SessionEnded { seconds } => Some(seconds),
            _ => None,
        })
        .collect()
}

#[test]
fn a_wiped_session_reports_its_length_once() {
    let options = Options {
        idle_secs: 2.0,
        countdown_secs: 2.0,
        ..Options::default()
    };
    let (mut app, requests) = app(options);
    for _ in 0..8 {
        app.update();
    }
    assert!(
        sessions(&requests).is_empty(),
        "the attract loop is no session"
    );
    app.world_mut().write_message(Action::Start);
    app.update();
    app.update();
    // Untouched from now: 2 s until the countdown, 2 s of countdown, then the wipe.
    for _ in 0..30 {
        app.update();
    }
    assert_eq!(
        *app.world().resource::<State<Screen>>().get(),
        Screen::Attract
    );
    let ended = sessions(&requests);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(
        (4..=6).contains(&ended[0]),
        "about 4 s at 250 ms a frame: {ended:?}"
    );
    for _ in 0..8 {
        app.update();
    }
    assert!(sessions(&requests).is_empty(), "reported once");
}
