//! Reading aloud (听指南, 朗读本页): on a guide the agent reads its who / where / what-to-bring
//! summary; elsewhere the page's own words are read. The bottom bar's button starts and stops
//! it; leaving the screen stops it.

use bevy::prelude::*;
use menpai_model::api::ReadAloud;

use super::PageSystems;
use crate::agent::{AgentLink, AgentStatus, Data, Request, send};
use crate::nav::{Action, PageBody, Screen};
use crate::session::Session;

/// A page's words read at most (the agent takes no more).
const MAX_CHARS: usize = 900;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, act.in_set(PageSystems::React));
    app.add_systems(Update, stop_on_leaving.in_set(PageSystems::Ask));
    app.add_systems(Update, label_the_button.in_set(PageSystems::Draw));
}

/// Words never read aloud (a phone number or a code being typed): the voice may be the hall's
/// speaker.
#[derive(Component)]
pub(crate) struct Unread;

/// Something over the page (a card, an overlay) read instead of the page while it is shown.
#[derive(Component)]
pub(super) struct ReadFirst;

/// The bottom bar's read-aloud button (its label and action follow the reading).
#[derive(Component)]
pub(super) struct ReadButton;

pub(super) const READ: &str = "朗读";
pub(super) const STOP: &str = "停止";

fn act(
    mut actions: MessageReader<Action>,
    screen: Res<State<Screen>>,
    session: Res<Session>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
    bodies: Query<Entity, With<PageBody>>,
    on_top: Query<Entity, With<ReadFirst>>,
    children: Query<&Children>,
    texts: Query<&Text>,
    unread: Query<(), With<Unread>>,
) {
    let Some(link) = link else { return };
    for action in actions.read() {
        let request = match action {
            Action::ReadPage => match (screen.get(), &session.item) {
                (Screen::Guide, Some(item)) if on_top.is_empty() => Request::ReadAloud(ReadAloud {
                    item: Some(item.clone()),
                    text: None,
                }),
                _ => {
                    let words = match on_top.is_empty() {
                        true => page_words(bodies.iter(), &children, &texts, &unread),
                        false => page_words(on_top.iter(), &children, &texts, &unread),
                    };
                    if words.is_empty() {
                        continue;
                    }
                    Request::ReadAloud(ReadAloud {
                        item: None,
                        text: Some(words),
                    })
                }
            },
            Action::StopReading => Request::StopReading,
            _ => continue,
        };
        send(&link, &mut status, request);
    }
}

/// The words under `roots` in reading order, sentence by sentence, cut at [`MAX_CHARS`].
fn page_words(
    roots: impl Iterator<Item = Entity>,
    children: &Query<&Children>,
    texts: &Query<&Text>,
    unread: &Query<(), With<Unread>>,
) -> String {
    let mut words = String::new();
    let mut stack: Vec<Entity> = roots.collect();
    stack.reverse();
    while let Some(e) = stack.pop() {
        if unread.contains(e) {
            continue;
        }
        if let Ok(t) = texts.get(e) {
            let line = t.0.trim().trim_start_matches(['•', '›', '‹']).trim();
            if !line.is_empty() && words.chars().count() + line.chars().count() < MAX_CHARS {
                words.push_str(line);
                if !line.ends_with(['。', '？', '！', '：', '，']) {
                    words.push('。');
                }
            }
        }
        if let Ok(c) = children.get(e) {
            stack.extend(c.iter().rev());
        }
    }
    words
}

/// Leaving the screen (or the session) stops the voice.
fn stop_on_leaving(
    screen: Res<State<Screen>>,
    data: Res<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
) {
    if screen.is_changed()
        && !screen.is_added()
        && data.reading_now()
        && let Some(link) = link
    {
        send(&link, &mut status, Request::StopReading);
    }
}

fn label_the_button(
    data: Res<Data>,
    mut buttons: Query<(&mut Action, &Children), With<ReadButton>>,
    mut texts: Query<&mut Text>,
) {
    let (label, wanted) = match data.reading_now() {
        true => (STOP, Action::StopReading),
        false => (READ, Action::ReadPage),
    };
    for (mut action, children) in &mut buttons {
        if *action != wanted {
            *action = wanted.clone();
        }
        for c in children.iter() {
            if let Ok(mut t) = texts.get_mut(c)
                && t.0 != label
            {
                t.0 = label.into();
            }
        }
    }
}
