//! Search quality on the demo region: every row of the sample (and of our broader eval set) finds
//! an expected item in the top 3.

use menpai_agent::search::SearchIndex;
use menpai_model::Item;

fn demo_items() -> Vec<Item> {
    menpai_content::load_dir(&menpai_content::demo_region_dir())
        .expect("demo region is valid")
        .items
}

struct Row {
    query: String,
    expect: Vec<String>,
    kind: String,
}

fn rows(tsv: &str) -> Vec<Row> {
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                query: cols[0].to_owned(),
                expect: cols[1].split(',').map(|s| s.trim().to_owned()).collect(),
                kind: cols.get(2).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// Runs a set; returns the failures as readable lines.
fn failures(items: &[Item], index: &SearchIndex, rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter_map(|r| {
            let hits = index.search(&r.query, 3);
            let ids: Vec<&str> = hits.iter().map(|h| items[h.doc].id.as_str()).collect();
            let found = ids.iter().any(|id| r.expect.iter().any(|e| e == id));
            (!found).then(|| {
                let top: Vec<String> = hits
                    .iter()
                    .map(|h| format!("{} {} ({:.2})", items[h.doc].id, items[h.doc].name, h.score))
                    .collect();
                format!(
                    "[{}] {} → expected {:?}, got {:?}",
                    r.kind, r.query, r.expect, top
                )
            })
        })
        .collect()
}

#[test]
fn every_sample_query_finds_an_expected_item_in_the_top_three() {
    let items = demo_items();
    let index = SearchIndex::build(&items);
    let rows = rows(include_str!("data/search-sample.tsv"));
    assert_eq!(rows.len(), 15);
    let failed = failures(&items, &index, &rows);
    assert!(
        failed.is_empty(),
        "{} of {} failed:\n{}",
        failed.len(),
        rows.len(),
        failed.join("\n")
    );
}

/// Our broader set of the same kinds, written without looking at the engine or the aliases.
/// It keeps the engine honest beyond the sample: the pass rate must stay high for every kind.
#[test]
fn the_broader_eval_set_passes_for_every_kind() {
    let items = demo_items();
    let index = SearchIndex::build(&items);
    let rows = rows(include_str!("data/search-eval.tsv"));
    assert!(rows.len() >= 200);
    let failed = failures(&items, &index, &rows);
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let mut report = Vec::new();
    let mut worst = 1.0f32;
    for kind in kinds {
        let total = rows.iter().filter(|r| r.kind == kind).count();
        let bad = failed
            .iter()
            .filter(|f| f.starts_with(&format!("[{kind}]")))
            .count();
        let rate = (total - bad) as f32 / total as f32;
        worst = worst.min(rate);
        report.push(format!("{kind}: {}/{total}", total - bad));
    }
    let overall = (rows.len() - failed.len()) as f32 / rows.len() as f32;
    for f in &failed {
        println!("{f}");
    }
    println!(
        "top-3 pass rate {:.1}% ({})",
        overall * 100.0,
        report.join(", ")
    );
    assert!(
        overall >= 0.9 && worst >= 0.8,
        "{}\nfailures:\n{}",
        report.join(", "),
        failed.join("\n")
    );
}

/// Whole sentences the way citizens speak them (想在小区门口摆个早餐摊要办啥证): the item is
/// found as for short colloquial words. Written without looking at the engine.
#[test]
fn whole_spoken_sentences_find_their_item() {
    let items = demo_items();
    let index = SearchIndex::build(&items);
    let rows = rows(include_str!("data/search-sentences.tsv"));
    assert!(rows.len() >= 60);
    let failed = failures(&items, &index, &rows);
    for f in &failed {
        println!("{f}");
    }
    let rate = (rows.len() - failed.len()) as f32 / rows.len() as f32;
    println!(
        "sentences: top-3 pass rate {:.1}% ({} of {})",
        rate * 100.0,
        rows.len() - failed.len(),
        rows.len()
    );
    assert!(rate >= 0.8, "failures:\n{}", failed.join("\n"));
}
