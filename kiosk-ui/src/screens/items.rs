//! The items of a category, most asked for first.

use super::{Action, Build};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn build(b: &mut Build) {
    let title = b
        .session
        .category
        .as_ref()
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    b.add(text(title, TITLE, TEXT));
    let Some(items) = b.data.items.clone() else {
        b.waiting("事项");
        return;
    };
    if items.items.is_empty() {
        b.add(text("这一类暂时没有事项。", BODY, MUTED));
        return;
    }
    let list = b.add(card());
    for item in &items.items {
        let detail = format!(
            "{} · 承诺时限 {}{}",
            item.department,
            item.promised,
            if item.online { " · 可网上办" } else { "" }
        );
        b.add_to(
            list,
            list_row(item.name.clone(), detail, Action::OpenItem(item.id.clone())),
        );
    }
}
