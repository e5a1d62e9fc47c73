//! The citizen's session: what they chose, and its end. After a spell without a touch a
//! countdown warns; then everything typed or chosen is wiped and the attract loop returns.

use std::time::Duration;

use bevy::prelude::*;
use menpai_model::Audience;

use crate::Options;
use crate::agent::{AgentLink, AgentStatus, Data, Request, send};
use crate::nav::{Action, CategoryKind, KeepAwake, Screen};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<Session>()
        .init_resource::<Clock>()
        .add_message::<Activity>();
    app.add_systems(First, tick_clock);
    app.add_systems(Startup, setup_idle);
    app.add_systems(
        Update,
        (notice_touches, watch_idle, report_session_end).chain(),
    );
}

/// Everything a citizen chose since they touched the plate.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Session {
    pub history: Vec<Screen>,
    pub audience: Audience,
    pub category_kind: CategoryKind,
    pub category: Option<(CategoryKind, String)>,
    pub item: Option<String>,
    /// The page of the category's items shown (elder mode shows few per page).
    pub page: usize,
    pub situations: Vec<String>,
    pub query: String,
    /// The question on the 智能问答 screen.
    pub question: String,
    /// How the keyboard takes text (letters or the writing pad).
    pub input: crate::nav::InputMode,
    pub faq_category: Option<String>,
    pub elder: bool,
    pub printing: bool,
    pub staff_called: bool,
    pub rating: Option<u8>,
    pub rating_reasons: Vec<String>,
    pub rated: bool,
    /// The ticket taken here that the rating screen rates; `None`: a general rating.
    pub rating_ticket: Option<menpai_model::api::RatedTicket>,
    /// A ticket or a check-in was asked for (its answer lands in `Data`).
    pub taking_ticket: bool,
    pub checking_in: bool,
    /// The 帮代办 / 上门取件 request being filled in (phone digits included: wiped with the rest).
    pub assist: menpai_model::assist::AssistRequest,
    /// It was sent (its answer lands in `Data`).
    pub assist_sent: bool,
    /// The picture shown full screen over the guide (its SHA-256).
    pub picture: Option<String>,
    /// The 使用说明 card is open.
    pub how_to: bool,
    /// The booking being made at the plate (phone digits and code included: wiped with the
    /// rest).
    pub booking: Booking,
}

/// A booking at the plate, step by step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Booking {
    pub date: Option<String>,
    pub start: Option<String>,
    pub phone: String,
    pub code: String,
    /// The number (then the code) was sent; its answer lands in `Data`.
    pub sending: bool,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            history: Vec::new(),
            audience: Audience::Personal,
            category_kind: CategoryKind::Topic,
            category: None,
            item: None,
            page: 0,
            how_to: false,
            booking: Booking::default(),
            situations: Vec::new(),
            query: String::new(),
            question: String::new(),
            input: crate::nav::InputMode::default(),
            faq_category: None,
            elder: false,
            printing: false,
            staff_called: false,
            rating: None,
            rating_reasons: Vec::new(),
            rated: false,
            rating_ticket: None,
            taking_ticket: false,
            checking_in: false,
            assist: menpai_model::assist::AssistRequest::default(),
            assist_sent: false,
            picture: None,
        }
    }
}

/// Wall-clock time for the session and the slides. Bevy's real-time delta arrives a frame late
/// with pipelined rendering, which in a kiosk that sleeps between frames would hold a slide or
/// a countdown for a whole extra sleep. Tests step it by hand.
#[derive(Resource, Debug)]
pub struct Clock {
    pub now: std::time::Instant,
    /// Time since the previous frame.
    pub delta: Duration,
    /// When set, each frame advances the clock by this much instead of reading the wall clock.
    pub manual_step: Option<Duration>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            now: std::time::Instant::now(),
            delta: Duration::ZERO,
            manual_step: None,
        }
    }
}

fn tick_clock(mut clock: ResMut<Clock>) {
    let next = match clock.manual_step {
        Some(step) => clock.now + step,
        None => std::time::Instant::now(),
    };
    clock.delta = next.saturating_duration_since(clock.now);
    clock.now = next;
}

/// Someone did something: the idle clock starts over.
#[derive(Message, Debug, Clone, Copy)]
pub struct Activity;

/// Time since the last touch, in real time (virtual time caps long sleeps).
#[derive(Resource, Debug)]
pub struct Idle {
    pub since_touch: Duration,
    pub limit: Duration,
    pub countdown: Duration,
}

impl Idle {
    /// Seconds left on the countdown, once it has started.
    pub fn countdown_left(&self) -> Option<u32> {
        let over = self.since_touch.checked_sub(self.limit)?;
        Some(self.countdown.saturating_sub(over).as_secs_f32().ceil() as u32)
    }

