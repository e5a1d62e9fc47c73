//! The on-screen keyboard of search and 智能问答: letter keys for pinyin and initials, or a
//! writing pad (手写) for those who cannot type pinyin. The pad draws each stroke as the finger
//! moves; after each stroke the agent recognises the strokes so far (off the frame: the request
//! goes to the agent's worker) and a bar offers the characters, best first.

use bevy::input::touch::TouchPhase;
use bevy::prelude::*;
use bevy::window::WindowEvent;
use menpai_model::api::HandwritingInk;

use super::PageSystems;
use super::frame::Build;
use super::requests::Agent;
use crate::agent::{Data, Request};
use crate::nav::{Action, InputMode, KeepAwake, PenDown, Screen, WritingPad};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Ink>().init_resource::<PenDown>();
    app.add_message::<Typed>();
    // The window's events, in order (already there with a window; tests run without one).
    app.add_message::<WindowEvent>();
    app.add_systems(Update, write_on_pad.in_set(PageSystems::Press));
    // A session's strokes go with it.
    app.add_systems(OnEnter(Screen::Attract), forget_ink);
    app.add_systems(Update, edit_field.in_set(PageSystems::React));
    // Before the page is drawn: a rebuild then takes the dots with the old pad, never leaves
    // them pointing at it.
    app.add_systems(Update, paint_ink.in_set(PageSystems::Ask));
}

/// The field changed (search searches, the question box forgets its old answers).
#[derive(Message, Debug, Clone)]
pub(super) struct Typed;

const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
/// Longest text a field takes (a question may be a sentence).
const MAX_QUERY: usize = 24;
const MAX_QUESTION: usize = 60;
/// The pad's height, and its widest (landscape leaves room beside it).
const PAD_HEIGHT: f32 = 460.0;
const PAD_HEIGHT_LANDSCAPE: f32 = 300.0;
const PAD_MAX_WIDTH: f32 = 900.0;
/// Ink: a dot this wide every few pixels along a stroke.
const DOT: f32 = 12.0;
const DOT_STEP: f32 = 4.0;
/// Points kept per stroke (the agent takes up to 20,000 and thins them anyway).
const MAX_POINTS: usize = 2_000;
/// Strokes kept on the pad (the agent takes 48).
const MAX_STROKES: usize = 40;
/// Ink dots on the pad at most (each is a UI node; a scribble stops being drawn, not taken).
const MAX_DOTS: usize = 6_000;

/// A dot of ink on the pad.
#[derive(Component)]
struct InkDot;

/// The strokes on the pad, in pad pixels; kept outside the page so a rebuild redraws them.
#[derive(Resource, Default, Debug)]
struct Ink {
    strokes: Vec<Vec<[i32; 2]>>,
    /// The stroke being written.
    current: Option<Vec<[i32; 2]>>,
    /// Pad size the points are in.
    size: (u32, u32),
    /// Dots drawn of the strokes: (stroke, point) painted so far.
    painted: (usize, usize),
}

impl Ink {
    fn clear(&mut self) {
        self.strokes.clear();
        self.current = None;
    }

    fn all(&self) -> impl Iterator<Item = &Vec<[i32; 2]>> {
        self.strokes.iter().chain(self.current.iter())
    }
}

/// The text the current screen's keyboard edits.
fn field(session: &mut Session, screen: Screen) -> Option<(&mut String, usize)> {
    match screen {
        Screen::Search => Some((&mut session.query, MAX_QUERY)),
        Screen::Ask => Some((&mut session.question, MAX_QUESTION)),
        _ => None,
    }
}

/// The keyboard: tabs 拼音 / 手写, then letter keys or the pad with its candidate bar.
pub(super) fn keyboard(b: &mut Build) {
    let tabs = b.add(row(16.0));
    for (label, mode) in [
        ("拼音输入", InputMode::Pinyin),
        ("手写输入", InputMode::Handwriting),
    ] {
        let (fill, ink) = if b.session.input == mode {
            (PRIMARY, ON_PRIMARY)
        } else {
            (CHIP, PRIMARY_DARK)
        };
        b.add_to(tabs, button(label, Action::Input(mode), fill, ink));
    }
    match b.session.input {
        InputMode::Pinyin => letter_keys(b),
        InputMode::Handwriting => pad(b),
    }
}

