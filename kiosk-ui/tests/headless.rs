//! The kiosk's logic without a window or GPU: navigation, what it asks the agent for, and the
//! session wipe after inactivity.

use std::sync::mpsc::Receiver;
use std::time::Duration;

use bevy::input::InputPlugin;
use bevy::prelude::*;
use bevy::state::app::StatesPlugin;
use menpai_kiosk::agent::{AgentLink, Request};
use menpai_kiosk::nav::{Action, Screen};
use menpai_kiosk::session::Session;
use menpai_kiosk::theme::text_size::LargeText;
use menpai_kiosk::{KioskPlugin, Options};
use menpai_model::Audience;

fn app(options: Options) -> (App, Receiver<Request>) {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, InputPlugin));
    app.init_resource::<UiScale>();
    let (link, requests) = AgentLink::detached();
    app.insert_resource(link);
    app.add_plugins(KioskPlugin(options));
    // 250 ms a frame, whatever the machine does.
    app.insert_resource(menpai_kiosk::session::Clock {
        manual_step: Some(Duration::from_millis(250)),
        ..Default::default()
    });
    app.update();
    (app, requests)
}

fn screen(app: &App) -> Screen {
    *app.world().resource::<State<Screen>>().get()
}

/// Sends an action and lets the state change land.
fn act(app: &mut App, action: Action) {
    app.world_mut().write_message(action);
    app.update();
    app.update();
}

/// What the screens asked for (the alive beacon left out).
fn drain(requests: &Receiver<Request>) -> Vec<Request> {
    requests
        .try_iter()
        .filter(|r| !matches!(r, Request::Alive { .. }))
        .collect()
}

#[test]
fn the_ui_tells_the_agent_it_is_alive_from_its_frame_loop() {
    let (mut app, requests) = app(Options::default());
    app.update();
    let first: Vec<Request> = requests.try_iter().collect();
    assert!(
        first.contains(&Request::Alive { in_session: false }),
        "{first:?}"
    );
    // Not on every frame: once per interval.
    app.update();
    app.update();
    assert!(
        !requests
            .try_iter()
            .any(|r| matches!(r, Request::Alive { .. }))
    );
    // A citizen starts using the plate: said at once (an update's reboot waits for them).
    app.world_mut()
        .resource_mut::<NextState<Screen>>()
        .set(Screen::Home);
    app.update();
    app.update();
    assert!(
        requests
            .try_iter()
            .any(|r| r == Request::Alive { in_session: true })
    );
}

#[test]
fn a_touch_starts_a_session_and_three_taps_reach_a_guide() {
    let (mut app, requests) = app(Options::default());
    assert_eq!(screen(&app), Screen::Attract);
    act(&mut app, Action::Start);
    assert_eq!(screen(&app), Screen::Home);
    assert!(drain(&requests).contains(&Request::Home));

    // Home → 个人办事 → a topic → an item: three taps.
    act(&mut app, Action::BrowseAudience(Audience::Personal));
    assert_eq!(screen(&app), Screen::Browse);
    act(
        &mut app,
        Action::OpenCategory(menpai_kiosk::nav::CategoryKind::Topic, "住房".into()),
    );
    assert_eq!(screen(&app), Screen::Items);
    let asked = drain(&requests);
    assert!(
        asked.iter().any(
            |r| matches!(r, Request::Items(q) if q.contains(&("topic".into(), "住房".into())))
        ),
        "{asked:?}"
    );
    act(&mut app, Action::OpenItem("P43".into()));
    assert_eq!(screen(&app), Screen::Guide);
    assert!(drain(&requests).contains(&Request::Guide("P43".into())));

    // Back retraces the steps; home forgets them.
    act(&mut app, Action::Back);
    assert_eq!(screen(&app), Screen::Items);
    act(&mut app, Action::Back);
    assert_eq!(screen(&app), Screen::Browse);
    act(&mut app, Action::Home);
    assert_eq!(screen(&app), Screen::Home);
    assert!(app.world().resource::<Session>().history.is_empty());
}

