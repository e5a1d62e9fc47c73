//! Every screen laid out in portrait and landscape, with normal and large text (elder mode):
//! the kiosk's layout table lists each button and text with its rectangle, and the test fails
//! when one runs outside the window or out of its box. Inside the page body, which scrolls,
//! only the width must fit; the bars must fit whole.
//!
//! `MENPAI_LAYOUT_SHOTS=1` also takes a screenshot of each, kept in
//! `target/kiosk-layout-shots/` to look at.

use menpai_tests::{binary, demo_region, start_agent, xvfb_run};

/// A fixed time (a Monday morning): open halls, a working day for the queue.
const NOW: &str = "2026-11-23T10:00";

/// Visits every screen (and the states that add to a screen: a guide being read, the writing
/// pad, an answered question), dumping each layout.
const VISIT: &str = "dump:attract;start;{elder}dump:home;howto;dump:howto;howto:close;go:browse;dump:browse;category:住房;\
    dump:items;item:P43;dump:guide;go:book;await:bookingdays;dump:book;go:guide;read;await:reading;dump:guide-reading;stopread;checklist;\
    situation:s1;dump:checklist;map;dump:map;go:search;key:gjj;dump:search;input:handwriting;\
    dump:search-pad;go:ask;type:身份证弄丢了去哪补;ask;await:answers;dump:ask;input:pinyin;\
    dump:ask-keys;go:outlets;dump:outlets;go:help;dump:help;go:assist;dump:assist;go:rating;\
    rate:2;dump:rating;go:phone;dump:phone;go:queue;dump:queue;ticket:E;dump:ticket;\
    go:checkin;dump:checkin;quit";

const SCREENS: [&str; 17] = [
    "Attract",
    "Home",
    "Browse",
    "Items",
    "Guide",
    "Checklist",
    "Search",
    "Map",
    "Outlets",
    "Help",
    "Rating",
    "Phone",
    "Queue",
    "Ticket",
    "CheckIn",
    "Assist",
    "Ask",
];

/// What runs outside the window (or its box) on one dumped layout.
fn overflows(table: &str, width: f32, height: f32) -> Vec<String> {
    let mut found = Vec::new();
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let n: Vec<f32> = cols[2..].iter().map(|v| v.parse().unwrap()).collect();
        let [x, y, w, h, body, px, pw] = n[..] else {
            panic!("a bad row: {line}")
        };
        let what = format!("{} {} at {x},{y} {w}×{h}", cols[0], cols[1]);
        if x < -1.0 || x + w > width + 1.0 {
            found.push(format!("{what} runs off the side"));
        } else if body == 0.0 && (y < -1.0 || y + h > height + 1.0) {
            found.push(format!("{what} runs off the top or bottom"));
        } else if cols[0] == "Text" && pw > 0.0 && (x < px - 1.0 || x + w > px + pw + 1.0) {
            found.push(format!("{what} runs out of its box ({px} +{pw})"));
        }
    }
    found
}

fn lay_out(width: u32, height: u32, elder: bool) {
    let agent = start_agent(&demo_region(), "");
    let dir = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("MENPAI_LAYOUT_SHOTS").is_some();
    let mut script = VISIT.replace("{elder}", if elder { "elder;" } else { "" });
    if shots {
        script = script.replace("dump:", "shot:");
    }
    let out = xvfb_run(width, height)
        .arg(binary("menpai-kiosk"))
        .args(["--agent", &format!("http://{}", agent.addr), "--now", NOW])
        .args(["--script", &script, "--shots"])
        .arg(dir.path())
        .args(if width > height {
            vec!["--landscape"]
        } else {
            vec![]
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the kiosk failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = Vec::new();
    let mut failures = Vec::new();
    let mut rows = 0;
    let keep = menpai_tests::workspace().join("target/kiosk-layout-shots");
    let name = format!(
        "{}{}",
        if width > height {
            "landscape"
        } else {
            "portrait"
        },
        if elder { "-elder" } else { "" }
    );
    for step in script
        .split(';')
        .filter_map(|s| s.strip_prefix("dump:").or(s.strip_prefix("shot:")))
    {
        if shots {
            std::fs::create_dir_all(&keep).unwrap();
            let _ = std::fs::copy(
                dir.path().join(format!("{step}.png")),
                keep.join(format!("{step}-{name}.png")),
            );
        }
        let table = std::fs::read_to_string(dir.path().join(format!("{step}.layout.tsv")))
            .unwrap_or_else(|e| panic!("{step}: no layout ({e})"));
        let screen = table
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Screen(")?.strip_suffix(')'))
            .unwrap()
            .to_owned();
        rows += table.lines().count() - 1;
        failures.extend(
            overflows(&table, width as f32, height as f32)
                .into_iter()
                .map(|f| format!("{step}: {f}")),
        );
        seen.push(screen);
    }
    for s in SCREENS {
        assert!(
            seen.iter().any(|x| x == s),
            "{s} was never laid out: {seen:?}"
        );
    }
    assert!(rows > 500, "only {rows} buttons and texts in all");
    assert!(
        failures.is_empty(),
        "{width}×{height}{}:\n{}",
        if elder { " large text" } else { "" },
        failures.join("\n")
    );
}

#[test]
fn the_overflow_check_sees_a_button_off_the_side() {
    let table = "Screen(Home)\nButton\tHome\t900\t10\t300\t100\t1\t0\t1080\n\
                 Text\t首页\t10\t1900\t100\t40\t0\t0\t1080\n\
                 Text\t很长\t10\t10\t300\t40\t1\t10\t200\n\
                 Text\t正常\t10\t3000\t100\t40\t1\t0\t1080\n";
    let found = overflows(table, 1080.0, 1920.0);
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn every_screen_fits_in_portrait() {
    lay_out(1080, 1920, false);
}

#[test]
fn every_screen_fits_in_portrait_with_large_text() {
    lay_out(1080, 1920, true);
}

#[test]
fn every_screen_fits_in_landscape() {
    lay_out(1920, 1080, false);
}

#[test]
fn every_screen_fits_in_landscape_with_large_text() {
    lay_out(1920, 1080, true);
}
