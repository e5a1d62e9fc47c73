//! Search on the synthetic 5,000-item region: index build time, per-query latency (criterion), and
//! the p50/p99/max over every keystroke of a query set, printed as figures.
//!
//! `cargo bench -p menpai-agent --bench search`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use menpai_agent::search::SearchIndex;
use menpai_model::Item;

/// Queries as citizens type them; each is also run keystroke by keystroke.
const QUERIES: &[&str] = &[
    "公积金",
    "gjj",
    "shebaoka",
    "开饭馆",
    "身份证掉了",
    "生小孩",
    "办营业执照",
    "退休金",
    "jiehun",
    "异地看病",
    "hzqf",
    "註銷公司",
    "gongjijng",
    "买房子",
    "低保",
    "医疗器械",
    "养老机构备案",
    "wangyue",
    "yiliao",
    "我要办护照",
];

fn region() -> Vec<Item> {
    let base =
        menpai_content::load_dir(&menpai_content::demo_region_dir()).expect("demo region is valid");
    menpai_content::synthetic::expand(&base, 5_000, 42).items
}

/// Every prefix of every query, as the kiosk sends them on each key.
fn keystrokes() -> Vec<String> {
    QUERIES
        .iter()
        .flat_map(|q| {
            let chars: Vec<char> = q.chars().collect();
            (1..=chars.len()).map(move |n| chars[..n].iter().collect::<String>())
        })
        .collect()
}

fn report_percentiles(items: &[Item]) {
    let t = Instant::now();
    let index = SearchIndex::build(items);
    let build = t.elapsed();
    let queries = keystrokes();
    let mut samples = Vec::new();
    let mut slowest: Vec<(std::time::Duration, &str)> = Vec::new();
    for _ in 0..50 {
        for q in &queries {
            let t = Instant::now();
            black_box(index.search(q, 10));
            let took = t.elapsed();
            samples.push(took);
            slowest.push((took, q));
        }
    }
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    slowest.dedup_by_key(|s| s.1);
    let worst: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(d, q)| format!("{q} {:.0} µs", d.as_secs_f64() * 1e6))
        .collect();
    println!("slowest keystrokes: {}", worst.join(", "));
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    println!(
        "search figures ({} items, {} keystroke queries × 50): index build {:.1} ms; per query p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        items.len(),
        queries.len(),
        build.as_secs_f64() * 1e3,
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        samples.last().unwrap().as_secs_f64() * 1e6,
    );
}

fn benches(c: &mut Criterion) {
    let items = region();
    report_percentiles(&items);
    c.bench_function("index_build_5000", |b| {
        b.iter(|| SearchIndex::build(black_box(&items)))
    });
    let index = SearchIndex::build(&items);
    let mut group = c.benchmark_group("query_5000");
    for q in QUERIES {
        group.bench_function(*q, |b| b.iter(|| index.search(black_box(q), 10)));
    }
    group.finish();
    let strokes = keystrokes();
    c.bench_function("all_keystrokes_5000", |b| {
        b.iter(|| {
            for q in &strokes {
                black_box(index.search(q, 10));
            }
        })
    });
}

criterion_group! {
    name = search;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}

fn main() {
    search();
    Criterion::default().configure_from_args().final_summary();
}
