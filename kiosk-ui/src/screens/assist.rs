//! 帮代办 and 上门取件 at the plate: what help, for which item, name and phone (an on-screen
//! digit keypad), a preferred time; sent to the hall, followed on the phone by a private link.

use bevy::prelude::*;
use menpai_model::assist::{AssistRequest, HELP_CHOICES, RequestKind, TIMES, valid_phone};

use super::PageSystems;
use super::frame::{self, Build};
use super::read_aloud::Unread;
use super::requests::{self, Agent};
use crate::agent::{Data, Request};
use crate::nav::{Action, AssistTap, Screen};
use crate::session::Session;
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Assist, build);
    requests::asks(app, Screen::Assist, |_, _| vec![Request::Home]);
    app.add_systems(OnEnter(Screen::Assist), prefill_item);
    app.add_systems(OnExit(Screen::Assist), forget);
    app.add_systems(Update, react.in_set(PageSystems::React));
}

/// Forms of address offered instead of typing a name.
const NAMES: [&str; 2] = ["先生", "女士"];

/// A compact choice: filled when chosen.
fn choice(label: impl Into<String>, tap: AssistTap, chosen: bool) -> impl Bundle {
    let colours = if chosen {
        (PRIMARY, ON_PRIMARY)
    } else {
        (CHIP, PRIMARY_DARK)
    };
    compact_button(label, Action::Assist(tap), colours, 96.0)
}

/// The phone number as typed, with the places still empty: 138 1234 ____.
fn phone_shown(digits: &str) -> String {
    let mut s = String::new();
    for i in 0..11 {
        if i == 3 || i == 7 {
            s.push(' ');
        }
        s.push(digits.chars().nth(i).unwrap_or('_'));
    }
    s
}

/// What is still missing before the request can be sent.
fn missing(r: &AssistRequest) -> Vec<&'static str> {
    let mut m = Vec::new();
    if r.help.is_empty() {
        m.push("选择需要什么帮助");
    }
    if !valid_phone(&r.phone) {
        m.push("输入 11 位手机号");
    }
    if r.time.is_empty() {
        m.push("选择联系时间");
    }
    m
}

/// The item's name, from the guide in view or the hall's featured items.
fn item_name(data: &Data, id: &str) -> String {
    data.guide
        .as_ref()
        .filter(|g| g.item.id == id)
        .map(|g| g.item.name.clone())
        .or_else(|| {
            data.home
                .as_ref()
                .and_then(|h| h.featured.iter().find(|i| i.id == id))
                .map(|i| i.name.clone())
        })
        .unwrap_or_else(|| id.to_owned())
}

fn build(b: &mut Build) {
    if b.session.assist_sent {
        sent(b);
        return;
    }
    let r = b.session.assist.clone();
    let kinds = b.add(row(16.0));
    for k in [RequestKind::Assist, RequestKind::Pickup] {
        let label = match k {
            RequestKind::Pickup => "上门取件（行动不便）",
            _ => "帮代办（帮我办）",
        };
        b.add_to(
            kinds,
            choice(label, AssistTap::Kind(k.as_str().into()), r.kind == k),
        );
    }

    b.add(text("办哪件事", BODY, PRIMARY_DARK));
    let items = b.add(row(16.0));
    let mut offered: Vec<String> = Vec::new();
    if let Some(i) = b.session.item.clone() {
        offered.push(i);
    }
    if let Some(i) = r.item.clone()
        && !offered.contains(&i)
    {
        offered.push(i);
    }
    let featured: Vec<String> = b
        .data
        .home
        .as_ref()
        .map(|h| h.featured.iter().map(|i| i.id.clone()).collect())
        .unwrap_or_default();
    for i in featured {
        if offered.len() >= 2 {
            break;
        }
        if !offered.contains(&i) {
            offered.push(i);
        }
    }
    for i in &offered {
        let name = item_name(b.data, i);
        b.add_to(
            items,
            choice(
                name,
                AssistTap::Item(Some(i.clone())),
                r.item.as_ref() == Some(i),
            ),
        );
    }
    b.add_to(
        items,
        choice("不确定", AssistTap::Item(None), r.item.is_none()),
    );

    b.add(text("需要什么帮助", BODY, PRIMARY_DARK));
    let helps = b.add(row(16.0));
    for h in HELP_CHOICES {
        b.add_to(helps, choice(h, AssistTap::Help(h.into()), r.help == h));
    }

    // Shown to the citizen, never read aloud.
    b.add((
        Unread,
        text(format!("手机号：{}", phone_shown(&r.phone)), HEADING, TEXT),
    ));
    for keys in [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"]] {
        let line = b.add(row(12.0));
        for k in keys {
            let c = k.chars().next().unwrap_or('0');
            b.add_to(line, choice(k, AssistTap::Digit(c), false));
        }
    }
    let line = b.add(row(12.0));
    b.add_to(line, choice("清空", AssistTap::ClearDigits, false));
    b.add_to(line, choice("0", AssistTap::Digit('0'), false));
    b.add_to(line, choice("删除", AssistTap::DeleteDigit, false));

    b.add(text("希望什么时候联系您", BODY, PRIMARY_DARK));
    let times = b.add(row(16.0));
    for t in TIMES {
        b.add_to(times, choice(t, AssistTap::Time(t.into()), r.time == t));
    }

    let names = b.add(row(16.0));
    b.add_to(names, text("称呼（可不选）", BODY, PRIMARY_DARK));
    for n in NAMES {
        b.add_to(names, choice(n, AssistTap::Name(n.into()), r.name == n));
    }

    let left = missing(&r);
    if left.is_empty() {
        b.add(primary_button(
            "提交，等工作人员来电",
            Action::Assist(AssistTap::Submit),
        ));
    } else {
        b.add(text(format!("还需要：{}", left.join("、")), BODY, MUTED));
    }
    b.add(text(
        "手机号加密保存，只给受理的工作人员回电使用。",
        SMALL,
        MUTED,
    ));
}

