//! The link to the edge agent: a worker thread for API calls and one for the event stream, so
//! the UI never blocks. Replies land in [`Data`]; the event loop is woken when they arrive.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::prelude::*;
use bevy::winit::{EventLoopProxy, EventLoopProxyWrapper, WinitUserEvent};
use menpai_model::api::{
    AgentEvent, ApiError, AskResponse, BookedAtPlate, BookingCodeSent, BookingDays, BookingHold,
    Checklist, FaqList, FloorPlanView, Guide, HandwritingCandidates, HandwritingInk, Home,
    ItemList, OutletList, ReadAloud, ReadingState, SearchResponse,
};
pub use menpai_model::percent_encode as encode;
use menpai_model::queue::{CheckedIn, IssuedTicket, QueueView, WindowCall};
use serde::de::DeserializeOwned;

use crate::Options;

pub(crate) fn plugin(app: &mut App) {
    app.init_resource::<Data>()
        .init_resource::<AgentStatus>()
        .add_message::<AgentPush>();
    app.add_systems(Startup, start);
    app.add_systems(PreUpdate, drain);
    app.add_systems(Update, say_alive);
}

/// How often the UI tells the agent it is alive. Idle, the frame loop still runs once a
/// minute, so a UI that is silent much longer is frozen (the agent then restarts its unit).
const ALIVE_EVERY: Duration = Duration::from_secs(20);

/// Also says whether a citizen is using the plate (any screen but the attract loop), at once
/// when that changes: the agent holds an update's reboot meanwhile.
fn say_alive(
    link: Option<Res<AgentLink>>,
    screen: Option<Res<State<crate::nav::Screen>>>,
    mut status: ResMut<AgentStatus>,
    mut last: Local<Option<(std::time::Instant, bool)>>,
) {
    let Some(link) = link else { return };
    let in_session = screen.is_some_and(|s| *s.get() != crate::nav::Screen::Attract);
    if last.is_some_and(|(t, was)| t.elapsed() < ALIVE_EVERY && was == in_session) {
        return;
    }
    *last = Some((std::time::Instant::now(), in_session));
    send(&link, &mut status, Request::Alive { in_session });
}

/// What the UI asks the agent for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Home,
    /// Browse with a ready query string, e.g. `audience=个人&topic=住房`.
    Items(Vec<(String, String)>),
    Guide(String),
    Checklist {
        item: String,
        situations: Vec<String>,
    },
    Search {
        q: String,
        seq: u64,
    },
    /// The strokes on the writing pad, to be recognised.
    Handwriting {
        ink: HandwritingInk,
        seq: u64,
    },
    /// A question for the FAQs.
    Ask {
        q: String,
        seq: u64,
    },
    Outlets,
    FloorPlan(String),
    Faqs,
    PrintChecklist {
        item: String,
        situations: Vec<String>,
    },
    CallStaff {
        context: Option<String>,
    },
    /// Calls staff from a screen with an item in view.
    CallStaffOnItem {
        context: Option<String>,
        item: String,
    },
    Rate {
        level: u8,
        reasons: Vec<String>,
        item: Option<String>,
    },
    /// A rating of the ticket taken here.
    RateTicket {
        level: u8,
        reasons: Vec<String>,
        ticket: menpai_model::api::RatedTicket,
    },
    Queue,
    TakeTicket {
        prefix: String,
    },
    CheckIn {
        token: String,
    },
    /// A 帮代办 / 上门取件 request.
    Assist(menpai_model::assist::AssistRequest),
    /// The frame loop runs (the agent's watch on a frozen UI); whether a citizen uses the plate.
    Alive {
        in_session: bool,
    },
    /// A session ended after this many seconds (an anonymous usage count).
    SessionEnded {
        seconds: u64,
    },
    /// The days and slots an item can be booked in at this hall.
    BookingDays(String),
    /// Hold a slot and text a code to the phone.
    BookHold(BookingHold),
    /// Confirm the held booking with the texted code.
    BookConfirm {
        pending: String,
        code: String,
    },
    /// Read a guide's summary or a screen's words aloud (听指南).
    ReadAloud(ReadAloud),
    /// Stop reading aloud.
    StopReading,
    /// The window as captured for the agent's screenshot request `id`.
    Screenshot {
        id: String,
        pixels: Pixels,
    },
}

