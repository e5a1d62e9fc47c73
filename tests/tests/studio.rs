//! The content studio across processes, in headless Chromium: an editor changes a material's
//! 审查要点 note of 居民身份证申领, uploads a sample picture for it and changes the item's FAQ
//! answer, and submits; a reviewer sees the diff field by field and approves; an enrolled
//! terminal shows the new note and picture on its guide (the kiosk under Xvfb, screenshots) and
//! the phone guide links the new picture. Rolled back to the version before, the terminal
//! shows the old note again; while each version arrives the terminal's guide never mixes the
//! two (the note and the FAQ answer always come from the same version). The bytes the terminal
//! fetched for the change are printed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use menpai_tests::regional::{ADMIN, EDITOR, REVIEWER, server, terminal};
use menpai_tests::screen::Screen;
use menpai_tests::webdriver::Driver;
use menpai_tests::{RunningAgent, demo_region, get_json, https_reply, login, workspace};
use serde_json::Value;

const ITEM: &str = "P01";
const FAQ: &str = "faq-024";
const OLD_NOTE: &str = "核对后当场退还";
const NEW_NOTE: &str = "核对后当场退还；请带最新的户口簿，页面须齐全";
const NEW_ANSWER: &str =
    "要办。未满16周岁的孩子可以申领身份证，由监护人陪同到窗口办理（测试改动）。";
/// The sample picture's colour: easy to find on the kiosk's screen.
const ORANGE: Rgb<u8> = Rgb([255, 128, 0]);

/// Terminals that sync on the server's push (the stream), not on a timer.
const TERMINAL: &str =
    "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n";

