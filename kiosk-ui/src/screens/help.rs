//! Help (有事请教): a button that calls the hall's staff and the call's real state (waiting,
//! who is coming, handled; escalated; or the hall's phone when nobody could be told), the way
//! to 帮办代办 / 上门取件, and questions people often ask, by category. The help button on the
//! plate (GPIO) opens this screen and makes the same call.

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};
use menpai_model::api::AgentEvent;
use menpai_model::help::{HelpAnswer, HelpStage};

use super::PageSystems;
use super::frame::{self, Build};
use super::requests::{self, Agent};
use crate::agent::{AgentPush, Data, Request};
use crate::nav::{Action, KeepAwake, Screen};
use crate::session::{Activity, Session};
use crate::theme::palette::*;
use crate::theme::widget::*;

pub(super) fn plugin(app: &mut App) {
    frame::page(app, Screen::Help, build);
    requests::asks(app, Screen::Help, |_, _| vec![Request::Faqs]);
    app.add_systems(Update, ask_for_help.in_set(PageSystems::React));
    app.add_systems(Update, follow_the_call.in_set(PageSystems::Pushed));
    app.add_systems(Last, photograph_states);
}

/// Where the citizen's call stands, as the plate says it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shown {
    Calling,
    Waiting,
    Escalated,
    Coming(String),
    Resolved,
    /// The agent could not tell the hall's staff: the phone to call instead.
    Unreached(Option<String>),
    /// The agent itself did not answer.
    Failed(String),
}

impl Shown {
    fn now(session: &Session, data: &Data) -> Option<Shown> {
        if !session.staff_called {
            return None;
        }
        if let Some(why) = &data.staff_call_failed {
            return Some(Shown::Failed(why.clone()));
        }
        let Some(call) = &data.help_call else {
            return Some(Shown::Calling);
        };
        if !call.reached {
            return Some(Shown::Unreached(call.phone.clone()));
        }
        Some(match call.stage {
            Some(HelpStage::Escalated) => Shown::Escalated,
            Some(HelpStage::Acknowledged) => {
                Shown::Coming(call.by.clone().unwrap_or_else(|| "*".into()))
            }
            Some(HelpStage::Resolved) => Shown::Resolved,
            _ => Shown::Waiting,
        })
    }

    /// Its name in test output and screenshot files.
    fn key(&self) -> &'static str {
        match self {
            Shown::Calling => "calling",
            Shown::Waiting => "waiting",
            Shown::Escalated => "escalated",
            Shown::Coming(_) => "acknowledged",
            Shown::Resolved => "resolved",
            Shown::Unreached(_) => "unreached",
            Shown::Failed(_) => "failed",
        }
    }

    /// A call is under way: calling again would only make a second one.
    fn active(&self) -> bool {
        matches!(
            self,
            Shown::Calling | Shown::Waiting | Shown::Escalated | Shown::Coming(_)
        )
    }

    /// The headline and the line under it, and the headline's colour.
    fn words(&self) -> (String, String, Color) {
        match self {
            Shown::Calling => ("正在呼叫工作人员…".into(), "请稍候。".into(), TEXT),
            Shown::Waiting => (
                "已通知工作人员，请稍候".into(),
                "工作人员看到后会马上过来。".into(),
                PRIMARY_DARK,
            ),
            Shown::Escalated => (
                "暂时还没有工作人员应答".into(),
                "已经通知值班主任，请再稍等，或到咨询台找工作人员。".into(),
                ACCENT,
            ),
            Shown::Coming(by) => (format!("工作人员 {by} 马上到"), "请在这里稍等。".into(), OK),
            Shown::Resolved => (
                "已处理".into(),
                "工作人员已处理您的呼叫。还需要帮助可以再次呼叫。".into(),
                OK,
            ),
            Shown::Unreached(Some(phone)) => (
                "暂时联系不上工作人员".into(),
                format!("请拨打大厅服务电话 {phone}，或到咨询台找工作人员。"),
                ACCENT,
            ),
            Shown::Unreached(None) | Shown::Failed(_) => (
                "暂时联系不上工作人员".into(),
                "请到咨询台找工作人员。".into(),
                ACCENT,
            ),
        }
    }
}