/// A captured window's pixels (RGB, row by row): shared, never printed whole.
#[derive(Clone)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgb: Arc<Vec<u8>>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pixels({}×{})", self.width, self.height)
    }
}

impl PartialEq for Pixels {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.rgb, &other.rgb)
    }
}

/// The pixels as a PNG.
fn png_of(p: &Pixels) -> Option<Vec<u8>> {
    let img = image::RgbImage::from_raw(p.width, p.height, p.rgb.to_vec())?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

/// Said where an answer would be when the agent does not answer.
const UNREACHABLE: &str = "终端服务暂时连不上，请稍后再试，或到咨询台找工作人员";

/// What came back.
#[derive(Debug)]
enum Reply {
    Home(Box<Home>),
    Items(ItemList),
    Guide(Box<Guide>),
    Checklist(Checklist),
    Search(u64, SearchResponse),
    /// The writing pad's candidates, or why there are none.
    Candidates(u64, usize, Result<Vec<String>, String>),
    /// The answers to a question, or why there are none.
    Answers(u64, String, Result<AskResponse, String>),
    Outlets(OutletList),
    FloorPlan(FloorPlanView),
    Faqs(FaqList),
    Printed(Result<(), PrintFailure>),
    Queue(QueueView),
    Ticket(Result<IssuedTicket, String>),
    CheckedIn(Result<Box<CheckedIn>, String>),
    /// A 帮代办 / 上门取件 request's receipt, or why it was not sent.
    Assisted(Result<menpai_model::assist::AssistReceipt, String>),
    /// Help was called, or a rating recorded.
    Done(Request),
    /// A help call's answer: the hall's staff reached, or the phone to call instead.
    Help(menpai_model::help::HelpAnswer),
    /// Booking at the plate: days, the code sent, the booking made; or why not.
    BookingDays(Result<BookingDays, String>),
    BookingSent(Result<BookingCodeSent, String>),
    Booked(Result<BookedAtPlate, String>),
    /// The reading aloud now, or why it could not start.
    Reading(Result<ReadingState, String>),
    /// Help or a rating did not get through, and why.
    Failed(Request, String),
    /// The agent answered with an error for the citizen.
    Refused(String),
    /// The agent could not be reached.
    Unreachable,
}

/// A print that did not happen, and the QR to show instead.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintFailure {
    pub reason: String,
    pub fallback_qr: Option<String>,
}

/// Everything fetched, for the screens to draw.
#[derive(Resource, Default, Debug)]
pub struct Data {
    pub home: Option<Home>,
    pub items: Option<ItemList>,
    pub guide: Option<Guide>,
    pub checklist: Option<Checklist>,
    pub search: Option<SearchResponse>,
    /// The characters the writing pad's strokes may be, best first, or why not; with the
    /// number of strokes they are for.
    pub candidates: Option<(usize, Result<Vec<String>, String>)>,
    /// The question answered, and its answers (or why there are none).
    pub answers: Option<(String, Result<AskResponse, String>)>,
    pub outlets: Option<OutletList>,
    pub plan: Option<FloorPlanView>,
    pub faqs: Option<FaqList>,
    /// The last print: done, or why not.
    pub printed: Option<Result<(), PrintFailure>>,
    /// A refusal to show in plain words.
    pub error: Option<String>,
    /// Staff were called.
    pub staff_called: bool,
    /// The last help call's answer, kept up to date by the agent's pushes.
    pub help_call: Option<menpai_model::help::HelpAnswer>,
    /// The rating was recorded.
    pub rated: bool,
    /// Why calling staff or rating did not get through.
    pub staff_call_failed: Option<String>,
    pub rating_failed: Option<String>,
    pub queue: Option<QueueView>,
    /// The ticket just taken, or why not.
    pub ticket: Option<Result<IssuedTicket, String>>,
    /// The appointment just checked in, or why not.
    pub checkin: Option<Result<Box<CheckedIn>, String>>,
    /// The 帮代办 / 上门取件 request just sent: its private link, or why it was not sent.
    pub assist: Option<Result<menpai_model::assist::AssistReceipt, String>>,
    /// The newest call in the hall.
    pub last_call: Option<WindowCall>,
    /// Booking at the plate: the item's days and slots, the code texted, the booking made (or
    /// why not).
    pub booking_days: Option<Result<BookingDays, String>>,
    pub booking_sent: Option<Result<BookingCodeSent, String>>,
    pub booked: Option<Result<BookedAtPlate, String>>,
    /// The newest reading aloud (听指南), kept up to date by the agent's pushes, or why it
    /// could not start.
    pub reading: Option<Result<ReadingState, String>>,
}

