//! DTOs of the edge-agent's local API, shared by the agent and the kiosk UI.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::geo::GeoPoint;
use crate::item::{Audience, Item, Material, Situation};
use crate::outlet::{BusinessType, FloorPlan, KioskPosition, OutletKind};
use crate::pack::{Faq, Slide};

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

impl Checklist {
    /// The personal checklist: materials for everyone plus those of the chosen situations, merged.
    pub fn of(item: &Item, chosen: &[String]) -> Result<Checklist, String> {
        let mut situations = Vec::new();
        for id in chosen {
            let s = item
                .situations
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| format!("事项 {} 没有情形 `{id}`", item.id))?;
            if !situations.iter().any(|x: &&Situation| x.id == s.id) {
                situations.push(s);
            }
        }
        let mut lines: Vec<ChecklistLine> = item
            .materials
            .iter()
            .map(|m| ChecklistLine {
                material: m.clone(),
                for_situations: Vec::new(),
            })
            .collect();
        for s in &situations {
            for m in &s.materials {
                match lines.iter_mut().find(|l| l.material.name == m.name) {
                    Some(line) if !line.for_situations.is_empty() => {
                        line.for_situations.push(s.name.clone())
                    }
                    Some(_) => {}
                    None => lines.push(ChecklistLine {
                        material: m.clone(),
                        for_situations: vec![s.name.clone()],
                    }),
                }
            }
        }
        Ok(Checklist {
            item_id: item.id.clone(),
            item_name: item.name.clone(),
            situations: situations.iter().map(|s| s.name.clone()).collect(),
            materials: lines,
        })
    }
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
    /// How to get there (bus, metro), as the phone page lists it.
    #[serde(default)]
    pub transit: Vec<String>,
    /// How many items it handles, and the most demanded ones' names.
    #[serde(default)]
    pub item_count: usize,
    #[serde(default)]
    pub top_items: Vec<String>,
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
    /// The regional server put this terminal in training mode, or took it out.
    TrainingChanged { on: bool },
    /// An operator put a maintenance notice on the plate (`Some`) or it came down (`None`).
    MaintenanceChanged { text: Option<String> },
    /// An operator asked for a screenshot: capture the window and post the PNG to
    /// `/api/v1/ui/screenshots/{id}`.
    ScreenshotWanted { id: String },
    /// A help call from this plate changed state.
    HelpChanged { update: crate::help::HelpUpdate },
    /// A window called a ticket: show it, light the LED bar, say it.
    QueueCalled { call: crate::queue::WindowCall },
    /// Tickets were taken or finished: waiting counts changed.
    QueueChanged,
    /// A reading aloud started or ended (stopped, finished, or failed).
    ReadingChanged { reading: ReadingState },
}

/// A slot of a day an item can be booked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingSlot {
    /// `HH:MM`.
    pub start: String,
    pub end: String,
    /// Places left.
    pub left: u32,
}

/// A day with places left, and its slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub slots: Vec<BookingSlot>,
}

/// The next days of this hall an item can be booked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingDays {
    pub days: Vec<BookingDay>,
}

/// A booking asked for at the plate: held until the code texted to the phone is typed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingHold {
    pub item: String,
    pub date: String,
    pub start: String,
    pub phone: String,
}

/// The code was texted: where to confirm it, to which (masked) number, for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCodeSent {
    pub pending: String,
    pub sent_to: String,
    pub expires_in_s: i64,
}

/// The texted code, typed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingCode {
    pub code: String,
}

/// Booked at the plate: what the screen shows, the check-in token its QR carries, and
/// whether the slip was printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedAtPlate {
    pub id: String,
    pub item_name: String,
    pub slot: String,
    pub holder: String,
    /// The masked phone the confirmation is texted to.
    pub phone: String,
    /// The confirmation was handed to the text-message gateway.
    #[serde(default)]
    pub texted: bool,
    pub token: String,
    pub printed: bool,
    /// Why the slip was not printed.
    #[serde(default)]
    pub print_error: Option<String>,
}

