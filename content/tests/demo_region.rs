//! The demo region carries what the project promises, and the synthetic region is a valid pack.

use std::collections::HashSet;

use menpai_model::OutletKind;

#[test]
fn the_demo_region_carries_every_required_item_and_enough_of_the_rest() {
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir())
        .expect("the demo region is valid");
    let region = pack.region.as_ref().unwrap();
    assert!(region.demo, "the demo region must be marked as demo data");
    assert!(region.notice.as_deref().unwrap_or("").contains("演示"));

    let required = include_str!("../required-items.tsv");
    for line in required.lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let item = pack
            .item(cols[0])
            .unwrap_or_else(|| panic!("{} is missing", cols[0]));
        assert_eq!(item.name, cols[1], "{} name", cols[0]);
        assert_eq!(item.audience.label(), cols[2], "{} audience", cols[0]);
        assert_eq!(item.topic, cols[3], "{} topic", cols[0]);
        assert_eq!(item.department, cols[4], "{} department", cols[0]);
    }
    assert_eq!(pack.items.len(), 100);

    let halls = pack
        .outlets
        .iter()
        .filter(|o| o.kind == OutletKind::Hall)
        .count();
    let others = pack.outlets.len() - halls;
    assert!(
        halls >= 4 && others >= 10,
        "{halls} halls, {others} other outlets"
    );
    let main = pack
        .floor_plans
        .iter()
        .find(|p| p.hall == "hall-futian")
        .expect("the main hall has a plan");
    let windows: usize = main.floors.iter().map(|f| f.windows.len()).sum();
    assert!(windows >= 20, "{windows} windows");
    assert!(pack.faqs.len() >= 60);
    assert!(pack.slides.len() >= 5);
    assert!(pack.items.iter().filter(|i| i.featured).count() >= 10);
}

#[test]
fn the_synthetic_region_is_a_valid_pack_of_the_asked_size() {
    let base = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let pack = menpai_content::synthetic::expand(&base, 5_000, 42);
    assert_eq!(pack.items.len(), 5_000);
    pack.validate().expect("the synthetic region validates");
    let names: HashSet<&str> = pack.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.len(), 5_000, "names are unique");
    // Same seed, same region.
    assert_eq!(
        menpai_content::synthetic::expand(&base, 5_000, 42).items[4_000],
        pack.items[4_000]
    );
}

#[test]
fn a_pack_round_trips_through_its_directory_layout() {
    let base = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    menpai_content::write_dir(&base, dir.path()).unwrap();
    let again = menpai_content::load_dir(dir.path()).unwrap();
    assert_eq!(again.items, base.items);
    assert_eq!(again.outlets, base.outlets);
    assert_eq!(again.floor_plans, base.floor_plans);
    assert_eq!(again.forms, base.forms);
    assert_eq!(again.slides, base.slides);
    assert_eq!(again.files, base.files, "the files come along");
}

#[test]
fn broken_files_are_named_with_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let base = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    menpai_content::write_dir(&base, dir.path()).unwrap();
    // Bad JSON syntax in one item, a wrong type in another, an unknown window in a third.
    std::fs::write(dir.path().join("items/P01.json"), "{ \"id\": \"P01\", ").unwrap();
    let p02 = dir.path().join("items/P02.json");
    let text =
        std::fs::read_to_string(&p02)
            .unwrap()
            .replacen("\"copies\": 1", "\"copies\": \"一份\"", 1);
    std::fs::write(&p02, text).unwrap();
    let errors = menpai_content::load_dir(dir.path()).unwrap_err();
    let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("items/P01.json: item P01: field `(syntax)`")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("items/P02.json: item P02: field `") && l.contains("copies")),
        "{lines:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    menpai_content::write_dir(&base, dir.path()).unwrap();
    let p43 = dir.path().join("items/P43.json");
    let mut item: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p43).unwrap()).unwrap();
    item["channels"]["halls"][0]["windows"][0] = 99.into();
    std::fs::write(&p43, item.to_string()).unwrap();
    let errors = menpai_content::load_dir(dir.path()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, "items/P43.json");
    assert_eq!(errors[0].record, "item P43");
    assert_eq!(errors[0].field, "channels.halls[0].windows[0]");
    assert!(errors[0].message.contains("99"));
}

