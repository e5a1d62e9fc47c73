//! Citizens' requests (帮代办, 上门取件) and consultations (在线咨询), with sealed personal data.

use super::Sqlite;

/// Requests, consultations and their threads.
pub trait RequestStore {}

impl RequestStore for Sqlite {}
