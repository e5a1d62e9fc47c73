//! The active content version in memory: item summaries, outlets, FAQs and the search index,
//! and the queries the kiosk asks of them. Full item guides stay in the store.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};
use menpai_model::api::{
    CategoryCounts, Guide, GuideHall, GuideWindow, ItemSummary, OutletSummary,
};
use menpai_model::geo::GeoPoint;
use menpai_model::{
    Audience, ContentPack, Faq, FloorPlan, Form, Item, Notice, Outlet, OutletKind, Region, Slide,
};

use crate::ask::AskIndex;
use crate::search::{SearchIndex, SearchIndexBuilder};
use crate::store::{Store, StoreError, VersionInfo, decode_into};

/// What browse and search lists need of an item.
#[derive(Debug, Clone)]
pub struct ItemMeta {
    pub summary: ItemSummary,
    pub life_events: Vec<String>,
    pub target_groups: Vec<String>,
    pub popularity: u32,
    pub featured: bool,
}

/// Filters of the browse list; all given ones must hold.
#[derive(Debug, Default, Clone)]
pub struct BrowseFilter {
    pub audience: Option<Audience>,
    pub topic: Option<String>,
    pub life_event: Option<String>,
    pub target_group: Option<String>,
    pub department: Option<String>,
    pub outlet: Option<String>,
}

#[derive(Debug)]
pub struct Catalog {
    pub version: VersionInfo,
    pub region: Region,
    items: Vec<ItemMeta>,
    by_id: HashMap<String, usize>,
    pub outlets: Vec<Outlet>,
    pub floor_plans: Vec<FloorPlan>,
    pub faqs: Vec<Faq>,
    pub slides: Vec<Slide>,
    /// Temporary notices, soonest to expire first.
    pub notices: Vec<Notice>,
    pub base_map: Option<menpai_model::BaseMap>,
    forms: HashMap<String, Form>,
    /// Item positions per outlet id.
    items_by_outlet: HashMap<String, Vec<usize>>,
    pub search: SearchIndex,
    /// Questions → the FAQs that answer them.
    pub ask: AskIndex,
}

impl Catalog {
    /// Builds the in-memory view of a pack (tests, benchmarks).
    pub fn build(version: VersionInfo, pack: ContentPack) -> Catalog {
        let mut a = Assembly::default();
        for item in &pack.items {
            a.add_item(item);
        }
        let rest = ContentPack {
            items: Vec::new(),
            ..pack
        };
        a.finish(version, rest)
    }

    /// Builds the in-memory view of a stored version, one item at a time: full guides are
    /// read, indexed and dropped, so a large region never sits in memory whole.
    pub fn load(version: VersionInfo, store: &Store) -> Result<Catalog, StoreError> {
        let mut a = Assembly::default();
        let mut rest = ContentPack::default();
        store.visit_records(version.id, |kind, key, body| {
            if kind == "item" {
                let item: Item =
                    serde_json::from_slice(body).map_err(|source| StoreError::Corrupt {
                        kind: kind.to_owned(),
                        key: key.to_owned(),
                        source,
                    })?;
                a.add_item(&item);
                Ok(())
            } else {
                decode_into(&mut rest, kind, key, body)
            }
        })?;
        Ok(a.finish(version, rest))
    }

    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    pub fn meta(&self, id: &str) -> Option<&ItemMeta> {
        self.by_id.get(id).map(|&i| &self.items[i])
    }

    pub fn meta_at(&self, pos: usize) -> &ItemMeta {
        &self.items[pos]
    }

    pub fn outlet(&self, id: &str) -> Option<&Outlet> {
        self.outlets.iter().find(|o| o.id == id)
    }

    pub fn floor_plan(&self, hall: &str) -> Option<&FloorPlan> {
        self.floor_plans.iter().find(|p| p.hall == hall)
    }

