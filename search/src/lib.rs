//! Item search for the plate and the phone pages: Chinese, traditional characters, full pinyin, initials, pinyin typos,
//! partial words and colloquial phrases, ranked with popularity as the tie-breaker.
//!
//! Two phases: an inverted index of characters, character pairs, pinyin letter triples and
//! initial pairs picks candidates cheaply; then each candidate is scored precisely, field by field.

pub mod ask;
mod pinyin_match;
mod synonyms;
pub(crate) mod text;

use menpai_model::Item;

use pinyin_match::{fuzzy_distance, pinyin_quality};
use synonyms::{MAX_KEY_CHARS, Synonyms};
use text::{full_pinyin, initials, is_han, normalize, strip_fillers};

/// Candidates scored precisely per query.
const CANDIDATES: usize = 64;
/// Results below this score are noise.
const MIN_SCORE: f32 = 0.2;
/// Longest query taken, in characters.
pub const MAX_QUERY_CHARS: usize = 64;

/// What part of an item a text comes from, and how much a match there counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Name,
    Alias,
    Result,
    Situation,
    LifeEvent,
    Topic,
    TargetGroup,
    Department,
}

impl FieldKind {
    fn weight(self) -> f32 {
        match self {
            FieldKind::Name => 1.0,
            FieldKind::Alias => 0.92,
            FieldKind::Result => 0.6,
            FieldKind::Situation => 0.5,
            FieldKind::LifeEvent | FieldKind::Topic => 0.45,
            FieldKind::TargetGroup => 0.4,
            FieldKind::Department => 0.35,
        }
    }

    /// Pinyin is indexed for the texts people name an item by.
    fn pinyin_indexed(self) -> bool {
        matches!(self, FieldKind::Name | FieldKind::Alias | FieldKind::Result)
    }
}

#[derive(Debug)]
struct Field {
    kind: FieldKind,
    /// Normalised text (simplified, no punctuation).
    text: String,
    /// Sound of the text, for the fields people name an item by.
    pinyin: Option<FieldPinyin>,
}

#[derive(Debug)]
struct FieldPinyin {
    /// Main full pinyin, e.g. `gongjijin`.
    full: Box<str>,
    /// Bit per letter that starts some reading of some character: a cheap filter.
    starts: u32,
}

impl FieldPinyin {
    fn of(text: &str) -> Self {
        let starts = text
            .chars()
            .flat_map(|c| text::readings(c).as_slice().to_vec())
            .filter_map(|r| r.bytes().next())
            .fold(0u32, |m, b| m | letter_bit(b));
        FieldPinyin {
            full: full_pinyin(text).into_boxed_str(),
            starts,
        }
    }
}

fn letter_bit(b: u8) -> u32 {
    if b.is_ascii_lowercase() {
        1 << (b - b'a')
    } else {
        0
    }
}

#[derive(Debug)]
struct Doc {
    fields: Vec<Field>,
    popularity: u32,
}

/// One search result: the item's position in the slice the index was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
    /// The item text that matched best (its name or an alias).
    pub matched: String,
}

const TAG_HAN1: u64 = 1 << 60;
const TAG_HAN2: u64 = 2 << 60;
const TAG_PY3: u64 = 3 << 60;
const TAG_INI2: u64 = 4 << 60;
const TAG_INI_START: u64 = 5 << 60;

fn han1(c: char) -> u64 {
    TAG_HAN1 | c as u64
}
fn han2(a: char, b: char) -> u64 {
    TAG_HAN2 | (a as u64) << 21 | b as u64
}
fn py3(w: &[u8]) -> u64 {
    TAG_PY3 | u64::from(w[0]) << 16 | u64::from(w[1]) << 8 | u64::from(w[2])
}
fn ini2(w: &[u8]) -> u64 {
    TAG_INI2 | u64::from(w[0]) << 8 | u64::from(w[1])
}
fn ini_start(c: u8) -> u64 {
    TAG_INI_START | u64::from(c)
}

