//! Matching letters typed on the kiosk keyboard against Chinese text: full pinyin, initials, any
//! mix of the two, skipped syllables (abbreviations like 社保卡 → 社会保障卡), and small typos.

use super::text::{Readings, readings};

/// Caps the search so a pathological field cannot cost more than a few microseconds.
const MAX_STEPS: u32 = 4_000;
/// Characters of a field considered for pinyin matching.
const MAX_SYLLABLES: usize = 48;
/// Syllables a match may skip (社保卡 against 社会保障卡 skips 会 and 障).
const MAX_SKIPS: u8 = 2;

/// How well `letters` match somewhere in `text`: 0 for no match, up to 1 for the whole text.
/// `tolerant` allows misspelt syllables.
pub(crate) fn pinyin_quality(letters: &[u8], text: &str, tolerant: bool) -> f32 {
    if letters.is_empty() {
        return 0.0;
    }
    // Names and aliases are short; a stack buffer spares an allocation per field.
    let mut buf = [Readings::NONE; MAX_SYLLABLES];
    let mut n = 0;
    for c in text.chars().take(MAX_SYLLABLES) {
        buf[n] = readings(c);
        n += 1;
    }
    let syllables = &buf[..n];
    let mut best = 0.0f32;
    let mut steps = 0;
    for start in 0..syllables.len() {
        let first = syllables[start].as_slice();
        if !first
            .iter()
            .any(|r| r.as_bytes().first() == Some(&letters[0]))
        {
            continue;
        }
        let mut search = Dfs {
            letters,
            syllables,
            steps: &mut steps,
            best: None,
            max_typos: if tolerant {
                typo_budget(letters.len())
            } else {
                0
            },
        };
        search.walk(0, start, 0, 0, 0.0);
        if let Some((penalty, end)) = search.best {
            let mut q = (1.0 - penalty).max(0.3) * 0.85;
            if start == 0 {
                q += 0.08;
            }
            if start == 0 && end == syllables.len() {
                q += 0.07;
            }
            best = best.max(q);
        }
        if steps > MAX_STEPS {
            break;
        }
    }
    best
}

struct Dfs<'a> {
    letters: &'a [u8],
    syllables: &'a [Readings],
    steps: &'a mut u32,
    /// Lowest penalty found and the syllable index where that match ended.
    best: Option<(f32, usize)>,
    /// Misspelt syllables allowed.
    max_typos: u8,
}

/// Longer input may hold more slips of the finger.
fn typo_budget(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=9 => 1,
        _ => 2,
    }
}

/// True when `a` is one edit (insert, delete, replace, swap neighbours) away from `b`.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[p..], &b[p..]);
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Less => ra == &rb[1..],
        std::cmp::Ordering::Greater => &ra[1..] == rb,
    }
}

impl Dfs<'_> {
    fn walk(&mut self, i: usize, j: usize, skips: u8, typos: u8, penalty: f32) {
        *self.steps += 1;
        if *self.steps > MAX_STEPS || self.best.is_some_and(|(p, _)| p <= penalty) {
            return;
        }
        if i == self.letters.len() {
            self.best = Some((penalty, j));
            return;
        }
        if j >= self.syllables.len() {
            return;
        }
        let rest = &self.letters[i..];
        for reading in self.syllables[j].as_slice() {
            let r = reading.as_bytes();
            let common = r.iter().zip(rest).take_while(|(a, b)| a == b).count();
            // A misspelt syllable (huzaho for huzhao), within the typo budget.
            if typos < self.max_typos && r.len() >= 3 && common < r.len() {
                for k in r.len() - 1..=r.len() + 1 {
                    if k <= rest.len() && one_edit(&rest[..k], r) {
                        self.walk(i + k, j + 1, skips, typos + 1, penalty + 0.25);
                    }
                }
            }
            if common == 0 {
                continue;
            }
            // The whole syllable.
            if common == r.len() {
                self.walk(i + common, j + 1, skips, typos, penalty);
            }
            // Typing stops inside the last syllable: no penalty, the citizen is still typing.
            if common == rest.len() && common < r.len() {
                self.walk(i + common, j + 1, skips, typos, penalty);
            }
            // An initial: one letter, or zh/ch/sh in full.
            if r.len() > 1 {
                self.walk(i + 1, j + 1, skips, typos, penalty + 0.05);
            }
            if common >= 2 && r.len() > 2 && matches!(&r[..2], b"zh" | b"ch" | b"sh") {
                self.walk(i + 2, j + 1, skips, typos, penalty + 0.05);
            }
        }
        // Skip a syllable in the middle of an abbreviation.
        if i > 0 && skips < MAX_SKIPS {
            self.walk(i, j + 1, skips + 1, typos, penalty + 0.2);
        }
    }
}

