//! The everyday-words dictionary: colloquial words a citizen types → official words in item names.

use std::collections::HashMap;

use super::text::{full_pinyin, normalize};

/// The built-in dictionary, one `colloquial<TAB>official,official` per line.
const BUILT_IN: &str = include_str!("synonyms.tsv");

/// Longest key considered when scanning a query.
pub(crate) const MAX_KEY_CHARS: usize = 8;

#[derive(Debug, Default)]
pub(crate) struct Synonyms {
    by_key: HashMap<String, Vec<String>>,
    /// Full pinyin of a key → the key, so `kaigongsi` finds 开公司.
    by_pinyin: HashMap<String, String>,
}

impl Synonyms {
    /// The built-in dictionary.
    pub(crate) fn load() -> Self {
        let mut s = Synonyms::default();
        for line in BUILT_IN.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, values)) = line.split_once('\t') else {
                continue;
            };
            let key = normalize(key);
            if key.chars().count() < 2 {
                continue;
            }
            let entry = s.by_key.entry(key.clone()).or_default();
            for v in values
                .split([',', '，'])
                .map(normalize)
                .filter(|v| !v.is_empty())
            {
                if !entry.contains(&v) {
                    entry.push(v);
                }
            }
            let py = full_pinyin(&key);
            if py.len() >= 5 {
                s.by_pinyin.entry(py).or_insert(key);
            }
        }
        s
    }

    pub(crate) fn get(&self, key: &str) -> Option<&[String]> {
        self.by_key.get(key).map(Vec::as_slice)
    }

    /// The key whose full pinyin is exactly `letters`.
    pub(crate) fn key_for_pinyin(&self, letters: &str) -> Option<&str> {
        self.by_pinyin.get(letters).map(String::as_str)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }
}
