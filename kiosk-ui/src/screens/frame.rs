//! The page frame every screen shares: the top bar (hall, clock, title, offline notice), the
//! scrolling body a screen fills, and the bottom bar (back, home, large text).

use std::collections::HashMap;

use bevy::input::mouse::{MouseScrollUnit, MouseWheel};
use bevy::prelude::*;

use super::PageSystems;
use super::read_aloud::{self, ReadButton};
use crate::agent::{AgentStatus, Data};
use crate::nav::{Action, KeepAwake, OfflineNotice, PageBody, PageRoot, PenDown, Screen, Scrolls};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::text_size::LargeText;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Pages>();
    app.add_systems(
        Update,
        (
            refresh,
            update_clock,
            show_offline,
            label_elder_button,
            scroll,
        )
            .chain()
            .in_set(PageSystems::Draw),
    );
}

/// How each screen fills its body; each screen's plugin registers its own with [`page`].
#[derive(Resource, Default)]
struct Pages(HashMap<Screen, fn(&mut Build)>);

/// Registers how `screen` builds its body.
pub(super) fn page(app: &mut App, screen: Screen, build: fn(&mut Build)) {
    app.init_resource::<Pages>();
    app.world_mut()
        .resource_mut::<Pages>()
        .0
        .insert(screen, build);
}

/// The time in the top bar.
#[derive(Component)]
struct Clock;

/// Set on entering a screen so the body is built once even without new data.
#[derive(Resource, Default)]
struct NeedsBuild(bool);