    /// Items matching every given filter, most demanded first.
    pub fn browse(&self, f: &BrowseFilter) -> Vec<ItemSummary> {
        let at_outlet = f
            .outlet
            .as_ref()
            .map(|o| self.items_by_outlet.get(o).cloned().unwrap_or_default());
        let mut hits: Vec<&ItemMeta> = self
            .items
            .iter()
            .enumerate()
            .filter(|(pos, _)| {
                at_outlet
                    .as_ref()
                    .is_none_or(|list| list.binary_search(pos).is_ok())
            })
            .map(|(_, m)| m)
            .filter(|m| f.audience.is_none_or(|a| m.summary.audience == a))
            .filter(|m| f.topic.as_ref().is_none_or(|t| &m.summary.topic == t))
            .filter(|m| {
                f.department
                    .as_ref()
                    .is_none_or(|d| &m.summary.department == d)
            })
            .filter(|m| {
                f.life_event
                    .as_ref()
                    .is_none_or(|e| m.life_events.contains(e))
            })
            .filter(|m| {
                f.target_group
                    .as_ref()
                    .is_none_or(|g| m.target_groups.contains(g))
            })
            .collect();
        hits.sort_by(|a, b| {
            b.popularity
                .cmp(&a.popularity)
                .then(a.summary.id.cmp(&b.summary.id))
        });
        hits.into_iter().map(|m| m.summary.clone()).collect()
    }

    /// High-frequency items for the home screen.
    pub fn featured(&self) -> Vec<ItemSummary> {
        let mut list: Vec<&ItemMeta> = self.items.iter().filter(|m| m.featured).collect();
        list.sort_by_key(|m| std::cmp::Reverse(m.popularity));
        list.into_iter().map(|m| m.summary.clone()).collect()
    }

    /// Counts of items per topic, life event, target group and department for one audience.
    pub fn category_counts(&self, audience: Audience) -> CategoryCounts {
        let mut c = CategoryCounts::default();
        let mine = self.items.iter().filter(|m| m.summary.audience == audience);
        for m in mine {
            *c.topics.entry(m.summary.topic.clone()).or_default() += 1;
            *c.departments
                .entry(m.summary.department.clone())
                .or_default() += 1;
            for e in &m.life_events {
                *c.life_events.entry(e.clone()).or_default() += 1;
            }
            for g in &m.target_groups {
                *c.target_groups.entry(g.clone()).or_default() += 1;
            }
        }
        c
    }

    /// Outlets sorted by distance from `from`, with open-now at local time `now`.
    pub fn outlets_near(
        &self,
        from: GeoPoint,
        now: NaiveDateTime,
        kind: Option<OutletKind>,
        item: Option<&str>,
    ) -> Vec<OutletSummary> {
        let mut list: Vec<OutletSummary> = self
            .outlets
            .iter()
            .filter(|o| kind.is_none_or(|k| o.kind == k))
            .filter(|o| item.is_none_or(|id| self.outlet_has_item(&o.id, id)))
            .map(|o| self.outlet_summary(o, from, now))
            .collect();
        list.sort_by_key(|o| o.distance_m);
        list
    }

    fn outlet_has_item(&self, outlet: &str, item: &str) -> bool {
        match (self.items_by_outlet.get(outlet), self.by_id.get(item)) {
            (Some(list), Some(pos)) => list.binary_search(pos).is_ok(),
            _ => false,
        }
    }

    pub fn outlet_summary(&self, o: &Outlet, from: GeoPoint, now: NaiveDateTime) -> OutletSummary {
        let (day, minute) = self.when(now);
        OutletSummary {
            id: o.id.clone(),
            kind: o.kind,
            name: o.name.clone(),
            address: o.address.clone(),
            phone: o.phone.clone(),
            location: o.location,
            location_gcj02: o.location.to_gcj02(),
            distance_m: from.distance_m(&o.location).round() as u32,
            open_now: o.hours.is_open(now.date(), minute, day),
            hours_today: o.hours.label_on(now.date(), day),
            transit: o.transit.clone(),
            item_count: self.items_by_outlet.get(&o.id).map_or(0, Vec::len),
            top_items: self.top_items_at(&o.id, 3),
        }
    }

