//! Test support: scripted steps with screenshots, and a dump of where every button is on screen
//! so an outside test can click it (xdotool).

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};

use crate::Options;
use crate::agent::{AgentStatus, Data};
use crate::layout_table::LayoutWanted;
use crate::nav::{Action, CategoryKind, InputMode, OfflineNotice, Screen, Scrolls, WritingPad};

pub(crate) fn plugin(app: &mut App) {
    app.add_plugins(crate::layout_table::plugin);
    app.init_resource::<Script>();
    app.add_systems(Startup, load_script);
    app.add_systems(Update, scroll_bench);
    app.add_systems(Last, (step, dump_layout));
}

/// Scrolls the page body a little every frame and reports the frame times (a benchmark).
fn scroll_bench(
    mut script: ResMut<Script>,
    real: Res<Time<Real>>,
    mut lists: Query<(&mut ScrollPosition, &ComputedNode), With<Scrolls>>,
) {
    if script.scrolling == 0 {
        return;
    }
    script.scrolling -= 1;
    let ms = real.delta().as_secs_f64() * 1e3;
    script.frame_ms.push(ms);
    for (mut pos, node) in &mut lists {
        let max = ((node.content_size() - node.size()) * node.inverse_scale_factor())
            .y
            .max(0.0);
        pos.y = if pos.y + 40.0 > max {
            0.0
        } else {
            pos.y + 40.0
        };
    }
    if script.scrolling == 0 {
        let mut t = script.frame_ms.split_off(2); // the first frames include the page build
        t.sort_by(f64::total_cmp);
        let pct = |p: f64| t[((t.len() - 1) as f64 * p) as usize];
        println!(
            "scroll frame time over {} frames: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            t.len(),
            pct(0.5),
            pct(0.95),
            t.last().copied().unwrap_or_default()
        );
        script.settle = 2;
    }
}

#[derive(Resource, Default)]
struct Script {
    /// Frames left to scroll in a `scrollbench`, and the frame times seen.
    scrolling: u32,
    frame_ms: Vec<f64>,
    steps: Vec<String>,
    next: usize,
    /// Frames to let pass before the next step (layout, images, screenshot readback).
    settle: u32,
    waiting_for_shot: bool,
    /// The step that `await:call` said it waits at (said once on stdout, so a test can make the
    /// call only then: the banner stays only for some seconds).
    announced_await: Option<usize>,
}

fn load_script(mut script: ResMut<Script>, options: Res<Options>) {
    script.steps = options.script.clone();
    script.settle = 30;
}

