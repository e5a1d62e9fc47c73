//! A content pack: everything one region shows, plus where each record came from.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::file::FileRef;

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
    /// Temporary notices (闭厅通知, 系统维护…), each shown until it expires.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// A simple base map for the outlets screen: the district's outline and main roads.
    #[serde(default)]
    pub base_map: Option<BaseMap>,
    /// Record key (`item:P43`, `outlet:hall-main`, …) → the file it was read from.
    #[serde(skip)]
    pub sources: BTreeMap<String, String>,
    /// The bytes of files a pack directory carries, by SHA-256 (a bundle carries them as
    /// blobs instead).
    #[serde(skip)]
    pub files: BTreeMap<String, Vec<u8>>,
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

    /// Every file the content names: materials' sample pictures, forms' files, slides'
    /// pictures (a file named twice is listed twice).
    pub fn file_refs(&self) -> impl Iterator<Item = &FileRef> {
        let materials = self.items.iter().flat_map(|i| {
            i.materials
                .iter()
                .chain(i.situations.iter().flat_map(|s| s.materials.iter()))
                .filter_map(|m| m.sample_image.as_ref())
        });
        materials
            .chain(self.forms.iter().flat_map(|f| f.files()))
            .chain(self.slides.iter().filter_map(|s| s.image.as_ref()))
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
    /// A picture shown over the colour (the title and subtitle stay as its caption).
    #[serde(default)]
    pub image: Option<FileRef>,
    /// Local time (China Standard Time) after which terminals stop showing the slide.
    #[serde(default)]
    pub expires_at: Option<NaiveDateTime>,
}

impl Slide {
    /// Whether the slide is still shown at local time `now`.
    pub fn shown_at(&self, now: NaiveDateTime) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}

/// What a temporary notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeKind {
    #[serde(rename = "闭厅通知")]
    Closure,
    #[serde(rename = "系统维护")]
    Maintenance,
    #[serde(rename = "临时通知")]
    General,
}

impl NoticeKind {
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::Closure => "闭厅通知",
            NoticeKind::Maintenance => "系统维护",
            NoticeKind::General => "临时通知",
        }
    }
}

/// A temporary notice on the plates and phone pages of one hall, or of every hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    /// The outlet it concerns; `None` for the whole region.
    #[serde(default)]
    pub outlet: Option<String>,
    pub title: String,
    pub text: String,
    /// Local times (China Standard Time): shown from `starts_at` (at once when `None`) until
    /// `expires_at`, without a new publish.
    #[serde(default)]
    pub starts_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
}

impl Notice {
    /// Whether the notice is shown at local time `now`.
    pub fn shown_at(&self, now: NaiveDateTime) -> bool {
        self.starts_at.is_none_or(|s| s <= now) && now < self.expires_at
    }
}

/// A blank form (空白表格) citizens can download or print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub id: String,
    pub name: String,
    /// Where the form can be downloaded.
    pub url: String,
    /// The blank form itself (范本): PDF, DOC/DOCX or XLS/XLSX. Phones download it;
    /// terminals never fetch it (they show a QR code to the phone page).
    #[serde(default)]
    pub blank: Option<FileRef>,
    /// A filled-in sample (样表) to download.
    #[serde(default)]
    pub sample: Option<FileRef>,
    /// The filled-in sample as a picture, shown on the plate.
    #[serde(default)]
    pub sample_image: Option<FileRef>,
}

impl Form {
    /// Every file the form names.
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        [&self.blank, &self.sample, &self.sample_image]
            .into_iter()
            .flatten()
    }
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
