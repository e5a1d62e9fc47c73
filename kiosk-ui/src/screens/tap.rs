//! What a tap does first: a press becomes an [`Action`], every action counts as a touch, and the
//! actions that only move between screens (start, go, back, home) or enlarge the text are done
//! here. Each screen's own actions are answered in its file.

use bevy::prelude::*;

use super::PageSystems;
use crate::nav::{Action, KeepAwake, Screen};
use crate::session::{Activity, Session};
use crate::theme::text_size::LargeText;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, press_buttons.in_set(PageSystems::Press));
    app.add_systems(
        Update,
        (count_touches, navigate, toggle_elder).in_set(PageSystems::React),
    );
}

/// Turns presses into actions (a press, not a release, so it feels immediate on glass).
fn press_buttons(
    buttons: Query<(&Interaction, &Action), (Changed<Interaction>, With<Button>)>,
    mut out: MessageWriter<Action>,
) {
    for (interaction, action) in &buttons {
        if *interaction == Interaction::Pressed {
            out.write(action.clone());
        }
    }
}

/// Every action is a touch: the idle clock starts over and the next frames are drawn.
fn count_touches(
    mut actions: MessageReader<Action>,
    screen: Res<State<Screen>>,
    mut activity: MessageWriter<Activity>,
    mut keep: ResMut<KeepAwake>,
) {
    for action in actions.read() {
        debug!(?action, screen = ?screen.get(), "Action.");
        activity.write(Activity);
        keep.ask();
    }
}

/// Moves from `current` to `to`, remembering `current` for back.
pub(super) fn go(
    to: Screen,
    current: &State<Screen>,
    session: &mut Session,
    next: &mut NextState<Screen>,
) {
    let current = *current.get();
    if to != current {
        session.history.push(current);
        next.set(to);
    }
}

/// Start, go, back and home.
fn navigate(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::Start => {
                session.history.clear();
                go(Screen::Home, &screen, &mut session, &mut next);
                session.history.clear();
            }
            Action::Go(to) => go(*to, &screen, &mut session, &mut next),
            Action::Back => {
                let to = session.history.pop().unwrap_or(Screen::Home);
                if to != *screen.get() {
                    next.set(to);
                }
            }
            Action::Home => {
                go(Screen::Home, &screen, &mut session, &mut next);
                session.history.clear();
            }
            _ => {}
        }
    }
}

/// Large text for elders (see `theme::text_size`).
fn toggle_elder(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut large: ResMut<LargeText>,
) {
    for action in actions.read() {
        if *action == Action::ToggleElder {
            session.elder = !session.elder;
            large.0 = session.elder;
        }
    }
}