    /// How long until something must change on screen (the countdown appearing or ticking).
    pub fn next_deadline(&self) -> Duration {
        match self.since_touch.checked_sub(self.limit) {
            None => self.limit - self.since_touch,
            Some(_) => Duration::from_millis(250),
        }
    }
}

fn setup_idle(mut commands: Commands, options: Res<Options>) {
    commands.insert_resource(Idle {
        since_touch: Duration::ZERO,
        limit: Duration::from_secs_f32(options.idle_secs),
        countdown: Duration::from_secs_f32(options.countdown_secs),
    });
}

fn notice_touches(
    touches: Res<Touches>,
    mouse: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    mut activity: MessageWriter<Activity>,
) {
    if touches.any_just_pressed()
        || mouse.get_just_pressed().next().is_some()
        || keys.get_just_pressed().next().is_some()
    {
        activity.write(Activity);
    }
}

/// The countdown overlay, and its line of text.
#[derive(Component)]
struct CountdownOverlay;

#[derive(Component)]
struct CountdownText;
fn watch_idle(
    mut commands: Commands,
    clock: Res<Clock>,
    mut idle: ResMut<Idle>,
    mut activity: MessageReader<Activity>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut large: ResMut<crate::theme::text_size::LargeText>,
    overlay: Query<Entity, With<CountdownOverlay>>,
    mut overlay_text: Query<&mut Text, With<CountdownText>>,
    mut keep: ResMut<KeepAwake>,
) {
    if activity.read().count() > 0 {
        idle.since_touch = Duration::ZERO;
        for e in &overlay {
            commands.entity(e).despawn();
            keep.ask();
        }
        return;
    }
    if *screen.get() == Screen::Attract {
        idle.since_touch = Duration::ZERO;
        return;
    }
    idle.since_touch += clock.delta;
    match idle.countdown_left() {
        None => {}
        Some(0) => {
            // Wipe: search text, choices, checklist, large text; back to the attract loop.
            *session = Session::default();
            data.guide = None;
            data.checklist = None;
            data.search = None;
            // The question asked and the characters written are the citizen's own.
            data.answers = None;
            data.candidates = None;
            // A reading that sounds is stopped as the screen changes; a failure is forgotten.
            if matches!(data.reading, Some(Err(_))) {
                data.reading = None;
            }
            data.items = None;
            data.printed = None;
            data.error = None;
            data.staff_called = false;
            data.rated = false;
            data.staff_call_failed = None;
            data.help_call = None;
            data.rating_failed = None;
            // A ticket or check-in shows a masked name and a number: not for the next person.
            data.ticket = None;
            data.checkin = None;
            data.assist = None;
            data.booking_days = None;
            data.booking_sent = None;
            data.booked = None;
            large.0 = false;
            idle.since_touch = Duration::ZERO;
            for e in &overlay {
                commands.entity(e).despawn();
            }
            keep.ask();
            next.set(Screen::Attract);
        }
        Some(left) => {
            let message = format!("{left} 秒后将清除您的操作并返回首页");
            if overlay.is_empty() {
                commands.spawn((
                    CountdownOverlay,
                    GlobalZIndex(10),
                    Node {
                        position_type: PositionType::Absolute,
                        width: percent(100),
                        height: percent(100),
                        justify_content: JustifyContent::Center,
                        align_items: AlignItems::Center,
                        ..default()
                    },
                    BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55)),
                    children![(
                        BackgroundColor(CARD),
                        Node {
                            width: percent(80),
                            flex_direction: FlexDirection::Column,
                            padding: UiRect::all(px(48)),
                            row_gap: px(32),
                            align_items: AlignItems::Center,
                            border_radius: BorderRadius::all(px(24)),
                            ..default()
                        },
                        children![
                            text("还在办理吗？", TITLE, TEXT),
                            (CountdownText, text(message, BODY, MUTED)),
                            primary_button("继续办理", Action::Continue),
                        ],
                    )],
                ));
            } else {
                for mut t in &mut overlay_text {
                    if t.0 != message {
                        **t = message.clone();
                    }
                }
            }
        }
    }
}

/// A session runs from leaving the attract loop to coming back to it; its length goes to the
/// agent as an anonymous usage count for the hall's statistics.
fn report_session_end(
    clock: Res<Clock>,
    screen: Res<State<Screen>>,
    mut started: Local<Option<std::time::Instant>>,
    link: Option<Res<AgentLink>>,
    status: Option<ResMut<AgentStatus>>,
) {
    let attract = *screen.get() == Screen::Attract;
    match *started {
        None if !attract => *started = Some(clock.now),
        Some(at) if attract => {
            *started = None;
            if let (Some(link), Some(mut status)) = (link, status) {
                let seconds = clock.now.saturating_duration_since(at).as_secs();
                send(&link, &mut status, Request::SessionEnded { seconds });
            }
        }
        _ => {}
    }
}
