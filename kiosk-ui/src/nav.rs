//! The kiosk's shared vocabulary: which screen is shown, what a tap does, and the markers every
//! page carries. It imports nothing else of the crate, so every room can use it.

use bevy::prelude::*;
use menpai_model::Audience;

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// The attract loop of promotional slides.
    #[default]
    Attract,
    Home,
    /// Categories of one audience.
    Browse,
    /// Items of a category.
    Items,
    Guide,
    Checklist,
    Search,
    Map,
    Outlets,
    Help,
    Rating,
    /// Continue on your phone.
    Phone,
    /// The queue panel: calls, waiting, take a ticket.
    Queue,
    /// The ticket just taken.
    Ticket,
    /// Appointment check-in by scanning its QR code.
    CheckIn,
    /// Ask for 帮代办 or 上门取件: item, what help, name, phone, preferred time.
    Assist,
    /// 智能问答: a question typed or handwritten, answered from the FAQs.
    Ask,
    /// Booking at the plate: day, slot, phone number, the texted code, the check-in QR.
    Book,
}

impl Screen {
    pub const ALL: [Screen; 18] = [
        Screen::Attract,
        Screen::Home,
        Screen::Browse,
        Screen::Items,
        Screen::Guide,
        Screen::Checklist,
        Screen::Search,
        Screen::Map,
        Screen::Outlets,
        Screen::Help,
        Screen::Rating,
        Screen::Phone,
        Screen::Queue,
        Screen::Ticket,
        Screen::CheckIn,
        Screen::Assist,
        Screen::Ask,
        Screen::Book,
    ];

    /// The title in the top bar.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Attract => "",
            Screen::Home => "首页",
            Screen::Browse => "分类查找",
            Screen::Items => "事项列表",
            Screen::Guide => "办事指南",
            Screen::Checklist => "我的材料清单",
            Screen::Search => "搜索事项",
            Screen::Map => "大厅地图",
            Screen::Outlets => "附近网点",
            Screen::Help => "有事请教",
            Screen::Rating => "服务评价",
            Screen::Phone => "手机继续办",
            Screen::Queue => "排队取号",
            Screen::Ticket => "我的排队号",
            Screen::CheckIn => "预约签到",
            Screen::Assist => "帮办代办",
            Screen::Ask => "智能问答",
            Screen::Book => "预约办理",
        }
    }

    /// The name tests and scripts use.
    pub fn from_name(s: &str) -> Option<Screen> {
        Screen::ALL
            .into_iter()
            .find(|x| format!("{x:?}").eq_ignore_ascii_case(s))
    }
}

/// Which kind of category a browse screen lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CategoryKind {
    #[default]
    Topic,
    LifeEvent,
    Department,
}

/// What a tap does. Buttons carry one; scripts and tests send them as messages.
#[derive(Component, Message, Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave the attract loop.
    Start,
    /// Stay: only resets the idle clock (the countdown's button).
    Continue,
    Go(Screen),
    Back,
    Home,
    ToggleElder,
    BrowseAudience(Audience),
    BrowseKind(CategoryKind),
    OpenCategory(CategoryKind, String),
    OpenItem(String),
    OpenChecklist,
    ToggleSituation(String),
    PrintChecklist,
    ShowWindowsOnMap,
    Key(char),
    Backspace,
    ClearQuery,
    /// The keyboard's tab: letters (拼音) or the writing pad (手写).
    Input(InputMode),
    /// A character the writing pad offered for the strokes on it.
    Candidate(String),
    /// Wipes the writing pad (重写).
    ClearPad,
    /// Text put in the field being typed (scripts; a citizen types or writes).
    TypeText(String),
    /// Answer the question typed on the 智能问答 screen.
    AskQuestion,
    /// Strokes put on the writing pad, in fractions of its width and height (scripts; a
    /// citizen writes with a finger).
    WriteStrokes(Vec<Vec<[f32; 2]>>),
    FaqCategory(String),
    CallStaff,
    Rate(u8),
    RateReason(String),
    SubmitRating,
    /// Rate the service of the ticket just taken here (the rating names its day and number).
    RateTicket {
        day: String,
        number: String,
    },
    /// Take a ticket for a business type (its prefix).
    TakeTicket(String),
    /// Check in the appointment a scanned code carries.
    CheckIn(String),
    /// A tap on the 帮代办 / 上门取件 screen.
    Assist(AssistTap),
    /// Booking at the plate: a day chosen, a slot chosen, a digit typed, the last one taken
    /// back, the number or code sent.
    BookDay(String),
    BookSlot(String),
    Digit(char),
    DigitBack,
    BookSubmit,
    /// Open (true) or close the 使用说明 card.
    HowTo(bool),
    /// The next (+1) or previous (-1) page of a list.
    Page(i32),
    /// Read the page aloud: a guide's summary, or the page's words.
    ReadPage,
    /// Stop reading aloud.
    StopReading,
    /// Show a picture (its SHA-256) full screen; `None` closes it.
    ShowPicture(Option<String>),
}

/// How the on-screen keyboard takes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    /// Letter keys: pinyin and initials.
    #[default]
    Pinyin,
    /// A writing pad: strokes become characters (for those who cannot type pinyin).
    Handwriting,
}

/// The writing pad of the keyboard (its place is in the layout dump, for tests that write on it).
#[derive(Component)]
pub struct WritingPad;

/// A finger or the mouse is writing on the pad: the page does not scroll meanwhile.
#[derive(Resource, Default, Debug)]
pub struct PenDown(pub bool);

/// What a tap on the 帮代办 / 上门取件 screen chooses.
#[derive(Debug, Clone, PartialEq)]
pub enum AssistTap {
    /// `assist` (帮代办) or `pickup` (上门取件).
    Kind(String),
    /// The item it is about, or none.
    Item(Option<String>),
    /// One of the one-tap choices of what help is needed.
    Help(String),
    /// A form of address (先生, 女士), or none.
    Name(String),
    /// A key of the digit keypad.
    Digit(char),
    DeleteDigit,
    ClearDigits,
    /// One of the preferred times.
    Time(String),
    Submit,
    /// Start a new request after one was sent or refused.
    Again,
}

/// Marks the page root of the current screen.
#[derive(Component)]
pub struct PageRoot;

/// The part of the page a screen fills; rebuilt when data or the session change.
#[derive(Component)]
pub struct PageBody;

/// Lists that scroll by touch drag or wheel.
#[derive(Component)]
pub struct Scrolls;

/// The plain notice shown while the agent is away.
#[derive(Component)]
pub struct OfflineNotice;

/// Frames still wanted after something changed: a screen change lands on the next frame, and
/// new text and images settle over one or two more.
#[derive(Resource, Default, Debug)]
pub struct KeepAwake(pub u8);

impl KeepAwake {
    pub fn ask(&mut self) {
        self.0 = self.0.max(3);
    }
}
