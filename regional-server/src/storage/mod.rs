//! The server's storage layer: one trait per concern (operators, devices, content, events,
//! queue, appointments, booking codes, ratings, help calls,
//! citizens' requests and consultations, rating cases, statistics), each implemented by the embedded SQLite
//! backend in its own file. A PostgreSQL backend implements the same traits for a region run on
//! several replicas. Storage imports no feature module: the types it keeps live here.

pub mod appointments;
pub mod booking_codes;
pub mod cases;
pub mod content;
pub mod devices;
pub mod events;
pub mod help;
pub mod monitor;
pub mod operators;
pub mod queue;
pub mod ratings;
pub mod requests;
mod sqlite;
pub mod statistics;
pub mod studio;
pub mod usage;

pub use appointments::{Appointment, AppointmentStore, NewAppointment};
pub use booking_codes::{Held, HeldStore};
pub use cases::CaseStore;
pub use content::{ContentStore, Version};
pub use devices::{Device, DeviceStore, EnrollmentToken};
pub use events::{EventStore, Ingested};
pub use help::HelpStore;
pub use monitor::MonitorStore;
pub use operators::{AuditEntry, Operator, OperatorStore, Role};
pub use queue::{Act, NewTicket, OfflineTicket, QueueStore, Ticket};
pub use ratings::{Rating, RatingStore, RatingSummary};
pub use requests::RequestStore;
pub use sqlite::Sqlite;
pub use statistics::StatisticsStore;
pub use studio::{ChangeSet, ChangeState, ChangedRecord, StudioStore};
pub use usage::UsageStore;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Conflict(String),
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
    + StatisticsStore
    + MonitorStore
    + UsageStore
    + StudioStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Answers when the database does: a trivial query (readiness).
    fn ping(&self) -> Result<()>;
}

impl Storage for Sqlite {
    fn ping(&self) -> Result<()> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