impl Data {
    /// A reading's state, unless a newer one is known already (replies and pushes cross).
    fn reading_is(&mut self, r: ReadingState) {
        let newest = match &self.reading {
            Some(Ok(known)) => known.id,
            _ => 0,
        };
        if r.id >= newest {
            self.reading = Some(Ok(r));
        }
    }

    /// Reading aloud now.
    pub fn reading_now(&self) -> bool {
        matches!(&self.reading, Some(Ok(r)) if r.playing)
    }
}

/// Whether the agent answers.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct AgentStatus {
    pub online: bool,
    /// Requests sent and not answered yet.
    pub pending: usize,
    /// The newest search sent; older answers are dropped.
    pub search_seq: u64,
    /// The newest strokes sent for recognition, and question sent; older answers are dropped.
    pub ink_seq: u64,
    pub ask_seq: u64,
}

impl Default for AgentStatus {
    fn default() -> Self {
        AgentStatus {
            online: true,
            pending: 0,
            search_seq: 0,
            ink_seq: 0,
            ask_seq: 0,
        }
    }
}

/// Something the agent pushed: an event, or the stream coming and going.
#[derive(Message, Debug, Clone)]
pub enum AgentPush {
    Event(AgentEvent),
    Connected,
    Disconnected,
}

/// Sends requests to the workers: one for what screens show, one for prints, help calls and
/// ratings, so a slow print never holds up the next screen's data.
#[derive(Resource)]
pub struct AgentLink {
    requests: Option<Sender<Request>>,
    actions: Option<Sender<Request>>,
    replies: Mutex<Receiver<Reply>>,
    pushes: Mutex<Receiver<AgentPush>>,
}

impl AgentLink {
    /// A link that goes nowhere (headless tests); requests are recorded instead.
    pub fn detached() -> (Self, Receiver<Request>) {
        let (tx, rx) = mpsc::channel();
        let (_reply_tx, replies) = mpsc::channel();
        let (_push_tx, pushes) = mpsc::channel();
        (
            AgentLink {
                requests: Some(tx.clone()),
                actions: Some(tx),
                replies: Mutex::new(replies),
                pushes: Mutex::new(pushes),
            },
            rx,
        )
    }
}

/// Asks the agent for something; the answer arrives in [`Data`].
pub fn send(link: &AgentLink, status: &mut AgentStatus, request: Request) {
    let acts = matches!(
        request,
        Request::PrintChecklist { .. }
            | Request::CallStaff { .. }
            | Request::CallStaffOnItem { .. }
            | Request::Rate { .. }
            | Request::RateTicket { .. }
            | Request::TakeTicket { .. }
            | Request::CheckIn { .. }
            | Request::Assist(_)
            | Request::BookHold(_)
            | Request::BookConfirm { .. }
    );
    let channel = if acts { &link.actions } else { &link.requests };
    if let Some(tx) = channel
        && tx.send(request).is_ok()
    {
        status.pending += 1;
    }
}