fn letter_keys(b: &mut Build) {
    let keyboard = b.add((Node {
        width: percent(100),
        flex_direction: FlexDirection::Column,
        row_gap: px(12),
        align_items: AlignItems::Center,
        ..default()
    },));
    for keys in ROWS {
        let line = b.add_to(
            keyboard,
            Node {
                column_gap: px(10),
                ..default()
            },
        );
        for k in keys.chars() {
            b.add_to(line, key(&k.to_string(), Action::Key(k), 90.0));
        }
    }
    let last = b.add_to(
        keyboard,
        Node {
            column_gap: px(16),
            ..default()
        },
    );
    b.add_to(last, key("删除", Action::Backspace, 220.0));
    b.add_to(last, key("清空", Action::ClearQuery, 220.0));
}

/// The pad with its candidate bar and keys: stacked in portrait, side by side in landscape
/// (the pad left, candidates and keys right) so everything stays above the fold.
fn pad(b: &mut Build) {
    let landscape = b.landscape;
    let area = b.add((Node {
        width: percent(100),
        flex_direction: if landscape {
            FlexDirection::Row
        } else {
            FlexDirection::ColumnReverse
        },
        column_gap: px(24),
        row_gap: px(16),
        align_items: AlignItems::Start,
        ..default()
    },));
    let (pad_width, pad_height) = if landscape {
        (percent(55), PAD_HEIGHT_LANDSCAPE)
    } else {
        (percent(100), PAD_HEIGHT)
    };
    let holder = b.add_to(
        area,
        Node {
            width: pad_width,
            flex_direction: FlexDirection::Column,
            row_gap: px(16),
            align_items: AlignItems::Center,
            ..default()
        },
    );
    b.add_to(
        holder,
        (
            WritingPad,
            Node {
                width: percent(100),
                max_width: px(PAD_MAX_WIDTH),
                height: px(pad_height),
                border: UiRect::all(px(4)),
                border_radius: BorderRadius::all(px(20)),
                overflow: Overflow::clip(),
                ..default()
            },
            BorderColor::all(PRIMARY),
            BackgroundColor(CARD),
            children![
                // 田字格: a cross of faint guide lines, as in a copybook.
                (
                    Node {
                        position_type: PositionType::Absolute,
                        left: percent(50),
                        width: px(2),
                        height: percent(100),
                        ..default()
                    },
                    BackgroundColor(LINE),
                ),
                (
                    Node {
                        position_type: PositionType::Absolute,
                        top: percent(50),
                        width: percent(100),
                        height: px(2),
                        ..default()
                    },
                    BackgroundColor(LINE),
                ),
            ],
        ),
    );
    let side = b.add_to(
        area,
        Node {
            flex_grow: 1.0,
            flex_basis: if landscape { px(0) } else { auto() },
            width: if landscape { auto() } else { percent(100) },
            flex_direction: FlexDirection::Column,
            row_gap: px(16),
            ..default()
        },
    );
    let bar = b.add_to(
        side,
        Node {
            width: percent(100),
            min_height: px(100),
            flex_wrap: FlexWrap::Wrap,
            column_gap: px(10),
            row_gap: px(10),
            align_items: AlignItems::Center,
            ..default()
        },
    );
    // Under the pad in portrait; beside it, under the candidates, in landscape.
    let keys = b.add_to(if landscape { side } else { holder }, row(16.0));
    b.add_to(keys, key("重写", Action::ClearPad, 200.0));
    b.add_to(keys, key("删除", Action::Backspace, 200.0));
    b.add_to(keys, key("清空", Action::ClearQuery, 200.0));
    match b.data.candidates.as_ref().map(|(_, c)| c) {
        Some(Ok(list)) if !list.is_empty() => {
            for c in list.iter().take(10) {
                b.add_to(bar, key(c, Action::Candidate(c.clone()), 92.0));
            }
        }
        Some(Err(why)) => {
            b.add_to(bar, text(why.clone(), BODY, ACCENT));
        }
        _ => {
            b.add_to(bar, text("在写字板上写一个字，写完选字", BODY, MUTED));
        }
    }
}

pub(super) fn key(label: &str, action: Action, width: f32) -> impl Bundle {
    (
        Button,
        action,
        Node {
            width: px(width),
            height: px(100),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(px(14)),
            ..default()
        },
        BackgroundColor(PRIMARY_DARK),
        children![text(label, HEADING, ON_PRIMARY)],
    )
}

