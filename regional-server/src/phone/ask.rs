//! 问一问 on the phone (`/q/{hall}`): a citizen's question, in hanzi or pinyin → the FAQs that
//! answer it, by the same engine as the plate's 智能客服 (`menpai-search`), each with the way to
//! its guides; when nothing answers well enough it says so and offers 在线咨询 with a person.
//! The question is posted, never put in a URL, and neither logged nor counted: a citizen may
//! write a name or a number into it.

use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use menpai_model::{ContentPack, Faq};
use menpai_search::SearchIndex;
use menpai_search::ask::{AskIndex, MAX_QUESTION_CHARS};
use serde::Deserialize;

use super::{Current, cached, hall_of, not_found, private_page};
use crate::Server;
use crate::html::{Markup, Page, back_link, footer, html, tel_link};

/// Guides linked under one answer.
const MAX_GUIDES: usize = 3;
/// Largest form taken (a question of 200 characters is at most 2.4 KB encoded).
pub const MAX_FORM_BYTES: usize = 4096;

/// The indexes one published version is asked through; built at its first question.
#[derive(Debug)]
pub struct Answers {
    search: SearchIndex,
    ask: AskIndex,
}

impl Answers {
    pub fn build(pack: &ContentPack) -> Answers {
        let search = SearchIndex::build(&pack.items);
        let ask = AskIndex::over_items(&pack.faqs, &pack.items);
        Answers { search, ask }
    }

    /// The item search of the version.
    pub fn search(&self) -> &SearchIndex {
        &self.search
    }
}

/// Searches and questions worked on at once (each a few milliseconds, the first of a version
/// about a second); others wait their turn a while, then are told to try again.
static WORKING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
const WAIT_FOR_TURN: Duration = Duration::from_secs(5);
const BUSY: &str = "现在问的人太多，请稍后再试";
const UNAVAILABLE: &str = "暂时无法回答，请稍后再试";

/// Runs `work` on the version's engines off the runtime, a few at a time; in words why not.
pub(super) async fn with_engines<T: Send + 'static>(
    c: &Arc<Current>,
    work: impl FnOnce(&Answers) -> T + Send + 'static,
) -> Result<T, &'static str> {
    let _turn = tokio::time::timeout(WAIT_FOR_TURN, WORKING.acquire())
        .await
        .map_err(|_| BUSY)?
        .map_err(|_| BUSY)?;
    let c = c.clone();
    tokio::task::spawn_blocking(move || work(c.answers()))
        .await
        .map_err(|e| {
            // Never the question: it may hold a name or a number.
            tracing::error!(error = %e, "The search engine failed.");
            UNAVAILABLE
        })
}

#[derive(Debug, Deserialize)]
pub(super) struct AskForm {
    #[serde(default)]
    q: String,
}

/// `GET /q/{hall}`: the question box.
pub(super) async fn page(
    State(server): State<Arc<Server>>,
    Path(hall): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个服务大厅", None);
    };
    if hall_of(&c, &hall).is_none() {
        return not_found("这个服务大厅", None);
    }
    cached(&headers, render(&c, &hall, "", None))
}

/// `POST /q/{hall}`: the answers to the question posted.
pub(super) async fn answer(
    State(server): State<Arc<Server>>,
    Path(hall): Path<String>,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个服务大厅", None);
    };
    if hall_of(&c, &hall).is_none() {
        return not_found("这个服务大厅", None);
    }
    let Ok(Form(form)) = form else {
        let html = render(
            &c,
            &hall,
            "",
            Some(Err("没有收到问题，请在框里写下问题后再点提问")),
        );
        return private_page(StatusCode::BAD_REQUEST, html, "");
    };
    let q = form.q.trim().to_owned();
    let refusal = if q.is_empty() {
        Some("请先输入您的问题")
    } else if q.chars().count() > MAX_QUESTION_CHARS {
        Some("问题太长了，请用 200 个字以内说清楚")
    } else {
        None
    };
    if let Some(words) = refusal {
        let html = render(&c, &hall, &q, Some(Err(words)));
        return private_page(StatusCode::BAD_REQUEST, html, "");
    }
    let question = q.clone();
    let asked = with_engines(&c, move |a| {
        a.ask
            .ask(&question, &a.search)
            .into_iter()
            .map(|x| (x.faq, a.ask.items_of(x.faq).to_vec()))
            .collect::<Vec<_>>()
    })
    .await;
    let status = if asked.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    private_page(status, render(&c, &hall, &q, Some(asked)), "")
}

/// FAQs found (positions in the pack, with their items' positions), or why not asked.
type Found = Result<Vec<(usize, Vec<usize>)>, &'static str>;

fn render(c: &Current, hall_id: &str, q: &str, found: Option<Found>) -> Markup {
    let hall = hall_of(c, hall_id).expect("checked by the caller");
    let body = html! {
        h1 { "问一问" }
        p class="muted" { (hall.name) " · 用一句话说出您想办的事，汉字或拼音都可以" }
        form method="post" action={ "/q/" (hall.id) } id="ask-form" {
            textarea name="q" rows="3" maxlength=(MAX_QUESTION_CHARS) required
                placeholder="例如：退休了公积金怎么取？" aria-label="您的问题" { (q) }
            button type="submit" { "提问" }
        }
        @match &found {
            Some(Err(words)) => { p class="err" id="ask-error" role="alert" { (words) } }
            Some(Ok(list)) if list.is_empty() => {
                div class="card" id="no-answer" {
                    p { b { "没有找到能回答这个问题的内容。" } }
                    p { "可以换个说法再问，或请工作人员回答：" }
                    p {
                        a href={ "/ask/" (hall.id) "?kind=consult" } { "在线咨询（工作人员回复）" }
                        " · 电话 " (tel_link(&hall.phone))
                    }
                }
            }
            Some(Ok(list)) => {
                @for (rank, (faq, items)) in list.iter().enumerate() {
                    @if rank == 1 { h2 { "其他可能的答案" } }
                    (answer_card(c, hall_id, &c.pack.faqs[*faq], items, rank == 0))
                }
                p class="muted" {
                    "不是您要问的？ "
                    a href={ "/ask/" (hall.id) "?kind=consult" } { "在线咨询（工作人员回复）" }
                }
            }
            None => {}
        }
        (back_link(&format!("/h/{}", hall.id), "回到大厅首页"))
        (footer(&c.version))
    };
    Page::phone("问一问").render(body)
}

fn answer_card(c: &Current, hall: &str, faq: &Faq, items: &[usize], best: bool) -> Markup {
    html! {
        div class="card answer" data-faq=(faq.id) {
            @if best { p class="muted" { "最可能的答案" } }
            p { b { (faq.question) } }
            p { (faq.answer) }
            @for &i in items.iter().take(MAX_GUIDES) {
                @let item = &c.pack.items[i];
                p { a href={ "/i/" (item.id) "?h=" (hall) } { "看办事指南：" (item.name) } }
            }
        }
    }
}
