//! The appointments, ratings and help calls behind a count of the report
//! (`/statistics/records?…filters…&key=<row key>&figure=<record>`), read with the report's own
//! filters, keys and figures so the list always holds what the count counted.
//!
//! The figures: `appointments_booked`, `appointments_checked_in`, `appointments_missed`,
//! `appointments_upcoming`; `ratings_all` and `ratings_1` … `ratings_5` (stars, 5 = 非常满意);
//! `help_calls`, `help_acknowledged`, `help_escalated`.

use super::query::{self, Filters, MAX_LISTED, Params, row_key};
use super::report::{self, AppointmentState, Record};
use crate::Server;
use crate::error::AppError;
use crate::operators::Session;
use crate::storage::statistics::{AppointmentRecord, HelpRecord, RatingRecord};

/// The records behind a count, oldest first.
#[derive(Debug)]
pub enum Rows {
    /// Each with where it stands now.
    Appointments(Vec<(AppointmentRecord, AppointmentState)>),
    Ratings(Vec<RatingRecord>),
    Help(Vec<HelpRecord>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Appointments(v) => v.len(),
            Rows::Ratings(v) => v.len(),
            Rows::Help(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Rows::Appointments(v) => v.truncate(n),
            Rows::Ratings(v) => v.truncate(n),
            Rows::Help(v) => v.truncate(n),
        }
    }
}

/// What a count holds: every record, the first [`MAX_LISTED`] of them kept.
#[derive(Debug)]
pub struct Records {
    pub filters: Filters,
    pub key: Option<String>,
    pub record: Record,
    /// How many in all.
    pub all: usize,
    pub shown: Rows,
}

/// The records behind the count of `p` for `s`: the report's filters and scope (403 audited for
/// another hall's), its row keys and figures.
pub fn behind(server: &Server, s: &Session, p: &Params) -> Result<Records, AppError> {
    let f = Filters::parse(server, s, p)?;
    let record = p
        .figure
        .as_deref()
        .filter(|x| !x.is_empty())
        .and_then(Record::parse)
        .ok_or_else(|| {
            AppError::bad_request(
                "figure 只能是 appointments_booked、appointments_checked_in、appointments_missed、\
                 appointments_upcoming、ratings_all、ratings_1…ratings_5、help_calls、\
                 help_acknowledged 或 help_escalated",
            )
        })?;
    let key = row_key(p)?;
    let in_row = |k: Option<String>| key.as_ref().is_none_or(|key| k.as_ref() == Some(key));
    let (from, to) = (f.from_day(), f.to_day());
    let store = &server.storage;
    let mut shown = match record {
        Record::AppointmentsBooked
        | Record::AppointmentsCheckedIn
        | Record::AppointmentsMissed
        | Record::AppointmentsUpcoming => {
            let now = server.clock.local_now();
            let wanted = match record {
                Record::AppointmentsCheckedIn => Some(AppointmentState::CheckedIn),
                Record::AppointmentsMissed => Some(AppointmentState::Missed),
                Record::AppointmentsUpcoming => Some(AppointmentState::Upcoming),
                _ => None,
            };
            let rows = store
                .appointment_records(f.halls.as_deref(), &from, &to)
                .map_err(AppError::internal)?
                .into_iter()
                .filter(|a| query::keeps_appointment(server, &f, &a.fact))
                .filter(|a| in_row(query::appointment_key(server, f.by, &a.fact)))
                .map(|a| {
                    let state = report::appointment_state(&a.fact, now);
                    (a, state)
                })
                .filter(|(_, state)| wanted.is_none_or(|w| w == *state))
                .collect();
            Rows::Appointments(rows)
        }
        Record::Ratings(stars) => Rows::Ratings(
            store
                .rating_records(f.halls.as_deref(), &from, &to)
                .map_err(AppError::internal)?
                .into_iter()
                .filter(|r| query::keeps_rating(&f, &r.fact))
                .filter(|r| in_row(query::rating_key(f.by, &r.fact)))
                .filter(|r| stars.is_none_or(|s| r.fact.stars.clamp(1, 5) == s))
                .collect(),
        ),
        Record::HelpCalls | Record::HelpAcknowledged | Record::HelpEscalated => {
            let (since, until) = query::help_bounds(&f);
            Rows::Help(
                store
                    .help_records(f.halls.as_deref(), &since, &until)
                    .map_err(AppError::internal)?
                    .into_iter()
                    .filter(|c| in_row(query::help_key(f.by, &c.fact)))
                    .filter(|c| match record {
                        Record::HelpAcknowledged => report::ack_s(&c.fact).is_some(),
                        Record::HelpEscalated => c.fact.escalated_at.is_some(),
                        _ => true,
                    })
                    .collect(),
            )
        }
    };
    let all = shown.len();
    shown.truncate(MAX_LISTED);
    Ok(Records {
        filters: f,
        key,
        record,
        all,
        shown,
    })
}
