//! 智能客服: a citizen's question → the FAQs that answer it, best first, or none when nothing
//! answers well enough (then the plate offers a person).
//!
//! Questions and FAQs become weighted terms (characters, character pairs and syllable pairs, so
//! typed pinyin and homophones meet the characters); everyday words widen to the words FAQs use
//! (the search's dictionary and the questions' own). FAQs are scored like BM25 over their
//! question, their items' names and their answer; the items the search finds for the question
//! lift the FAQs about them. The confidence compares what matched with both the question and the
//! FAQ, so a long story around a short question still finds it, and a question that only shares
//! a word (社保) with an FAQ does not.

mod terms;

use std::collections::HashMap;

use menpai_model::{Faq, Item};

use crate::SearchIndex;
use terms::{QueryTerms, Syllables, Term, faq_terms, query_terms};

/// Longest question taken, in characters.
pub const MAX_QUESTION_CHARS: usize = 200;
/// Answers given: the best and up to two more.
pub const MAX_ANSWERS: usize = 3;
/// The best FAQ answers only when its confidence plus its lead over the next one reaches this:
/// a clear winner may be weaker than one of several close ones.
const MIN_CONFIDENCE: f32 = 0.22;
/// Further answers must come this close to the best one.
const RUNNER_UP_SHARE: f32 = 0.6;

/// Where a term occurs in an FAQ, and how much it counts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Question,
    Items,
    Answer,
}

impl Field {
    fn weight(self) -> f32 {
        match self {
            Field::Question => 1.0,
            Field::Items => 0.55,
            Field::Answer => 0.3,
        }
    }
}

/// One FAQ that answers the question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Position of the FAQ in the slice the index was built from.
    pub faq: usize,
    pub confidence: f32,
}

/// The answer index over one content version's FAQs.
#[derive(Debug)]
pub struct AskIndex {
    /// Term → (FAQ, its weight there).
    postings: HashMap<Term, Vec<(u32, f32)>>,
    /// Per FAQ: the sum of its question's term weights × idf (its "size").
    question_mass: Vec<f32>,
    /// Per FAQ: the items it is about (positions in the search index).
    items: Vec<Vec<usize>>,
    /// Item position → the FAQs about it.
    faqs_of_item: HashMap<usize, Vec<u32>>,
    syllables: Syllables,
    faq_count: f32,
}

