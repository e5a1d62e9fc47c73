//! Colours: government blue on light ground, high contrast for elders.

use bevy::prelude::*;

pub const PRIMARY: Color = Color::srgb(0.102, 0.373, 0.706); // #1A5FB4
pub const PRIMARY_DARK: Color = Color::srgb(0.055, 0.247, 0.494); // #0E3F7E
pub const ACCENT: Color = Color::srgb(0.776, 0.157, 0.157); // #C62828
pub const GROUND: Color = Color::srgb(0.949, 0.961, 0.980); // #F2F5FA
pub const CARD: Color = Color::WHITE;
pub const TEXT: Color = Color::srgb(0.106, 0.122, 0.141); // #1B1F24
pub const MUTED: Color = Color::srgb(0.357, 0.396, 0.439); // #5B6570
pub const ON_PRIMARY: Color = Color::WHITE;
pub const OK: Color = Color::srgb(0.180, 0.490, 0.196); // #2E7D32
pub const WARN: Color = Color::srgb(0.698, 0.416, 0.0); // #B26A00
pub const LINE: Color = Color::srgb(0.847, 0.871, 0.902); // #D8DEE6
pub const CHIP: Color = Color::srgb(0.898, 0.929, 0.969); // #E5EDF7
pub const HIGHLIGHT: Color = Color::srgb(1.0, 0.757, 0.027); // #FFC107

/// Parses `#RRGGBB` (slides carry their colour), falling back to the primary blue.
pub fn hex(s: &str) -> Color {
    let v = s
        .strip_prefix('#')
        .and_then(|h| u32::from_str_radix(h, 16).ok());
    match v {
        Some(v) if s.len() == 7 => Color::srgb_u8((v >> 16) as u8, (v >> 8) as u8, v as u8),
        _ => PRIMARY,
    }
}
