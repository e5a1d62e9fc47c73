//! The screens: a `Screen` state, a file per screen, and what every page shares — the top bar
//! (hall, time, offline notice), the scrolling body, the bottom bar (back, home, large text).

mod attract;
mod browse;
mod checkin;
mod checklist;
mod guide;
mod help;
mod home;
mod items;
mod map;
mod outlets;
mod phone;
mod queue;
mod rating;
mod search;
mod ticket;

use bevy::input::mouse::{MouseScrollUnit, MouseWheel};
use bevy::prelude::*;
use menpai_model::Audience;

use crate::agent::{self, AgentLink, AgentPush, AgentStatus, Data, Request};
use crate::session::{Activity, Session};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(crate) fn plugin(app: &mut App) {
    app.init_state::<Screen>();
    app.add_plugins(attract::plugin);
    app.add_message::<Action>();
    app.add_systems(
        Update,
        (
            press_buttons,
            perform_actions,
            on_push,
            ask_for_missing_plan,
            refresh,
            update_clock,
            show_offline,
            scroll,
        )
            .chain(),
    );
    for screen in Screen::ALL {
        app.add_systems(OnEnter(screen), (enter, request_data).chain());
    }
}

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// The attract loop of promotional slides.
    #[default]
    Attract,
    Home,
    /// Categories of one audience.
    Browse,
    /// Items of a category.
    Items,
    Guide,
    Checklist,
    Search,
    Map,
    Outlets,
    Help,
    Rating,
    /// Continue on your phone.
    Phone,
    /// The queue panel: calls, waiting, take a ticket.
    Queue,
    /// The ticket just taken.
    Ticket,
    /// Appointment check-in by scanning its QR code.
    CheckIn,
}

impl Screen {
    pub const ALL: [Screen; 15] = [
        Screen::Attract,
        Screen::Home,
        Screen::Browse,
        Screen::Items,
        Screen::Guide,
        Screen::Checklist,
        Screen::Search,
        Screen::Map,
        Screen::Outlets,
        Screen::Help,
        Screen::Rating,
        Screen::Phone,
        Screen::Queue,
        Screen::Ticket,
        Screen::CheckIn,
    ];

    /// The title in the top bar.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Attract => "",
            Screen::Home => "首页",
            Screen::Browse => "分类查找",
            Screen::Items => "事项列表",
            Screen::Guide => "办事指南",
            Screen::Checklist => "我的材料清单",
            Screen::Search => "搜索事项",
            Screen::Map => "大厅地图",
            Screen::Outlets => "附近网点",
            Screen::Help => "有事请教",
            Screen::Rating => "服务评价",
            Screen::Phone => "手机继续办",
            Screen::Queue => "排队取号",
            Screen::Ticket => "我的排队号",
            Screen::CheckIn => "预约签到",
        }
    }

    /// The name tests and scripts use.
    pub fn from_name(s: &str) -> Option<Screen> {
        Screen::ALL
            .into_iter()
            .find(|x| format!("{x:?}").eq_ignore_ascii_case(s))
    }
}

/// Which kind of category a browse screen lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CategoryKind {
    #[default]
    Topic,
    LifeEvent,
    Department,
}

/// What a tap does. Buttons carry one; scripts and tests send them as messages.
#[derive(Component, Message, Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave the attract loop.
    Start,
    /// Stay: only resets the idle clock (the countdown's button).
    Continue,
    Go(Screen),
    Back,
    Home,
    ToggleElder,
    BrowseAudience(Audience),
    BrowseKind(CategoryKind),
    OpenCategory(CategoryKind, String),
    OpenItem(String),
    OpenChecklist,
    ToggleSituation(String),
    PrintChecklist,
    ShowWindowsOnMap,
    Key(char),
    Backspace,
    ClearQuery,
    FaqCategory(String),
    CallStaff,
    Rate(u8),
    RateReason(String),
    SubmitRating,
    /// Take a ticket for a business type (its prefix).
    TakeTicket(String),
    /// Check in the appointment a scanned code carries.
    CheckIn(String),
}