/// Keys, candidates and the tabs edit the current screen's field.
#[allow(clippy::too_many_arguments)]
fn edit_field(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut ink: ResMut<Ink>,
    screen: Res<State<Screen>>,
    mut typed: MessageWriter<Typed>,
    mut agent: Agent,
) {
    for action in actions.read() {
        let screen = *screen.get();
        match action {
            Action::Input(mode) => {
                session.input = *mode;
                forget(&mut ink, &mut data, &mut agent);
            }
            Action::ClearPad => forget(&mut ink, &mut data, &mut agent),
            Action::WriteStrokes(strokes) => {
                let (w, h) = (ink.size.0.max(1) as f32, ink.size.1.max(1) as f32);
                forget(&mut ink, &mut data, &mut agent);
                ink.strokes = strokes
                    .iter()
                    .take(MAX_STROKES)
                    .map(|s| {
                        s.iter()
                            .take(MAX_POINTS)
                            .map(|[x, y]| [(x * w) as i32, (y * h) as i32])
                            .collect()
                    })
                    .collect();
                recognise(&ink, &mut agent);
            }
            Action::Key(_)
            | Action::Backspace
            | Action::ClearQuery
            | Action::Candidate(_)
            | Action::TypeText(_) => {
                let Some((text, max)) = field(&mut session, screen) else {
                    continue;
                };
                match action {
                    Action::Key(c) => push(text, max, &c.to_string()),
                    Action::Candidate(c) => push(text, max, c),
                    Action::TypeText(s) => push(text, max, s),
                    Action::Backspace => drop(text.pop()),
                    _ => text.clear(),
                }
                if matches!(action, Action::Candidate(_)) {
                    forget(&mut ink, &mut data, &mut agent);
                }
                typed.write(Typed);
            }
            _ => {}
        }
    }
}

/// Wipes the pad and its candidates; a reply still on its way is dropped when it comes.
fn forget(ink: &mut Ink, data: &mut Data, agent: &mut Agent) {
    ink.clear();
    data.candidates = None;
    agent.status.ink_seq += 1;
}

/// A session's strokes go with it.
fn forget_ink(mut ink: ResMut<Ink>, mut pen: ResMut<PenDown>, mut agent: Agent) {
    ink.clear();
    pen.0 = false;
    agent.status.ink_seq += 1;
}

fn push(text: &mut String, max: usize, s: &str) {
    for c in s.chars() {
        if text.chars().count() < max {
            text.push(c);
        }
    }
}

/// Where the pointer is and whether the mouse button is down, between frames.
#[derive(Default)]
struct Pointer {
    cursor: Option<Vec2>,
    mouse_down: bool,
}

/// The pointer on the pad, event by event in the order they came (a loaded machine may get a
/// whole stroke within one frame): a press on the pad starts a stroke, moves add points, the
/// release ends it and asks the agent what the strokes so far are.
#[allow(clippy::too_many_arguments)]
fn write_on_pad(
    pads: Query<(&ComputedNode, &UiGlobalTransform), With<WritingPad>>,
    windows: Query<&Window>,
    mut events: MessageReader<WindowEvent>,
    mut pointer: Local<Pointer>,
    mut ink: ResMut<Ink>,
    mut pen: ResMut<PenDown>,
    mut agent: Agent,
    mut keep: ResMut<KeepAwake>,
    mut activity: MessageWriter<crate::session::Activity>,
) {
    let pad = pads.single().ok();
    let scale = windows.single().map_or(1.0, Window::scale_factor);
    match pad {
        Some((node, _)) => {
            let size = node.size() * node.inverse_scale_factor();
            let size = (size.x.round() as u32, size.y.round() as u32);
            if ink.size != size {
                ink.size = size;
            }
        }
        None => ink.current = None,
    }
    for event in events.read() {
        let (at, phase) = match event {
            WindowEvent::CursorMoved(m) => {
                pointer.cursor = Some(m.position);
                (m.position, pointer.mouse_down.then_some(TouchPhase::Moved))
            }
            WindowEvent::MouseButtonInput(b) if b.button == MouseButton::Left => {
                let Some(at) = pointer.cursor else { continue };
                pointer.mouse_down = b.state.is_pressed();
                let phase = if pointer.mouse_down {
                    TouchPhase::Started
                } else {
                    TouchPhase::Ended
                };
                (at, Some(phase))
            }
            WindowEvent::TouchInput(t) => (t.position, Some(t.phase)),
            _ => continue,
        };
        let (Some(phase), Some((node, transform))) = (phase, pad) else {
            continue;
        };
        let size = node.size() * node.inverse_scale_factor();
        let Some(local) = node
            .normalize_point(*transform, at * scale)
            .map(|n| (n + Vec2::splat(0.5)) * size)
        else {
            continue;
        };
        let inside = local.x >= 0.0 && local.y >= 0.0 && local.x < size.x && local.y < size.y;
        // A finger sliding off the pad keeps its stroke, held at the pad's edge.
        let point = [
            local.x.clamp(0.0, size.x - 1.0) as i32,
            local.y.clamp(0.0, size.y - 1.0) as i32,
        ];
        match phase {
            TouchPhase::Started if inside && ink.strokes.len() < MAX_STROKES => {
                activity.write(crate::session::Activity);
                ink.current = Some(vec![point]);
                keep.ask();
            }
            TouchPhase::Moved => {
                if let Some(stroke) = ink.current.as_mut()
                    && stroke.len() < MAX_POINTS
                    && stroke
                        .last()
                        .is_none_or(|p| (p[0] - point[0]).abs() + (p[1] - point[1]).abs() >= 2)
                {
                    stroke.push(point);
                    keep.ask();
                }
            }
            TouchPhase::Ended | TouchPhase::Canceled => {
                if let Some(mut stroke) = ink.current.take() {
                    if stroke.last() != Some(&point) && phase == TouchPhase::Ended {
                        stroke.push(point);
                    }
                    ink.strokes.push(stroke);
                    recognise(&ink, &mut agent);
                    keep.ask();
                }
            }
            _ => {}
        }
    }
    // Down exactly while a stroke is being written (a pad gone mid-stroke lets go of it).
    pen.0 = ink.current.is_some();
}

