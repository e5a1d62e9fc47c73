//! A content pack: everything one region shows, plus where each record came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::item::Item;
use crate::outlet::{FloorPlan, Outlet};
use crate::region::Region;

/// One region's content, as loaded from a pack directory or a bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentPack {
    pub region: Option<Region>,
    pub items: Vec<Item>,
    pub outlets: Vec<Outlet>,
    pub floor_plans: Vec<FloorPlan>,
    pub faqs: Vec<Faq>,
    pub slides: Vec<Slide>,
    pub forms: Vec<Form>,
    /// A simple base map for the outlets screen: the district's outline and main roads.
    #[serde(default)]
    pub base_map: Option<BaseMap>,
    /// Record key (`item:P43`, `outlet:hall-main`, …) → the file it was read from.
    #[serde(skip)]
    pub sources: BTreeMap<String, String>,
}

impl ContentPack {
    /// The file a record came from, for error messages.
    pub fn source_of(&self, kind: &str, id: &str) -> String {
        self.sources
            .get(&format!("{kind}:{id}"))
            .or_else(|| self.sources.get(kind))
            .cloned()
            .unwrap_or_else(|| format!("{kind}s.json"))
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn outlet(&self, id: &str) -> Option<&Outlet> {
        self.outlets.iter().find(|o| o.id == id)
    }
}

/// A frequently asked question (常见问题).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Faq {
    pub id: String,
    pub question: String,
    pub answer: String,
    /// Category shown in the FAQ browser, e.g. 社保医保.
    pub category: String,
    /// Items the question is about.
    #[serde(default)]
    pub items: Vec<String>,
}

/// A promotional slide of the attract loop (政务宣传).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slide {
    pub id: String,
    pub title: String,
    pub subtitle: String,
    /// Background colour as `#RRGGBB`.
    pub color: String,
    /// Item the slide leads to, if any.
    #[serde(default)]
    pub item: Option<String>,
}

/// A blank form (空白表格) citizens can download or print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub id: String,
    pub name: String,
    /// Where the form can be downloaded.
    pub url: String,
}

/// A simple base map carried by the pack (no map tiles on a terminal): outline and main roads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseMap {
    /// The district boundary, WGS-84, as a closed ring.
    pub outline: Vec<crate::geo::GeoPoint>,
    pub roads: Vec<Road>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Road {
    pub name: String,
    pub points: Vec<crate::geo::GeoPoint>,
}