/// Marks the page root of the current screen.
#[derive(Component)]
pub struct PageRoot;

/// The part of the page a screen fills; rebuilt when data or the session change.
#[derive(Component)]
pub struct PageBody;

/// The time in the top bar.
#[derive(Component)]
struct Clock;

/// Lists that scroll by touch drag or wheel.
#[derive(Component)]
pub struct Scrolls;

/// Set on entering a screen so the body is built once even without new data.
#[derive(Resource, Default)]
struct NeedsBuild(bool);

fn enter(
    mut commands: Commands,
    screen: Res<State<Screen>>,
    data: Res<Data>,
    status: Res<AgentStatus>,
    options: Res<crate::Options>,
) {
    let screen = *screen.get();
    commands.init_resource::<NeedsBuild>();
    commands.insert_resource(NeedsBuild(true));
    if screen == Screen::Attract {
        commands.spawn((DespawnOnExit(screen), PageRoot, full_screen(), PageBody));
        return;
    }
    let hall = data
        .home
        .as_ref()
        .and_then(|h| h.hall.as_ref())
        .map(|h| h.name.clone())
        .unwrap_or_else(|| "数字政务门牌".into());
    let offline = !status.online;
    commands.spawn((
        DespawnOnExit(screen),
        PageRoot,
        full_screen(),
        BackgroundColor(GROUND),
        children![
            top_bar(
                hall,
                screen.title(),
                offline,
                clock_text(options.now.as_deref())
            ),
            (
                PageBody,
                Scrolls,
                ScrollPosition::default(),
                Node {
                    width: percent(100),
                    flex_grow: 1.0,
                    min_height: px(0),
                    flex_direction: FlexDirection::Column,
                    padding: UiRect::all(px(32)),
                    row_gap: px(24),
                    overflow: Overflow::scroll_y(),
                    ..default()
                },
            ),
            bottom_bar(screen),
        ],
    ));
}

fn full_screen() -> Node {
    Node {
        width: percent(100),
        height: percent(100),
        flex_direction: FlexDirection::Column,
        ..default()
    }
}

fn top_bar(hall: String, title: &str, offline: bool, clock: String) -> impl Bundle {
    let notice = if offline { OFFLINE } else { "" };
    (
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            padding: UiRect::axes(px(32), px(20)),
            row_gap: px(6),
            ..default()
        },
        BackgroundColor(PRIMARY),
        children![
            (
                Node {
                    width: percent(100),
                    justify_content: JustifyContent::SpaceBetween,
                    ..default()
                },
                children![
                    text(hall, BODY, ON_PRIMARY),
                    (Clock, text(clock, BODY, ON_PRIMARY))
                ],
            ),
            text(title, TITLE, ON_PRIMARY),
            (OfflineNotice, text(notice, SMALL, HIGHLIGHT)),
        ],
    )
}

/// The plain notice shown while the agent is away.
#[derive(Component)]
pub struct OfflineNotice;

const OFFLINE: &str = "终端服务暂时连不上，正在自动重连…";

fn show_offline(status: Res<AgentStatus>, mut notices: Query<&mut Text, With<OfflineNotice>>) {
    let wanted = if status.online { "" } else { OFFLINE };
    for mut t in &mut notices {
        if t.0 != wanted {
            debug!(online = status.online, "Offline notice changes.");
            **t = wanted.to_owned();
        }
    }
}

fn bottom_bar(screen: Screen) -> impl Bundle {
    let back = if screen == Screen::Home {
        "帮助"
    } else {
        "返回"
    };
    let back_action = if screen == Screen::Home {
        Action::Go(Screen::Help)
    } else {
        Action::Back
    };
    (
        Node {
            width: percent(100),
            padding: UiRect::axes(px(32), px(20)),
            column_gap: px(24),
            justify_content: JustifyContent::SpaceBetween,
            ..default()
        },
        BackgroundColor(CARD),
        children![
            (
                Node {
                    width: percent(31),
                    ..default()
                },
                children![plain_button(format!("‹ {back}"), back_action)]
            ),
            (
                Node {
                    width: percent(31),
                    ..default()
                },
                children![primary_button("首页", Action::Home)]
            ),
            (
                Node {
                    width: percent(31),
                    ..default()
                },
                children![plain_button("大字模式", Action::ToggleElder)]
            ),
        ],
    )
}

