//! Look and feel: colours, the CJK font, and the widgets screens are built from.

pub mod palette;
pub mod text_size;
pub mod widget;

use bevy::prelude::*;

use crate::Options;

pub(crate) fn plugin(app: &mut App) {
    app.insert_resource(ClearColor(palette::GROUND));
    app.add_systems(PreStartup, load_font);
    app.add_systems(Startup, spawn_camera);
    app.add_plugins(text_size::plugin);
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn((Name::new("Camera"), Camera2d));
}

/// Fonts tried in order when none is configured: Debian's CJK fonts.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// Makes a CJK font the default for every text (Bevy's built-in font has no Chinese).
fn load_font(options: Res<Options>, fonts: Option<ResMut<Assets<Font>>>) {
    let Some(mut fonts) = fonts else { return };
    let candidates: Vec<std::path::PathBuf> = match &options.font {
        Some(f) => vec![f.clone()],
        None => FONT_CANDIDATES.iter().map(Into::into).collect(),
    };
    for path in candidates {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let _ = fonts.insert(AssetId::default(), Font::from_bytes(bytes));
                info!(font = %path.display(), "CJK font loaded.");
                return;
            }
            Err(e) => debug!(font = %path.display(), error = %e, "Font not usable."),
        }
    }
    error!("No CJK font found: install fonts-wqy-microhei or pass --font.");
}
