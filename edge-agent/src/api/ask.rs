//! 智能客服 at the plate: a question → the FAQs that answer it, with the way to their guides.
//! Questions are not logged or counted: a citizen may write a name or a number into one.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use menpai_model::api::{AskAnswer, AskResponse};
use serde::Deserialize;

use super::error::AppError;
use super::extract::Params;
use super::{AgentState, active};
use crate::Agent;
use crate::ask::MAX_QUESTION_CHARS;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/ask", get(ask))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskParams {
    q: String,
}

async fn ask(
    State(agent): AgentState,
    Params(p): Params<AskParams>,
) -> Result<Json<AskResponse>, AppError> {
    if p.q.trim().is_empty() {
        return Err(AppError::bad_request("请先输入您的问题"));
    }
    if p.q.chars().count() > MAX_QUESTION_CHARS {
        return Err(AppError::bad_request(format!(
            "问题太长了，请用 {MAX_QUESTION_CHARS} 个字以内说清楚"
        )));
    }
    let c = active(&agent)?;
    let answers: Vec<AskAnswer> = c
        .ask
        .ask(&p.q, &c.search)
        .into_iter()
        .map(|a| {
            let faq = &c.faqs[a.faq];
            AskAnswer {
                id: faq.id.clone(),
                question: faq.question.clone(),
                answer: faq.answer.clone(),
                category: faq.category.clone(),
                items: c
                    .ask
                    .items_of(a.faq)
                    .iter()
                    .map(|&i| c.meta_at(i).summary.clone())
                    .collect(),
                confidence: a.confidence,
            }
        })
        .collect();
    Ok(Json(AskResponse { answers }))
}
