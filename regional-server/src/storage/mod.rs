//! The server's storage layer: one trait per concern (operators, devices, content, events,
//! queue, appointments, booking codes, ratings, help calls,
//! citizens' requests and consultations, rating cases, statistics), each implemented once in its
//! own file against `Database`, which runs the statements on SQLite (the embedded default) or on
//! PostgreSQL (a region run on several replicas). Storage imports no feature module: the types it
//! keeps live here.

pub mod appointments;
pub mod booking_codes;
pub mod cases;
pub mod commands;
pub mod content;
mod db;
pub mod devices;
pub mod events;
pub mod help;
pub mod monitor;
pub mod operators;
mod postgres;
pub mod queue;
pub mod rates;
pub mod ratings;
pub mod requests;
pub mod secrets;
mod sqlite;
pub mod statistics;
pub mod studio;
#[cfg(test)]
pub mod testing;
pub mod updates;
pub mod usage;
mod value;

pub use appointments::{Appointment, AppointmentStore, NewAppointment};
pub use booking_codes::{Held, HeldStore};
pub use cases::CaseStore;
pub use commands::{CommandRecord, CommandStore};
pub use content::{ContentStore, Version};
pub use db::{Database, Dialect, Exclusive, Exec, Tx};
pub use devices::{Device, DeviceStore, EnrollmentToken};
pub use events::{EventStore, Ingested};
pub use help::HelpStore;
pub use monitor::MonitorStore;
pub use operators::{AuditEntry, Operator, OperatorStore, Role};
pub use postgres::Heard;
pub use queue::{Act, NewTicket, OfflineTicket, QueueStore, Ticket};
pub use rates::RateStore;
pub use ratings::{Rating, RatingStore, RatingSummary};
pub use requests::RequestStore;
pub use secrets::SecretStore;
pub use statistics::StatisticsStore;
pub use studio::{ChangeSet, ChangeState, ChangedRecord, StudioStore};
pub use updates::{Release, Rollout, RolloutState, RolloutTerminal, UpdateStore};
pub use usage::UsageStore;
pub use value::{FromValue, OptionalExt, Params, Row, ToValue, Value};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", postgres::message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection to the database could be had.
    #[error("{0}")]
    Pool(String),
    /// A single-row read found none.
    #[error("no such row")]
    NoRow,
    /// A column held something other than what was read.
    #[error("database value: {0}")]
    Type(String),
    #[error("{0}")]
    Conflict(String),
}

impl StorageError {
    /// Whether a unique or primary key refused the row.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StorageError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            StorageError::Postgres(e) => postgres::is_unique_violation(e),
            _ => false,
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Everything the server keeps.
pub trait Storage:
    OperatorStore
    + DeviceStore
    + ContentStore
    + EventStore
    + QueueStore
    + AppointmentStore
    + HeldStore
    + RatingStore
    + HelpStore
    + RequestStore
    + CaseStore
    + CommandStore
    + UpdateStore
    + StatisticsStore
    + MonitorStore
    + UsageStore
    + StudioStore
    + SecretStore
    + RateStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Answers when the database does: a trivial query (readiness).
    fn ping(&self) -> Result<()>;
    /// Tells every replica sharing the database (nothing on a single-process backend).
    fn notify(&self, channel: &str, payload: &str) -> Result<()>;
    /// Holds the region-wide lock `key` (every replica) until the guard is dropped.
    fn exclusively(&self, key: i64) -> Result<Exclusive>;
    /// What replicas notify on `channel`; `None` when this process is the only one.
    fn listen(&self, channel: &str) -> Option<tokio::sync::mpsc::Receiver<Heard>>;
}

impl Storage for Database {
    fn ping(&self) -> Result<()> {
        Database::ping(self, std::time::Duration::from_secs(2))
    }

    fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        Database::notify(self, channel, payload)
    }

    fn exclusively(&self, key: i64) -> Result<Exclusive> {
        Database::exclusively(self, key)
    }

    fn listen(&self, channel: &str) -> Option<tokio::sync::mpsc::Receiver<Heard>> {
        Database::listen(self, channel)
    }
}
