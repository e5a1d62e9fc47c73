//! Menpai's shared model: typed content following the 办事指南 elements, validation, and API DTOs.
//!
//! Nothing here does I/O: the content crate loads packs, the agent and the server serve them.

pub mod api;
pub mod appointment;
pub mod assist;
pub mod bundle;
pub mod commands;
pub mod file;
pub mod geo;
pub mod help;
pub mod hours;
pub mod item;
pub mod outlet;
pub mod pack;
pub mod queue;
pub mod region;
pub mod secret;
pub mod sync;
#[cfg(feature = "signing")]
pub mod ticket;
pub mod update;
pub mod validate;

pub use file::FileRef;
pub use item::{
    Audience, Channels, Fee, Fees, HallChannel, Item, ItemType, Material, MaterialForm,
    OnlineChannel, Situation, Step, TimeLimit, TimeUnit,
};
pub use outlet::{
    BusinessType, Floor, FloorPlan, KioskPosition, Landmark, Outlet, OutletKind, Rect, Window, Zone,
};
pub use pack::{BaseMap, ContentPack, Faq, Form, Notice, NoticeKind, Road, Slide};
pub use region::{Department, Holiday, LifeEvent, Region, Topic};
pub use validate::ValidationError;

/// Percent-encodes a URL query value or path segment (UTF-8; unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
