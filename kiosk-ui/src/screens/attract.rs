//! The attract loop: promotional slides (政务宣传) until someone touches the screen.

use std::time::Duration;

use bevy::prelude::*;

use super::frame::{self, Build};
use super::requests;
use crate::agent::Data;
use crate::agent::Request;
use crate::nav::{Action, Screen};
use crate::pictures::{Picture, picture};
use crate::theme::palette::*;
use crate::theme::widget::*;
use crate::wake::SLIDE_SECS;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Attract, build);
    requests::asks(app, Screen::Attract, |_, _| vec![Request::Home]);
    app.init_resource::<Slides>();
    // A fixed time (`--now`, screenshots that must not change) holds the first slide too: how
    // long a loaded machine takes to draw must not decide which slide a picture shows.
    app.add_systems(
        Update,
        rotate
            .run_if(in_state(Screen::Attract))
            .run_if(|o: Res<crate::Options>| o.now.is_none()),
    );
}

#[derive(Resource, Default)]
struct Slides {
    index: usize,
    shown_for: Duration,
}

#[derive(Component)]
struct SlideFace;

#[derive(Component)]
struct SlideTitle;

#[derive(Component)]
struct SlideSubtitle;

/// The slide's picture with its caption over it; hidden for a slide without one.
#[derive(Component)]
struct SlideFrame;

/// The title and subtitle on the colour alone, for a slide without a picture.
#[derive(Component)]
struct SlidePlain;

#[derive(Component)]
struct SlidePicture;

/// How wide a slide's picture is drawn: the face's width less its padding in portrait, the
/// widest the agent sends in landscape.
fn picture_width(landscape: bool) -> u32 {
    if landscape { 1080 } else { 952 }
}

fn build(b: &mut Build) {
    let s = slide(b.data, 0);
    let hall = b
        .data
        .home
        .as_ref()
        .and_then(|h| h.hall.as_ref())
        .map(|h| h.name.clone())
        .unwrap_or_default();
    let notice = b
        .data
        .home
        .as_ref()
        .and_then(|h| h.region.notice.clone())
        .unwrap_or_default();
    // An operator's maintenance notice, under the hall's name where every passer-by sees it.
    let maintenance = b
        .data
        .home
        .as_ref()
        .and_then(|h| h.maintenance.clone())
        .unwrap_or_default();
    let (frame_display, plain_display) = displays(s.picture.is_some());
    let mut pic = picture(
        s.picture.as_deref().unwrap_or_default(),
        picture_width(b.landscape),
    );
    if s.picture.is_none() {
        pic.0.sha256.clear();
    }
    b.add((
        SlideFace,
        Button,
        Action::Start,
        Node {
            width: percent(100),
            height: percent(100),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::SpaceBetween,
            padding: UiRect::all(px(64)),
            ..default()
        },
        BackgroundColor(s.colour),
        children![
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: px(16),
                    ..default()
                },
                children![
                    text(hall, HEADING, ON_PRIMARY),
                    (
                        // Takes no room when there is none: the face is laid out as before.
                        Node {
                            display: if maintenance.is_empty() {
                                Display::None
                            } else {
                                Display::Flex
                            },
                            ..default()
                        },
                        text(maintenance, BODY, HIGHLIGHT)
                    )
                ],
            ),
            (
                SlideFrame,
                Node {
                    display: frame_display,
                    width: percent(100),
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    ..default()
                },
                children![(
                    Node {
                        flex_direction: FlexDirection::Column,
                        ..default()
                    },
                    children![
                        (SlidePicture, pic),
                        (
                            Node {
                                position_type: PositionType::Absolute,
                                left: px(0),
                                right: px(0),
                                bottom: px(0),
                                flex_direction: FlexDirection::Column,
                                row_gap: px(12),
                                padding: UiRect::axes(px(40), px(28)),
                                ..default()
                            },
                            BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55)),
                            children![
                                (SlideTitle, text(s.title.clone(), TITLE, ON_PRIMARY)),
                                (SlideSubtitle, text(s.subtitle.clone(), BODY, ON_PRIMARY)),
                            ],
                        ),
                    ],
                )],
            ),
            (
                SlidePlain,
                Node {
                    display: plain_display,
                    flex_direction: FlexDirection::Column,
                    row_gap: px(32),
                    ..default()
                },
                children![
                    (SlideTitle, text(s.title, 88.0, ON_PRIMARY)),
                    (SlideSubtitle, text(s.subtitle, HEADING, ON_PRIMARY)),
                ],
            ),
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: px(16),
                    align_items: AlignItems::Center,
                    ..default()
                },
                children![
                    text("轻触屏幕  开始办事", TITLE, ON_PRIMARY),
                    text(notice, SMALL, ON_PRIMARY)
                ],
            ),
        ],
    ));
}

