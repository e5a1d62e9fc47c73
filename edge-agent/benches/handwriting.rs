//! Handwriting recognition time per stroke: every recorded character is recognised after each
//! of its strokes, as the writing pad asks; prints p50 / p99 / max and the top-5 rate.
//!
//! `cargo bench -p menpai-agent --bench handwriting`

use std::time::Instant;

use menpai_agent::config::Config;
use menpai_agent::handwriting::{Ink, Recogniser};
use menpai_model::api::HandwritingInk;

fn main() {
    let recogniser = Recogniser::new(Config::default().handwriting);
    let rows: Vec<(String, HandwritingInk)> = include_str!("../tests/data/handwriting.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let ch = v["char"].as_str().unwrap().to_owned();
            (ch, serde_json::from_value(v).unwrap())
        })
        .collect();
    // The model is opened (memory-mapped) at first use: not part of a stroke's time.
    let warm = Ink::check(&rows[0].1).unwrap();
    recogniser
        .recognise(&warm)
        .expect("Zinnia and its model are installed");

    let mut times = Vec::new();
    let mut top5 = 0;
    for _round in 0..5 {
        top5 = 0;
        for (ch, ink) in &rows {
            for n in 1..=ink.strokes.len() {
                let prefix = HandwritingInk {
                    strokes: ink.strokes[..n].to_vec(),
                    ..ink.clone()
                };
                let start = Instant::now();
                let checked = Ink::check(&prefix).unwrap();
                let got = recogniser.recognise(&checked).unwrap();
                times.push(start.elapsed().as_secs_f64() * 1e3);
                if n == ink.strokes.len() && got.iter().take(5).any(|c| c == ch) {
                    top5 += 1;
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "handwriting: {} recognitions (after each stroke of {} characters, 5 rounds): \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms per stroke; {top5} of {} in the first five",
        times.len(),
        rows.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1],
        rows.len()
    );
}