/// Local time (China has one zone and no daylight saving), or the fixed time of a test.
pub fn clock_text(fixed: Option<&str>) -> String {
    let now = fixed
        .and_then(|f| chrono::NaiveDateTime::parse_from_str(f, "%Y-%m-%dT%H:%M").ok())
        .unwrap_or_else(|| (chrono::Utc::now() + chrono::Duration::hours(8)).naive_utc());
    now.format("%m月%d日 %H:%M").to_string()
}

fn update_clock(
    mut clocks: Query<&mut Text, With<Clock>>,
    mut last: Local<String>,
    options: Res<crate::Options>,
) {
    let now = clock_text(options.now.as_deref());
    if *last == now {
        return;
    }
    for mut t in &mut clocks {
        **t = now.clone();
    }
    *last = now;
}

/// Turns presses into actions (a press, not a release, so it feels immediate on glass).
fn press_buttons(
    buttons: Query<(&Interaction, &Action), (Changed<Interaction>, With<Button>)>,
    mut out: MessageWriter<Action>,
) {
    for (interaction, action) in &buttons {
        if *interaction == Interaction::Pressed {
            out.write(action.clone());
        }
    }
}

/// What each action does to the session, the screen and the agent.
fn perform_actions(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
    mut data: ResMut<Data>,
    mut ui_scale: ResMut<UiScale>,
    mut activity: MessageWriter<Activity>,
    mut keep: ResMut<crate::wake::KeepAwake>,
) {
    let current = *screen.get();
    let link = link.as_deref();
    for action in actions.read() {
        debug!(?action, screen = ?current, "Action.");
        activity.write(Activity);
        keep.ask();
        let mut go = |to: Screen, session: &mut Session| {
            if to != current {
                session.history.push(current);
                next.set(to);
            }
        };
        match action.clone() {
            Action::Continue => {}
            Action::Start => {
                session.history.clear();
                go(Screen::Home, &mut session);
                session.history.clear();
            }
            Action::Go(s) => {
                if s == Screen::CheckIn {
                    // A fresh visit asks for a scan.
                    session.checking_in = false;
                    data.checkin = None;
                }
                go(s, &mut session)
            }
            Action::Back => {
                let to = session.history.pop().unwrap_or(Screen::Home);
                if to != current {
                    next.set(to);
                }
            }
            Action::Home => {
                go(Screen::Home, &mut session);
                session.history.clear();
            }
            Action::ToggleElder => {
                session.elder = !session.elder;
                ui_scale.0 = if session.elder { 1.2 } else { 1.0 };
            }
            Action::BrowseAudience(a) => {
                session.audience = a;
                go(Screen::Browse, &mut session);
            }
            Action::BrowseKind(k) => session.category_kind = k,
            Action::OpenCategory(kind, value) => {
                session.category = Some((kind, value));
                go(Screen::Items, &mut session);
            }
            Action::OpenItem(id) => {
                session.item = Some(id);
                session.situations.clear();
                session.printing = false;
                data.printed = None;
                data.guide = None;
                go(Screen::Guide, &mut session);
            }
            Action::OpenChecklist => go(Screen::Checklist, &mut session),
            Action::ToggleSituation(id) => {
                // A different list from the one printed.
                session.printing = false;
                data.printed = None;
                if let Some(i) = session.situations.iter().position(|s| *s == id) {
                    session.situations.remove(i);
                } else {
                    session.situations.push(id);
                }
                if let Some(item) = session.item.clone() {
                    ask(
                        link,
                        &mut status,
                        Request::Checklist {
                            item,
                            situations: session.situations.clone(),
                        },
                    );
                }
            }
            Action::PrintChecklist => {
                if let Some(item) = session.item.clone() {
                    data.printed = None;
                    session.printing = true;
                    ask(
                        link,
                        &mut status,
                        Request::PrintChecklist {
                            item,
                            situations: session.situations.clone(),
                        },
                    );
                }
            }
            Action::ShowWindowsOnMap => go(Screen::Map, &mut session),
            Action::Key(c) => {
                if session.query.chars().count() < 24 {
                    session.query.push(c);
                }
                search(&session, &mut status, link);
            }
            Action::Backspace => {
                session.query.pop();
                search(&session, &mut status, link);
            }
            Action::ClearQuery => {
                session.query.clear();
                data.search = None;
            }
            Action::FaqCategory(c) => session.faq_category = Some(c),
            Action::CallStaff => {
                session.staff_called = true;
                data.staff_called = false;
                data.staff_call_failed = None;
                ask(
                    link,
                    &mut status,
                    Request::CallStaff {
                        context: Some(format!("{current:?}")),
                    },
                );
            }
            Action::TakeTicket(prefix) => {
                session.taking_ticket = true;
                data.ticket = None;
                ask(link, &mut status, Request::TakeTicket { prefix });
                go(Screen::Ticket, &mut session);
            }
            Action::CheckIn(token) => {
                session.checking_in = true;
                data.checkin = None;
                ask(link, &mut status, Request::CheckIn { token });
                go(Screen::CheckIn, &mut session);
            }
            Action::Rate(level) => session.rating = Some(level),
            Action::RateReason(r) => {
                if let Some(i) = session.rating_reasons.iter().position(|x| *x == r) {
                    session.rating_reasons.remove(i);
                } else {
                    session.rating_reasons.push(r);
                }
            }
            Action::SubmitRating => {
                if let Some(level) = session.rating {
                    session.rated = true;
                    data.rated = false;
                    data.rating_failed = None;
                    let (reasons, item) = (session.rating_reasons.clone(), session.item.clone());
                    ask(
                        link,
                        &mut status,
                        Request::Rate {
                            level,
                            reasons,
                            item,
                        },
                    );
                }
            }
        }
    }
}