/// Spawns the entered screen's frame with an empty body.
pub(super) fn enter(
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
    let notice = notice(status.online, &data);
    commands.spawn((
        DespawnOnExit(screen),
        PageRoot,
        full_screen(),
        BackgroundColor(GROUND),
        children![
            top_bar(
                hall,
                screen.title(),
                notice,
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

fn top_bar(hall: String, title: &str, notice: String, clock: String) -> impl Bundle {
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

const OFFLINE: &str = "终端服务暂时连不上，正在自动重连…";
const TRAINING: &str = "培训模式：在这里的取号、呼叫和评价都不是真实办理";

/// The line under the title: the agent out of reach, else an operator's maintenance notice,
/// else training mode, else nothing.
fn notice(online: bool, data: &Data) -> String {
    let home = data.home.as_ref();
    if !online {
        return OFFLINE.to_owned();
    }
    if let Some(text) = home.and_then(|h| h.maintenance.as_ref()) {
        return text.clone();
    }
    if home.is_some_and(|h| h.training) {
        return TRAINING.to_owned();
    }
    String::new()
}

fn show_offline(
    status: Res<AgentStatus>,
    data: Res<Data>,
    mut notices: Query<&mut Text, With<OfflineNotice>>,
) {
    let wanted = notice(status.online, &data);
    for mut t in &mut notices {
        if t.0 != wanted {
            debug!(
                online = status.online,
                "The notice under the title changes."
            );
            **t = wanted.clone();
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
                    width: percent(24),
                    ..default()
                },
                children![plain_button(format!("‹ {back}"), back_action)]
            ),
            (
                Node {
                    width: percent(24),
                    ..default()
                },
                children![primary_button("首页", Action::Home)]
            ),
            (
                Node {
                    width: percent(24),
                    ..default()
                },
                children![(ReadButton, plain_button(read_aloud::READ, Action::ReadPage))]
            ),
            (
                Node {
                    width: percent(24),
                    ..default()
                },
                children![(ElderButton, plain_button(LARGER, Action::ToggleElder))]
            ),
        ],
    )
}

/// The bottom bar's text size button: 大字 turns elder mode on, 小字 off.
#[derive(Component)]
struct ElderButton;

const LARGER: &str = "大字";
const SMALLER: &str = "小字";

fn label_elder_button(
    large: Res<LargeText>,
    buttons: Query<&Children, With<ElderButton>>,
    mut texts: Query<&mut Text>,
) {
    let label = if large.0 { SMALLER } else { LARGER };
    for children in &buttons {
        for c in children.iter() {
            if let Ok(mut t) = texts.get_mut(c)
                && t.0 != label
            {
                t.0 = label.into();
            }
        }
    }
}

/// Local time (China has one zone and no daylight saving), or the fixed time of a test.
fn clock_text(fixed: Option<&str>) -> String {
    let now = fixed
        .and_then(|f| chrono::NaiveDateTime::parse_from_str(f, "%Y-%m-%dT%H:%M").ok())
        .unwrap_or_else(menpai_model::queue::china_now);
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

/// What a screen's build function gets.
pub(super) struct Build<'a, 'w, 's> {
    pub(super) commands: &'a mut Commands<'w, 's>,
    pub(super) body: Entity,
    pub(super) data: &'a Data,
    pub(super) session: &'a Session,
    pub(super) images: Option<&'a mut Assets<Image>>,
    pub(super) online: bool,
    /// A 1920×1080 screen.
    pub(super) landscape: bool,
    /// In landscape, the right column `add` moves to at `right_column`.
    right: Option<Entity>,
}

/// Rebuilds the current screen's body when its data or the session changed.
fn refresh(
    mut commands: Commands,
    screen: Res<State<Screen>>,
    pages: Res<Pages>,
    data: Res<Data>,
    session: Res<Session>,
    status: Res<AgentStatus>,
    needs: Option<ResMut<NeedsBuild>>,
    bodies: Query<Entity, With<PageBody>>,
    mut images: Option<ResMut<Assets<Image>>>,
    mut keep: ResMut<KeepAwake>,
    options: Res<crate::Options>,
) {
    let Some(mut needs) = needs else { return };
    if !(needs.0 || data.is_changed() || session.is_changed() || status.is_changed()) {
        return;
    }
    needs.0 = false;
    keep.ask();
    let Ok(body) = bodies.single() else { return };
    commands.entity(body).despawn_children();
    let Some(build) = pages.0.get(screen.get()) else {
        warn!(screen = ?screen.get(), "No page registered for this screen.");
        return;
    };
    build(&mut Build {
        commands: &mut commands,
        body,
        data: &data,
        session: &session,
        images: images.as_deref_mut(),
        online: status.online,
        landscape: options.landscape,
        right: None,
    });
}

impl Build<'_, '_, '_> {
    /// In landscape, two columns side by side (widths in the ratio `left : right`) below what
    /// was added so far: `add` fills the left one until [`Build::right_column`]. In portrait
    /// nothing changes.
    pub(super) fn two_columns(&mut self, left: f32, right: f32) {
        if !self.landscape {
            return;
        }
        let both = self.add(Node {
            width: percent(100),
            column_gap: px(24),
            align_items: AlignItems::FlexStart,
            ..default()
        });
        let column = |grow: f32| Node {
            flex_grow: grow,
            flex_basis: px(0),
            min_width: px(0),
            flex_direction: FlexDirection::Column,
            row_gap: px(24),
            ..default()
        };
        let l = self.add_to(both, column(left));
        let r = self.add_to(both, column(right));
        self.body = l;
        self.right = Some(r);
    }

    /// `add` fills the right column from now on (landscape, after [`Build::two_columns`]).
    pub(super) fn right_column(&mut self) {
        if let Some(r) = self.right.take() {
            self.body = r;
        }
    }

    /// Adds a child to the body.
    pub(super) fn add(&mut self, bundle: impl Bundle) -> Entity {
        let id = self.commands.spawn(bundle).id();
        self.commands.entity(self.body).add_child(id);
        id
    }

    /// Adds a child to `parent`.
    pub(super) fn add_to(&mut self, parent: Entity, bundle: impl Bundle) -> Entity {
        let id = self.commands.spawn(bundle).id();
        self.commands.entity(parent).add_child(id);
        id
    }

    /// A phone page's address (`/h/…`, `/i/…`): the short links every QR code carries.
    pub(super) fn phone_url(&self, path: &str) -> String {
        let base = self
            .data
            .home
            .as_ref()
            .map(|h| h.phone_base_url.as_str())
            .unwrap_or_default();
        format!("{base}{path}")
    }

    /// This terminal's hall id ("" before the home data arrives).
    pub(super) fn hall_id(&self) -> String {
        self.data
            .home
            .as_ref()
            .and_then(|h| h.hall.as_ref())
            .map(|h| h.id.clone())
            .unwrap_or_default()
    }

    /// A QR code image node, `side` pixels square.
    pub(super) fn qr(&mut self, payload: &str, side: f32) -> impl Bundle + use<> {
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
    pub(super) fn waiting(&mut self, what: &str) {
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
    pen: Res<PenDown>,
    mut wheel: MessageReader<MouseWheel>,
    mut lists: Query<(&mut ScrollPosition, &ComputedNode), With<Scrolls>>,
) {
    // A finger writing on the pad does not scroll the page.
    let mut dy: f32 = if pen.0 {
        0.0
    } else {
        touches.iter().map(|t| t.delta().y).sum()
    };
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
