//! Help calls through the regional server: sent at once, their state back over the stream.

use menpai_model::api::AgentEvent;
use menpai_model::help::HelpUpdate;

use crate::Agent;

/// A help call this terminal made changed state: the plate shows it.
pub(crate) fn on_update(agent: &Agent, update: HelpUpdate) {
    agent.notify(AgentEvent::HelpChanged { update });
}