fn build(b: &mut Build) {
    let shown = Shown::now(b.session, b.data);
    let call = b.add((card(),));
    b.add_to(call, heading("需要人帮忙？"));
    if let Some(s) = &shown {
        let (headline, line, color) = s.words();
        b.add_to(call, text(headline, HEADING, color));
        b.add_to(call, text(line, BODY, MUTED));
    }
    if !shown.as_ref().is_some_and(Shown::active) {
        let label = if shown.is_some() {
            "再次呼叫工作人员"
        } else {
            "呼叫工作人员"
        };
        b.add_to(call, primary_button(label, Action::CallStaff));
    }
    b.add((
        card(),
        children![
            text("有问题？直接问，不会拼音也可以手写。", BODY, TEXT),
            primary_button("智能问答", Action::Go(Screen::Ask)),
        ],
    ));
    b.add((
        card(),
        children![
            text("第一次用这台机器？一分钟看懂怎么用。", BODY, TEXT),
            plain_button("使用说明", Action::HowTo(true)),
        ],
    ));
    b.add((
        card(),
        children![
            text("行动不便、需要代办，或想请工作人员上门取件？", BODY, TEXT),
            plain_button("帮办代办 / 上门取件", Action::Go(Screen::Assist)),
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

/// Starts a new call from `screen`, about the item in view.
fn call_staff(session: &mut Session, data: &mut Data, agent: &mut Agent, screen: Screen) {
    session.staff_called = true;
    data.staff_called = false;
    data.staff_call_failed = None;
    data.help_call = None;
    let context = Some(format!("{screen:?}"));
    agent.ask(match session.item.clone() {
        Some(item) => Request::CallStaffOnItem { context, item },
        None => Request::CallStaff { context },
    });
}

/// A tab picks the questions shown; the button calls staff, saying from which screen.
fn ask_for_help(
    mut actions: MessageReader<Action>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
) {
    for action in actions.read() {
        match action {
            Action::FaqCategory(c) => session.faq_category = Some(c.clone()),
            Action::CallStaff => {
                let busy = Shown::now(&session, &data).is_some_and(|s| s.active());
                if !busy {
                    call_staff(&mut session, &mut data, &mut agent, *screen.get());
                }
            }
            _ => {}
        }
    }
}

/// The help button on the plate opens this screen and calls (unless a call is under way);
/// the server's word on the call (acknowledged by whom, resolved, escalated) is shown.
#[allow(clippy::too_many_arguments)]
fn follow_the_call(
    mut pushes: MessageReader<AgentPush>,
    mut session: ResMut<Session>,
    mut data: ResMut<Data>,
    mut agent: Agent,
    screen: Res<State<Screen>>,
    mut next: ResMut<NextState<Screen>>,
    mut activity: MessageWriter<Activity>,
    mut keep: ResMut<KeepAwake>,
) {
    for push in pushes.read() {
        match push {
            AgentPush::Event(AgentEvent::HelpRequested) => {
                info!("The help button was pressed.");
                activity.write(Activity);
                keep.ask();
                let busy = Shown::now(&session, &data).is_some_and(|s| s.active());
                if !busy {
                    call_staff(&mut session, &mut data, &mut agent, *screen.get());
                }
                let from_attract = *screen.get() == Screen::Attract;
                super::tap::go(Screen::Help, &screen, &mut session, &mut next);
                if from_attract {
                    session.history.clear();
                }
            }
            AgentPush::Event(AgentEvent::HelpChanged { update }) => {
                let Some(call) = data.help_call.as_mut() else {
                    continue;
                };
                if call.id.as_deref() == Some(update.id.as_str()) {
                    *call = HelpAnswer {
                        stage: Some(update.stage),
                        by: update.by.clone().or(call.by.take()),
                        ..call.clone()
                    };
                    keep.ask();
                }
            }
            _ => {}
        }
    }
}

/// With `--shots`, each state the help screen reaches is photographed once it has settled
/// (`help-<state>.png`) and named on stdout, so a test can wait for exactly that state.
fn photograph_states(
    mut commands: Commands,
    options: Res<crate::Options>,
    screen: Res<State<Screen>>,
    session: Res<Session>,
    data: Res<Data>,
    mut last: Local<Option<&'static str>>,
    mut settle: Local<u32>,
) {
    let Some(dir) = options.shots.clone() else {
        return;
    };
    let key = (*screen.get() == Screen::Help)
        .then(|| Shown::now(&session, &data))
        .flatten()
        .map(|s| s.key());
    if key != *last {
        *last = key;
        *settle = 20;
        return;
    }
    let Some(key) = key else { return };
    if *settle == 0 {
        return;
    }
    *settle -= 1;
    if *settle > 0 {
        return;
    }
    let path = dir.join(format!("help-{key}.png"));
    let mut save = save_to_disk(path);
    commands.spawn(Screenshot::primary_window()).observe(
        move |shot: On<bevy::render::view::screenshot::ScreenshotCaptured>| {
            save(shot);
            println!("menpai-kiosk: help shows {key}");
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(answer: Option<HelpAnswer>, failed: Option<&str>) -> Option<Shown> {
        let session = Session {
            staff_called: true,
            ..Session::default()
        };
        let data = Data {
            help_call: answer,
            staff_call_failed: failed.map(str::to_owned),
            ..Data::default()
        };
        Shown::now(&session, &data)
    }

    fn reached(stage: HelpStage, by: Option<&str>) -> Option<HelpAnswer> {
        Some(HelpAnswer {
            reached: true,
            id: Some("c1".into()),
            stage: Some(stage),
            by: by.map(str::to_owned),
            phone: None,
        })
    }

    #[test]
    fn the_plate_says_what_happened_and_never_that_staff_were_told_when_they_were_not() {
        assert_eq!(Shown::now(&Session::default(), &Data::default()), None);
        assert_eq!(shown(None, None), Some(Shown::Calling));
        let waiting = shown(reached(HelpStage::Waiting, None), None).unwrap();
        assert_eq!(waiting.words().0, "已通知工作人员，请稍候");
        let coming = shown(reached(HelpStage::Acknowledged, Some("王*")), None).unwrap();
        assert_eq!(coming.words().0, "工作人员 王* 马上到");
        let escalated = shown(reached(HelpStage::Escalated, None), None).unwrap();
        assert!(escalated.words().1.contains("值班主任"));
        assert_eq!(
            shown(reached(HelpStage::Resolved, Some("王*")), None)
                .unwrap()
                .words()
                .0,
            "已处理"
        );
        let unreached = shown(
            Some(HelpAnswer {
                reached: false,
                id: None,
                stage: None,
                by: None,
                phone: Some("0755-83090100".into()),
            }),
            None,
        )
        .unwrap();
        let failed = shown(None, Some("终端服务暂时连不上")).unwrap();
        for s in [&unreached, &failed] {
            let (a, b, _) = s.words();
            assert!(!a.contains("已通知") && !b.contains("已通知"), "{a}{b}");
            assert!(!s.active(), "the citizen may call again");
        }
        assert!(
            unreached
                .words()
                .1
                .contains("请拨打大厅服务电话 0755-83090100")
        );
    }
}
