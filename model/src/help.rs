//! Help calls between the plate, its agent and the regional server: what a call carries and
//! how its state comes back (waiting → acknowledged by whom → resolved, or escalated).

use serde::{Deserialize, Serialize};

/// Where a help call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpStage {
    /// The hall's staff were told; nobody answered yet.
    Waiting,
    /// Nobody answered in time: the hall's duty manager was told too.
    Escalated,
    /// A member of staff is coming.
    Acknowledged,
    /// Staff marked it handled.
    Resolved,
}

/// A help call's new state, sent to the terminal that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpUpdate {
    /// The call's id (the terminal chose it).
    pub id: String,
    /// The terminal that made the call.
    pub device: String,
    pub stage: HelpStage,
    /// Who is coming, masked (王*).
    #[serde(default)]
    pub by: Option<String>,
}