/// After sending: the private link as a QR code, or honestly why it was not sent.
fn sent(b: &mut Build) {
    let r = b.session.assist.clone();
    match b.data.assist.clone() {
        None => b.waiting("提交结果"),
        Some(Ok(receipt)) => {
            let qr = b.qr(&receipt.link, 480.0);
            let when = if r.time.is_empty() {
                String::new()
            } else {
                format!("在{}", r.time)
            };
            b.add((
                centred_card(24.0, 40.0),
                children![
                    text(format!("已提交{}请求", r.kind.label()), TITLE, OK),
                    text(
                        format!("工作人员会{when}打电话到 {} 联系您。", receipt.phone),
                        BODY,
                        TEXT
                    ),
                    qr,
                    text("用手机扫码，随时查看办理进度和答复", BODY, MUTED),
                ],
            ));
            let line = b.add(row(16.0));
            b.add_to(line, primary_button("完成", Action::Home));
            b.add_to(
                line,
                plain_button("再提一个", Action::Assist(AssistTap::Again)),
            );
        }
        Some(Err(why)) => {
            let phone = b
                .data
                .home
                .as_ref()
                .and_then(|h| h.hall.as_ref())
                .map(|h| h.phone.clone())
                .unwrap_or_default();
            let call = if phone.is_empty() || why.contains(&phone) {
                String::new()
            } else {
                format!("也可以拨打大厅电话 {phone}")
            };
            b.add((
                card(),
                children![
                    text("请求没有发出", TITLE, ACCENT),
                    text(why, BODY, TEXT),
                    text(call, BODY, TEXT),
                ],
            ));
            let line = b.add(row(16.0));
            b.add_to(
                line,
                primary_button("返回修改再试", Action::Assist(AssistTap::Again)),
            );
            b.add_to(line, plain_button("回首页", Action::Home));
        }
    }
}

/// The item in view when the citizen came from a guide.
fn prefill_item(mut session: ResMut<Session>) {
    if !session.assist_sent && session.assist.item.is_none() && session.item.is_some() {
        session.assist.item = session.item.clone();
    }
}

/// Leaving the form: the phone typed and the private link's code are not left for the next
/// person to find.
fn forget(mut session: ResMut<Session>, mut data: ResMut<Data>) {
    session.assist = Default::default();
    session.assist_sent = false;
    data.assist = None;
}

fn react(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
) {
    for action in actions.read() {
        let Action::Assist(tap) = action else {
            continue;
        };
        let r = &mut session.assist;
        match tap {
            AssistTap::Kind(k) => r.kind = RequestKind::parse(k).unwrap_or_default(),
            AssistTap::Item(i) => r.item = i.clone(),
            AssistTap::Help(h) => r.help = h.clone(),
            AssistTap::Name(n) => {
                r.name = if r.name == *n {
                    String::new()
                } else {
                    n.clone()
                }
            }
            AssistTap::Digit(c) if c.is_ascii_digit() && r.phone.len() < 11 => r.phone.push(*c),
            AssistTap::Digit(_) => {}
            AssistTap::DeleteDigit => drop(r.phone.pop()),
            AssistTap::ClearDigits => r.phone.clear(),
            AssistTap::Time(t) => r.time = t.clone(),
            AssistTap::Submit => {
                if missing(r).is_empty() {
                    let request = r.clone();
                    session.assist_sent = true;
                    data.assist = None;
                    agent.ask(Request::Assist(request));
                }
            }
            AssistTap::Again => {
                if matches!(data.assist, Some(Ok(_))) {
                    session.assist = AssistRequest::default();
                }
                session.assist_sent = false;
                data.assist = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phone_shows_its_empty_places_and_the_form_says_what_is_missing() {
        assert_eq!(phone_shown("1381"), "138 1___ ____");
        assert_eq!(phone_shown("13812345678"), "138 1234 5678");
        let mut r = AssistRequest::default();
        assert_eq!(missing(&r).len(), 3);
        r.help = HELP_CHOICES[0].into();
        r.phone = "13812345678".into();
        r.time = TIMES[0].into();
        assert!(missing(&r).is_empty());
    }
}