#[test]
fn the_most_asked_for_items_ship_real_blank_forms_and_samples() {
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let bytes = |f: &menpai_model::FileRef| pack.files.get(&f.sha256).expect("file loaded").clone();
    // Every form that names a file carries a real PDF with its Chinese title, and a sample
    // marked as one, and a picture of it.
    let mut shipped = 0;
    for form in pack.forms.iter().filter(|f| f.blank.is_some()) {
        shipped += 1;
        for (file, words) in [
            (
                form.blank.as_ref().unwrap(),
                vec![form.name.as_str(), "范本"],
            ),
            (
                form.sample.as_ref().expect("a sample"),
                vec![form.name.as_str(), "样表"],
            ),
        ] {
            let pdf = bytes(file);
            assert!(pdf.starts_with(b"%PDF-"), "{} is not a PDF", file.name);
            assert_eq!(file.media_type, "application/pdf");
            let text = menpai_content::pdf::text_of(&pdf).expect("pdftotext reads the PDF");
            for w in words {
                assert!(text.contains(w), "{}: no {w} in {text}", file.name);
            }
        }
        let picture = form.sample_image.as_ref().expect("a sample picture");
        let png = bytes(picture);
        assert!(png.starts_with(b"\x89PNG"), "{}", picture.name);
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(width <= 1200, "{} is {width} px wide", picture.name);
    }
    // The ten most asked-for items that take a filled-in form each have one to download.
    let mut items: Vec<_> = pack
        .items
        .iter()
        .filter(|i| {
            i.materials
                .iter()
                .chain(i.situations.iter().flat_map(|s| &s.materials))
                .any(|m| m.template_form.is_some())
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.popularity));
    for item in items.iter().take(10) {
        let forms: Vec<_> = item
            .materials
            .iter()
            .chain(item.situations.iter().flat_map(|s| &s.materials))
            .filter_map(|m| m.template_form.as_deref())
            .collect();
        assert!(
            forms.iter().all(|id| pack
                .forms
                .iter()
                .any(|f| &f.id == id && f.blank.is_some() && f.sample.is_some())),
            "{} {}: {forms:?} without files",
            item.id,
            item.name
        );
    }
    assert!(shipped >= 10, "{shipped} forms with files");
    let total: usize = pack.files.values().map(Vec::len).sum();
    assert!(total < 3 << 20, "{total} bytes of files");
    let posters: Vec<_> = pack
        .slides
        .iter()
        .filter_map(|s| s.image.as_ref())
        .collect();
    assert!(posters.len() >= 3);
    assert!(
        posters.iter().all(|p| p.size <= 200 << 10),
        "posters of 200 KB at most"
    );
}

#[test]
fn every_hall_has_a_floor_plan_with_its_windows() {
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    for hall in pack.outlets.iter().filter(|o| o.kind == OutletKind::Hall) {
        let plan = pack
            .floor_plans
            .iter()
            .find(|p| p.hall == hall.id)
            .unwrap_or_else(|| panic!("{} has no floor plan", hall.id));
        let windows: Vec<_> = plan.floors.iter().flat_map(|f| &f.windows).collect();
        // Every window an item names for this hall is on the plan, calling that item's tickets.
        for item in &pack.items {
            for ch in item.channels.halls.iter().filter(|c| c.outlet == hall.id) {
                for n in &ch.windows {
                    let w = windows
                        .iter()
                        .find(|w| w.number == *n)
                        .unwrap_or_else(|| panic!("{}: window {n} of {}", hall.id, item.id));
                    if let Some(bt) = &item.business_type {
                        assert!(
                            w.business_types.contains(bt),
                            "{}: window {n} does not call {bt}",
                            hall.id
                        );
                    }
                }
            }
        }
        // Every business type the hall issues tickets for is called at some window.
        for bt in &hall.business_types {
            assert!(
                windows
                    .iter()
                    .any(|w| w.business_types.contains(&bt.prefix)),
                "{}: nobody calls {}",
                hall.id,
                bt.prefix
            );
        }
        let floor = &plan.floors[0];
        assert!(!floor.zones.is_empty() && !floor.landmarks.is_empty());
        assert!(floor.kiosk_positions.iter().any(|k| k.id == "entrance"));
    }
}