/// Steps: `start`, `go:SCREEN`, `category:TOPIC`, `item:ID`, `checklist`, `situation:ID`, `print`,
/// `map`, `picture[:SHA|close]`, `key:LETTERS`, `rate:LEVEL`, `ticket:PREFIX`, `scan:TOKEN`, `elder`, `shot:NAME` (also writes NAME.buttons.tsv
/// and NAME.layout.tsv), `dump:NAME` (NAME.layout.tsv alone), `read`, `stopread`, `await:reading`, `howto[:close]`, `bookday`, `bookslot`, `digits:N`,
/// `digitsfile:PATH`, `submit`, `await:bookingdays|codesent|booked`,
/// `wait:FRAMES`, `scroll:PIXELS`, `await:call` (prints `menpai-kiosk: script awaits a call` when it starts waiting), `await:checkin` (a scanned appointment's ticket), `quit`.
fn step(
    mut commands: Commands,
    mut script: ResMut<Script>,
    options: Res<Options>,
    status: Res<AgentStatus>,
    mut actions: MessageWriter<Action>,
    mut exit: MessageWriter<AppExit>,
    shots: Query<(), With<Screenshot>>,
    banner: Res<crate::call_banner::CallBanner>,
    data: Res<Data>,
    buttons: Query<(&Action, &ComputedNode, &UiGlobalTransform), With<Button>>,
    mut lists: Query<(&mut ScrollPosition, &ComputedNode), With<Scrolls>>,
    mut tables: ResMut<LayoutWanted>,
) {
    if script.scrolling > 0 {
        return;
    }
    if script.waiting_for_shot {
        if shots.is_empty() {
            script.waiting_for_shot = false;
            script.settle = 2;
        }
        return;
    }
    if script.settle > 0 || status.pending > 0 {
        script.settle = script.settle.saturating_sub(1);
        return;
    }
    let Some(step) = script.steps.get(script.next).cloned() else {
        return;
    };
    script.next += 1;
    script.settle = 12;
    let (verb, arg) = step.split_once(':').unwrap_or((step.as_str(), ""));
    match verb {
        "go" => match Screen::from_name(arg) {
            Some(Screen::Home) => drop(actions.write(Action::Home)),
            Some(Screen::Attract) => drop(actions.write(Action::Go(Screen::Attract))),
            Some(s) => drop(actions.write(Action::Go(s))),
            None => error!(step, "Unknown screen in script."),
        },
        "start" => drop(actions.write(Action::Start)),
        "item" => drop(actions.write(Action::OpenItem(arg.into()))),
        "category" => drop(actions.write(Action::OpenCategory(CategoryKind::Topic, arg.into()))),
        "rate" => drop(actions.write(Action::Rate(arg.parse().unwrap_or(5)))),
        "checklist" => drop(actions.write(Action::OpenChecklist)),
        "ticket" => drop(actions.write(Action::TakeTicket(arg.into()))),
        "scan" => drop(actions.write(Action::CheckIn(arg.into()))),
        "situation" => drop(actions.write(Action::ToggleSituation(arg.into()))),
        "print" => drop(actions.write(Action::PrintChecklist)),
        "elder" => drop(actions.write(Action::ToggleElder)),
        "map" => drop(actions.write(Action::ShowWindowsOnMap)),
        // Enlarges a picture: the one named, else the guide's first sample picture; `close`.
        "picture" => {
            let first = data.guide.as_ref().and_then(|g| {
                g.item
                    .materials
                    .iter()
                    .find_map(|m| m.sample_image.as_ref())
                    .map(|f| f.sha256.clone())
            });
            let sha = match arg {
                "close" => None,
                "" => first,
                sha => Some(sha.to_owned()),
            };
            actions.write(Action::ShowPicture(sha));
        }
        "key" => {
            for c in arg.chars() {
                actions.write(Action::Key(c));
            }
        }
        // Text into the field being typed (a question in hanzi), then 提问.
        "type" => drop(actions.write(Action::TypeText(arg.into()))),
        "ask" => drop(actions.write(Action::AskQuestion)),
        "clear" => drop(actions.write(Action::ClearQuery)),
        "input" => drop(actions.write(Action::Input(if arg == "handwriting" {
            InputMode::Handwriting
        } else {
            InputMode::Pinyin
        }))),
        // Strokes from a JSON file ([[[x, y], …], …] in fractions of the pad) onto the pad.
        "strokes" => match std::fs::read(arg)
            .ok()
            .and_then(|b| serde_json::from_slice::<Vec<Vec<[f32; 2]>>>(&b).ok())
        {
            Some(strokes) => drop(actions.write(Action::WriteStrokes(strokes))),
            None => error!(step, "No strokes in that file."),
        },
        // Holds the script until the pad's candidates have come.
        "await" if arg == "candidates" => {
            if data.candidates.is_none() {
                script.next -= 1;
                script.settle = 1;
            }
        }
        // Holds the script until the answers to the question on screen have come.
        "await" if arg == "answers" => {
            if data.answers.is_none() {
                script.next -= 1;
                script.settle = 1;
            }
        }
        // 听指南 / 朗读本页, and its stop.
        "read" => drop(actions.write(Action::ReadPage)),
        "howto" => drop(actions.write(Action::HowTo(arg != "close"))),
        "stopread" => drop(actions.write(Action::StopReading)),
        // Holds the script until the agent says it reads aloud (or why it cannot).
        "await" if arg == "reading" => {
            if !data.reading_now() && !matches!(data.reading, Some(Err(_))) {
                script.next -= 1;
                script.settle = 1;
            }
        }
        // Booking at the plate: the first day, its first slot with places; digits on the
        // keypad (or from a file once it exists: a code the test reads from the text message);
        // the keypad's send key; and waits for each answer.
        "bookday" => {
            if let Some(Ok(days)) = &data.booking_days
                && let Some(day) = days.days.first()
            {
                actions.write(Action::BookDay(day.date.clone()));
            }
        }
        "bookslot" => {
            if let Some(Ok(days)) = &data.booking_days
                && let Some(day) = days.days.first()
                && let Some(slot) = day.slots.iter().find(|s| s.left > 0)
            {
                actions.write(Action::BookSlot(slot.start.clone()));
            }
        }
        "digits" => {
            for c in arg.chars() {
                actions.write(Action::Digit(c));
            }
        }
        "digitsfile" => match std::fs::read_to_string(arg) {
            Ok(digits) => {
                for c in digits.trim().chars() {
                    actions.write(Action::Digit(c));
                }
            }
            Err(_) => {
                script.next -= 1;
                script.settle = 5;
            }
        },
        "submit" => drop(actions.write(Action::BookSubmit)),
        "back" => drop(actions.write(Action::DigitBack)),
        "await" if arg == "bookingdays" || arg == "codesent" || arg == "booked" => {
            let came = match arg {
                "bookingdays" => data.booking_days.is_some(),
                "codesent" => data.booking_sent.is_some(),
                _ => data.booked.is_some(),
            };
            if !came {
                script.next -= 1;
                script.settle = 1;
            }
        }
        "wait" => script.settle = arg.parse().unwrap_or(30),
        // Scrolls the page body down to `arg` pixels (as far as it goes).
        "scroll" => {
            let y: f32 = arg.parse().unwrap_or(0.0);
            for (mut pos, node) in &mut lists {
                let max = ((node.content_size() - node.size()) * node.inverse_scale_factor())
                    .y
                    .max(0.0);
                pos.y = y.clamp(0.0, max);
            }
        }
        // Holds the script until a window's call is on screen.
        "await" if arg == "call" => {
            if banner.call.is_none() {
                script.next -= 1;
                script.settle = 1;
                if script.announced_await != Some(script.next) {
                    script.announced_await = Some(script.next);
                    println!("menpai-kiosk: script awaits a call");
                }
            }
        }
        // Holds the script until a scanned appointment's check-in has its answer on screen.
        "await" if arg == "checkin" => {
            if data.checkin.is_none() {
                script.next -= 1;
                script.settle = 1;
            }
        }
        "scrollbench" => {
            script.scrolling = arg.parse::<u32>().unwrap_or(120).max(10);
            script.frame_ms.clear();
        }
        // Only the layout table of what is on screen (no screenshot).
        "dump" => {
            let dir = options.shots.clone().unwrap_or_else(|| PathBuf::from("."));
            tables.0.push(dir.join(format!("{arg}.layout.tsv")));
        }
        "shot" => {
            let dir = options.shots.clone().unwrap_or_else(|| PathBuf::from("."));
            tables.0.push(dir.join(format!("{arg}.layout.tsv")));
            let path = dir.join(format!("{arg}.png"));
            let _ = std::fs::write(
                dir.join(format!("{arg}.buttons.tsv")),
                button_table(&buttons),
            );
            commands
                .spawn(Screenshot::primary_window())
                .observe(save_to_disk(path));
            script.waiting_for_shot = true;
        }
        "quit" => drop(exit.write(AppExit::Success)),
        _ => error!(step, "Unknown script step."),
    }
}

