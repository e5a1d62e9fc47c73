//! 帮代办 and 上门取件 at the plate: what help, for which item, name and phone (an on-screen
//! digit keypad), a preferred time; sent to the hall, followed on the phone by a private link.

use bevy::prelude::*;

use super::frame::{self, Build};
use crate::nav::Screen;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Assist, build);
}

fn build(b: &mut Build) {
    b.waiting("帮办代办");
}