/// The search index over one content version's items.
///
/// Postings are flat: `keys` sorted, `offsets[k]..offsets[k + 1]` the slice of `postings` for
/// `keys[k]`. Compact on a 40 MB terminal budget, and built from one large buffer that goes back
/// to the OS when freed.
#[derive(Debug)]
pub struct SearchIndex {
    docs: Vec<Doc>,
    keys: Vec<u64>,
    offsets: Vec<u32>,
    postings: Vec<u32>,
    synonyms: Synonyms,
    max_popularity: f32,
}

/// Adds items one at a time, so a large region never sits in memory whole.
#[derive(Debug, Default)]
pub struct SearchIndexBuilder {
    docs: Vec<Doc>,
    /// (gram, doc << 8 | weight), sorted and merged by `finish`.
    grams: Vec<(u64, u32)>,
    max_popularity: u32,
}

impl SearchIndexBuilder {
    pub fn add(&mut self, item: &Item) {
        let d = self.docs.len() as u32;
        let doc = doc_of(item);
        for field in &doc.fields {
            let w = (field.kind.weight() * 100.0) as u32;
            let posting = d << 8 | w;
            let mut prev: Option<char> = None;
            for c in field.text.chars() {
                self.grams.push((han1(c), posting));
                if let Some(p) = prev {
                    self.grams.push((han2(p, c), posting));
                }
                prev = Some(c);
            }
            if let Some(py) = &field.pinyin {
                for w3 in py.full.as_bytes().windows(3) {
                    self.grams.push((py3(w3), posting));
                }
                let ini = initials(&field.text);
                for w2 in ini.as_bytes().windows(2) {
                    self.grams.push((ini2(w2), posting));
                }
                if let Some(&c) = ini.as_bytes().first() {
                    self.grams.push((ini_start(c), posting));
                }
            }
        }
        self.max_popularity = self.max_popularity.max(item.popularity);
        self.docs.push(doc);
    }

    pub fn finish(mut self) -> SearchIndex {
        // Sorting by (gram, doc, weight) puts each doc's best weight last in its run.
        self.grams.sort_unstable();
        let mut keys = Vec::new();
        let mut offsets = Vec::new();
        let mut postings: Vec<u32> = Vec::new();
        for &(key, posting) in &self.grams {
            if keys.last() != Some(&key) {
                keys.push(key);
                offsets.push(postings.len() as u32);
            } else if postings.last().is_some_and(|p| p >> 8 == posting >> 8) {
                *postings.last_mut().expect("checked") = posting;
                continue;
            }
            postings.push(posting);
        }
        offsets.push(postings.len() as u32);
        drop(self.grams);
        keys.shrink_to_fit();
        offsets.shrink_to_fit();
        postings.shrink_to_fit();
        self.docs.shrink_to_fit();
        SearchIndex {
            docs: self.docs,
            keys,
            offsets,
            postings,
            synonyms: Synonyms::load(),
            max_popularity: self.max_popularity as f32,
        }
    }
}

impl SearchIndex {
    /// Builds the index over a version's items.
    pub fn build(items: &[Item]) -> Self {
        let mut builder = SearchIndexBuilder::default();
        for item in items {
            builder.add(item);
        }
        builder.finish()
    }

