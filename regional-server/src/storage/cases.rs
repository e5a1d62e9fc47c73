//! Cases a poor rating opens (差评 → 整改 → 核查 → 回访).

use super::Sqlite;

/// Rating cases and their steps.
pub trait CaseStore {}

impl CaseStore for Sqlite {}