/// What to read aloud: a guide's summary (who, where, what to bring), or a screen's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadAloud {
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// The reading at the plate: the newest one, whether it still sounds, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReadingState {
    /// Counts up with every reading started; 0 before the first.
    pub id: u64,
    pub playing: bool,
    /// The words read, as shown.
    pub text: String,
    /// The toned pinyin the voice was given.
    pub pinyin: String,
    /// Why the voice could not read, when it could not.
    #[serde(default)]
    pub error: Option<String>,
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
    /// Events waiting to be sent to the regional server.
    #[serde(default)]
    pub outbox_depth: u64,
    /// Sync with the regional server, when the terminal is enrolled.
    #[serde(default)]
    pub regional: Option<RegionalStatus>,
    /// What the operating system says: network, the kiosk UI, the next reboot.
    #[serde(default)]
    pub host: HostStatus,
}

/// The terminal's host, as NetworkManager, systemd and logind report it over D-Bus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    pub network: NetworkStatus,
    pub ui: UiStatus,
    /// The next reboot logind has scheduled (China Standard Time, `YYYY-MM-DD HH:MM`).
    #[serde(default)]
    pub reboot_at: Option<String>,
}

/// Network connectivity from NetworkManager.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// `full`, `limited`, `portal`, `none` or `unknown` (NetworkManager's words).
    pub connectivity: String,
    /// The primary connection's name and type, e.g. `有线连接 1`, `802-3-ethernet`.
    #[serde(default)]
    pub connection: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Plain words for technicians.
    pub detail: String,
}

/// Whether the kiosk UI answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UiStatus {
    pub alive: bool,
    /// Seconds since the UI last said it was alive.
    #[serde(default)]
    pub last_seen_s: Option<u64>,
    /// Times the agent restarted the UI's unit because it stopped answering.
    #[serde(default)]
    pub restarts: u32,
}

/// How the terminal gets on with the regional server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionalStatus {
    pub device_id: String,
    pub server: String,
    /// Last time the manifest was checked (UTC, RFC 3339).
    pub last_sync: Option<String>,
    /// The last sync or upload problem, in words; cleared by a success.
    pub last_error: Option<String>,
    /// Bytes on the wire to and from the server since start (TLS included).
    pub wire_bytes: u64,
    /// Heartbeats the server accepted since start.
    pub heartbeats: u64,
    /// Events the server holds from this terminal since start.
    pub events_sent: u64,
    /// What fetching the last new content version cost.
    #[serde(default)]
    pub last_content: Option<ContentFetch>,
}

/// What one content sync fetched: the manifest, shards, records and pictures (bodies only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentFetch {
    pub version: String,
    pub bytes_fetched: u64,
    pub blobs_fetched: u64,
}

/// A citizen's rating of the service (好差评); no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRequest {
    /// 5 (非常满意) to 1 (非常不满意).
    pub level: u8,
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The item it was about, when known.
    #[serde(default)]
    pub item: Option<String>,
    /// What the citizen wrote, at most [`RATING_COMMENT_CHARS`] characters.
    #[serde(default)]
    pub comment: String,
    /// The ticket it rates (taken at this plate, so in its hall); `None` for a general rating.
    #[serde(default)]
    pub ticket: Option<RatedTicket>,
}

/// The ticket a rating is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatedTicket {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// e.g. `E012`.
    pub number: String,
}

/// 好差评's five levels, best first: `RATING_LEVELS[5 - level]`.
pub const RATING_LEVELS: [&str; 5] = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];
/// The reasons a citizen can tick when a service was not good.
pub const RATING_REASONS: [&str; 6] = [
    "等待时间长",
    "材料要求多",
    "指引不清楚",
    "态度不好",
    "跑了多次",
    "系统故障",
];
/// A rating's comment, at most.
pub const RATING_COMMENT_CHARS: usize = 200;

/// Someone asked for help at the plate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelpRequest {
    /// Where the citizen was, e.g. the screen or item.
    #[serde(default)]
    pub context: Option<String>,
    /// The screen in view, e.g. `Guide`.
    #[serde(default)]
    pub screen: Option<String>,
    /// The item in view, e.g. `P43`.
    #[serde(default)]
    pub item: Option<String>,
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

