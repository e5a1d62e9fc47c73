//! Asking the agent: what a screen shows when it is entered (each screen registers its requests
//! with [`asks`]), and reloading it when the agent pushes new content or comes back.

use std::collections::HashMap;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use menpai_model::api::AgentEvent;

use super::PageSystems;
use crate::agent::{self, AgentLink, AgentPush, AgentStatus, Data, Request};
use crate::nav::Screen;
use crate::session::Session;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Asks>();
    app.add_message::<Reload>();
    app.add_systems(Update, reload_on_push.in_set(PageSystems::Pushed));
    app.add_systems(Update, reload.in_set(PageSystems::Ask));
}

/// What a screen asks for, given the session and this terminal's hall (once home has come).
type AsksFor = fn(&Session, Option<String>) -> Vec<Request>;

/// Each screen's requests on entry; a screen that registered none asks for nothing.
#[derive(Resource, Default)]
pub(super) struct Asks(HashMap<Screen, AsksFor>);

/// Registers what `screen` asks the agent for when it is entered or reloaded.
pub(super) fn asks(app: &mut App, screen: Screen, asks: AsksFor) {
    app.init_resource::<Asks>();
    app.world_mut()
        .resource_mut::<Asks>()
        .0
        .insert(screen, asks);
}

/// The current screen's data is stale: ask for it again, and for home.
#[derive(Message, Debug, Clone, Copy)]
pub(super) struct Reload;

/// The link to the agent, for systems that ask it something.
#[derive(SystemParam)]
pub(super) struct Agent<'w> {
    link: Option<Res<'w, AgentLink>>,
    pub(super) status: ResMut<'w, AgentStatus>,
}

impl Agent<'_> {
    /// Sends `request`; its answer lands in [`Data`].
    pub(super) fn ask(&mut self, request: Request) {
        if let Some(link) = &self.link {
            agent::send(link, &mut self.status, request);
        }
    }
}

/// This terminal's hall id, once home has come.
pub(super) fn hall_id(data: &Data) -> Option<String> {
    data.home
        .as_ref()
        .and_then(|h| h.hall.as_ref())
        .map(|h| h.id.clone())
}

fn requests_for(asks: &Asks, screen: Screen, session: &Session, data: &Data) -> Vec<Request> {
    asks.0
        .get(&screen)
        .map(|f| f(session, hall_id(data)))
        .unwrap_or_default()
}

/// Asks for what a screen shows when it is entered.
pub(super) fn ask_on_enter(
    screen: Res<State<Screen>>,
    session: Res<Session>,
    asks: Res<Asks>,
    mut data: ResMut<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
) {
    // A refusal belongs to the screen that caused it.
    data.error = None;
    let Some(link) = link else { return };
    for r in requests_for(&asks, *screen.get(), &session, &data) {
        agent::send(&link, &mut status, r);
    }
}

/// New content, training mode or the maintenance notice changed, and the stream returning
/// after an outage reload the screen.
fn reload_on_push(mut pushes: MessageReader<AgentPush>, mut reloads: MessageWriter<Reload>) {
    for push in pushes.read() {
        if matches!(
            push,
            AgentPush::Connected
                | AgentPush::Event(
                    AgentEvent::ContentChanged { .. }
                        | AgentEvent::TrainingChanged { .. }
                        | AgentEvent::MaintenanceChanged { .. }
                )
        ) {
            reloads.write(Reload);
        }
    }
}

fn reload(
    mut reloads: MessageReader<Reload>,
    screen: Res<State<Screen>>,
    session: Res<Session>,
    asks: Res<Asks>,
    data: Res<Data>,
    mut agent: Agent,
) {
    for _ in reloads.read() {
        if agent.link.is_none() {
            continue;
        }
        for r in requests_for(&asks, *screen.get(), &session, &data)
            .into_iter()
            .chain([Request::Home])
        {
            agent.ask(r);
        }
    }
}