    /// The postings of a gram: packed `doc << 8 | weight` words.
    fn postings(&self, key: u64) -> &[u32] {
        match self.keys.binary_search(&key) {
            Ok(k) => &self.postings[self.offsets[k] as usize..self.offsets[k + 1] as usize],
            Err(_) => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The official words for the everyday words found in a normalised text (the question
    /// answerer widens questions with them).
    pub(crate) fn synonyms_in(&self, text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        for i in 0..chars.len() {
            for len in 2..=MAX_KEY_CHARS.min(chars.len() - i) {
                let key: String = chars[i..i + len].iter().collect();
                if let Some(values) = self.synonyms.get(&key) {
                    out.extend(values.iter().cloned());
                }
            }
        }
        out
    }

    /// Entries in the everyday-words dictionary.
    pub fn synonym_count(&self) -> usize {
        self.synonyms.len()
    }

    /// The best `limit` items for what the citizen has typed so far.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.search_among(query, limit, &|_| true)
    }

    /// [`search`](Self::search) among the items `keep` takes (by position), e.g. one hall's:
    /// they are chosen before the best candidates are, so a big region cannot crowd them out.
    pub fn search_among(
        &self,
        query: &str,
        limit: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<Hit> {
        let q: String = normalize(query).chars().take(MAX_QUERY_CHARS).collect();
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let concepts = self.concepts(&q);
        if concepts.is_empty() {
            return Vec::new();
        }
        let candidates = self.candidates(&concepts, keep);
        let total_weight: f32 = concepts.iter().map(|c| c.weight).sum();
        let mut hits: Vec<Hit> = candidates
            .into_iter()
            .filter_map(|d| {
                let doc = &self.docs[d];
                let mut sum = 0.0;
                let mut best_part = (0.0f32, "");
                for c in &concepts {
                    let (score, matched) = self.concept_score(c, doc);
                    sum += c.weight * score;
                    if c.weight * score > best_part.0 {
                        best_part = (c.weight * score, matched);
                    }
                }
                let mut score = sum / total_weight;
                if score < MIN_SCORE {
                    return None;
                }
                if self.max_popularity > 0.0 {
                    score += 0.03 * (1.0 + doc.popularity as f32).ln()
                        / (1.0 + self.max_popularity).ln();
                }
                Some(Hit {
                    doc: d,
                    score,
                    matched: best_part.1.to_owned(),
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        hits.truncate(limit);
        hits
    }

    /// Splits a normalised query into concepts, each with its alternative spellings.
    fn concepts(&self, q: &str) -> Vec<Concept> {
        let mut concepts = Vec::new();
        let chars: Vec<char> = q.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let han = is_han(chars[i]);
            let start = i;
            while i < chars.len() && is_han(chars[i]) == han {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if han {
                self.han_concepts(&run, &mut concepts);
            } else {
                let mut alts = vec![Alt::letters(&run, 1.0)];
                if let Some(key) = self.synonyms.key_for_pinyin(&run) {
                    alts.push(Alt::han(key, 0.95));
                    for v in self.synonyms.get(key).unwrap_or_default() {
                        alts.push(Alt::han(v, 0.9));
                    }
                }
                concepts.push(Concept { weight: 1.0, alts });
            }
        }
        concepts
    }

    fn han_concepts(&self, run: &str, out: &mut Vec<Concept>) {
        let chars: Vec<char> = run.chars().collect();
        let mut plain = String::new();
        let mut i = 0;
        while i < chars.len() {
            let longest = MAX_KEY_CHARS.min(chars.len() - i);
            let found = (2..=longest).rev().find_map(|len| {
                let key: String = chars[i..i + len].iter().collect();
                self.synonyms.get(&key).map(|values| (len, key, values))
            });
            if let Some((len, key, values)) = found {
                push_plain(&mut plain, out);
                let mut alts = vec![Alt::han(&key, 1.0)];
                alts.extend(values.iter().map(|v| Alt::han(v, 0.9)));
                out.push(Concept { weight: 1.0, alts });
                i += len;
            } else {
                plain.push(chars[i]);
                i += 1;
            }
        }
        push_plain(&mut plain, out);
    }

    /// Documents worth scoring precisely: the best by a cheap gram count.
    fn candidates(&self, concepts: &[Concept], keep: &dyn Fn(usize) -> bool) -> Vec<usize> {
        let n = self.docs.len().max(1) as f32;
        let mut acc = vec![0.0f32; self.docs.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut visit = |key: u64, w: f32| {
            let list = self.postings(key);
            if list.is_empty() {
                return;
            }
            let idf = (n / list.len() as f32).ln() + 0.5;
            for &p in list {
                let (doc, weight) = (p >> 8, p & 0xFF);
                let slot = &mut acc[doc as usize];
                if *slot == 0.0 {
                    touched.push(doc);
                }
                *slot += w * idf * weight as f32 / 100.0;
            }
        };
        for c in concepts {
            for alt in &c.alts {
                match &alt.kind {
                    AltKind::Han(chars, _) => {
                        for (i, &ch) in chars.iter().enumerate() {
                            visit(han1(ch), alt.weight * 0.5);
                            if let Some(&next) = chars.get(i + 1) {
                                visit(han2(ch, next), alt.weight);
                            }
                        }
                    }
                    AltKind::Letters { bytes, .. } => {
                        for w3 in bytes.windows(3) {
                            visit(py3(w3), alt.weight);
                        }
                        for w2 in bytes.windows(2) {
                            visit(ini2(w2), alt.weight * 0.7);
                        }
                        if let Some(&b) = bytes.first() {
                            visit(ini_start(b), alt.weight * 0.3);
                        }
                    }
                }
            }
        }
        let mut scored: Vec<(u32, f32)> = touched
            .into_iter()
            .filter(|&d| keep(d as usize))
            .map(|d| (d, acc[d as usize]))
            .collect();
        if scored.len() > CANDIDATES {
            scored.select_nth_unstable_by(CANDIDATES, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(CANDIDATES);
        }
        scored.into_iter().map(|(d, _)| d as usize).collect()
    }

    /// The best match of any of a concept's spellings in any field, with the field text.
    fn concept_score<'d>(&self, c: &Concept, doc: &'d Doc) -> (f32, &'d str) {
        let mut best = (0.0f32, "");
        for alt in &c.alts {
            for field in &doc.fields {
                let ceiling = alt.weight * field.kind.weight();
                if ceiling <= best.0 {
                    continue;
                }
                let q = alt.quality(field) * ceiling;
                if q > best.0 {
                    best = (q, field.text.as_str());
                }
            }
        }
        best
    }
}

fn push_plain(plain: &mut String, out: &mut Vec<Concept>) {
    if plain.is_empty() {
        return;
    }
    let cleaned = strip_fillers(plain);
    let pieces: Vec<&str> = cleaned.split_whitespace().collect();
    let single_verbs = ["办", "弄", "搞", "做", "要"];
    let many = pieces.len() > 1 || !out.is_empty();
    for piece in pieces {
        let len = piece.chars().count();
        if len == 1 && many && single_verbs.contains(&piece) {
            continue;
        }
        let weight = if len >= 2 { 1.0 } else { 0.5 };
        let mut alts = vec![Alt::han(piece, 1.0)];
        let sound = full_pinyin(piece);
        // Homophones typed by mistake (公基金 for 公积金) still match by sound; a rare
        // character without a reading (兙) has none.
        if len >= 2 && !sound.is_empty() {
            alts.push(Alt::sound(&sound, 0.6));
        }
        out.push(Concept { weight, alts });
    }
    plain.clear();
}

/// A part of the query and its alternative spellings.
#[derive(Debug)]
struct Concept {
    weight: f32,
    alts: Vec<Alt>,
}

#[derive(Debug)]
struct Alt {
    weight: f32,
    kind: AltKind,
}

#[derive(Debug)]
enum AltKind {
    /// Characters, and the same as a string for substring tests.
    Han(Vec<char>, String),
    /// Typed letters; `tolerant` allows typos (not for sounds derived from characters).
    Letters { bytes: Vec<u8>, tolerant: bool },
}

impl Alt {
    /// The sound of characters the citizen typed: matched exactly, no typos.
    fn sound(s: &str, weight: f32) -> Self {
        Alt {
            weight,
            kind: AltKind::Letters {
                bytes: s.as_bytes().to_vec(),
                tolerant: false,
            },
        }
    }

    fn han(s: &str, weight: f32) -> Self {
        Alt {
            weight,
            kind: AltKind::Han(s.chars().collect(), s.to_owned()),
        }
    }

    fn letters(s: &str, weight: f32) -> Self {
        Alt {
            weight,
            kind: AltKind::Letters {
                bytes: s.as_bytes().to_vec(),
                tolerant: true,
            },
        }
    }

    /// How well this spelling matches a field, from 0 to 1.
    fn quality(&self, field: &Field) -> f32 {
        match &self.kind {
            AltKind::Han(chars, needle) => han_quality(chars, needle, &field.text),
            AltKind::Letters { bytes, tolerant } => {
                let Some(py) = &field.pinyin else {
                    return 0.0;
                };
                let Some(&first) = bytes.first() else {
                    return 0.0;
                };
                let exact = if py.starts & letter_bit(first) != 0 {
                    pinyin_quality(bytes, &field.text, *tolerant)
                } else {
                    0.0
                };
                if exact > 0.0 || bytes.len() < 4 || !tolerant {
                    return exact;
                }
                let max = if bytes.len() >= 8 { 2 } else { 1 };
                match fuzzy_distance(bytes, py.full.as_bytes(), max) {
                    Some(d) => 0.6 - 0.15 * (d as f32 - 1.0).max(0.0),
                    None => 0.0,
                }
            }
        }
    }
}

/// Quality of a Chinese spelling against a field: whole, prefix, part, abbreviation, overlap.
fn han_quality(a: &[char], needle: &str, text: &str) -> f32 {
    if text == needle {
        return 1.0;
    }
    if text.starts_with(needle) {
        return 0.92;
    }
    if text.contains(needle) {
        return 0.85;
    }
    if a.len() < 2 {
        return 0.0;
    }
    // Abbreviation: the characters in order, e.g. 低保 in 最低生活保障.
    let mut k = 0;
    let (mut first, mut last) = (None, 0);
    for (i, c) in text.chars().enumerate() {
        if k < a.len() && c == a[k] {
            first.get_or_insert(i);
            last = i;
            k += 1;
        }
    }
    if k == a.len()
        && let Some(first) = first
    {
        let span = (last - first + 1) as f32;
        return 0.55 + 0.15 * a.len() as f32 / span;
    }
    if a.len() >= 3 {
        let pairs = a.len() - 1;
        let mut buf = [0u8; 8];
        let shared = a
            .windows(2)
            .filter(|w| {
                let n = w[0].encode_utf8(&mut buf).len();
                let m = w[1].encode_utf8(&mut buf[n..]).len();
                text.contains(std::str::from_utf8(&buf[..n + m]).unwrap_or_default())
            })
            .count();
        let coverage = shared as f32 / pairs as f32;
        if coverage >= 0.5 {
            return 0.5 * coverage;
        }
    }
    0.0
}

fn doc_of(item: &Item) -> Doc {
    let mut fields = Vec::new();
    let mut push = |kind: FieldKind, s: &str| {
        let text = normalize(s);
        if !text.is_empty()
            && !fields
                .iter()
                .any(|f: &Field| f.text == text && f.kind.weight() >= kind.weight())
        {
            let pinyin = kind.pinyin_indexed().then(|| FieldPinyin::of(&text));
            fields.push(Field { kind, text, pinyin });
        }
    };
    push(FieldKind::Name, &item.name);
    for a in &item.aliases {
        push(FieldKind::Alias, a);
    }
    push(FieldKind::Result, &item.result);
    for s in &item.situations {
        push(FieldKind::Situation, &s.name);
    }
    for e in &item.life_events {
        push(FieldKind::LifeEvent, e);
    }
    push(FieldKind::Topic, &item.topic);
    for g in &item.target_groups {
        push(FieldKind::TargetGroup, g);
    }
    push(FieldKind::Department, &item.department);
    Doc {
        fields,
        popularity: item.popularity,
    }
}
