//! The attract loop: promotional slides (政务宣传) until someone touches the screen.

use std::time::Duration;

use bevy::prelude::*;

use super::frame::{self, Build};
use super::requests;
use crate::agent::Data;
use crate::agent::Request;
use crate::nav::{Action, Screen};
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

fn build(b: &mut Build) {
    let (title, subtitle, colour) = slide(b.data, 0);
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
        BackgroundColor(colour),
        children![
            text(hall, HEADING, ON_PRIMARY),
            (
                Node {
                    flex_direction: FlexDirection::Column,
                    row_gap: px(32),
                    ..default()
                },
                children![
                    (SlideTitle, text(title, 88.0, ON_PRIMARY)),
                    (SlideSubtitle, text(subtitle, HEADING, ON_PRIMARY)),
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

/// The n-th slide, or a plain welcome before content arrives.
fn slide(data: &Data, n: usize) -> (String, String, Color) {
    match data
        .home
        .as_ref()
        .map(|h| &h.slides)
        .filter(|s| !s.is_empty())
    {
        Some(slides) => {
            let s = &slides[n % slides.len()];
            (s.title.clone(), s.subtitle.clone(), hex(&s.color))
        }
        None => (
            "欢迎使用数字政务门牌".into(),
            "查事项、看指南、找窗口".into(),
            PRIMARY,
        ),
    }
}

fn rotate(
    clock: Res<crate::session::Clock>,
    mut slides: ResMut<Slides>,
    data: Res<Data>,
    mut faces: Query<&mut BackgroundColor, With<SlideFace>>,
    mut titles: Query<&mut Text, (With<SlideTitle>, Without<SlideSubtitle>)>,
    mut subtitles: Query<&mut Text, (With<SlideSubtitle>, Without<SlideTitle>)>,
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
    let (title, subtitle, colour) = slide(&data, slides.index);
    for mut f in &mut faces {
        f.0 = colour;
    }
    for mut t in &mut titles {
        **t = title.clone();
    }
    for mut t in &mut subtitles {
        **t = subtitle.clone();
    }
}
