//! The plate for those who cannot type pinyin, in the real kiosk under Xvfb fed by a real agent:
//! a character written on the pad with xdotool drags is offered and searched; 智能问答 answers
//! a question with its FAQ and the way to the guide, and offers a person when nothing answers;
//! both in portrait and landscape, large text on and off.

use std::path::Path;
use std::time::{Duration, Instant};

use menpai_tests::screen::{Screen, find_row, layout_rows, settled_screenshot};
use menpai_tests::{binary, demo_region, get_json, start_agent, workspace, xvfb_run};
use serde_json::Value;

/// The recorded strokes of `ch` (a 300×300 pad), from the agent's handwriting test data.
fn recorded(ch: &str) -> Vec<Vec<[f32; 2]>> {
    let path = workspace().join("edge-agent/tests/data/handwriting.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let row: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["char"] == ch)
        .unwrap_or_else(|| panic!("no recording of {ch}"));
    row["strokes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    [
                        p[0].as_f64().unwrap() as f32 / 300.0,
                        p[1].as_f64().unwrap() as f32 / 300.0,
                    ]
                })
                .collect()
        })
        .collect()
}

/// The candidates on the bar, in reading order.
fn candidates(layout: &Path) -> Vec<String> {
    let mut rows: Vec<(String, [f32; 4])> = layout_rows(layout)
        .into_iter()
        .filter(|(r, _)| r.starts_with("Candidate(\""))
        .collect();
    rows.sort_by(|a, b| (a.1[1], a.1[0]).partial_cmp(&(b.1[1], b.1[0])).unwrap());
    rows.iter()
        .map(|(r, _)| r.split('"').nth(1).unwrap().to_owned())
        .collect()
}

fn centre(rect: [f32; 4]) -> (i32, i32) {
    (
        (rect[0] + rect[2] / 2.0) as i32,
        (rect[1] + rect[3] / 2.0) as i32,
    )
}

#[test]
fn a_character_written_with_the_finger_is_offered_and_searched() {
    let agent = start_agent(&demo_region(), "");
    let dir = tempfile::tempdir().unwrap();
    let fb = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout.tsv");
    let screen = Screen::start(agent.addr, &layout, Some(fb.path()), &[]);
    let d = &screen.display;
    d.tap(centre(find_row(&layout, "Start").1));
    d.tap(centre(find_row(&layout, "Go(Search)").1));
    d.tap(centre(find_row(&layout, "Input(Handwriting)").1));

    // 户, stroke by stroke in the middle of the pad; after each, its candidates come.
    let (_, pad) = find_row(&layout, "WritingPad");
    let side = pad[2].min(pad[3]) * 0.9;
    let (left, top) = (
        pad[0] + (pad[2] - side) / 2.0,
        pad[1] + (pad[3] - side) / 2.0,
    );
    let strokes = recorded("户");
    for (n, stroke) in strokes.iter().enumerate() {
        let points: Vec<(i32, i32)> = stroke
            .iter()
            .map(|[x, y]| ((left + x * side) as i32, (top + y * side) as i32))
            .collect();
        d.drag(&points);
        find_row(&layout, &format!("Candidates({})", n + 1));
    }
    let offered = candidates(&layout);
    assert!(offered.len() >= 8, "only {offered:?}");
    assert!(
        offered[..5].iter().any(|c| c == "户"),
        "户 is not among the first five of {offered:?}"
    );
    let shots = workspace().join("target/kiosk-input-shots");
    std::fs::create_dir_all(&shots).unwrap();
    settled_screenshot(fb.path(), None, &shots.join("pad-written.png"));

    // The character goes into the search box and the results of 户 come.
    d.tap(centre(find_row(&layout, "Candidate(\"户\")").1));
    let (_, answer) = get_json(agent.addr, "/api/v1/search?limit=20&q=%E6%88%B7");
    let mut expected: Vec<String> = answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty());
    expected.sort();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut shown: Vec<String> = layout_rows(&layout)
            .into_iter()
            .filter(|(r, _)| r.starts_with("OpenItem("))
            .filter_map(|(r, _)| r.split('"').nth(1).map(str::to_owned))
            .collect();
        shown.sort();
        if shown == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the results of 户 never appeared: {shown:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The pad is wiped for the next character.
    assert!(candidates(&layout).is_empty());
}

