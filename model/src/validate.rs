//! Validation of a content pack: every problem names the file, the record and the field.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::file::FileRef;
use crate::item::{Item, Material};
use crate::outlet::{FloorPlan, OutletKind};
use crate::pack::ContentPack;

/// One problem found in a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// File inside the pack, e.g. `items/P43.json`.
    pub file: String,
    /// The record, e.g. `item P43`.
    pub record: String,
    /// Path of the field inside the record, e.g. `situations[0].materials[1].copies`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: field `{}`: {}",
            self.file, self.record, self.field, self.message
        )
    }
}

impl std::error::Error for ValidationError {}

/// Collects problems for one record.
struct Checker<'a> {
    errors: &'a mut Vec<ValidationError>,
    file: String,
    record: String,
}

impl Checker<'_> {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ValidationError {
            file: self.file.clone(),
            record: self.record.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn non_empty(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(field, "must not be empty");
        }
    }

    fn non_empty_list<T>(&mut self, field: &str, list: &[T]) {
        if list.is_empty() {
            self.fail(field, "must list at least one entry");
        }
    }
}

impl ContentPack {
    /// Checks the whole pack; returns every problem found, in file order.
    pub fn validate(&self) -> Result<(), Vec<ValidationError>> {
        let mut errors = Vec::new();
        let Some(region) = &self.region else {
            errors.push(ValidationError {
                file: "region.json".into(),
                record: "region".into(),
                field: "(file)".into(),
                message: "the pack has no region description".into(),
            });
            return Err(errors);
        };
        let mut c = Checker {
            errors: &mut errors,
            file: self.source_of("region", &region.id),
            record: format!("region {}", region.id),
        };
        c.non_empty("id", &region.id);
        c.non_empty("name", &region.name);
        c.non_empty("version", &region.version);
        c.non_empty("hotline", &region.hotline);
        c.non_empty_list("topics", &region.topics);
        c.non_empty_list("departments", &region.departments);
        if !region.center.is_valid() {
            c.fail("center", "is not a valid WGS-84 coordinate");
        }

        let item_ids = unique_ids(
            &mut errors,
            self,
            "item",
            self.items.iter().map(|i| i.id.as_str()),
        );
        let outlet_ids = unique_ids(
            &mut errors,
            self,
            "outlet",
            self.outlets.iter().map(|o| o.id.as_str()),
        );
        let form_ids = unique_ids(
            &mut errors,
            self,
            "form",
            self.forms.iter().map(|f| f.id.as_str()),
        );
        unique_ids(
            &mut errors,
            self,
            "faq",
            self.faqs.iter().map(|f| f.id.as_str()),
        );

        for item in &self.items {
            self.check_item(&mut errors, item, &form_ids);
        }
        for outlet in &self.outlets {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("outlet", &outlet.id),
                record: format!("outlet {}", outlet.id),
            };
            c.non_empty("name", &outlet.name);
            c.non_empty("address", &outlet.address);
            c.non_empty("phone", &outlet.phone);
            if !outlet.location.is_valid() {
                c.fail("location", "is not a valid WGS-84 coordinate");
            }
            for (field, span) in outlet.hours.malformed() {
                c.fail(field, format!("`{span}` is not a span like 08:30-12:00"));
            }
            for (i, id) in outlet.items.iter().enumerate() {
                if !item_ids.contains(id.as_str()) {
                    c.fail(format!("items[{i}]"), format!("unknown item `{id}`"));
                }
            }
            for (i, bt) in outlet.business_types.iter().enumerate() {
                let ok =
                    bt.prefix.len() == 1 && bt.prefix.chars().all(|ch| ch.is_ascii_uppercase());
                if !ok {
                    c.fail(
                        format!("business_types[{i}].prefix"),
                        "must be one capital letter",
                    );
                }
            }
            if outlet.kind == OutletKind::Hall && outlet.business_types.is_empty() {
                c.fail(
                    "business_types",
                    "a hall needs at least one queue business type",
                );
            }
        }
        unique_ids(
            &mut errors,
            self,
            "floor_plan",
            self.floor_plans.iter().map(|p| p.hall.as_str()),
        );
        for plan in &self.floor_plans {
            self.check_floor_plan(&mut errors, plan);
        }
        for faq in &self.faqs {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("faq", &faq.id),
                record: format!("faq {}", faq.id),
            };
            c.non_empty("question", &faq.question);
            c.non_empty("answer", &faq.answer);
            c.non_empty("category", &faq.category);
            for (i, id) in faq.items.iter().enumerate() {
                if !item_ids.contains(id.as_str()) {
                    c.fail(format!("items[{i}]"), format!("unknown item `{id}`"));
                }
            }
        }
        for slide in &self.slides {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("slide", &slide.id),
                record: format!("slide {}", slide.id),
            };
            c.non_empty("title", &slide.title);
            let colour_ok = slide.color.len() == 7
                && slide.color.starts_with('#')
                && slide.color[1..].chars().all(|ch| ch.is_ascii_hexdigit());
            if !colour_ok {
                c.fail("color", "must look like #1A6FD0");
            }
            if let Some(id) = &slide.item
                && !item_ids.contains(id.as_str())
            {
                c.fail("item", format!("unknown item `{id}`"));
            }
        }
        for form in &self.forms {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("form", &form.id),
                record: format!("form {}", form.id),
            };
            c.non_empty("name", &form.name);
            if !form.url.starts_with("https://") && !form.url.starts_with("/forms/") {
                c.fail("url", "must be an https:// link or a /forms/ path");
            }
        }
        unique_ids(
            &mut errors,
            self,
            "notice",
            self.notices.iter().map(|n| n.id.as_str()),
        );
        for notice in &self.notices {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("notice", &notice.id),
                record: format!("notice {}", notice.id),
            };
            c.non_empty("title", &notice.title);
            c.non_empty("text", &notice.text);
            if let Some(o) = &notice.outlet
                && !outlet_ids.contains(o.as_str())
            {
                c.fail("outlet", format!("unknown outlet `{o}`"));
            }
            if notice.starts_at.is_some_and(|s| s >= notice.expires_at) {
                c.fail("expires_at", "must come after starts_at");
            }
        }
        for form in &self.forms {
            let mut c = Checker {
                errors: &mut errors,
                file: self.source_of("form", &form.id),
                record: format!("form {}", form.id),
            };
            for (field, f) in [
                ("blank", &form.blank),
                ("sample", &form.sample),
                ("sample_image", &form.sample_image),
            ] {
                if let Some(f) = f {
                    check_file(&mut c, field, f, field == "sample_image");
                }
            }
        }
        for slide in &self.slides {
            if let Some(f) = &slide.image {
                let mut c = Checker {
                    errors: &mut errors,
                    file: self.source_of("slide", &slide.id),
                    record: format!("slide {}", slide.id),
                };
                check_file(&mut c, "image", f, true);
            }
        }
        if let Some(map) = &self.base_map {
            let mut c = Checker {
                errors: &mut errors,
                file: "basemap.json".into(),
                record: "base map".into(),
            };
            if map.outline.len() < 3 {
                c.fail("outline", "needs at least three points");
            }
            for (i, p) in map.outline.iter().enumerate() {
                if !p.is_valid() {
                    c.fail(format!("outline[{i}]"), "is not a valid WGS-84 coordinate");
                }
            }
            for (i, r) in map.roads.iter().enumerate() {
                c.non_empty(&format!("roads[{i}].name"), &r.name);
                if r.points.len() < 2 || r.points.iter().any(|p| !p.is_valid()) {
                    c.fail(
                        format!("roads[{i}].points"),
                        "needs two or more valid points",
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_item(&self, errors: &mut Vec<ValidationError>, item: &Item, forms: &HashSet<&str>) {
        let region = self.region.as_ref().expect("checked by validate");
        let mut c = Checker {
            errors,
            file: self.source_of("item", &item.id),
            record: format!("item {}", item.id),
        };
        c.non_empty("id", &item.id);
        c.non_empty("code", &item.code);
        c.non_empty("name", &item.name);
        if !region
            .topics
            .iter()
            .any(|t| t.name == item.topic && t.audience == item.audience)
        {
            c.fail(
                "topic",
                format!(
                    "`{}` is not a {} topic of the region",
                    item.topic,
                    item.audience.label()
                ),
            );
        }
        if !region.departments.iter().any(|d| d.name == item.department) {
            c.fail(
                "department",
                format!("unknown department `{}`", item.department),
            );
        }
        for (i, ev) in item.life_events.iter().enumerate() {
            if !region.life_events.iter().any(|l| &l.name == ev) {
                c.fail(
                    format!("life_events[{i}]"),
                    format!("unknown life event `{ev}`"),
                );
            }
        }
        for (i, g) in item.target_groups.iter().enumerate() {
            if !region.target_groups.contains(g) {
                c.fail(
                    format!("target_groups[{i}]"),
                    format!("unknown target group `{g}`"),
                );
            }
        }
        c.non_empty_list("legal_basis", &item.legal_basis);
        c.non_empty_list("conditions", &item.conditions);
        c.non_empty_list("situations", &item.situations);
        c.non_empty_list("steps", &item.steps);
        c.non_empty("result", &item.result);
        c.non_empty("consult_phone", &item.consult_phone);
        c.non_empty("complaint_phone", &item.complaint_phone);
        if item.visits > 1 {
            c.fail("visits", "must be 0 or 1 (最多跑一次)");
        }
        if !(1..=4).contains(&item.online_depth) {
            c.fail("online_depth", "must be 1 to 4 (I–IV)");
        }
        if item.fees.charged && item.fees.items.is_empty() {
            c.fail("fees.items", "a charged item must list its fees");
        }
        if item.promised_limit.days > item.legal_limit.days && item.legal_limit.days > 0 {
            c.fail(
                "promised_limit.days",
                "the promised limit exceeds the legal limit",
            );
        }
        for (i, m) in item.materials.iter().enumerate() {
            check_material(&mut c, &format!("materials[{i}]"), m, forms);
        }
        let mut seen = HashSet::new();
        for (i, s) in item.situations.iter().enumerate() {
            c.non_empty(&format!("situations[{i}].name"), &s.name);
            if !seen.insert(s.id.as_str()) {
                c.fail(
                    format!("situations[{i}].id"),
                    format!("duplicate situation id `{}`", s.id),
                );
            }
            if s.materials.is_empty() && item.materials.is_empty() {
                c.fail(
                    format!("situations[{i}].materials"),
                    "no materials at all for this situation",
                );
            }
            for (j, m) in s.materials.iter().enumerate() {
                check_material(&mut c, &format!("situations[{i}].materials[{j}]"), m, forms);
            }
        }
        if let Some(online) = &item.channels.online
            && !online.url.starts_with("https://")
        {
            c.fail("channels.online.url", "must be an https:// link");
        }
        if item.channels.online.is_none()
            && item.channels.halls.is_empty()
            && item.channels.self_service.is_empty()
        {
            c.fail("channels", "the item has no channel at all");
        }
        for (i, h) in item.channels.halls.iter().enumerate() {
            match self.outlet(&h.outlet) {
                Some(o) if o.kind == OutletKind::Hall => {
                    if let Some(bt) = &item.business_type
                        && !o.business_types.iter().any(|b| &b.prefix == bt)
                    {
                        c.fail(
                            "business_type",
                            format!("hall `{}` has no business type `{bt}`", o.id),
                        );
                    }
                }
                Some(_) => c.fail(
                    format!("channels.halls[{i}].outlet"),
                    format!("`{}` is not a hall", h.outlet),
                ),
                None => c.fail(
                    format!("channels.halls[{i}].outlet"),
                    format!("unknown outlet `{}`", h.outlet),
                ),
            }
            if let Some(plan) = self.floor_plans.iter().find(|p| p.hall == h.outlet) {
                for (j, w) in h.windows.iter().enumerate() {
                    if !plan
                        .floors
                        .iter()
                        .any(|f| f.windows.iter().any(|x| x.number == *w))
                    {
                        c.fail(
                            format!("channels.halls[{i}].windows[{j}]"),
                            format!("window {w} is not on the floor plan"),
                        );
                    }
                }
            }
        }
        for (i, id) in item.channels.self_service.iter().enumerate() {
            match self.outlet(id) {
                Some(o) if o.kind != OutletKind::Hall => {}
                Some(_) => c.fail(
                    format!("channels.self_service[{i}]"),
                    format!("`{id}` is a hall, not a machine or station"),
                ),
                None => c.fail(
                    format!("channels.self_service[{i}]"),
                    format!("unknown outlet `{id}`"),
                ),
            }
        }
    }

    fn check_floor_plan(&self, errors: &mut Vec<ValidationError>, plan: &FloorPlan) {
        let hall = self.outlet(&plan.hall);
        let mut c = Checker {
            errors,
            file: self.source_of("floor_plan", &plan.hall),
            record: format!("floor plan of {}", plan.hall),
        };
        match hall {
            Some(o) if o.kind == OutletKind::Hall => {}
            _ => c.fail("hall", format!("`{}` is not a hall of the pack", plan.hall)),
        }
        c.non_empty_list("floors", &plan.floors);
        let mut numbers = HashSet::new();
        for (i, floor) in plan.floors.iter().enumerate() {
            if floor.width_m <= 0.0 || floor.depth_m <= 0.0 {
                c.fail(
                    format!("floors[{i}].width_m"),
                    "the floor needs a positive size",
                );
            }
            let inside = |x: f32, y: f32| {
                (0.0..=floor.width_m).contains(&x) && (0.0..=floor.depth_m).contains(&y)
            };
            for (j, z) in floor.zones.iter().enumerate() {
                if !inside(z.rect.x, z.rect.y) || !inside(z.rect.x + z.rect.w, z.rect.y + z.rect.h)
                {
                    c.fail(
                        format!("floors[{i}].zones[{j}].rect"),
                        "the zone leaves the floor",
                    );
                }
            }
            for (j, w) in floor.windows.iter().enumerate() {
                let field = format!("floors[{i}].windows[{j}]");
                if !numbers.insert(w.number) {
                    c.fail(
                        format!("{field}.number"),
                        format!("window {} appears twice", w.number),
                    );
                }
                if !floor.zones.iter().any(|z| z.id == w.zone) {
                    c.fail(
                        format!("{field}.zone"),
                        format!("unknown zone `{}`", w.zone),
                    );
                }
                if !inside(w.x, w.y) {
                    c.fail(format!("{field}.x"), "the window is outside the floor");
                }
                for (k, bt) in w.business_types.iter().enumerate() {
                    let known =
                        hall.is_some_and(|o| o.business_types.iter().any(|b| &b.prefix == bt));
                    if !known {
                        c.fail(
                            format!("{field}.business_types[{k}]"),
                            format!("the hall has no business type `{bt}`"),
                        );
                    }
                }
            }
            for (j, k) in floor.kiosk_positions.iter().enumerate() {
                if !inside(k.x, k.y) {
                    c.fail(
                        format!("floors[{i}].kiosk_positions[{j}]"),
                        "the position is outside the floor",
                    );
                }
            }
        }
    }
}

/// A file reference: uploaded, of an allowed type (a picture where the plate shows it).
fn check_file(c: &mut Checker<'_>, field: &str, f: &FileRef, image: bool) {
    if let Some(p) = f.problem() {
        c.fail(field, p);
    } else if image && !f.is_image() {
        c.fail(field, "须是图片（PNG、JPEG 或 WebP）");
    }
}

fn check_material(c: &mut Checker<'_>, field: &str, m: &Material, forms: &HashSet<&str>) {
    c.non_empty(&format!("{field}.name"), &m.name);
    if let Some(f) = &m.sample_image {
        check_file(c, &format!("{field}.sample_image"), f, true);
    }
    if m.copies == 0 {
        c.fail(format!("{field}.copies"), "must be at least 1");
    }
    if !m.required && m.condition.as_deref().is_none_or(|s| s.trim().is_empty()) {
        c.fail(
            format!("{field}.condition"),
            "a conditional material must say when it is needed",
        );
    }
    if let Some(form) = &m.template_form
        && !forms.contains(form.as_str())
    {
        c.fail(
            format!("{field}.template_form"),
            format!("unknown form `{form}`"),
        );
    }
}

fn unique_ids<'a>(
    errors: &mut Vec<ValidationError>,
    pack: &ContentPack,
    kind: &str,
    ids: impl Iterator<Item = &'a str>,
) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    for id in ids {
        if id.trim().is_empty() || !seen.insert(id) {
            errors.push(ValidationError {
                file: pack.source_of(kind, id),
                record: format!("{kind} {id}"),
                field: "id".into(),
                message: if id.trim().is_empty() {
                    "must not be empty".into()
                } else {
                    format!("duplicate {kind} id `{id}`")
                },
            });
        }
    }
    seen
}