/// Fewest edits (insert, delete, replace, swap two neighbours) turning `letters` into some
/// substring of `full` (Sellers' algorithm with Damerau's transposition).
pub(crate) fn fuzzy_distance(letters: &[u8], full: &[u8], max: usize) -> Option<usize> {
    if letters.is_empty() || full.is_empty() {
        return None;
    }
    let m = letters.len();
    let mut before: Vec<usize> = (0..=m).collect();
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0; m + 1];
    let mut best = prev[m];
    for (j, &c) in full.iter().enumerate() {
        cur[0] = 0;
        for i in 1..=m {
            let cost = usize::from(letters[i - 1] != c);
            let mut d = (prev[i - 1] + cost).min(prev[i] + 1).min(cur[i - 1] + 1);
            if i > 1 && j > 0 && letters[i - 1] == full[j - 1] && letters[i - 2] == c {
                d = d.min(before[i - 2] + 1);
            }
            cur[i] = d;
        }
        best = best.min(cur[m]);
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (best <= max).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(letters: &str, text: &str) -> f32 {
        pinyin_quality(letters.as_bytes(), text, true)
    }

    #[test]
    fn full_initials_mixed_and_partial() {
        assert!(q("gongjijin", "住房公积金购房提取") > 0.8);
        assert!(q("gjj", "住房公积金购房提取") > 0.7);
        assert!(q("gongjj", "住房公积金") > 0.7);
        assert!(q("gongj", "公积金") > 0.8);
        assert!(q("hzqf", "普通护照签发") > 0.7);
        assert!(q("zhfgjj", "住房公积金") > 0.7);
        assert_eq!(q("xyz", "住房公积金"), 0.0);
    }

    #[test]
    fn abbreviations_skip_syllables() {
        let abbreviated = q("shebaoka", "社会保障卡申领");
        assert!(abbreviated > 0.3, "{abbreviated}");
        assert!(q("shebaoka", "社保卡") > abbreviated);
    }

    #[test]
    fn whole_text_beats_part() {
        assert!(q("jiehun", "结婚") > q("jiehun", "补领结婚证"));
    }

    #[test]
    fn misspelt_syllables_inside_abbreviations() {
        assert!(q("yingyezhizhaobulign", "营业执照遗失补领") > 0.3);
        assert!(q("huzaho", "普通护照签发") > 0.3);
        assert!(
            one_edit(b"xaio", b"xiao")
                && one_edit(b"jn", b"jin")
                && !one_edit(b"jng", b"jin")
                && !one_edit(b"ab", b"ba c")
        );
    }

    #[test]
    fn typos_within_distance() {
        assert_eq!(fuzzy_distance(b"gongjijn", b"zhufanggongjijin", 2), Some(1));
        assert_eq!(
            fuzzy_distance(b"gongjijng", b"zhufanggongjijin", 2),
            Some(2)
        );
        assert_eq!(fuzzy_distance(b"huzaho", b"putonghuzhaoqianfa", 1), Some(1));
        assert_eq!(fuzzy_distance(b"abcdef", b"gongjijin", 2), None);
    }
}
