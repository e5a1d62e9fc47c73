//! Citizens' requests — 帮代办, 上门取件 — and consultations (在线咨询): what the plate, its
//! agent and the phone pages send, the states a request goes through and who wrote each message
//! of its thread (an automatic answer may come first, a person after).

use serde::{Deserialize, Serialize};

/// Longest text of what help is needed, or of a question (characters).
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest staff answer, call-back note or outcome (characters).
pub const MAX_REPLY_CHARS: usize = 1000;
/// Longest name (characters).
pub const MAX_NAME_CHARS: usize = 20;
/// Longest preferred time (characters).
pub const MAX_TIME_CHARS: usize = 20;
/// Longest item id.
pub const MAX_ITEM_CHARS: usize = 64;

/// The preferred times offered (kiosk buttons, phone radios).
pub const TIMES: [&str; 4] = ["今天", "明天上午", "明天下午", "工作日都可以"];

/// One-tap choices of what help is needed.
pub const HELP_CHOICES: [&str; 4] = ["帮我填表", "帮我网上办", "代我去窗口办", "上门收材料"];

/// What kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 帮代办: staff help or act for the citizen.
    #[default]
    Assist,
    /// 上门取件: staff collect materials at home (people in difficulty).
    Pickup,
    /// 在线咨询: a question answered by a person.
    Consult,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Assist,
        RequestKind::Pickup,
        RequestKind::Consult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Assist => "assist",
            RequestKind::Pickup => "pickup",
            RequestKind::Consult => "consult",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Assist => "帮代办",
            RequestKind::Pickup => "上门取件",
            RequestKind::Consult => "在线咨询",
        }
    }
}

/// Where a request stands. 帮代办 / 上门取件: new → taken → called back → closed; 在线咨询:
/// new → answered → closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    New,
    Taken,
    CalledBack,
    Answered,
    Closed,
}

impl RequestState {
    pub const ALL: [RequestState; 5] = [
        RequestState::New,
        RequestState::Taken,
        RequestState::CalledBack,
        RequestState::Answered,
        RequestState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::New => "new",
            RequestState::Taken => "taken",
            RequestState::CalledBack => "called_back",
            RequestState::Answered => "answered",
            RequestState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// For the citizen and for staff.
    pub fn label(self) -> &'static str {
        match self {
            RequestState::New => "已提交，等待受理",
            RequestState::Taken => "工作人员已受理",
            RequestState::CalledBack => "工作人员已回电",
            RequestState::Answered => "已答复",
            RequestState::Closed => "已办结",
        }
    }

    /// The steps a request of `kind` goes through, in order.
    pub fn steps(kind: RequestKind) -> &'static [RequestState] {
        match kind {
            RequestKind::Consult => &[
                RequestState::New,
                RequestState::Answered,
                RequestState::Closed,
            ],
            _ => &[
                RequestState::New,
                RequestState::Taken,
                RequestState::CalledBack,
                RequestState::Closed,
            ],
        }
    }
}

/// Who wrote a message of a request's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The citizen: what help is needed, or the question.
    Citizen,
    /// An automatic answer (the FAQ knowledge base).
    Auto,
    /// A member of staff: an answer, a call-back note, the outcome.
    Staff,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Citizen => "citizen",
            Author::Auto => "auto",
            Author::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Author> {
        [Author::Citizen, Author::Auto, Author::Staff]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A 帮代办 or 上门取件 request as the plate sends it (the hall comes from the terminal's
/// enrollment, never from the body).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssistRequest {
    pub kind: RequestKind,
    /// The item it is about, if any.
    #[serde(default)]
    pub item: Option<String>,
    /// What help is needed.
    pub help: String,
    /// The citizen's name, or a form of address (王先生); may be empty.
    #[serde(default)]
    pub name: String,
    /// 11 digits.
    pub phone: String,
    /// When the citizen would like to be called (one of [`TIMES`]).
    #[serde(default)]
    pub time: String,
}

/// What the citizen gets back: where to follow the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistReceipt {
    pub id: String,
    /// The private link (phone pages), e.g. `https://…/r/<token>`.
    pub link: String,
    /// The phone number, masked (138****5678).
    pub phone: String,
}

/// A mobile number: 11 digits starting with 1.
pub fn valid_phone(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_states_and_authors_round_trip_and_phones_are_checked() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Author::parse("auto"), Some(Author::Auto));
        assert!(valid_phone("13812345678"));
        assert!(!valid_phone("1381234567"));
        assert!(!valid_phone("23812345678"));
        assert!(!valid_phone("1381234567x"));
        assert_eq!(RequestState::steps(RequestKind::Consult).len(), 3);
    }
}
