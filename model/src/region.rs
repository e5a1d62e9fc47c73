//! The region a content pack describes: categories, departments and its calendar.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::hours::DayKind;
use crate::item::Audience;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Stable id, e.g. `demo-futian`.
    pub id: String,
    pub name: String,
    /// Demo data is marked so no one mistakes it for a real guide.
    #[serde(default)]
    pub demo: bool,
    /// Shown wherever demo data is shown.
    #[serde(default)]
    pub notice: Option<String>,
    /// Content version, e.g. `2026.11.21-1`.
    pub version: String,
    /// Centre of the region, for maps.
    pub center: GeoPoint,
    pub topics: Vec<Topic>,
    pub life_events: Vec<LifeEvent>,
    pub target_groups: Vec<String>,
    pub departments: Vec<Department>,
    /// Public holidays (法定节假日) in the content's period.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Weekend days worked in exchange for holidays (调休上班).
    #[serde(default)]
    pub makeup_workdays: Vec<NaiveDate>,
    /// The 12345 hotline or equivalent.
    pub hotline: String,
}

impl Region {
    /// How the calendar treats a date.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        if self.holidays.iter().any(|h| h.date == date) {
            DayKind::Holiday
        } else if self.makeup_workdays.contains(&date) {
            DayKind::MakeupWorkday
        } else {
            DayKind::Normal
        }
    }
}

/// A topic category (主题), per audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub audience: Audience,
}

/// A life event (人生事件 for citizens, 企业生命周期 for companies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifeEvent {
    pub name: String,
    pub audience: Audience,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}
