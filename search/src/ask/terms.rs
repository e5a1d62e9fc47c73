//! Questions and FAQs as weighted terms: characters, character pairs, syllable pairs (typed
//! pinyin and homophones) and letter or digit words (12333); the question's everyday words
//! widened to the words FAQs use.

use std::collections::HashMap;

use crate::SearchIndex;
use crate::text::{is_han, normalize, readings};

/// A term, tagged by kind in its top bits.
pub(super) type Term = u64;

const TAG_CHAR: u64 = 1 << 60;
const TAG_PAIR: u64 = 2 << 60;
const TAG_SOUND: u64 = 3 << 60;
const TAG_WORD: u64 = 4 << 60;

/// Question words → the words FAQs use for them, one `word<TAB>faq word,faq word` per line.
const QUESTION_WORDS: &str = include_str!("question-words.tsv");

/// Spoken words that carry nothing a FAQ could match (请问, 那个, 我想问一下).
const FILLERS: &[&str] = &[
    "我想问一下",
    "想问一下",
    "我想问",
    "想问下",
    "问一下",
    "请问",
    "你好",
    "您好",
    "那个",
    "就是",
    "一下",
    "这个",
    "麻烦",
    "谢谢",
    "呃",
    "嗯",
    "啊",
    "呀",
    "吧",
    "呢",
    "哦",
    "吗",
    "啥",
];

/// Toneless syllables, numbered: pinyin typed without tones or spaces is cut into them.
#[derive(Debug)]
pub(super) struct Syllables {
    ids: HashMap<&'static str, u16>,
    longest: usize,
}

impl Syllables {
    pub(super) fn build() -> Self {
        let mut ids = HashMap::new();
        for c in ('\u{4E00}'..='\u{9FA5}').filter(|c| is_han(*c)) {
            for r in readings(c).as_slice() {
                let next = ids.len() as u16;
                ids.entry(*r).or_insert(next);
            }
        }
        let longest = ids.keys().map(|s| s.len()).max().unwrap_or(6);
        Syllables { ids, longest }
    }

    fn of_char(&self, c: char) -> Option<u16> {
        readings(c).primary().and_then(|r| self.ids.get(r).copied())
    }

    /// Letters cut into syllables (longest first, backing off so the whole run is used);
    /// `None` when they are not pinyin.
    fn split(&self, letters: &str) -> Option<Vec<u16>> {
        let bytes = letters.as_bytes();
        let mut memo: Vec<Option<Option<Vec<u16>>>> = vec![None; bytes.len() + 1];
        self.split_from(letters, 0, &mut memo)
    }

    fn split_from(
        &self,
        s: &str,
        at: usize,
        memo: &mut Vec<Option<Option<Vec<u16>>>>,
    ) -> Option<Vec<u16>> {
        if at == s.len() {
            return Some(Vec::new());
        }
        if let Some(known) = &memo[at] {
            return known.clone();
        }
        let mut found = None;
        for len in (1..=self.longest.min(s.len() - at)).rev() {
            let Some(&id) = s.get(at..at + len).and_then(|p| self.ids.get(p)) else {
                continue;
            };
            if let Some(mut rest) = self.split_from(s, at + len, memo) {
                rest.insert(0, id);
                found = Some(rest);
                break;
            }
        }
        memo[at] = Some(found.clone());
        found
    }
}

fn char_term(c: char) -> Term {
    TAG_CHAR | c as u64
}
fn pair_term(a: char, b: char) -> Term {
    TAG_PAIR | (a as u64) << 21 | b as u64
}
fn sound_term(a: u16, b: u16) -> Term {
    TAG_SOUND | u64::from(a) << 16 | u64::from(b)
}
fn word_term(w: &str) -> Term {
    // FNV-1a: letter and digit words are short.
    let h = w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    TAG_WORD | (h & ((1 << 60) - 1))
}

