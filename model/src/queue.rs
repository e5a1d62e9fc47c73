//! The queue as terminals show it: tickets, calls, waiting per business type.

use serde::{Deserialize, Serialize};

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
    Transferred,
    Cancelled,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Serving => "serving",
            TicketState::Done => "done",
            TicketState::NoShow => "no_show",
            TicketState::Transferred => "transferred",
            TicketState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TicketState> {
        [
            TicketState::Waiting,
            TicketState::Called,
            TicketState::Serving,
            TicketState::Done,
            TicketState::NoShow,
            TicketState::Transferred,
            TicketState::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Words for a citizen.
    pub fn label(self) -> &'static str {
        match self {
            TicketState::Waiting => "等候中",
            TicketState::Called => "请到窗口",
            TicketState::Serving => "办理中",
            TicketState::Done => "已办结",
            TicketState::NoShow => "已过号",
            TicketState::Transferred => "已转窗口",
            TicketState::Cancelled => "已取消",
        }
    }
}

/// Who is called first: appointments, then elders and 绿色通道, then everyone in order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Appointment,
    Elder,
    Green,
    #[default]
    Normal,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Appointment => "appointment",
            Priority::Elder => "elder",
            Priority::Green => "green",
            Priority::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        [
            Priority::Appointment,
            Priority::Elder,
            Priority::Green,
            Priority::Normal,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// What the ticket says, if anything.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Priority::Appointment => Some("预约优先"),
            Priority::Elder => Some("老年人优先"),
            Priority::Green => Some("绿色通道"),
            Priority::Normal => None,
        }
    }
}

/// A ticket as issued to the citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedTicket {
    /// e.g. `E012`.
    pub number: String,
    pub prefix: String,
    /// Business type name, e.g. 公积金.
    pub business: String,
    pub priority: Priority,
    pub people_ahead: u32,
    pub estimated_wait_min: u32,
    /// Short link to follow the ticket on a phone.
    pub follow_url: String,
    /// Local time, e.g. `2026-11-23 10:05`.
    pub issued_at: String,
    /// Issued from this terminal's leased block while the regional server was away.
    pub offline: bool,
    /// The windows that call it.
    pub windows: Vec<u32>,
    pub printed: bool,
    /// Why it was not printed, in plain words.
    pub print_error: Option<String>,
}

/// What a window is calling now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowCall {
    pub window: u32,
    pub number: String,
    pub business: String,
    /// Local time of the call, `HH:MM`.
    pub at: String,
    /// Called again (the citizen did not come yet).
    #[serde(default)]
    pub recall: bool,
}

/// How many wait for one business type, and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessQueue {
    pub prefix: String,
    pub name: String,
    pub waiting: u32,
    pub estimated_wait_min: u32,
    /// Windows that serve it.
    pub windows: Vec<u32>,
}

/// The queue panel of a hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub hall: String,
    /// Latest call first.
    pub calls: Vec<WindowCall>,
    pub businesses: Vec<BusinessQueue>,
    /// Tickets can be taken now (the hall is open and numbers are at hand).
    pub taking: bool,
    /// Why tickets cannot be taken now, in plain words.
    pub closed_reason: Option<String>,
}

/// Take a ticket for a business type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeTicket {
    pub prefix: String,
    #[serde(default)]
    pub priority: Priority,
}

/// Check in an appointment with the token its QR code carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    pub token: String,
}

/// A checked-in appointment and its priority ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedIn {
    pub item_name: String,
    /// Masked, e.g. 张*明.
    pub holder: String,
    /// e.g. `11月23日 10:00-10:30`.
    pub slot: String,
    pub ticket: IssuedTicket,
}

/// A terminal asks the regional server for a ticket (online).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceTicketRequest {
    /// The terminal's key for this request: a retry gets the same ticket, and an offline
    /// ticket issued after a lost answer cancels it.
    pub request_id: String,
    pub prefix: String,
    #[serde(default)]
    pub priority: Priority,
    /// A checked-in appointment (its token was checked by the terminal).
    #[serde(default)]
    pub appointment_id: Option<String>,
}

/// A block of numbers a terminal may issue from while the regional server is away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberLease {
    pub day: String,
    pub prefix: String,
    pub first: u32,
    pub last: u32,
}

/// A terminal asks for blocks: one per (day, prefix) it runs low on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    pub wants: Vec<LeaseWant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseWant {
    pub day: String,
    pub prefix: String,
}

/// What a window does to its tickets (the staff page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StaffAction {
    /// Finishes the ticket at the window (if any) and calls the next.
    CallNext,
    Recall,
    /// The citizen arrived: service starts.
    Serve,
    Finish,
    NoShow,
    /// Sends the ticket at the window to another business type (and optionally one window).
    Transfer {
        prefix: String,
        #[serde(default)]
        window: Option<u32>,
    },
}

impl StaffAction {
    pub fn label(&self) -> &'static str {
        match self {
            StaffAction::CallNext => "叫号",
            StaffAction::Recall => "重呼",
            StaffAction::Serve => "开始办理",
            StaffAction::Finish => "办结",
            StaffAction::NoShow => "过号",
            StaffAction::Transfer { .. } => "转移",
        }
    }
}

/// A ticket as the staff page and a phone following it see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketStatus {
    pub number: String,
    pub business: String,
    pub prefix: String,
    pub priority: Priority,
    pub state: TicketState,
    pub issued_at: String,
    pub window: Option<u32>,
    pub offline: bool,
    /// Waiting tickets called before it.
    pub people_ahead: u32,
    pub estimated_wait_min: u32,
    /// What staff should know about it, e.g. an appointment checked in at two terminals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
}

/// China Standard Time now (UTC+8, no daylight saving): the halls' clock, whatever the
/// machine's time zone. Queue days and times are in it everywhere.
pub fn china_now() -> chrono::NaiveDateTime {
    china_time(chrono::Utc::now())
}

/// A moment as China Standard Time reads it.
pub fn china_time(utc: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    (utc + chrono::Duration::hours(8)).naive_utc()
}

/// Masks a name for screens and tickets: the first and (for 3+ characters) the last stay.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Masks a phone number: 138****5678.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 7 {
        return "*".repeat(digits.len());
    }
    let n = digits.len();
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[n - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_phones_are_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn states_and_priorities_round_trip() {
        for s in ["waiting", "called", "no_show", "transferred"] {
            assert_eq!(TicketState::parse(s).unwrap().as_str(), s);
        }
        assert!(Priority::Appointment < Priority::Normal);
        assert_eq!(Priority::parse("elder"), Some(Priority::Elder));
    }
}