/// `action<TAB>x<TAB>y<TAB>w<TAB>h` for every button, in screen pixels.
fn button_table(
    buttons: &Query<(&Action, &ComputedNode, &UiGlobalTransform), With<Button>>,
) -> String {
    let mut out = String::new();
    for (action, node, transform) in buttons {
        out.push_str(&row(&format!("{action:?}"), node, transform));
    }
    out
}

/// A line of the table: a name and where it is on screen (x, y, width, height).
fn row(name: &str, node: &ComputedNode, transform: &UiGlobalTransform) -> String {
    let (size, centre) = (node.size(), transform.translation);
    format!(
        "{name}\t{:.0}\t{:.0}\t{:.0}\t{:.0}\n",
        centre.x - size.x / 2.0,
        centre.y - size.y / 2.0,
        size.x,
        size.y
    )
}

/// Writes the button table to the layout file whenever the layout, the notice or the requests in
/// flight change: with a `Notice(…)` line while the agent is away, and a `Busy(N)` line while N
/// requests are unanswered (the screen's data is still coming, so its buttons may yet move).
fn dump_layout(
    options: Res<Options>,
    status: Res<AgentStatus>,
    buttons: Query<(&Action, &ComputedNode, &UiGlobalTransform), With<Button>>,
    changed: Query<(), Or<(Changed<ComputedNode>, Added<Button>)>>,
    notices: Query<Ref<Text>, With<OfflineNotice>>,
    pads: Query<(&ComputedNode, &UiGlobalTransform), With<WritingPad>>,
    data: Res<Data>,
) {
    let Some(file) = &options.layout_file else {
        return;
    };
    if changed.is_empty()
        && !notices.iter().any(|t| t.is_changed())
        && !status.is_changed()
        && !data.is_changed()
    {
        return;
    }
    let mut table = button_table(&buttons);
    for (node, transform) in &pads {
        table.push_str(&row("WritingPad", node, transform));
    }
    if let Some((strokes, _)) = &data.candidates {
        table.push_str(&format!("Candidates({strokes})\t0\t0\t0\t0\n"));
    }
    for t in notices.iter().filter(|t| !t.0.is_empty()) {
        table.push_str(&format!("Notice({})\t0\t0\t0\t0\n", t.0));
    }
    if status.pending > 0 {
        table.push_str(&format!("Busy({})\t0\t0\t0\t0\n", status.pending));
    }
    let tmp = file.with_extension("tmp");
    if std::fs::write(&tmp, table).is_ok() {
        let _ = std::fs::rename(tmp, file);
    }
}
