//! The screens, one file each: every file is a plugin that registers how its page is built, what
//! it asks the agent for, and what its taps do. Beside them: the page frame every screen shares
//! (`frame`), the taps that only move between screens (`tap`), and the agent's requests and
//! pushes (`requests`).

mod ask;
mod assist;
mod attract;
mod book;
mod browse;
mod checkin;
mod checklist;
mod frame;
mod guide;
mod help;
mod home;
mod how_to;
mod items;
mod keyboard;
mod map;
mod outlets;
mod phone;
mod queue;
mod rating;
mod read_aloud;
mod requests;
mod search;
mod tap;
mod ticket;

use bevy::prelude::*;

use crate::nav::{Action, Screen};

pub(crate) fn plugin(app: &mut App) {
    app.init_state::<Screen>();
    app.add_message::<Action>();
    app.configure_sets(
        Update,
        (
            PageSystems::Press,
            PageSystems::React,
            PageSystems::Pushed,
            PageSystems::Ask,
            PageSystems::Draw,
        )
            .chain(),
    );
    app.add_plugins((frame::plugin, tap::plugin, requests::plugin));
    for screen in Screen::ALL {
        app.add_systems(
            OnEnter(screen),
            (frame::enter, requests::ask_on_enter).chain(),
        );
    }
    app.add_plugins((
        attract::plugin,
        home::plugin,
        browse::plugin,
        items::plugin,
        guide::plugin,
        checklist::plugin,
        search::plugin,
        map::plugin,
    ));
    app.add_plugins((
        outlets::plugin,
        help::plugin,
        rating::plugin,
        phone::plugin,
        queue::plugin,
        ticket::plugin,
        checkin::plugin,
        assist::plugin,
        ask::plugin,
        keyboard::plugin,
        read_aloud::plugin,
        how_to::plugin,
        book::plugin,
    ));
}

/// The order of a frame's page work in `Update`.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PageSystems {
    /// Presses become actions.
    Press,
    /// Actions change the session and the screen, and ask the agent.
    React,
    /// What the agent pushed is taken in.
    Pushed,
    /// Requests that follow from pushes and late data.
    Ask,
    /// The page is drawn: body, clock, notices, scrolling.
    Draw,
}
