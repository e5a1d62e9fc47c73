//! 智能客服 latency on a large region: 5,000 items (the synthetic region) and 2,000 FAQs (the
//! demo region's 97 and questions about synthetic items), every question of the eval set asked
//! in turn; prints the index build time and p50 / p99 / max per question.
//!
//! `cargo bench -p menpai-agent --bench ask`

use std::time::Instant;

use menpai_agent::ask::AskIndex;
use menpai_agent::search::SearchIndex;
use menpai_model::Faq;

/// Question shapes FAQs about an item take.
const SHAPES: &[(&str, &str)] = &[
    (
        "{}要带什么材料？",
        "带本人身份证和申请表，按办事指南准备其余材料。",
    ),
    (
        "{}多久能办好？",
        "材料齐全的当场受理，一般 5 个工作日内办结。",
    ),
    (
        "{}可以在网上办吗？",
        "可以在粤省事或广东政务服务网申请，材料齐全的不用跑大厅。",
    ),
    ("{}要交钱吗？", "不收费。"),
];

fn main() {
    let base =
        menpai_content::load_dir(&menpai_content::demo_region_dir()).expect("demo region is valid");
    let region = menpai_content::synthetic::expand(&base, 5_000, 42);
    let mut faqs: Vec<Faq> = base.faqs.clone();
    let synthetic: Vec<_> = region
        .items
        .iter()
        .filter(|i| i.id.starts_with('S'))
        .collect();
    let mut n = 0;
    while faqs.len() < 2_000 {
        let item = synthetic[n % synthetic.len()];
        let (q, a) = SHAPES[n % SHAPES.len()];
        faqs.push(Faq {
            id: format!("faq-s{n:05}"),
            question: q.replace("{}", &item.name),
            answer: a.to_owned(),
            category: item.topic.clone(),
            items: vec![item.id.clone()],
        });
        n += 1;
    }
    let start = Instant::now();
    let search = SearchIndex::build(&region.items);
    let search_ms = start.elapsed().as_secs_f64() * 1e3;
    let by_id: std::collections::HashMap<&str, usize> = region
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.as_str(), i))
        .collect();
    let start = Instant::now();
    let ask = AskIndex::build(&faqs, |id| {
        by_id.get(id).map(|&i| (i, region.items[i].name.as_str()))
    });
    let ask_ms = start.elapsed().as_secs_f64() * 1e3;

    let questions: Vec<&str> = include_str!("../tests/data/ask-eval.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .collect();
    let mut times = Vec::new();
    let mut answered = 0;
    for _round in 0..20 {
        answered = 0;
        for q in &questions {
            let start = Instant::now();
            let answers = ask.ask(q, &search);
            times.push(start.elapsed().as_secs_f64() * 1e3);
            answered += usize::from(!answers.is_empty());
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "ask: {} items, {} FAQs (index {:.0} ms, search index {:.0} ms); {} questions × 20: \
         p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms per question; {answered} answered",
        region.items.len(),
        faqs.len(),
        ask_ms,
        search_ms,
        questions.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
}
