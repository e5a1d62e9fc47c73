//! Help (有事请教): questions people often ask, by category, and a button that calls staff.

use bevy::prelude::*;

use super::{Action, Build};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn build(b: &mut Build) {
    let call = match (
        b.session.staff_called,
        b.data.staff_called,
        &b.data.staff_call_failed,
    ) {
        (true, _, Some(why)) => why.clone(),
        (true, true, None) => "已通知工作人员，请稍候，马上来帮您。".into(),
        (true, false, None) => "正在呼叫工作人员…".into(),
        _ => String::new(),
    };
    b.add((
        card(),
        children![
            heading("需要人帮忙？"),
            primary_button("呼叫工作人员", Action::CallStaff),
            text(call, BODY, OK),
        ],
    ));
    let Some(faqs) = b.data.faqs.clone() else {
        b.waiting("常见问题");
        return;
    };
    let chosen = b
        .session
        .faq_category
        .clone()
        .or_else(|| faqs.categories.keys().next().cloned());
    let tabs = b.add(row(12.0));
    for (c, n) in &faqs.categories {
        let (fill, ink) = if Some(c) == chosen.as_ref() {
            (PRIMARY, ON_PRIMARY)
        } else {
            (CHIP, PRIMARY_DARK)
        };
        b.add_to(
            tabs,
            button(
                format!("{c}（{n}）"),
                Action::FaqCategory(c.clone()),
                fill,
                ink,
            ),
        );
    }
    for f in faqs
        .faqs
        .iter()
        .filter(|f| Some(&f.category) == chosen.as_ref())
    {
        b.add((
            card(),
            children![
                text(format!("问：{}", f.question), BODY, TEXT),
                text(format!("答：{}", f.answer), BODY, MUTED)
            ],
        ));
    }
}