/// Asks the agent what the strokes on the pad are.
fn recognise(ink: &Ink, agent: &mut Agent) {
    agent.status.ink_seq += 1;
    let seq = agent.status.ink_seq;
    let (width, height) = ink.size;
    agent.ask(Request::Handwriting {
        ink: HandwritingInk {
            width,
            height,
            strokes: ink.strokes.clone(),
        },
        seq,
    });
}

/// Draws the strokes as dots: new points as they come, and everything again on a new pad.
fn paint_ink(
    mut commands: Commands,
    mut ink: ResMut<Ink>,
    pads: Query<(Entity, Ref<WritingPad>)>,
    dots: Query<Entity, With<InkDot>>,
    mut dots_drawn: Local<usize>,
) {
    let Ok((pad, fresh)) = pads.single() else {
        return;
    };
    let drawn: usize = ink.all().map(Vec::len).sum();
    let (mut from_stroke, mut from_point) = ink.painted;
    if fresh.is_added() || drawn < count_painted(&ink) {
        for d in &dots {
            commands.entity(d).try_despawn();
        }
        *dots_drawn = 0;
        (from_stroke, from_point) = (0, 0);
    }
    let strokes: Vec<&Vec<[i32; 2]>> = ink.all().collect();
    let mut painted = (from_stroke, from_point);
    for (s, stroke) in strokes.iter().enumerate().skip(from_stroke) {
        let start = if s == from_stroke { from_point } else { 0 };
        for i in start..stroke.len() {
            let to = Vec2::new(stroke[i][0] as f32, stroke[i][1] as f32);
            let from = if i == 0 {
                to
            } else {
                Vec2::new(stroke[i - 1][0] as f32, stroke[i - 1][1] as f32)
            };
            let steps = ((to - from).length() / DOT_STEP).ceil().max(1.0) as usize;
            let steps = steps.min(MAX_DOTS.saturating_sub(*dots_drawn));
            *dots_drawn += steps;
            for k in 1..=steps {
                let p = from.lerp(to, k as f32 / steps as f32);
                let dot = commands
                    .spawn((
                        InkDot,
                        Node {
                            position_type: PositionType::Absolute,
                            left: px(p.x - DOT / 2.0),
                            top: px(p.y - DOT / 2.0),
                            width: px(DOT),
                            height: px(DOT),
                            border_radius: BorderRadius::all(px(DOT / 2.0)),
                            ..default()
                        },
                        BackgroundColor(TEXT),
                    ))
                    .id();
                commands.entity(pad).add_child(dot);
            }
        }
        painted = (s, stroke.len());
    }
    if strokes.is_empty() {
        painted = (0, 0);
    }
    ink.painted = painted;
}

/// Points covered by `painted`.
fn count_painted(ink: &Ink) -> usize {
    let (s, p) = ink.painted;
    ink.all().take(s).map(Vec::len).sum::<usize>() + p
}
