//! Elder mode (适老化): every text 1.5× larger and the muted greys as dark as body text. Only
//! text grows — boxes keep their size and text wraps inside them — so every layout still fits
//! the window in portrait and in landscape.

use bevy::prelude::*;
use bevy::text::FontSize;

use super::palette::{MUTED, TEXT};

/// How much larger text is in elder mode.
pub const ELDER_SCALE: f32 = 1.5;

/// Large text is on (the session's elder mode).
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LargeText(pub bool);

/// A text's size and colour as its screen made it.
#[derive(Component)]
struct AsMade {
    size: FontSize,
    color: Color,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<LargeText>();
    app.add_systems(
        PostUpdate,
        (enlarge_new, enlarge_all)
            .chain()
            .before(bevy::ui::UiSystems::Prepare),
    );
}

fn times(size: FontSize, k: f32) -> FontSize {
    match size {
        FontSize::Px(s) => FontSize::Px(s * k),
        FontSize::Vw(s) => FontSize::Vw(s * k),
        FontSize::Vh(s) => FontSize::Vh(s * k),
        FontSize::VMin(s) => FontSize::VMin(s * k),
        FontSize::VMax(s) => FontSize::VMax(s * k),
        FontSize::Rem(s) => FontSize::Rem(s * k),
    }
}

fn sized(size: FontSize, color: Color, large: bool) -> (FontSize, Color) {
    match large {
        true => (
            times(size, ELDER_SCALE),
            if color == MUTED { TEXT } else { color },
        ),
        false => (size, color),
    }
}

/// Texts spawned this frame take the mode's size.
fn enlarge_new(
    mut commands: Commands,
    large: Res<LargeText>,
    mut texts: Query<(Entity, &mut TextFont, Option<&mut TextColor>), Without<AsMade>>,
) {
    for (e, mut font, color) in &mut texts {
        let made = AsMade {
            size: font.font_size,
            color: color.as_deref().map_or(TEXT, |c| c.0),
        };
        if large.0 {
            let (size, ink) = sized(made.size, made.color, true);
            font.font_size = size;
            if let Some(mut c) = color {
                c.0 = ink;
            }
        }
        commands.entity(e).insert(made);
    }
}

/// The mode switched: every text takes its size again.
fn enlarge_all(
    large: Res<LargeText>,
    mut texts: Query<(&AsMade, &mut TextFont, Option<&mut TextColor>)>,
) {
    if !large.is_changed() {
        return;
    }
    for (made, mut font, color) in &mut texts {
        let (size, ink) = sized(made.size, made.color, large.0);
        if font.font_size != size {
            font.font_size = size;
        }
        if let Some(mut c) = color
            && c.0 != ink
        {
            c.0 = ink;
        }
    }
}
