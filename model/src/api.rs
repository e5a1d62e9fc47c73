//! DTOs of the edge-agent's local API, shared by the agent and the kiosk UI.

use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::item::{Audience, Material};
use crate::outlet::OutletKind;

/// An item as listed in browse and search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemSummary {
    pub id: String,
    pub name: String,
    pub audience: Audience,
    pub topic: String,
    pub department: String,
    /// 0: can be done entirely online; 1: one visit.
    pub visits: u8,
    /// 即办 or e.g. 5个工作日.
    pub promised: String,
    pub online: bool,
}

/// A search result with why it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub item: ItemSummary,
    pub score: f32,
    /// The text that matched, e.g. an alias.
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub query: String,
    pub hits: Vec<SearchHit>,
}

/// One line of a personal checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistLine {
    #[serde(flatten)]
    pub material: Material,
    /// Names of the chosen situations that need it (empty: everyone needs it).
    pub for_situations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checklist {
    pub item_id: String,
    pub item_name: String,
    pub situations: Vec<String>,
    pub materials: Vec<ChecklistLine>,
}

/// An outlet as listed by distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutletSummary {
    pub id: String,
    pub kind: OutletKind,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub location: GeoPoint,
    /// GCJ-02 position for Amap / Tencent / Baidu links.
    pub location_gcj02: GeoPoint,
    pub distance_m: u32,
    pub open_now: bool,
    /// Today's hours in plain words.
    pub hours_today: String,
}

/// A message on the agent's event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// Sent first on every connection, so the UI knows what it is looking at.
    Hello { content_version: Option<String> },
    /// A new content version is active: the UI reloads what it shows.
    ContentChanged { version: String },
    /// A code was scanned (appointment QR, ticket, ID barcode) by `scanner` or `camera`.
    Scan { payload: String, source: String },
    /// A device changed state: the UI offers an alternative when one is down
    /// (a QR code on screen when the printer is out of paper).
    DeviceChanged {
        device: String,
        health: DeviceHealth,
    },
    /// Someone stepped in front of the plate (or left): wake the screen.
    Presence { present: bool },
    /// The help button was pressed.
    HelpRequested,
}

/// How a peripheral is doing, as the API and the heartbeat report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// `serial`, `usb_lp`, `rpi`, `simulated` or `none`.
    pub backend: String,
    pub state: DeviceState,
    /// Plain words for technicians, e.g. 纸将用尽 or the last error.
    pub detail: String,
    /// Times the device was reconnected since the agent started.
    pub reconnects: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Ok,
    /// Works, but needs attention soon (paper near end).
    Degraded,
    /// Not usable now (unplugged, paper out, cover open).
    Down,
    /// Not configured on this terminal.
    Disabled,
}

/// The agent's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub agent_version: String,
    pub content_version: Option<String>,
    pub region: Option<String>,
    pub items: usize,
    pub uptime_s: u64,
}

/// An item's full guide as the kiosk shows it: the item plus what its references resolve to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guide {
    pub item: crate::item::Item,
    /// 即办 or e.g. 5个工作日.
    pub promised: String,
    pub legal: String,
    /// e.g. 最多跑一次 or 零跑动.
    pub visits_label: String,
    /// e.g. Ⅳ级（全程网办）.
    pub online_depth_label: String,
    pub department_phone: String,
    /// Halls that handle the item, this terminal's hall first.
    pub halls: Vec<GuideHall>,
    /// Self-service machines and stations that handle it.
    pub self_service: Vec<OutletSummary>,
    /// Blank forms its materials refer to.
    pub forms: Vec<crate::pack::Form>,
    /// Questions about it.
    pub faqs: Vec<crate::pack::Faq>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideHall {
    pub id: String,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub hours_today: String,
    pub open_now: bool,
    /// True for the hall this terminal stands in.
    pub here: bool,
    pub windows: Vec<GuideWindow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideWindow {
    pub number: u32,
    pub label: String,
    /// Zone name on the floor plan, when the hall has one.
    pub zone: Option<String>,
}
