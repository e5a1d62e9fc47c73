//! Outlets (halls, self-service machines, 便民服务站) and hall floor plans.

use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::hours::WeeklyHours;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutletKind {
    /// A government service hall (政务服务中心 / 大厅).
    #[serde(rename = "政务服务大厅")]
    Hall,
    /// A self-service machine (政务服务自助终端), often in a bank or mall.
    #[serde(rename = "自助服务终端")]
    SelfService,
    /// A neighbourhood service station (便民服务站).
    #[serde(rename = "便民服务站")]
    ServiceStation,
}

impl OutletKind {
    pub fn label(self) -> &'static str {
        match self {
            OutletKind::Hall => "政务服务大厅",
            OutletKind::SelfService => "自助服务终端",
            OutletKind::ServiceStation => "便民服务站",
        }
    }

    pub fn from_label(s: &str) -> Option<Self> {
        match s {
            "政务服务大厅" | "hall" => Some(OutletKind::Hall),
            "自助服务终端" | "self_service" => Some(OutletKind::SelfService),
            "便民服务站" | "station" => Some(OutletKind::ServiceStation),
            _ => None,
        }
    }
}

/// A place where items can be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlet {
    /// Stable id, e.g. `hall-main`.
    pub id: String,
    pub kind: OutletKind,
    pub name: String,
    pub address: String,
    /// WGS-84 position; GCJ-02 is derived for Chinese map apps.
    pub location: GeoPoint,
    pub phone: String,
    pub hours: WeeklyHours,
    /// How to get there by public transport.
    #[serde(default)]
    pub transit: Vec<String>,
    /// Ids of the items this outlet handles.
    pub items: Vec<String>,
    /// Queue business types (halls only), each with its ticket prefix.
    #[serde(default)]
    pub business_types: Vec<BusinessType>,
    /// Short practical notes (parking, accessibility).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A queue business type of a hall: tickets get its letter prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessType {
    /// One capital letter, e.g. `A`.
    pub prefix: String,
    pub name: String,
    /// The service level: waits longer than this many minutes count as over it (statistics,
    /// the hall monitor); 20 when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level_min: Option<u32>,
}

/// A hall's floor plan, in metres from the top-left corner of each floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorPlan {
    /// Outlet id of the hall.
    pub hall: String,
    pub floors: Vec<Floor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    /// 1 for the ground floor.
    pub level: i8,
    pub name: String,
    pub width_m: f32,
    pub depth_m: f32,
    pub zones: Vec<Zone>,
    pub windows: Vec<Window>,
    #[serde(default)]
    pub landmarks: Vec<Landmark>,
    /// Where terminals stand, for "you are here".
    #[serde(default)]
    pub kiosk_positions: Vec<KioskPosition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.x && x <= self.x + self.w && y >= self.y && y <= self.y + self.h
    }
}

/// An area of the hall, e.g. 社保医保服务区.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub rect: Rect,
}

/// A numbered service window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub number: u32,
    /// What the sign above it says, e.g. 公积金业务.
    pub label: String,
    /// Zone id the window stands in.
    pub zone: String,
    pub x: f32,
    pub y: f32,
    /// Ticket prefixes this window calls.
    pub business_types: Vec<String>,
}

/// Something citizens look for on a map: entrance, lift, toilets, ticket machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    pub name: String,
    pub x: f32,
    pub y: f32,
}

/// A place where a terminal stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KioskPosition {
    /// Position id used at enrollment, e.g. `entrance`.
    pub id: String,
    pub name: String,
    pub x: f32,
    pub y: f32,
}