/// One scripted visit: a guide read aloud, the pad with 户 written, a question answered, a
/// question that is not.
fn visit(width: u32, height: u32, elder: bool) {
    let agent = start_agent(&demo_region(), "");
    let dir = tempfile::tempdir().unwrap();
    let strokes = dir.path().join("hu.json");
    std::fs::write(&strokes, serde_json::to_vec(&recorded("户")).unwrap()).unwrap();
    let name = format!(
        "{}{}",
        if width > height {
            "landscape"
        } else {
            "portrait"
        },
        if elder { "-elder" } else { "" }
    );
    let script = format!(
        "start;{}item:P45;read;await:reading;shot:reading;\
         go:search;input:handwriting;strokes:{};await:candidates;shot:pad;\
         go:ask;type:身份证弄丢了去哪补;ask;await:answers;shot:answer;\
         clear;type:明天会下雨吗;ask;await:answers;shot:unanswered;quit",
        if elder { "elder;" } else { "" },
        strokes.display()
    );
    let shots = dir.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = xvfb_run(width, height)
        .arg(binary("menpai-kiosk"))
        .args([
            "--agent",
            &format!("http://{}", agent.addr),
            "--script",
            &script,
        ])
        .arg("--shots")
        .arg(&shots)
        .args(if width > height {
            vec!["--landscape"]
        } else {
            vec![]
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the kiosk failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let table =
        |shot: &str| std::fs::read_to_string(shots.join(format!("{shot}.buttons.tsv"))).unwrap();
    let rows = |shot: &str| -> Vec<(String, [f32; 4])> {
        table(shot)
            .lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                let n: Vec<f32> = cols[1..].iter().filter_map(|v| v.parse().ok()).collect();
                Some((cols[0].to_owned(), n.try_into().ok()?))
            })
            .collect()
    };
    let mut failures = Vec::new();
    // The pad: 户 among the first five candidates, at least eight of them.
    let mut offered: Vec<(String, [f32; 4])> = rows("pad")
        .into_iter()
        .filter(|(r, _)| r.starts_with("Candidate(\""))
        .collect();
    offered.sort_by(|a, b| (a.1[1], a.1[0]).partial_cmp(&(b.1[1], b.1[0])).unwrap());
    let offered: Vec<&str> = offered
        .iter()
        .filter_map(|(r, _)| r.split('"').nth(1))
        .collect();
    if offered.len() < 8 || !offered[..5].contains(&"户") {
        failures.push(format!("pad offers {offered:?}"));
    }
    // The answer: the FAQ about a lost ID card, with the way to its guide; a person offered.
    let (_, ask) = get_json(
        agent.addr,
        "/api/v1/ask?q=%E8%BA%AB%E4%BB%BD%E8%AF%81%E5%BC%84%E4%B8%A2%E4%BA%86%E5%8E%BB%E5%93%AA%E8%A1%A5",
    );
    let best = &ask["answers"][0];
    assert_eq!(best["id"], "faq-022", "{ask}");
    let item = best["items"][0]["id"].as_str().unwrap().to_owned();
    let answer = table("answer");
    for wanted in [format!("OpenItem(\"{item}\")"), "CallStaff".into()] {
        if !answer.contains(&wanted) {
            failures.push(format!("the answer has no {wanted}:\n{answer}"));
        }
    }
    let unanswered = table("unanswered");
    if !unanswered.contains("CallStaff") || unanswered.contains("OpenItem(") {
        failures.push(format!("an unanswerable question:\n{unanswered}"));
    }
    // The guide read aloud: stop and replay offered while it plays; leaving the guide
    // stopped it.
    let reading = table("reading");
    for wanted in ["StopReading", "ReadPage"] {
        if !reading.contains(wanted) {
            failures.push(format!("the guide being read has no {wanted}:\n{reading}"));
        }
    }
    let (_, now) = get_json(agent.addr, "/api/v1/read");
    assert!(
        now["text"]
            .as_str()
            .unwrap()
            .starts_with("住房公积金退休提取。"),
        "{now}"
    );
    if now["playing"] != false {
        failures.push(format!("still reading after the guide was left: {now}"));
    }
    // Every button inside the window.
    for shot in ["reading", "pad", "answer", "unanswered"] {
        for (r, [x, y, w, h]) in rows(shot) {
            if w > 0.0 && (x < -1.0 || y < -1.0 || x + w > width as f32 + 1.0) {
                failures.push(format!("{shot}: {r} at {x},{y} {w}×{h} runs outside"));
            }
        }
    }
    let keep = workspace().join("target/kiosk-input-shots");
    std::fs::create_dir_all(&keep).unwrap();
    for shot in ["reading", "pad", "answer", "unanswered"] {
        let _ = std::fs::copy(
            shots.join(format!("{shot}.png")),
            keep.join(format!("{shot}-{name}.png")),
        );
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn the_pad_and_the_answers_in_portrait() {
    visit(1080, 1920, false);
}

#[test]
fn the_pad_and_the_answers_in_portrait_with_large_text() {
    visit(1080, 1920, true);
}

#[test]
fn the_pad_and_the_answers_in_landscape() {
    visit(1920, 1080, false);
}

#[test]
fn the_pad_and_the_answers_in_landscape_with_large_text() {
    visit(1920, 1080, true);
}
