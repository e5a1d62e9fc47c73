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

/// Longest call id a terminal may choose.
pub const MAX_ID: usize = 64;
/// Longest screen or item name a call carries.
pub const MAX_FIELD: usize = 64;

/// A terminal's help call, as the agent sends it to the regional server (the hall and the
/// position come from the terminal's enrollment, never from here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpCall {
    /// Chosen by the terminal, unique: sending it again changes nothing.
    pub id: String,
    /// The screen in view, e.g. `Guide`.
    #[serde(default)]
    pub screen: String,
    /// The item in view, e.g. `P43`.
    #[serde(default)]
    pub item: String,
}

impl HelpCall {
    /// Why the call cannot be taken, in words for the log and the caller.
    pub fn problem(&self) -> Option<String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= MAX_ID
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Some(format!("呼叫编号应为 1–{MAX_ID} 个字母、数字或 -_."));
        }
        for (name, v) in [("screen", &self.screen), ("item", &self.item)] {
            if v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) {
                return Some(format!("{name} 最多 {MAX_FIELD} 个字，且不能有控制字符"));
            }
        }
        None
    }
}

/// The agent's answer to the plate: whether the hall's staff were reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpAnswer {
    /// The regional server took the call: the hall's staff see it.
    pub reached: bool,
    /// The call's id, when reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its stage, when reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<HelpStage>,
    /// Who is coming, masked, when reached and acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The hall's service phone, when not reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A name as a citizen may see it: the first character, then `*` (王小明 → 王*).
pub fn masked_name(name: &str) -> String {
    match name.trim().chars().next() {
        Some(c) => format!("{c}*"),
        None => "*".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_bounded_and_names_masked() {
        let ok = HelpCall {
            id: "hall-futian-entrance-1a2b-0".into(),
            screen: "Guide".into(),
            item: "P43".into(),
        };
        assert_eq!(ok.problem(), None);
        let long = HelpCall {
            id: "x".repeat(65),
            ..ok.clone()
        };
        assert!(long.problem().is_some());
        let odd = HelpCall {
            id: "a b".into(),
            ..ok.clone()
        };
        assert!(odd.problem().is_some());
        let screen = HelpCall {
            screen: "屏".repeat(65),
            ..ok
        };
        assert!(screen.problem().is_some());
        assert_eq!(masked_name("王小明"), "王*");
        assert_eq!(masked_name(""), "*");
    }
}