fn start(
    mut commands: Commands,
    options: Res<Options>,
    proxy: Option<Res<EventLoopProxyWrapper>>,
    link: Option<Res<AgentLink>>,
) {
    if link.is_some() {
        return; // a test put its own link in place
    }
    let waker: Waker = Arc::new(proxy.map(|p| (**p).clone()));
    let (req_tx, req_rx) = mpsc::channel();
    let (act_tx, act_rx) = mpsc::channel();
    let (reply_tx, reply_rx) = mpsc::channel();
    let (push_tx, push_rx) = mpsc::channel();
    let base = options
        .agent
        .trim_end_matches('/')
        .trim_start_matches("http://")
        .to_owned();
    for (name, rx) in [("agent-api", req_rx), ("agent-actions", act_rx)] {
        let (b, w, at, tx) = (
            base.clone(),
            waker.clone(),
            options.now.clone(),
            reply_tx.clone(),
        );
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || serve_requests(&Client::new(b), at.as_deref(), rx, tx, w))
            .expect("thread starts");
    }
    std::thread::Builder::new()
        .name("agent-events".into())
        .spawn(move || follow_events(&base, push_tx, waker))
        .expect("thread starts");
    commands.insert_resource(AgentLink {
        requests: Some(req_tx),
        actions: Some(act_tx),
        replies: Mutex::new(reply_rx),
        pushes: Mutex::new(push_rx),
    });
}

type Waker = Arc<Option<EventLoopProxy<WinitUserEvent>>>;

fn wake(w: &Waker) {
    if let Some(p) = w.as_ref() {
        let _ = p.send_event(WinitUserEvent::WakeUp);
    }
}

fn serve_requests(
    client: &Client,
    at: Option<&str>,
    requests: Receiver<Request>,
    replies: Sender<Reply>,
    waker: Waker,
) {
    for request in requests {
        let reply = answer(client, at, &request);
        if replies.send(reply).is_err() {
            return;
        }
        wake(&waker);
    }
}