fn ask(link: Option<&AgentLink>, status: &mut AgentStatus, r: Request) {
    if let Some(l) = link {
        agent::send(l, status, r);
    }
}

/// Sends the query as it stands; answers to older queries are dropped when they arrive.
fn search(session: &Session, status: &mut AgentStatus, link: Option<&AgentLink>) {
    if session.query.is_empty() {
        return;
    }
    status.search_seq += 1;
    let seq = status.search_seq;
    ask(
        link,
        status,
        Request::Search {
            q: session.query.clone(),
            seq,
        },
    );
}

/// Asks for what a screen shows when it is entered.
fn request_data(
    screen: Res<State<Screen>>,
    session: Res<Session>,
    mut data: ResMut<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
) {
    // A refusal belongs to the screen that caused it.
    data.error = None;
    let Some(link) = link else { return };
    let hall = data
        .home
        .as_ref()
        .and_then(|h| h.hall.as_ref())
        .map(|h| h.id.clone());
    for r in requests_for(*screen.get(), &session, hall) {
        agent::send(&link, &mut status, r);
    }
}

/// The requests a screen needs, given the session.
pub fn requests_for(screen: Screen, session: &Session, hall: Option<String>) -> Vec<Request> {
    match screen {
        Screen::Attract | Screen::Home | Screen::Browse | Screen::Phone => vec![Request::Home],
        Screen::Items => {
            let mut q = vec![
                ("audience".to_owned(), session.audience.label().to_owned()),
                ("limit".into(), "200".into()),
            ];
            if let Some((kind, value)) = &session.category {
                let key = match kind {
                    CategoryKind::Topic => "topic",
                    CategoryKind::LifeEvent => "life_event",
                    CategoryKind::Department => "department",
                };
                q.push((key.into(), value.clone()));
            }
            vec![Request::Items(q)]
        }
        Screen::Guide => session
            .item
            .iter()
            .map(|i| Request::Guide(i.clone()))
            .collect(),
        Screen::Checklist => session
            .item
            .iter()
            .map(|i| Request::Checklist {
                item: i.clone(),
                situations: session.situations.clone(),
            })
            .collect(),
        Screen::Search => Vec::new(),
        // Without the hall yet, ask for home first; `ask_for_missing_plan` follows up.
        Screen::Map => vec![hall.map(Request::FloorPlan).unwrap_or(Request::Home)],
        Screen::Outlets => vec![Request::Outlets],
        Screen::Help => vec![Request::Faqs],
        Screen::Rating | Screen::Ticket => Vec::new(),
        Screen::Queue => vec![Request::Queue],
        // A fresh visit asks for a scan; a scan that brought us here keeps its answer.
        Screen::CheckIn => Vec::new(),
    }
}

