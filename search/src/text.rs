//! Text normalisation for search: traditional → simplified, full-width → ASCII, case, punctuation;
//! and pinyin readings of characters.

use pinyin::ToPinyinMulti;

/// Words that carry no meaning in a search ("我要办…怎么办").
const FILLERS: &[&str] = &[
    "我要",
    "我想",
    "想要",
    "请问",
    "怎么办理",
    "如何办理",
    "怎么办",
    "怎么",
    "如何",
    "在哪里",
    "在哪儿",
    "在哪",
    "哪里",
    "去哪",
    "需要",
    "什么",
    "材料",
    "手续",
    "流程",
    "可以",
    "能不能",
    "一下",
    "办理",
    "咨询",
    "吗",
    "呢",
    "的",
    "啊",
    "呀",
    "吧",
];

/// Normalises a query or a field: simplified characters, ASCII letters lower-cased, spaces and
/// punctuation dropped, digits kept.
pub(crate) fn normalize(s: &str) -> String {
    let simplified = fast2s::convert(s);
    simplified
        .chars()
        .filter_map(|c| {
            let c = full_to_half(c);
            if c.is_ascii_alphanumeric() {
                Some(c.to_ascii_lowercase())
            } else if is_han(c) {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

/// Removes filler words from a run of Chinese text.
pub(crate) fn strip_fillers(s: &str) -> String {
    let mut out = s.to_owned();
    for f in FILLERS {
        if out.contains(f) {
            out = out.replace(f, " ");
        }
    }
    out
}

fn full_to_half(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True for CJK ideographs (the basic block and extension A).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Toneless readings of a character, most common first; none for non-Chinese characters.
pub(crate) fn readings(c: char) -> Readings {
    let mut r = Readings {
        list: [""; 4],
        len: 0,
    };
    if c.is_ascii_alphanumeric() {
        return r;
    }
    if let Some(multi) = c.to_pinyin_multi() {
        for i in 0..multi.count() {
            let plain = multi.get(i).plain();
            if r.len < r.list.len() && !r.list[..r.len].contains(&plain) {
                r.list[r.len] = plain;
                r.len += 1;
            }
        }
    }
    r
}

/// Up to four distinct toneless readings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Readings {
    list: [&'static str; 4],
    len: usize,
}

impl Readings {
    pub(crate) const NONE: Readings = Readings {
        list: [""; 4],
        len: 0,
    };

    pub(crate) fn as_slice(&self) -> &[&'static str] {
        &self.list[..self.len]
    }

    pub(crate) fn primary(&self) -> Option<&'static str> {
        self.as_slice().first().copied()
    }
}

/// The main full pinyin of a text, e.g. 公积金 → `gongjijin`.
pub(crate) fn full_pinyin(s: &str) -> String {
    s.chars().filter_map(|c| readings(c).primary()).collect()
}

/// Initials of a text, e.g. 公积金 → `gjj`.
pub(crate) fn initials(s: &str) -> String {
    s.chars()
        .filter_map(|c| readings(c).primary())
        .filter_map(|p| p.chars().next())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_traditional_width_and_case() {
        assert_eq!(normalize("註銷 公司！"), "注销公司");
        assert_eq!(normalize("ＧＪＪ"), "gjj");
        assert_eq!(normalize("Shebao Ka"), "shebaoka");
    }

    #[test]
    fn pinyin_of_common_words() {
        assert_eq!(full_pinyin("公积金"), "gongjijin");
        assert_eq!(initials("护照签发"), "hzqf");
        assert!(readings('行').as_slice().contains(&"hang"));
    }

    #[test]
    fn fillers_are_removed() {
        assert_eq!(strip_fillers("我要办理护照").trim(), "护照");
    }
}
