//! Calls for staff from the plates (有事请教 → 呼叫工作人员): waiting, acknowledged, resolved.

use super::Sqlite;

/// Help calls and their state.
pub trait HelpStore {}

impl HelpStore for Sqlite {}