/// The map needs the hall's id from home; when home arrived late, ask for the plan now.
fn ask_for_missing_plan(
    screen: Res<State<Screen>>,
    data: Res<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
) {
    if *screen.get() != Screen::Map
        || !data.is_changed()
        || data.plan.is_some()
        || status.pending > 0
    {
        return;
    }
    if let (Some(link), Some(hall)) = (link, data.home.as_ref().and_then(|h| h.hall.as_ref())) {
        agent::send(&link, &mut status, Request::FloorPlan(hall.id.clone()));
    }
}

/// Reacts to what the agent pushes: new content reloads the screen; the stream returning
/// after an outage reloads it too; calls refresh the queue panel; an appointment code scanned
/// on any screen checks it in.
fn on_push(
    mut pushes: MessageReader<AgentPush>,
    screen: Res<State<Screen>>,
    session: Res<Session>,
    mut data: ResMut<Data>,
    link: Option<Res<AgentLink>>,
    mut status: ResMut<AgentStatus>,
    mut actions: MessageWriter<Action>,
    mut keep: ResMut<crate::wake::KeepAwake>,
) {
    use menpai_model::api::AgentEvent;
    for push in pushes.read() {
        let reload = match push {
            AgentPush::Connected | AgentPush::Event(AgentEvent::ContentChanged { .. }) => true,
            AgentPush::Event(AgentEvent::QueueCalled { call }) => {
                data.last_call = Some(call.clone());
                *screen.get() == Screen::Queue
            }
            AgentPush::Event(AgentEvent::QueueChanged) => *screen.get() == Screen::Queue,
            AgentPush::Event(AgentEvent::Scan { payload, .. }) => {
                if let Some(token) = menpai_model::appointment::token_in_scan(payload) {
                    actions.write(Action::CheckIn(token.to_owned()));
                    keep.ask();
                }
                false
            }
            AgentPush::Disconnected | AgentPush::Event(_) => false,
        };
        if reload && let Some(link) = &link {
            let hall = data
                .home
                .as_ref()
                .and_then(|h| h.hall.as_ref())
                .map(|h| h.id.clone());
            for r in requests_for(*screen.get(), &session, hall)
                .into_iter()
                .chain([Request::Home])
            {
                agent::send(link, &mut status, r);
            }
        }
    }
}

/// What a screen's build function gets.
pub struct Build<'a, 'w, 's> {
    pub commands: &'a mut Commands<'w, 's>,
    pub body: Entity,
    pub data: &'a Data,
    pub session: &'a Session,
    pub images: Option<&'a mut Assets<Image>>,
    pub online: bool,
}