    /// The names of the `n` most demanded items an outlet handles.
    fn top_items_at(&self, outlet: &str, n: usize) -> Vec<String> {
        let Some(list) = self.items_by_outlet.get(outlet) else {
            return Vec::new();
        };
        let mut metas: Vec<&ItemMeta> = list.iter().map(|&pos| &self.items[pos]).collect();
        metas.sort_by(|a, b| {
            b.popularity
                .cmp(&a.popularity)
                .then(a.summary.id.cmp(&b.summary.id))
        });
        metas
            .into_iter()
            .take(n)
            .map(|m| m.summary.name.clone())
            .collect()
    }

    /// Slides shown at local time `now`.
    pub fn slides_at(&self, now: NaiveDateTime) -> Vec<Slide> {
        self.slides
            .iter()
            .filter(|s| s.shown_at(now))
            .cloned()
            .collect()
    }

    /// Notices shown at local time `now` in hall `here`: the region's and the hall's own.
    pub fn notices_at(&self, here: &str, now: NaiveDateTime) -> Vec<Notice> {
        self.notices
            .iter()
            .filter(|n| n.outlet.as_deref().is_none_or(|o| o == here))
            .filter(|n| n.shown_at(now))
            .cloned()
            .collect()
    }

    /// How the region's calendar treats `now`, and the minute of its day.
    fn when(&self, now: NaiveDateTime) -> (menpai_model::hours::DayKind, u16) {
        (
            self.region.day_kind(now.date()),
            (now.hour() * 60 + now.minute()) as u16,
        )
    }

    /// Items an outlet handles, most demanded first.
    pub fn items_at(&self, outlet: &str) -> Vec<ItemSummary> {
        self.browse(&BrowseFilter {
            outlet: Some(outlet.to_owned()),
            ..BrowseFilter::default()
        })
    }

    /// The full guide of an item, its references resolved for `here` (this terminal's hall).
    pub fn guide(&self, item: Item, here: &str, now: NaiveDateTime) -> Guide {
        let (day, minute) = self.when(now);
        let from = self
            .outlet(here)
            .map(|o| o.location)
            .unwrap_or(self.region.center);
        let mut halls: Vec<GuideHall> = item
            .channels
            .halls
            .iter()
            .filter_map(|h| {
                let o = self.outlet(&h.outlet)?;
                let plan = self.floor_plan(&o.id);
                let windows = h
                    .windows
                    .iter()
                    .map(|&n| {
                        let found = plan.and_then(|p| {
                            p.floors.iter().find_map(|f| {
                                let w = f.windows.iter().find(|w| w.number == n)?;
                                let zone = f
                                    .zones
                                    .iter()
                                    .find(|z| z.id == w.zone)
                                    .map(|z| z.name.clone());
                                Some((w.label.clone(), zone))
                            })
                        });
                        let (label, zone) = found.unwrap_or_else(|| (format!("{n}号窗口"), None));
                        GuideWindow {
                            number: n,
                            label,
                            zone,
                        }
                    })
                    .collect();
                Some(GuideHall {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    address: o.address.clone(),
                    phone: o.phone.clone(),
                    hours_today: o.hours.label_on(now.date(), day),
                    open_now: o.hours.is_open(now.date(), minute, day),
                    here: o.id == here,
                    windows,
                })
            })
            .collect();
        halls.sort_by_key(|h| !h.here);
        let self_service = item
            .channels
            .self_service
            .iter()
            .filter_map(|id| self.outlet(id))
            .map(|o| self.outlet_summary(o, from, now))
            .collect();
        let mut form_ids: Vec<&String> = item
            .materials
            .iter()
            .chain(item.situations.iter().flat_map(|s| &s.materials))
            .filter_map(|m| m.template_form.as_ref())
            .collect();
        form_ids.sort();
        form_ids.dedup();
        let forms = form_ids
            .into_iter()
            .filter_map(|id| self.forms.get(id).cloned())
            .collect();
        let faqs = self
            .faqs
            .iter()
            .filter(|f| f.items.contains(&item.id))
            .cloned()
            .collect();
        let department_phone = self
            .region
            .departments
            .iter()
            .find(|d| d.name == item.department)
            .map(|d| d.phone.clone())
            .unwrap_or_default();
        Guide {
            promised: item.promised_limit.label(),
            legal: item.legal_limit.label(),
            visits_label: if item.visits == 0 {
                "零跑动（全程网办）".into()
            } else {
                "最多跑一次".into()
            },
            online_depth_label: online_depth_label(item.online_depth).into(),
            department_phone,
            halls,
            self_service,
            forms,
            faqs,
            item,
        }
    }
}

