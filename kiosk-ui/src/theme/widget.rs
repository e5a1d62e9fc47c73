//! Widgets as plain functions returning bundles, bevy_new_2d style. Sizes are for a 1080-pixel
//! wide portrait screen; elder mode enlarges the text (`text_size`).

use bevy::prelude::*;

use super::palette::*;
use crate::nav::Action;

pub const TITLE: f32 = 56.0;
pub const HEADING: f32 = 44.0;
pub const BODY: f32 = 36.0;
pub const SMALL: f32 = 28.0;

/// Text that wraps at its container's width (Chinese breaks between any two characters).
pub fn text(s: impl Into<String>, size: f32, color: Color) -> impl Bundle {
    (
        Text::new(s),
        TextFont::from_font_size(size),
        TextColor(color),
        TextLayout::new(Justify::Left, LineBreak::AnyCharacter),
    )
}

/// A big touch target with a label; `action` says what a tap does.
pub fn button(label: impl Into<String>, action: Action, fill: Color, ink: Color) -> impl Bundle {
    touch_target(label, action, (fill, ink), 112.0, (32.0, 20.0, 20.0))
}

/// A lower touch target `min_height` high (keypads, choices among many), tighter padding.
pub fn compact_button(
    label: impl Into<String>,
    action: Action,
    (fill, ink): (Color, Color),
    min_height: f32,
) -> impl Bundle {
    touch_target(label, action, (fill, ink), min_height, (20.0, 12.0, 16.0))
}

/// `(pad_x, pad_y, round)`: padding and corner radius.
fn touch_target(
    label: impl Into<String>,
    action: Action,
    (fill, ink): (Color, Color),
    min_height: f32,
    (pad_x, pad_y, round): (f32, f32, f32),
) -> impl Bundle {
    (
        Button,
        action,
        Node {
            min_height: px(min_height),
            flex_grow: 1.0,
            padding: UiRect::axes(px(pad_x), px(pad_y)),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(px(round)),
            ..default()
        },
        BackgroundColor(fill),
        children![(
            Text::new(label),
            TextFont::from_font_size(BODY),
            TextColor(ink),
            TextLayout::new(Justify::Center, LineBreak::AnyCharacter),
        )],
    )
}

pub fn primary_button(label: impl Into<String>, action: Action) -> impl Bundle {
    button(label, action, PRIMARY, ON_PRIMARY)
}

pub fn plain_button(label: impl Into<String>, action: Action) -> impl Bundle {
    button(label, action, CHIP, PRIMARY_DARK)
}

/// A tile of the home screen grid: an icon-like glyph over a label.
pub fn tile(glyph: &str, label: &str, action: Action, fill: Color) -> impl Bundle {
    (
        Button,
        action,
        Node {
            // Fixed, so a row holds four in portrait and all seven in landscape.
            width: px(230),
            height: px(180),
            flex_direction: FlexDirection::Column,
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            row_gap: px(10),
            border_radius: BorderRadius::all(px(24)),
            ..default()
        },
        BackgroundColor(fill),
        children![
            (
                Text::new(glyph),
                TextFont::from_font_size(64.0),
                TextColor(ON_PRIMARY)
            ),
            (
                Text::new(label),
                TextFont::from_font_size(SMALL + 2.0),
                TextColor(ON_PRIMARY)
            ),
        ],
    )
}

/// A row of a list: a title and a line of detail; tapping it does `action`.
pub fn list_row(
    title: impl Into<String>,
    detail: impl Into<String>,
    action: Action,
) -> impl Bundle {
    (
        Button,
        action,
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            padding: UiRect::axes(px(32), px(24)),
            row_gap: px(8),
            border: UiRect::bottom(px(2)),
            ..default()
        },
        BorderColor::all(LINE),
        BackgroundColor(CARD),
        children![text(title, BODY, TEXT), text(detail, SMALL, MUTED)],
    )
}

/// The box a keyboard types into: what was typed, or a grey hint while it is empty.
pub fn input_box(typed: &str, hint: &str) -> impl Bundle {
    let (shown, ink) = if typed.is_empty() {
        (hint.to_owned(), MUTED)
    } else {
        (typed.to_owned(), TEXT)
    };
    (
        Node {
            width: percent(100),
            min_height: px(110),
            padding: UiRect::axes(px(36), px(20)),
            align_items: AlignItems::Center,
            border: UiRect::all(px(4)),
            border_radius: BorderRadius::all(px(24)),
            ..default()
        },
        BorderColor::all(PRIMARY),
        BackgroundColor(CARD),
        children![text(shown, HEADING, ink)],
    )
}

/// A white card with rounded corners and room inside.
pub fn card() -> impl Bundle {
    (
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(px(32)),
            row_gap: px(16),
            border_radius: BorderRadius::all(px(24)),
            ..default()
        },
        BackgroundColor(CARD),
    )
}

/// A white card whose contents are centred: a QR code, a ticket, a prompt.
pub fn centred_card(gap: f32, pad: f32) -> impl Bundle {
    (
        Node {
            width: percent(100),
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: px(gap),
            padding: UiRect::all(px(pad)),
            border_radius: BorderRadius::all(px(24)),
            ..default()
        },
        BackgroundColor(CARD),
    )
}

/// A section heading inside a card.
pub fn heading(s: impl Into<String>) -> impl Bundle {
    text(s, HEADING, PRIMARY_DARK)
}

/// Lays children out in a wrapping row.
pub fn row(gap: f32) -> impl Bundle {
    Node {
        width: percent(100),
        flex_direction: FlexDirection::Row,
        flex_wrap: FlexWrap::Wrap,
        column_gap: px(gap),
        row_gap: px(gap),
        align_items: AlignItems::Center,
        ..default()
    }
}

/// A small pill of text, e.g. 即办 or 营业中.
pub fn chip(s: impl Into<String>, fill: Color, ink: Color) -> impl Bundle {
    (
        Node {
            padding: UiRect::axes(px(18), px(8)),
            border_radius: BorderRadius::all(px(40)),
            ..default()
        },
        BackgroundColor(fill),
        children![text(s, SMALL, ink)],
    )
}

/// At most `n` characters of `s`, with … when cut.
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A material's 审查要点 (what the window checks: its note and sample text), in one short
/// line; `None` when it has none.
pub fn review_points(m: &menpai_model::item::Material) -> Option<String> {
    let points: Vec<&str> = [m.note.as_deref(), m.sample.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!points.is_empty()).then(|| format!("审查要点：{}", short(&points.join("；"), 60)))
}