/// `at`: a fixed local time for answers that depend on the hour (open now).
fn answer(client: &Client, at: Option<&str>, request: &Request) -> Reply {
    let at_param = |sep: char| {
        at.map(|t| format!("{sep}at={}", encode(t)))
            .unwrap_or_default()
    };
    let get = |path: String| http(client, "GET", &path, None);
    let result = match request {
        Request::Home => get(format!("/api/v1/home{}", at_param('?')))
            .and_then(|b| parse(&b).map(|h| Reply::Home(Box::new(h)))),
        Request::Items(query) => get(format!("/api/v1/items?{}", query_string(query)))
            .and_then(|b| parse(&b).map(Reply::Items)),
        Request::Guide(id) => get(format!("/api/v1/items/{}{}", encode(id), at_param('?')))
            .and_then(|b| parse(&b).map(|g| Reply::Guide(Box::new(g)))),
        Request::Checklist { item, situations } => get(format!(
            "/api/v1/items/{}/checklist?situations={}",
            encode(item),
            encode(&situations.join(","))
        ))
        .and_then(|b| parse(&b).map(Reply::Checklist)),
        Request::Search { q, seq } => get(format!("/api/v1/search?limit=20&q={}", encode(q)))
            .and_then(|b| parse(&b).map(|r| Reply::Search(*seq, r))),
        Request::Handwriting { ink, seq } => {
            let body = serde_json::to_string(ink).unwrap_or_default();
            match http(client, "POST", "/api/v1/handwriting", Some(&body)) {
                Ok(b) => parse::<HandwritingCandidates>(&b)
                    .map(|c| Reply::Candidates(*seq, ink.strokes.len(), Ok(c.candidates))),
                Err(Failure::Refused(e)) => {
                    Ok(Reply::Candidates(*seq, ink.strokes.len(), Err(e.error)))
                }
                Err(Failure::Unreachable) => Ok(Reply::Candidates(
                    *seq,
                    ink.strokes.len(),
                    Err(UNREACHABLE.into()),
                )),
            }
        }
        Request::Ask { q, seq } => match get(format!("/api/v1/ask?q={}", encode(q))) {
            Ok(b) => parse(&b).map(|r| Reply::Answers(*seq, q.clone(), Ok(r))),
            Err(Failure::Refused(e)) => Ok(Reply::Answers(*seq, q.clone(), Err(e.error))),
            Err(Failure::Unreachable) => {
                Ok(Reply::Answers(*seq, q.clone(), Err(UNREACHABLE.into())))
            }
        },
        Request::Outlets => get(format!("/api/v1/outlets{}", at_param('?')))
            .and_then(|b| parse(&b).map(Reply::Outlets)),
        Request::FloorPlan(hall) => get(format!("/api/v1/halls/{}/floorplan", encode(hall)))
            .and_then(|b| parse(&b).map(Reply::FloorPlan)),
        Request::Faqs => get("/api/v1/faqs".into()).and_then(|b| parse(&b).map(Reply::Faqs)),
        Request::CallStaff { context } | Request::CallStaffOnItem { context, .. } => {
            let item = match request {
                Request::CallStaffOnItem { item, .. } => Some(item),
                _ => None,
            };
            let body = serde_json::json!({ "context": context, "screen": context, "item": item })
                .to_string();
            http(client, "POST", "/api/v1/help", Some(&body))
                .and_then(|b| parse(&b).map(Reply::Help))
        }
        Request::Rate {
            level,
            reasons,
            item,
        } => {
            let body =
                serde_json::json!({ "level": level, "reasons": reasons, "item": item }).to_string();
            http(client, "POST", "/api/v1/ratings", Some(&body))
                .map(|_| Reply::Done(request.clone()))
        }
        Request::RateTicket {
            level,
            reasons,
            ticket,
        } => {
            let body = serde_json::json!({ "level": level, "reasons": reasons, "ticket": ticket })
                .to_string();
            http(client, "POST", "/api/v1/ratings", Some(&body))
                .map(|_| Reply::Done(request.clone()))
        }
        Request::Alive { in_session } => {
            let body = format!("{{\"session\": {in_session}}}");
            http(client, "POST", "/api/v1/ui/alive", Some(&body))
                .map(|_| Reply::Done(request.clone()))
        }
        Request::BookingDays(item) => {
            match get(format!("/api/v1/booking/days?item={}", encode(item))) {
                Ok(b) => parse(&b).map(|d| Reply::BookingDays(Ok(d))),
                Err(Failure::Refused(e)) => Ok(Reply::BookingDays(Err(e.error))),
                Err(Failure::Unreachable) => Ok(Reply::BookingDays(Err(UNREACHABLE.into()))),
            }
        }
        Request::BookHold(hold) => {
            let body = serde_json::to_string(hold).unwrap_or_default();
            match http(client, "POST", "/api/v1/booking", Some(&body)) {
                Ok(b) => parse(&b).map(|c| Reply::BookingSent(Ok(c))),
                Err(Failure::Refused(e)) => Ok(Reply::BookingSent(Err(e.error))),
                Err(Failure::Unreachable) => Ok(Reply::BookingSent(Err(UNREACHABLE.into()))),
            }
        }
        Request::BookConfirm { pending, code } => {
            let body = serde_json::json!({ "code": code }).to_string();
            let path = format!("/api/v1/booking/{}/confirm", encode(pending));
            match http(client, "POST", &path, Some(&body)) {
                Ok(b) => parse(&b).map(|c| Reply::Booked(Ok(c))),
                Err(Failure::Refused(e)) => Ok(Reply::Booked(Err(e.error))),
                Err(Failure::Unreachable) => Ok(Reply::Booked(Err(UNREACHABLE.into()))),
            }
        }
        Request::ReadAloud(what) => {
            let body = serde_json::to_string(what).unwrap_or_default();
            match http(client, "POST", "/api/v1/read", Some(&body)) {
                Ok(b) => parse(&b).map(|r| Reply::Reading(Ok(r))),
                Err(Failure::Refused(e)) => Ok(Reply::Reading(Err(e.error))),
                Err(Failure::Unreachable) => Ok(Reply::Reading(Err(UNREACHABLE.into()))),
            }
        }
        Request::StopReading => http(client, "POST", "/api/v1/read/stop", Some("{}"))
            .and_then(|b| parse(&b).map(|r| Reply::Reading(Ok(r)))),
        Request::Screenshot { id, pixels } => match png_of(pixels) {
            Some(png) => client
                .agent
                .post(format!(
                    "http://{}/api/v1/ui/screenshots/{}",
                    client.base,
                    encode(id)
                ))
                .header("Content-Type", "image/png")
                .send(&png[..])
                .map(|_| Reply::Done(request.clone()))
                .map_err(|_| Failure::Unreachable),
            None => Ok(Reply::Done(request.clone())),
        },
        Request::SessionEnded { seconds } => {
            let body = serde_json::json!({ "kind": "session", "seconds": seconds }).to_string();
            http(client, "POST", "/api/v1/usage", Some(&body)).map(|_| Reply::Done(request.clone()))
        }
        Request::Queue => {
            get(format!("/api/v1/queue{}", at_param('?'))).and_then(|b| parse(&b).map(Reply::Queue))
        }
        Request::TakeTicket { prefix } => {
            let body = serde_json::json!({ "prefix": prefix }).to_string();
            let path = format!("/api/v1/queue/tickets{}", at_param('?'));
            http(client, "POST", &path, Some(&body))
                .and_then(|b| parse(&b).map(|t| Reply::Ticket(Ok(t))))
        }
        Request::CheckIn { token } => {
            let body = serde_json::json!({ "token": token }).to_string();
            let path = format!("/api/v1/appointments/check-in{}", at_param('?'));
            http(client, "POST", &path, Some(&body))
                .and_then(|b| parse(&b).map(|c| Reply::CheckedIn(Ok(Box::new(c)))))
        }
        Request::Assist(r) => {
            let body = serde_json::to_string(r).unwrap_or_default();
            http(client, "POST", "/api/v1/assist", Some(&body))
                .and_then(|b| parse(&b).map(|a| Reply::Assisted(Ok(a))))
        }
        Request::PrintChecklist { item, situations } => {
            let body = serde_json::json!({ "item": item, "situations": situations }).to_string();
            match http(client, "POST", "/api/v1/print/checklist", Some(&body)) {
                Ok(_) => Ok(Reply::Printed(Ok(()))),
                Err(Failure::Refused(e)) => Ok(Reply::Printed(Err(PrintFailure {
                    reason: e.error,
                    fallback_qr: e
                        .details
                        .and_then(|d| d["fallback_qr"].as_str().map(str::to_owned)),
                }))),
                Err(f) => Err(f),
            }
        }
    };
    match (result, request) {
        (Ok(r), _) => r,
        // A count lost is no concern of the next citizen's screen.
        (Err(_), Request::SessionEnded { .. }) => Reply::Done(request.clone()),
        // Things the citizen waits for must end in words, not a spinner.
        (Err(f), Request::PrintChecklist { .. }) => Reply::Printed(Err(PrintFailure {
            reason: match f {
                Failure::Refused(e) => e.error,
                Failure::Unreachable => "终端服务暂时连不上，无法打印".into(),
            },
            fallback_qr: None,
        })),
        (Err(f), Request::TakeTicket { .. }) => Reply::Ticket(Err(match f {
            Failure::Refused(e) => e.error,
            Failure::Unreachable => "终端服务暂时连不上，请到咨询台取号".into(),
        })),
        (Err(f), Request::CheckIn { .. }) => Reply::CheckedIn(Err(match f {
            Failure::Refused(e) => e.error,
            Failure::Unreachable => "终端服务暂时连不上，请到咨询台签到".into(),
        })),
        (Err(f), Request::Assist(_)) => Reply::Assisted(Err(match f {
            Failure::Refused(e) => e.error,
            Failure::Unreachable => "终端服务暂时连不上，请求没有发出。请到咨询台找工作人员".into(),
        })),
        (
            Err(f),
            Request::CallStaff { .. }
            | Request::CallStaffOnItem { .. }
            | Request::Rate { .. }
            | Request::RateTicket { .. },
        ) => Reply::Failed(
            request.clone(),
            match f {
                Failure::Refused(e) => e.error,
                Failure::Unreachable => "终端服务暂时连不上，请到咨询台找工作人员".into(),
            },
        ),
        (Err(Failure::Refused(e)), _) => Reply::Refused(e.error),
        (Err(Failure::Unreachable), _) => Reply::Unreachable,
    }
}