/// Rebuilds the current screen's body when its data or the session changed.
fn refresh(
    mut commands: Commands,
    screen: Res<State<Screen>>,
    data: Res<Data>,
    session: Res<Session>,
    status: Res<AgentStatus>,
    needs: Option<ResMut<NeedsBuild>>,
    bodies: Query<Entity, With<PageBody>>,
    mut images: Option<ResMut<Assets<Image>>>,
    mut keep: ResMut<crate::wake::KeepAwake>,
) {
    let Some(mut needs) = needs else { return };
    if !(needs.0 || data.is_changed() || session.is_changed() || status.is_changed()) {
        return;
    }
    needs.0 = false;
    keep.ask();
    let Ok(body) = bodies.single() else { return };
    commands.entity(body).despawn_children();
    let mut b = Build {
        commands: &mut commands,
        body,
        data: &data,
        session: &session,
        images: images.as_deref_mut(),
        online: status.online,
    };
    match *screen.get() {
        Screen::Attract => attract::build(&mut b),
        Screen::Home => home::build(&mut b),
        Screen::Browse => browse::build(&mut b),
        Screen::Items => items::build(&mut b),
        Screen::Guide => guide::build(&mut b),
        Screen::Checklist => checklist::build(&mut b),
        Screen::Search => search::build(&mut b),
        Screen::Map => map::build(&mut b),
        Screen::Outlets => outlets::build(&mut b),
        Screen::Help => help::build(&mut b),
        Screen::Rating => rating::build(&mut b),
        Screen::Phone => phone::build(&mut b),
        Screen::Queue => queue::build(&mut b),
        Screen::Ticket => ticket::build(&mut b),
        Screen::CheckIn => checkin::build(&mut b),
    }
}

impl Build<'_, '_, '_> {
    /// Adds a child to the body.
    pub fn add(&mut self, bundle: impl Bundle) -> Entity {
        let id = self.commands.spawn(bundle).id();
        self.commands.entity(self.body).add_child(id);
        id
    }

    /// Adds a child to `parent`.
    pub fn add_to(&mut self, parent: Entity, bundle: impl Bundle) -> Entity {
        let id = self.commands.spawn(bundle).id();
        self.commands.entity(parent).add_child(id);
        id
    }

    /// A phone page's address (`/h/…`, `/i/…`): the short links every QR code carries.
    pub fn phone_url(&self, path: &str) -> String {
        let base = self
            .data
            .home
            .as_ref()
            .map(|h| h.phone_base_url.as_str())
            .unwrap_or_default();
        format!("{base}{path}")
    }

    /// This terminal's hall id ("" before the home data arrives).
    pub fn hall_id(&self) -> String {
        self.data
            .home
            .as_ref()
            .and_then(|h| h.hall.as_ref())
            .map(|h| h.id.clone())
            .unwrap_or_default()
    }

    /// A QR code image node, `side` pixels square.
    pub fn qr(&mut self, payload: &str, side: f32) -> impl Bundle + use<> {
        let handle = self
            .images
            .as_mut()
            .map(|images| images.add(crate::qr::image(payload)))
            .unwrap_or_default();
        (
            ImageNode::new(handle),
            Node {
                width: px(side),
                height: px(side),
                ..default()
            },
        )
    }

    /// A plain line saying what is being waited for, or what went wrong.
    pub fn waiting(&mut self, what: &str) {
        let message = match (&self.data.error, self.online) {
            (_, false) => "暂时连不上终端服务，恢复后会自动显示。".to_owned(),
            (Some(e), _) => e.clone(),
            (None, _) => format!("正在读取{what}…"),
        };
        self.add(text(message, BODY, MUTED));
    }
}

/// Touch drag and mouse wheel scroll the body.
fn scroll(
    touches: Res<Touches>,
    mut wheel: MessageReader<MouseWheel>,
    mut lists: Query<(&mut ScrollPosition, &ComputedNode), With<Scrolls>>,
) {
    let mut dy: f32 = touches.iter().map(|t| t.delta().y).sum();
    for w in wheel.read() {
        dy += match w.unit {
            MouseScrollUnit::Line => w.y * 120.0,
            MouseScrollUnit::Pixel => w.y,
        };
    }
    if dy == 0.0 {
        return;
    }
    for (mut pos, node) in &mut lists {
        let max = ((node.content_size() - node.size()) * node.inverse_scale_factor())
            .y
            .max(0.0);
        pos.y = (pos.y - dy).clamp(0.0, max);
    }
}