impl AskIndex {
    /// `item_name(id)` gives an item's position and name, for the FAQ's items.
    pub fn build<'a>(faqs: &[Faq], item_name: impl Fn(&str) -> Option<(usize, &'a str)>) -> Self {
        let syllables = Syllables::build();
        let mut postings: HashMap<Term, Vec<(u32, f32)>> = HashMap::new();
        let mut items = Vec::with_capacity(faqs.len());
        let mut faqs_of_item: HashMap<usize, Vec<u32>> = HashMap::new();
        let mut question_terms = Vec::with_capacity(faqs.len());
        for (d, faq) in faqs.iter().enumerate() {
            let linked: Vec<(usize, &str)> =
                faq.items.iter().filter_map(|id| item_name(id)).collect();
            let names: Vec<&str> = linked.iter().map(|(_, n)| *n).collect();
            let mut weights: HashMap<Term, f32> = HashMap::new();
            let mut question = HashMap::new();
            for (field, text) in [
                (Field::Question, faq.question.as_str()),
                (Field::Answer, faq.answer.as_str()),
            ]
            .into_iter()
            .chain(names.iter().map(|n| (Field::Items, *n)))
            {
                let mut tf: HashMap<Term, f32> = HashMap::new();
                for (t, w) in faq_terms(text, &syllables) {
                    *tf.entry(t).or_default() += w;
                }
                for (t, n) in tf {
                    // Saturating term frequency (BM25's k1 = 1.2, no length part: FAQs are short).
                    let sat = n * 2.2 / (n + 1.2);
                    let e = weights.entry(t).or_default();
                    *e = e.max(sat * field.weight());
                    if field == Field::Question {
                        question.insert(t, sat);
                    }
                }
            }
            for (t, w) in weights {
                postings.entry(t).or_default().push((d as u32, w));
            }
            question_terms.push(question);
            for &(pos, _) in &linked {
                faqs_of_item.entry(pos).or_default().push(d as u32);
            }
            items.push(linked.into_iter().map(|(p, _)| p).collect());
        }
        let faq_count = faqs.len().max(1) as f32;
        let mut index = AskIndex {
            postings,
            question_mass: Vec::new(),
            items,
            faqs_of_item,
            syllables,
            faq_count,
        };
        index.question_mass = question_terms
            .iter()
            .map(|q| {
                q.iter()
                    .map(|(t, w)| w * index.idf(*t))
                    .sum::<f32>()
                    .max(1.0)
            })
            .collect();
        index
    }

    /// [`build`](Self::build) over `items` as the search index was built from them (an FAQ's
    /// item by its id → its position there).
    pub fn over_items(faqs: &[Faq], items: &[Item]) -> Self {
        let by_id: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(p, i)| (i.id.as_str(), p))
            .collect();
        Self::build(faqs, |id| {
            by_id.get(id).map(|&p| (p, items[p].name.as_str()))
        })
    }

    fn idf(&self, t: Term) -> f32 {
        let df = self.postings.get(&t).map_or(0, Vec::len) as f32;
        ((self.faq_count - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    pub fn len(&self) -> usize {
        self.question_mass.len()
    }

    pub fn is_empty(&self) -> bool {
        self.question_mass.is_empty()
    }

    /// The FAQs that answer `question`, best first (at most three); empty when none does.
    pub fn ask(&self, question: &str, search: &SearchIndex) -> Vec<Answer> {
        let mut answers = self.rank(question, search);
        let Some(best) = answers.first().map(|a| a.confidence) else {
            return Vec::new();
        };
        let lead = best - answers.get(1).map_or(0.0, |a| a.confidence);
        if best + lead < MIN_CONFIDENCE {
            return Vec::new();
        }
        answers.retain(|a| a.confidence >= best * RUNNER_UP_SHARE);
        answers.truncate(MAX_ANSWERS);
        answers
    }

    /// Every FAQ sharing something with the question, best first, however weak.
    pub fn rank(&self, question: &str, search: &SearchIndex) -> Vec<Answer> {
        let question: String = question.chars().take(MAX_QUESTION_CHARS).collect();
        let QueryTerms { terms, item_query } = query_terms(&question, &self.syllables, search);
        if terms.is_empty() {
            return Vec::new();
        }
        let mut query_mass = 0.0;
        // Dense: a common character's postings reach most FAQs.
        let mut scores = vec![0.0f32; self.len()];
        let mut touched: Vec<u32> = Vec::new();
        for &(t, w) in &terms {
            let idf = self.idf(t);
            query_mass += w.min(1.0) * idf;
            for &(d, fw) in self.postings.get(&t).map_or(&[][..], Vec::as_slice) {
                let slot = &mut scores[d as usize];
                if *slot == 0.0 {
                    touched.push(d);
                }
                *slot += w * idf * fw;
            }
        }
        // The items the search finds for the question lift the FAQs about them.
        let mut lift: HashMap<u32, f32> = HashMap::new();
        for (rank, hit) in search.search(&item_query, 3).iter().enumerate() {
            for &d in self
                .faqs_of_item
                .get(&hit.doc)
                .map_or(&[][..], Vec::as_slice)
            {
                let l = hit.score.min(1.0) * (1.0 - 0.25 * rank as f32);
                let e = lift.entry(d).or_default();
                *e = e.max(l);
            }
        }
        let mut answers: Vec<Answer> = touched
            .into_iter()
            .map(|d| {
                let s = scores[d as usize];
                let mass = (query_mass * self.question_mass[d as usize])
                    .sqrt()
                    .max(1.0);
                let confidence = s / mass + 0.12 * lift.get(&d).copied().unwrap_or(0.0);
                Answer {
                    faq: d as usize,
                    confidence,
                }
            })
            .collect();
        answers.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(a.faq.cmp(&b.faq))
        });
        answers
    }

    /// The items an FAQ is about (positions in the search index).
    pub fn items_of(&self, faq: usize) -> &[usize] {
        &self.items[faq]
    }
}