/// Runs of a normalised text: Chinese, or letters and digits.
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let han = is_han(c);
        match out.last_mut() {
            Some((h, run)) if *h == han => run.push(c),
            _ => out.push((han, c.to_string())),
        }
    }
    out
}

/// Terms of Chinese text: characters (weak), pairs, and pairs of their sounds (weaker).
fn han_terms(run: &str, weight: f32, syllables: &Syllables, out: &mut Vec<(Term, f32)>) {
    let chars: Vec<char> = run.chars().filter(|c| is_han(*c)).collect();
    let sounds: Vec<Option<u16>> = chars.iter().map(|&c| syllables.of_char(c)).collect();
    for (i, &c) in chars.iter().enumerate() {
        out.push((char_term(c), 0.25 * weight));
        if let Some(&next) = chars.get(i + 1) {
            out.push((pair_term(c, next), weight));
            if let (Some(a), Some(b)) = (sounds[i], sounds[i + 1]) {
                out.push((sound_term(a, b), 0.45 * weight));
            }
        }
    }
}

/// An FAQ text's terms.
pub(super) fn faq_terms(text: &str, syllables: &Syllables) -> Vec<(Term, f32)> {
    let mut out = Vec::new();
    for (han, run) in runs(&normalize(text)) {
        if han {
            han_terms(&run, 1.0, syllables, &mut out);
        } else {
            out.push((word_term(&run), 1.0));
        }
    }
    out
}

/// A question's terms, and the text to look its items up by.
pub(super) struct QueryTerms {
    pub terms: Vec<(Term, f32)>,
    pub item_query: String,
}

pub(super) fn query_terms(
    question: &str,
    syllables: &Syllables,
    search: &SearchIndex,
) -> QueryTerms {
    let text = normalize(question);
    let mut terms = Vec::new();
    let mut item_query = String::new();
    for (han, run) in runs(&text) {
        if han {
            let mut run = run;
            for f in FILLERS {
                run = run.replace(f, " ");
            }
            for piece in run.split_whitespace() {
                han_terms(piece, 1.0, syllables, &mut terms);
                for (word, faq_words) in question_words() {
                    if piece.contains(word.as_str()) {
                        for w in faq_words {
                            han_terms(w, 0.7, syllables, &mut terms);
                        }
                    }
                }
                for official in search.synonyms_in(piece) {
                    han_terms(&official, 0.6, syllables, &mut terms);
                }
            }
            item_query.push_str(&run.replace(' ', ""));
        } else if let Some(ids) = syllables.split(&run).filter(|ids| ids.len() >= 2) {
            // Typed pinyin: its syllable pairs meet the FAQs' sounds.
            for w in ids.windows(2) {
                terms.push((sound_term(w[0], w[1]), 1.0));
            }
            item_query.push_str(&run);
        } else {
            terms.push((word_term(&run), 1.0));
            item_query.push_str(&run);
        }
    }
    // Repeated terms count once, at their best weight.
    let mut best: HashMap<Term, f32> = HashMap::new();
    for (t, w) in terms {
        let e = best.entry(t).or_default();
        *e = e.max(w);
    }
    QueryTerms {
        terms: best.into_iter().collect(),
        item_query,
    }
}

/// The question-words dictionary, parsed once.
fn question_words() -> &'static [(String, Vec<String>)] {
    static WORDS: std::sync::OnceLock<Vec<(String, Vec<String>)>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        QUESTION_WORDS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| {
                (
                    normalize(k),
                    v.split([',', '，'])
                        .map(normalize)
                        .filter(|w| !w.is_empty())
                        .collect(),
                )
            })
            .filter(|(k, _)| !k.is_empty())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_pinyin_is_cut_into_syllables() {
        let s = Syllables::build();
        let ids = s.split("shebaokadiule").unwrap();
        assert_eq!(ids.len(), 5);
        assert!(s.split("xyzq").is_none());
        let han: Vec<u16> = "社保卡丢了".chars().filter_map(|c| s.of_char(c)).collect();
        assert_eq!(ids, han);
    }
}
