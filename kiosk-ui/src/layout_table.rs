//! Test support: every button and text on screen with its rectangle, its parent's, and
//! whether it lies in the page body (which scrolls: there, only the width must fit), so a
//! test can fail on anything that runs outside the window or out of its box.

use std::path::PathBuf;

use bevy::prelude::*;

use crate::nav::{Action, PageBody, Screen};

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<LayoutWanted>();
    app.add_systems(Last, write_tables);
}

/// Files to write the table to this frame.
#[derive(Resource, Default)]
pub(crate) struct LayoutWanted(pub Vec<PathBuf>);

/// x, y, width, height on screen.
fn rect(node: &ComputedNode, transform: &UiGlobalTransform) -> [f32; 4] {
    let (size, centre) = (node.size(), transform.translation);
    [
        centre.x - size.x / 2.0,
        centre.y - size.y / 2.0,
        size.x,
        size.y,
    ]
}

/// `Screen(NAME)` first, then `kind<TAB>label<TAB>x<TAB>y<TAB>w<TAB>h<TAB>body<TAB>px<TAB>pw`
/// per button and text (`body` 1 inside the scrolling page body; `px`, `pw`: the parent's x and
/// width).
fn write_tables(
    mut wanted: ResMut<LayoutWanted>,
    screen: Res<State<Screen>>,
    nodes: Query<(
        Entity,
        &ComputedNode,
        &UiGlobalTransform,
        Option<&Text>,
        Option<&Action>,
        Has<Button>,
    )>,
    parents: Query<&ChildOf>,
    boxes: Query<(&ComputedNode, &UiGlobalTransform)>,
    bodies: Query<(), With<PageBody>>,
) {
    if wanted.0.is_empty() {
        return;
    }
    let mut out = format!("Screen({:?})\n", screen.get());
    for (e, node, transform, text, action, button) in &nodes {
        let (kind, label) = match (text, action, button) {
            (_, Some(a), true) => ("Button", format!("{a:?}")),
            (Some(t), _, _) => ("Text", t.0.replace(['\t', '\n'], " ")),
            _ => continue,
        };
        let [x, y, w, h] = rect(node, transform);
        if w <= 0.0 || h <= 0.0 {
            continue; // not laid out (hidden)
        }
        let in_body = parents.iter_ancestors(e).any(|a| bodies.contains(a));
        let (px, pw) = parents
            .get(e)
            .ok()
            .and_then(|p| boxes.get(p.parent()).ok())
            .map(|(n, t)| {
                let [px, _, pw, _] = rect(n, t);
                (px, pw)
            })
            .unwrap_or((0.0, 0.0));
        out.push_str(&format!(
            "{kind}\t{label}\t{x:.0}\t{y:.0}\t{w:.0}\t{h:.0}\t{}\t{px:.0}\t{pw:.0}\n",
            in_body as u8
        ));
    }
    for path in wanted.0.drain(..) {
        if let Err(e) = std::fs::write(&path, &out) {
            error!(path = %path.display(), error = %e, "Cannot write the layout table.");
        }
    }
}