/// The picture frame's and the plain text's display, for a slide with or without a picture.
fn displays(has_picture: bool) -> (Display, Display) {
    if has_picture {
        (Display::Flex, Display::None)
    } else {
        (Display::None, Display::Flex)
    }
}

/// One slide as the face shows it.
struct Face {
    title: String,
    subtitle: String,
    colour: Color,
    /// The picture's SHA-256, when the slide has one.
    picture: Option<String>,
}

/// The n-th slide, or a plain welcome before content arrives.
fn slide(data: &Data, n: usize) -> Face {
    match data
        .home
        .as_ref()
        .map(|h| &h.slides)
        .filter(|s| !s.is_empty())
    {
        Some(slides) => {
            let s = &slides[n % slides.len()];
            Face {
                title: s.title.clone(),
                subtitle: s.subtitle.clone(),
                colour: hex(&s.color),
                picture: s
                    .image
                    .as_ref()
                    .filter(|f| f.is_image())
                    .map(|f| f.sha256.clone()),
            }
        }
        None => Face {
            title: "欢迎使用数字政务门牌".into(),
            subtitle: "查事项、看指南、找窗口".into(),
            colour: PRIMARY,
            picture: None,
        },
    }
}

fn rotate(
    clock: Res<crate::session::Clock>,
    mut slides: ResMut<Slides>,
    data: Res<Data>,
    mut faces: Query<&mut BackgroundColor, With<SlideFace>>,
    mut titles: Query<&mut Text, (With<SlideTitle>, Without<SlideSubtitle>)>,
    mut subtitles: Query<&mut Text, (With<SlideSubtitle>, Without<SlideTitle>)>,
    mut frames: Query<&mut Node, (With<SlideFrame>, Without<SlidePlain>)>,
    mut plains: Query<&mut Node, (With<SlidePlain>, Without<SlideFrame>)>,
    mut pictures: Query<(&mut Picture, &mut Visibility), With<SlidePicture>>,
) {
    // The first slide gets its full time once the content has come (a slow start counts not).
    let has_slides = data.home.as_ref().is_some_and(|h| !h.slides.is_empty());
    if !has_slides {
        *slides = Slides::default();
        return;
    }
    slides.shown_for += clock.delta;
    if slides.shown_for < Duration::from_secs(SLIDE_SECS) {
        return;
    }
    slides.shown_for = Duration::ZERO;
    slides.index += 1;
    debug!(slide = slides.index, "Next slide.");
    let s = slide(&data, slides.index);
    for mut f in &mut faces {
        f.0 = s.colour;
    }
    for mut t in &mut titles {
        **t = s.title.clone();
    }
    for mut t in &mut subtitles {
        **t = s.subtitle.clone();
    }
    let (frame_display, plain_display) = displays(s.picture.is_some());
    for mut n in &mut frames {
        n.display = frame_display;
    }
    for mut n in &mut plains {
        n.display = plain_display;
    }
    let sha = s.picture.unwrap_or_default();
    for (mut p, mut visibility) in &mut pictures {
        if p.sha256 != sha {
            p.sha256 = sha.clone();
            *visibility = Visibility::Hidden;
        }
    }
}