/// A catalog being put together, item by item.
#[derive(Debug, Default)]
struct Assembly {
    items: Vec<ItemMeta>,
    search: SearchIndexBuilder,
    /// (outlet id, item position) from the items' channels.
    channel_outlets: Vec<(String, usize)>,
}

impl Assembly {
    fn add_item(&mut self, item: &Item) {
        let pos = self.items.len();
        let outlets = item
            .channels
            .halls
            .iter()
            .map(|h| &h.outlet)
            .chain(&item.channels.self_service);
        for outlet in outlets {
            self.channel_outlets.push((outlet.clone(), pos));
        }
        self.search.add(item);
        self.items.push(meta_of(item));
    }

    /// `rest` carries everything but the items.
    fn finish(self, version: VersionInfo, rest: ContentPack) -> Catalog {
        let by_id: HashMap<String, usize> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, m)| (m.summary.id.clone(), i))
            .collect();
        let mut items_by_outlet: HashMap<String, Vec<usize>> = HashMap::new();
        for outlet in &rest.outlets {
            let list = items_by_outlet.entry(outlet.id.clone()).or_default();
            list.extend(outlet.items.iter().filter_map(|id| by_id.get(id).copied()));
        }
        for (outlet, pos) in self.channel_outlets {
            items_by_outlet.entry(outlet).or_default().push(pos);
        }
        for list in items_by_outlet.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let mut faqs = rest.faqs;
        faqs.sort_by(|a, b| a.id.cmp(&b.id));
        let ask = AskIndex::build(&faqs, |id| {
            by_id
                .get(id)
                .map(|&i| (i, self.items[i].summary.name.as_str()))
        });
        let mut slides = rest.slides;
        slides.sort_by(|a, b| a.id.cmp(&b.id));
        let mut notices = rest.notices;
        notices.sort_by(|a, b| a.expires_at.cmp(&b.expires_at).then(a.id.cmp(&b.id)));
        Catalog {
            version,
            region: rest.region.expect("stored versions have a region"),
            items: self.items,
            by_id,
            outlets: rest.outlets,
            floor_plans: rest.floor_plans,
            faqs,
            slides,
            notices,
            base_map: rest.base_map,
            forms: rest.forms.into_iter().map(|f| (f.id.clone(), f)).collect(),
            items_by_outlet,
            search: self.search.finish(),
            ask,
        }
    }
}

fn online_depth_label(depth: u8) -> &'static str {
    match depth {
        1 => "Ⅰ级（网上咨询）",
        2 => "Ⅱ级（网上下载表格）",
        3 => "Ⅲ级（网上预审）",
        _ => "Ⅳ级（全程网办）",
    }
}

fn meta_of(item: &Item) -> ItemMeta {
    ItemMeta {
        summary: ItemSummary {
            id: item.id.clone(),
            name: item.name.clone(),
            audience: item.audience,
            topic: item.topic.clone(),
            department: item.department.clone(),
            visits: item.visits,
            promised: item.promised_limit.label(),
            online: item.channels.online.is_some(),
        },
        life_events: item.life_events.clone(),
        target_groups: item.target_groups.clone(),
        popularity: item.popularity,
        featured: item.featured,
    }
}