/// Waits up to 60 s for `js` (an expression) to be true in the page.
fn wait_for(d: &Driver, what: &str, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if d.script(&format!("return {js};")) == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still not so after 60 s at {}: {}",
            d.url(),
            d.text("body")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn log_in(d: &Driver, base: &str, (name, password): (&str, &str)) {
    d.go(&format!("{base}/login"));
    d.type_into("#name", name);
    d.type_into("#password", password);
    d.click("#login");
    wait_for(d, "the login answered", "location.pathname !== '/login'");
}

fn shot(d: &Driver, dir: &Path, name: &str) {
    let png = d.screenshot();
    assert_eq!(&png[1..4], b"PNG", "{name}");
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
}

/// Replaces the text of the editor's field at JSON path `path` as a person types it.
fn retype(d: &Driver, path: &str, text: &str) {
    let css = format!("#record [data-path=\"{path}\"]");
    wait_for(
        d,
        &format!("the field {path} is on the page"),
        &format!("!!document.querySelector('{}')", css.replace('\'', "\\'")),
    );
    d.script(&format!(
        "document.querySelector('{}').value = '';",
        css.replace('\'', "\\'")
    ));
    d.type_into(&css, text);
}

/// Opens an editor and waits until it has checked the record once (paths are known then).
fn open_editor(d: &Driver, base: &str, kind: &str, key: &str) {
    d.go(&format!("{base}/studio/edit/{kind}/{key}"));
    wait_for(
        d,
        "the editor checked the record",
        "(document.getElementById('state')||{}).textContent.indexOf('检查通过') >= 0",
    );
}

fn save(d: &Driver) {
    d.click("#save");
    wait_for(
        d,
        "the draft was saved",
        "document.getElementById('state').textContent === '已保存到草稿'",
    );
}

/// A 480×320 picture, orange with a white cross: the sample an editor uploads.
fn sample_picture(dir: &Path) -> PathBuf {
    let img = RgbImage::from_fn(480, 320, |x, y| {
        if (x as i32 - 240).abs() < 12 || (y as i32 - 160).abs() < 12 {
            Rgb([255, 255, 255])
        } else {
            ORANGE
        }
    });
    let path = dir.join("户口簿样例.png");
    img.save(&path).unwrap();
    path
}

/// The agent's guide: the first common material's note and picture, and the FAQ's answer.
fn guide_now(agent: &RunningAgent) -> (String, Option<String>, String) {
    let (st, g) = get_json(agent.addr, &format!("/api/v1/items/{ITEM}"));
    assert_eq!(st, 200, "{g}");
    let m = &g["item"]["materials"][0];
    let answer = g["faqs"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == FAQ))
        .map(|f| f["answer"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (
        m["note"].as_str().unwrap_or_default().to_owned(),
        m["sample_image"]["sha256"].as_str().map(str::to_owned),
        answer,
    )
}

/// Reads the agent's guide over and over until it has itself seen `last` (or a minute
/// passed): every pair (note, FAQ answer) seen, in order.
fn watch(
    agent_addr: std::net::SocketAddr,
    last: (String, String),
) -> std::thread::JoinHandle<Vec<(String, String)>> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut out: Vec<(String, String)> = Vec::new();
        while out.last() != Some(&last) && start.elapsed() < Duration::from_secs(60) {
            let (st, g) = get_json(agent_addr, &format!("/api/v1/items/{ITEM}"));
            if st == 200 {
                let note = g["item"]["materials"][0]["note"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let answer = g["faqs"]
                    .as_array()
                    .and_then(|f| f.iter().find(|f| f["id"] == FAQ))
                    .map(|f| f["answer"].as_str().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                if out.last() != Some(&(note.clone(), answer.clone())) {
                    out.push((note, answer));
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        out
    })
}

/// Waits until the terminal's guide is `want` (note, picture or none); how long it took.
fn wait_guide(agent: &RunningAgent, what: &str, note: &str, picture: Option<&str>) -> Duration {
    let start = Instant::now();
    loop {
        let (n, p, _) = guide_now(agent);
        if n == note && p.as_deref() == picture {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: the terminal still shows note {n:?}, picture {p:?}\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The kiosk's guide of the item (scrolled to its sample picture) and the picture enlarged.
fn kiosk_shots(agent: &RunningAgent, dir: &Path) -> (RgbImage, RgbImage) {
    let layout = dir.join("layout.tsv");
    let shots = dir.join("kiosk");
    std::fs::create_dir_all(&shots).unwrap();
    let mut screen = Screen::start(
        agent.addr,
        &layout,
        None,
        &[
            "--script",
            &format!(
                "start;item:{ITEM};wait:60;shot:guide-0;scroll:900;shot:guide-1;scroll:1800;\
                 shot:guide-2;scroll:2700;shot:guide-3;picture;wait:30;shot:picture;quit"
            ),
            "--shots",
            shots.to_str().unwrap(),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(status) = screen.kiosk.try_wait().unwrap() {
            assert!(
                status.success(),
                "the kiosk failed: {}",
                std::fs::read_to_string(layout.with_extension("log")).unwrap_or_default()
            );
            break;
        }
        assert!(Instant::now() < deadline, "the kiosk's script never ended");
        std::thread::sleep(Duration::from_millis(200));
    }
    let read = |name: &str| {
        image::open(shots.join(format!("{name}.png")))
            .unwrap()
            .to_rgb8()
    };
    // The page scrolled down step by step: the shot where the sample picture shows most.
    let guide = (0..4)
        .map(|n| read(&format!("guide-{n}")))
        .max_by_key(orange_pixels)
        .unwrap();
    (guide, read("picture"))
}

/// How many pixels of `img` are the sample's orange.
fn orange_pixels(img: &RgbImage) -> usize {
    img.pixels()
        .filter(|p| p[0] > 235 && (108..=148).contains(&p[1]) && p[2] < 30)
        .count()
}

#[test]
fn an_edit_reviewed_and_approved_in_chromium_reaches_the_plate_and_a_rollback_brings_the_old_one_back()
 {
    let tmp = tempfile::tempdir().unwrap();
    let out = workspace().join("target/screenshots/studio");
    std::fs::create_dir_all(&out).unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let base = format!("https://{}", s.public);
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let (old_note, old_picture, old_answer) = guide_now(&agent);
    assert_eq!(old_note, OLD_NOTE);
    assert!(old_picture.is_none());
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    let first_version = h["content_version"].as_str().unwrap().to_owned();

    // The editor: the note, a sample picture, the FAQ's answer; then submit.
    let editor = Driver::start();
    log_in(&editor, &base, EDITOR);
    open_editor(&editor, &base, "item", ITEM);
    retype(&editor, "materials[0].note", NEW_NOTE);
    let picture = sample_picture(tmp.path());
    editor.script(
        "document.querySelector('#record [data-path=\"materials[0].sample_image\"]')\
         .closest('.file').querySelector('input[type=file]').id = 'pick';",
    );
    editor.type_into("#pick", picture.to_str().unwrap());
    wait_for(
        &editor,
        "the picture was uploaded",
        "document.querySelector('#pick').closest('.file').querySelector('.file-state').textContent === '已上传'",
    );
    shot(&editor, &out, "editor-item");
    save(&editor);
    open_editor(&editor, &base, "faq", FAQ);
    retype(&editor, "answer", NEW_ANSWER);
    save(&editor);
    editor.go(&format!("{base}/studio/review"));
    editor.type_into("input[name=title]", "居民身份证申领：户口簿要求和样例");
    editor.click("#submit");
    wait_for(
        &editor,
        "the change set was submitted",
        "!!document.querySelector('#set[data-state=submitted]')",
    );
    let set_path: String = editor
        .script("return location.pathname;")
        .as_str()
        .unwrap()
        .to_owned();
    // Not their own to approve: the page offers no decision.
    assert!(
        editor.script("return !document.getElementById('approve');") == Value::Bool(true),
        "an editor is offered approval of their own change"
    );

    // The reviewer: the diff, field by field; approve.
    let reviewer = Driver::start();
    log_in(&reviewer, &base, REVIEWER);
    reviewer.go(&format!("{base}{set_path}"));
    let diff = reviewer.text("main");
    for needle in [
        OLD_NOTE,
        NEW_NOTE,
        "户口簿样例.png",
        &old_answer,
        NEW_ANSWER,
    ] {
        assert!(diff.contains(needle), "the diff lacks {needle}:\n{diff}");
    }
    shot(&reviewer, &out, "review-diff");
    let watcher = watch(agent.addr, (NEW_NOTE.into(), NEW_ANSWER.into()));
    reviewer.click("#approve");
    let approved = Instant::now();
    wait_for(
        &reviewer,
        "the change set was published",
        "!!document.querySelector('#set[data-state=published]')",
    );

    // The terminal: the new note and picture on its guide.
    // The picture's name on the server: the SHA-256 of the uploaded bytes.
    let sha = menpai_model::bundle::sha256_hex(&std::fs::read(&picture).unwrap());
    wait_guide(&agent, "after approval", NEW_NOTE, Some(&sha));
    let took = approved.elapsed();
    let seen = watcher.join().unwrap();
    println!(
        "the terminal showed the approved change {} ms after the click",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        seen.iter()
            .filter(|p| **p != (OLD_NOTE.into(), old_answer.clone()))
            .cloned()
            .collect::<Vec<_>>(),
        vec![(NEW_NOTE.to_owned(), NEW_ANSWER.to_owned())],
        "the terminal showed a mix of versions: {seen:?}"
    );
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    let fetched = &h["regional"]["last_content"];
    println!(
        "the terminal fetched {} bytes in {} blobs for version {}",
        fetched["bytes_fetched"], fetched["blobs_fetched"], fetched["version"]
    );
    assert_eq!(fetched["version"], h["content_version"]);
    let picture_len = std::fs::metadata(&picture).unwrap().len();
    assert!(
        fetched["bytes_fetched"].as_u64().unwrap() >= picture_len,
        "the picture itself was not fetched: {fetched}"
    );

    // The kiosk shows the note and the picture; tapped, the picture fills the screen.
    let (guide, enlarged) = kiosk_shots(&agent, tmp.path());
    guide.save(out.join("kiosk-guide.png")).unwrap();
    enlarged.save(out.join("kiosk-picture.png")).unwrap();
    let small = orange_pixels(&guide);
    let large = orange_pixels(&enlarged);
    assert!(
        small > 2_000,
        "no sample picture on the guide ({small} orange pixels)"
    );
    assert!(
        large > small * 3,
        "the picture was not enlarged ({small} → {large})"
    );

    // The phone guide links the new picture; it is the uploaded one.
    let page = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        &format!("/i/{ITEM}"),
        &[],
        b"",
    );
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains(NEW_NOTE), "the phone guide lacks the note");
    let link = html
        .split("href=\"")
        .skip(1)
        .map(|h| h.split('"').next().unwrap())
        .find(|h| h.contains(&sha))
        .unwrap_or_else(|| panic!("the phone guide does not link the picture {sha}"))
        .to_owned();
    let file = https_reply(&s.ca_pem(), s.public, "GET", &link, &[], b"");
    assert_eq!(file.status, 200, "{link}");
    assert_eq!(file.body, std::fs::read(&picture).unwrap(), "{link}");

    // Rollback: the version before, published again as the next one.
    reviewer.go(&format!("{base}/studio/versions"));
    shot(&reviewer, &out, "versions");
    let watcher = watch(agent.addr, (OLD_NOTE.into(), old_answer.clone()));
    reviewer.script(&format!(
        "document.querySelector('form[action=\"/studio/versions/{first_version}/republish\"]').submit();"
    ));
    wait_for(
        &reviewer,
        "the rollback was published",
        "!!document.getElementById('done')",
    );
    wait_guide(&agent, "after the rollback", OLD_NOTE, None);
    let seen = watcher.join().unwrap();
    assert_eq!(
        seen.iter()
            .filter(|p| **p != (NEW_NOTE.into(), NEW_ANSWER.into()))
            .cloned()
            .collect::<Vec<_>>(),
        vec![(OLD_NOTE.to_owned(), old_answer.clone())],
        "the terminal showed a mix of versions during the rollback: {seen:?}"
    );
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    assert_ne!(
        h["content_version"].as_str(),
        Some(first_version.as_str()),
        "a rollback is a new version"
    );
}