/// The home screen: where the terminal stands, what to browse, what is most asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub region: RegionInfo,
    pub content_version: String,
    /// Base address of the phone-side pages, for the QR codes the kiosk shows.
    pub phone_base_url: String,
    /// Local time, e.g. `2026-11-23T10:05`.
    pub now: String,
    pub hall: Option<HallInfo>,
    pub audiences: Vec<AudienceCounts>,
    pub featured: Vec<ItemSummary>,
    /// Slides shown now (expired ones left out).
    pub slides: Vec<Slide>,
    /// The terminal is in training mode: nothing done at it is real.
    #[serde(default)]
    pub training: bool,
    /// Temporary notices shown now for this hall (region-wide or this hall's).
    #[serde(default)]
    pub notices: Vec<crate::pack::Notice>,
    /// An operator's maintenance notice showing now (维护公告).
    #[serde(default)]
    pub maintenance: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
    pub demo: bool,
    pub notice: Option<String>,
    pub hotline: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallInfo {
    pub id: String,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub hours_today: String,
    pub open_now: bool,
    pub hours_note: Option<String>,
    pub business_types: Vec<BusinessType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceCounts {
    pub audience: Audience,
    pub counts: CategoryCounts,
}

/// Items per category value, for the browse screens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryCounts {
    pub topics: BTreeMap<String, usize>,
    pub life_events: BTreeMap<String, usize>,
    pub target_groups: BTreeMap<String, usize>,
    pub departments: BTreeMap<String, usize>,
}

/// A page of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemList {
    pub total: usize,
    pub items: Vec<ItemSummary>,
}

/// Outlets by distance from a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutletList {
    pub from: GeoPoint,
    pub outlets: Vec<OutletSummary>,
    /// The district's outline and main roads, to draw the outlets on.
    #[serde(default)]
    pub base_map: Option<crate::pack::BaseMap>,
}

/// The FAQs that answer a citizen's question, best first; empty when none does (the plate
/// then offers a person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskResponse {
    pub answers: Vec<AskAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskAnswer {
    /// The FAQ's id (stable across content versions).
    pub id: String,
    pub question: String,
    pub answer: String,
    pub category: String,
    /// The items it is about, for the way to their guides.
    pub items: Vec<ItemSummary>,
    pub confidence: f32,
}

/// Strokes written on the kiosk's writing pad: each stroke the points a finger went through,
/// in pad pixels from the top left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandwritingInk {
    pub width: u32,
    pub height: u32,
    pub strokes: Vec<Vec<[i32; 2]>>,
}

/// The characters the strokes may be, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandwritingCandidates {
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaqList {
    pub categories: BTreeMap<String, usize>,
    pub faqs: Vec<Faq>,
}

/// A hall's floor plan and where this terminal stands on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorPlanView {
    pub plan: FloorPlan,
    pub you_are_here: Option<YouAreHere>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YouAreHere {
    pub floor: i8,
    pub position: KioskPosition,
}

/// Every peripheral's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: BTreeMap<String, DeviceHealth>,
}

/// An error the agent answers with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

/// What the technician's self-test asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfTestRequest {
    /// How long to wait for the test scan, in seconds.
    #[serde(default = "default_scan_timeout")]
    pub scan_timeout_s: u64,
    /// Nobody is at the terminal (a remote command): no test ticket is printed and no scan
    /// awaited; the printer and scanner report their state instead.
    #[serde(default)]
    pub unattended: bool,
}

fn default_scan_timeout() -> u64 {
    30
}

/// One check of the self-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTestStep {
    /// `printer`, `scanner`, `led`, `status_led`, `camera`, `display`, `voice`, `network`,
    /// `regional`.
    pub step: String,
    /// The device in Chinese, e.g. 打印机.
    pub name: String,
    pub outcome: SelfTestOutcome,
    /// What was seen, in words for the technician.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestOutcome {
    Pass,
    Fail,
    /// Not fitted or not configured on this terminal.
    Skip,
}

/// The self-test's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTestReport {
    pub hall: String,
    pub position: String,
    /// When it ran (China Standard Time).
    pub at: String,
    /// No step failed.
    pub passed: bool,
    pub steps: Vec<SelfTestStep>,
}