enum Failure {
    Refused(ApiError),
    Unreachable,
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, Failure> {
    serde_json::from_str(body).map_err(|e| {
        Failure::Refused(ApiError {
            error: format!("终端返回的数据有误：{e}"),
            details: None,
        })
    })
}

/// Bodies above this are refused before they are read whole (the largest, a guide or the outlets
/// with their base map, are far smaller).
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// The agent on loopback over plain HTTP/1.1: one connection per exchange, as the agent may
/// restart at any time.
struct Client {
    /// `127.0.0.1:7700`: the agent's address without the scheme.
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(base: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(2)))
            .timeout_recv_response(Some(Duration::from_secs(35)))
            .timeout_recv_body(Some(Duration::from_secs(35)))
            .http_status_as_error(false)
            // The agent never redirects; an answer that tries is not followed anywhere.
            .max_redirects(0)
            // Straight to the agent on loopback, whatever proxy the environment names.
            .proxy(None)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Client { base, agent }
    }
}

/// One HTTP exchange with the agent: the body of a 2xx answer, else the agent's error.
fn http(client: &Client, method: &str, path: &str, body: Option<&str>) -> Result<String, Failure> {
    let url = format!("http://{}{path}", client.base);
    let sent = match (method, body) {
        ("GET", _) => client
            .agent
            .get(&url)
            .header("Content-Type", "application/json")
            .call(),
        (_, Some(body)) => client
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body),
        (_, None) => client
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send_empty(),
    };
    let mut response = sent.map_err(|_| Failure::Unreachable)?;
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => Failure::Refused(ApiError {
                error: format!("终端返回的数据有误：超过 {MAX_BODY} 字节"),
                details: None,
            }),
            _ => Failure::Unreachable,
        })?;
    // Decoded only once whole: a Chinese character may span two reads.
    let body = String::from_utf8_lossy(&bytes).into_owned();
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        let e = serde_json::from_str(&body).unwrap_or(ApiError {
            error: format!("终端返回错误 {status}"),
            details: None,
        });
        Err(Failure::Refused(e))
    }
}

fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Follows the agent's event stream; reconnects every few seconds while the agent is away.
fn follow_events(base: &str, pushes: Sender<AgentPush>, waker: Waker) {
    let mut connected = false;
    loop {
        if let Ok((mut ws, _)) = tungstenite::connect(format!("ws://{base}/api/v1/events")) {
            if !connected {
                connected = true;
                if pushes.send(AgentPush::Connected).is_err() {
                    return;
                }
                wake(&waker);
            }
            while let Ok(msg) = ws.read() {
                if let tungstenite::Message::Text(t) = msg
                    && let Ok(e) = serde_json::from_str::<AgentEvent>(&t)
                {
                    if pushes.send(AgentPush::Event(e)).is_err() {
                        return;
                    }
                    wake(&waker);
                }
            }
        }
        if connected {
            connected = false;
            if pushes.send(AgentPush::Disconnected).is_err() {
                return;
            }
            wake(&waker);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Moves replies into [`Data`] and pushes into messages.
fn drain(
    link: Option<Res<AgentLink>>,
    mut data: ResMut<Data>,
    mut status: ResMut<AgentStatus>,
    mut pushes: MessageWriter<AgentPush>,
) {
    let Some(link) = link else { return };
    let replies: Vec<Reply> = link
        .replies
        .lock()
        .map(|r| r.try_iter().collect())
        .unwrap_or_default();
    for reply in replies {
        status.pending = status.pending.saturating_sub(1);
        if !matches!(reply, Reply::Unreachable) && !status.online {
            status.online = true;
        }
        match reply {
            Reply::Home(h) => data.home = Some(*h),
            Reply::Items(i) => data.items = Some(i),
            Reply::Guide(g) => data.guide = Some(*g),
            Reply::Checklist(c) => data.checklist = Some(c),
            Reply::Search(seq, r) => {
                if seq == status.search_seq {
                    data.search = Some(r);
                }
            }
            Reply::Candidates(seq, strokes, c) => {
                if seq == status.ink_seq {
                    data.candidates = Some((strokes, c));
                }
            }
            Reply::Answers(seq, q, a) => {
                if seq == status.ask_seq {
                    data.answers = Some((q, a));
                }
            }
            Reply::Outlets(o) => data.outlets = Some(o),
            Reply::FloorPlan(p) => data.plan = Some(p),
            Reply::Faqs(f) => data.faqs = Some(f),
            Reply::Printed(p) => data.printed = Some(p),
            Reply::Queue(q) => data.queue = Some(q),
            Reply::Ticket(t) => data.ticket = Some(t),
            Reply::CheckedIn(c) => data.checkin = Some(c),
            Reply::Assisted(a) => data.assist = Some(a),
            Reply::Done(Request::CallStaff { .. }) => data.staff_called = true,
            Reply::Help(answer) => {
                data.staff_called = answer.reached;
                data.help_call = Some(answer);
            }
            Reply::BookingDays(d) => data.booking_days = Some(d),
            Reply::BookingSent(c) => data.booking_sent = Some(c),
            Reply::Booked(b) => data.booked = Some(b),
            Reply::Reading(Ok(r)) => data.reading_is(r),
            Reply::Reading(Err(why)) => data.reading = Some(Err(why)),
            Reply::Done(Request::Rate { .. }) => data.rated = true,
            Reply::Done(Request::RateTicket { .. }) => data.rated = true,
            Reply::Done(_) => {}
            Reply::Failed(Request::CallStaff { .. }, why) => data.staff_call_failed = Some(why),
            Reply::Failed(Request::CallStaffOnItem { .. }, why) => {
                data.staff_call_failed = Some(why)
            }
            Reply::Failed(Request::Rate { .. }, why) => data.rating_failed = Some(why),
            Reply::Failed(Request::RateTicket { .. }, why) => data.rating_failed = Some(why),
            Reply::Failed(_, why) => data.error = Some(why),
            Reply::Refused(e) => data.error = Some(e),
            Reply::Unreachable => status.online = false,
        }
    }
    let pushed: Vec<AgentPush> = link
        .pushes
        .lock()
        .map(|r| r.try_iter().collect())
        .unwrap_or_default();
    for p in pushed {
        debug!(push = ?p, "From the agent.");
        match &p {
            AgentPush::Connected => status.online = true,
            AgentPush::Disconnected => status.online = false,
            AgentPush::Event(AgentEvent::ReadingChanged { reading }) => {
                data.reading_is(reading.clone())
            }
            AgentPush::Event(_) => {}
        }
        pushes.write(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("个人"), "%E4%B8%AA%E4%BA%BA");
        assert_eq!(query_string(&[("q".into(), "gjj 1".into())]), "q=gjj%201");
    }
}