#[test]
fn every_key_searches_and_situations_refresh_the_checklist() {
    let (mut app, requests) = app(Options::default());
    act(&mut app, Action::Start);
    act(&mut app, Action::Go(Screen::Search));
    drain(&requests);
    for c in "gjj".chars() {
        act(&mut app, Action::Key(c));
    }
    let searches: Vec<(String, u64)> = drain(&requests)
        .into_iter()
        .filter_map(|r| {
            if let Request::Search { q, seq } = r {
                Some((q, seq))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        searches,
        vec![("g".into(), 1), ("gj".into(), 2), ("gjj".into(), 3)]
    );
    act(&mut app, Action::Backspace);
    assert_eq!(app.world().resource::<Session>().query, "gj");

    act(&mut app, Action::OpenItem("P43".into()));
    act(&mut app, Action::OpenChecklist);
    assert_eq!(screen(&app), Screen::Checklist);
    drain(&requests);
    act(&mut app, Action::ToggleSituation("s1".into()));
    act(&mut app, Action::ToggleSituation("s2".into()));
    act(&mut app, Action::ToggleSituation("s1".into()));
    let asked = drain(&requests);
    assert_eq!(
        asked.last(),
        Some(&Request::Checklist {
            item: "P43".into(),
            situations: vec!["s2".into()]
        })
    );
    act(&mut app, Action::PrintChecklist);
    assert_eq!(
        drain(&requests),
        vec![Request::PrintChecklist {
            item: "P43".into(),
            situations: vec!["s2".into()]
        }]
    );
}

#[test]
fn inactivity_warns_then_wipes_the_session_and_returns_to_the_attract_loop() {
    let options = Options {
        idle_secs: 2.0,
        countdown_secs: 2.0,
        ..Options::default()
    };
    let (mut app, _requests) = app(options);
    act(&mut app, Action::Start);
    act(&mut app, Action::Go(Screen::Search));
    for c in "shebao".chars() {
        act(&mut app, Action::Key(c));
    }
    act(&mut app, Action::ToggleElder);
    assert_eq!(app.world().resource::<Session>().query, "shebao");
    assert!(app.world().resource::<LargeText>().0, "large text on");

    // Two seconds without a touch (250 ms a frame): the countdown appears.
    for _ in 0..10 {
        app.update();
    }
    assert_eq!(
        screen(&app),
        Screen::Search,
        "not wiped before the countdown ends"
    );
    let countdown = find_text(&mut app, "秒后将清除");
    assert!(countdown.is_some(), "the countdown warns first");

    // A touch keeps the session.
    act(&mut app, Action::Continue);
    assert!(find_text(&mut app, "秒后将清除").is_none());
    assert_eq!(app.world().resource::<Session>().query, "shebao");

    // Untouched again until the countdown runs out: everything is wiped.
    for _ in 0..24 {
        app.update();
    }
    assert_eq!(screen(&app), Screen::Attract);
    assert_eq!(*app.world().resource::<Session>(), Session::default());
    assert!(
        !app.world().resource::<LargeText>().0,
        "large text off again"
    );
}

fn find_text(app: &mut App, needle: &str) -> Option<String> {
    let mut q = app.world_mut().query::<&Text>();
    q.iter(app.world())
        .map(|t| t.0.clone())
        .find(|t| t.contains(needle))
}

#[test]
fn calling_staff_and_rating_reach_the_agent() {
    let (mut app, requests) = app(Options::default());
    act(&mut app, Action::Start);
    act(&mut app, Action::Go(Screen::Help));
    act(&mut app, Action::CallStaff);
    act(&mut app, Action::Go(Screen::Rating));
    act(&mut app, Action::Rate(2));
    act(&mut app, Action::RateReason("等待时间长".into()));
    act(&mut app, Action::SubmitRating);
    let asked = drain(&requests);
    assert!(
        asked.contains(&Request::CallStaff {
            context: Some("Help".into())
        }),
        "{asked:?}"
    );
    assert!(
        asked.contains(&Request::Rate {
            level: 2,
            reasons: vec!["等待时间长".into()],
            item: None
        }),
        "{asked:?}"
    );
}

#[test]
fn a_new_item_forgets_the_last_print_and_back_never_loses_a_step() {
    let (mut app, _requests) = app(Options::default());
    act(&mut app, Action::Start);
    act(&mut app, Action::OpenItem("P43".into()));
    act(&mut app, Action::OpenChecklist);
    app.world_mut()
        .resource_mut::<menpai_kiosk::agent::Data>()
        .printed = Some(Ok(()));
    act(&mut app, Action::Home);
    act(&mut app, Action::OpenItem("P44".into()));
    assert!(
        app.world()
            .resource::<menpai_kiosk::agent::Data>()
            .printed
            .is_none()
    );
    assert!(!app.world().resource::<Session>().printing);
    // Home → P44 guide; back returns home and the history is empty, not short by one.
    act(&mut app, Action::Back);
    assert_eq!(screen(&app), Screen::Home);
    act(&mut app, Action::Back);
    assert_eq!(screen(&app), Screen::Home);
}

#[test]
fn tickets_and_scanned_appointments_reach_the_agent_and_are_wiped_after() {
    use menpai_kiosk::agent::{AgentPush, Data};
    use menpai_model::api::AgentEvent;
    let options = Options {
        idle_secs: 2.0,
        countdown_secs: 1.0,
        ..Options::default()
    };
    let (mut app, requests) = app(options);
    act(&mut app, Action::Start);
    act(&mut app, Action::Go(Screen::Queue));
    assert!(drain(&requests).contains(&Request::Queue));
    act(&mut app, Action::TakeTicket("E".into()));
    assert_eq!(screen(&app), Screen::Ticket);
    assert!(drain(&requests).contains(&Request::TakeTicket { prefix: "E".into() }));
    assert!(find_text(&mut app, "正在取号").is_some());

    // A refusal is shown in the agent's words.
    app.world_mut().resource_mut::<Data>().ticket =
        Some(Err("今日E类号码已取完，请到咨询台".into()));
    app.update();
    app.update();
    assert!(find_text(&mut app, "号码已取完").is_some());

    // An appointment code scanned on any screen checks in; other codes do nothing.
    act(&mut app, Action::Home);
    for payload in [
        "https://example.cn/i/P43",
        "https://m.example.cn/a/MPY1.abc.def",
    ] {
        app.world_mut()
            .write_message(AgentPush::Event(AgentEvent::Scan {
                payload: payload.into(),
                source: "scanner".into(),
            }));
        app.update();
        app.update();
        app.update();
    }
    assert_eq!(screen(&app), Screen::CheckIn);
    let asked = drain(&requests);
    assert_eq!(
        asked
            .iter()
            .filter(|r| matches!(r, Request::CheckIn { .. }))
            .collect::<Vec<_>>(),
        vec![&Request::CheckIn {
            token: "MPY1.abc.def".into()
        }],
    );
    app.world_mut().resource_mut::<Data>().checkin = Some(Err("预约码无效".into()));
    app.update();
    app.update();
    assert!(find_text(&mut app, "签到没有成功").is_some());

    // Left alone, the next person sees none of it.
    for _ in 0..20 {
        app.update();
    }
    assert_eq!(screen(&app), Screen::Attract);
    let data = app.world().resource::<Data>();
    assert!(data.ticket.is_none() && data.checkin.is_none());
}

#[test]
fn leaving_the_assist_form_forgets_the_phone_and_the_private_link() {
    use menpai_kiosk::agent::Data;
    use menpai_kiosk::nav::AssistTap;
    use menpai_model::assist::AssistReceipt;
    let (mut app, _requests) = app(Options::default());
    act(&mut app, Action::Start);
    act(&mut app, Action::Go(Screen::Assist));
    for c in "13812345678".chars() {
        act(&mut app, Action::Assist(AssistTap::Digit(c)));
    }
    assert_eq!(
        app.world().resource::<Session>().assist.phone,
        "13812345678"
    );
    app.world_mut().resource_mut::<Data>().assist = Some(Ok(AssistReceipt {
        id: "r1".into(),
        link: "https://example.invalid/r/secret".into(),
        phone: "138****5678".into(),
    }));
    act(&mut app, Action::Home);
    assert_eq!(screen(&app), Screen::Home);
    assert_eq!(app.world().resource::<Session>().assist.phone, "");
    assert!(app.world().resource::<Data>().assist.is_none());
}
