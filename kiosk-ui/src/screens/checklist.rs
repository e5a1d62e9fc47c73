//! The personal checklist: pick your situations, see exactly what to bring, print it or take it
//! by QR. When the printer cannot print, the QR is offered instead.

use bevy::prelude::*;

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::{self, Agent};
use super::tap::go;
use crate::agent::{Data, Request};
use crate::nav::{Action, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Checklist, build);
    requests::asks(app, Screen::Checklist, |session, _| {
        session
            .item
            .iter()
            .map(|i| Request::Checklist {
                item: i.clone(),
                situations: session.situations.clone(),
            })
            .collect()
    });
    app.add_systems(Update, pick_and_print.in_set(PageSystems::React));
}

fn build(b: &mut Build) {
    let Some(g) = b.data.guide.clone() else {
        b.waiting("办事指南");
        return;
    };
    b.add(text(g.item.name.clone(), TITLE, TEXT));
    if !g.item.situations.is_empty() {
        b.two_columns(1.0, 1.0);
        let pick = b.add((card(), children![heading("1. 选择您的情况（可多选）")]));
        for s in &g.item.situations {
            let chosen = b.session.situations.contains(&s.id);
            let (fill, ink) = if chosen {
                (PRIMARY, ON_PRIMARY)
            } else {
                (CHIP, PRIMARY_DARK)
            };
            let label = if chosen {
                format!("✓ {}", s.name)
            } else {
                s.name.clone()
            };
            b.add_to(
                pick,
                button(label, Action::ToggleSituation(s.id.clone()), fill, ink),
            );
        }
    }
    // Landscape: the situations on the left; the way to take the list (its QR code, above the
    // fold) and the materials on the right.
    if b.landscape {
        b.right_column();
        take_away(b);
        materials(b, &g);
    } else {
        materials(b, &g);
        take_away(b);
    }
}

fn materials(b: &mut Build, g: &menpai_model::api::Guide) {
    let list = b.add((card(), children![heading("2. 您要带的材料")]));
    match &b.data.checklist {
        Some(c) if c.item_id == g.item.id => {
            for (n, line) in c.materials.iter().enumerate() {
                let m = &line.material;
                b.add_to(
                    list,
                    text(
                        format!("{}. {}（{} {}份）", n + 1, m.name, m.form.label(), m.copies),
                        BODY,
                        TEXT,
                    ),
                );
                if let Some(cond) = m.condition.as_ref().filter(|_| !m.required) {
                    b.add_to(list, text(format!("   仅当：{cond}"), SMALL, MUTED));
                }
            }
        }
        _ => {
            b.add_to(list, text("正在整理材料…", BODY, MUTED));
        }
    }
}

fn take_away(b: &mut Build) {
    let url = phone_checklist_url(b);
    let take = b.add((card(), children![heading("3. 带走清单")]));
    let qr = b.qr(&url, 300.0);
    b.add_to(
        take,
        (
            row(24.0),
            children![
                qr,
                (
                    Node {
                        flex_direction: FlexDirection::Column,
                        row_gap: px(16),
                        width: percent(55),
                        ..default()
                    },
                    children![
                        text("微信扫码，清单存到手机", BODY, TEXT),
                        primary_button("打印清单", Action::PrintChecklist)
                    ],
                ),
            ],
        ),
    );
    match &b.data.printed {
        Some(Ok(())) => {
            b.add_to(take, text("已打印，请在下方出纸口取走清单。", BODY, OK));
        }
        Some(Err(f)) => {
            b.add_to(take, text(format!("{}。", f.reason), BODY, ACCENT));
        }
        None if b.session.printing => {
            b.add_to(take, text("正在打印…", BODY, MUTED));
        }
        None => {}
    }
}

/// The phone page of this checklist (no personal data in it).
fn phone_checklist_url(b: &Build) -> String {
    let item = b.session.item.clone().unwrap_or_default();
    b.phone_url(&format!(
        "/c/{item}?s={}&h={}",
        b.session.situations.join(","),
        b.hall_id()
    ))
}

/// Situations change the list (and forget its print); the list is printed on request.
fn pick_and_print(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::OpenChecklist => go(Screen::Checklist, &screen, &mut session, &mut next),
            Action::ToggleSituation(id) => {
                // A different list from the one printed.
                session.printing = false;
                data.printed = None;
                if let Some(i) = session.situations.iter().position(|s| s == id) {
                    session.situations.remove(i);
                } else {
                    session.situations.push(id.clone());
                }
                if let Some(item) = session.item.clone() {
                    agent.ask(Request::Checklist {
                        item,
                        situations: session.situations.clone(),
                    });
                }
            }
            Action::PrintChecklist => {
                if let Some(item) = session.item.clone() {
                    data.printed = None;
                    session.printing = true;
                    agent.ask(Request::PrintChecklist {
                        item,
                        situations: session.situations.clone(),
                    });
                }
            }
            _ => {}
        }
    }
}
