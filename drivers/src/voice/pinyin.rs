//! Chinese text as toned pinyin for espeak-ng's `cmn-latn-pinyin` voice: numbers said the
//! way a person says them, Latin letters as Chinese speakers name them, and polyphonic
//! characters (行, 还, 长, 重 …) read as the word they stand in.

use pinyin::ToPinyin;

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A number as said aloud: 5 → 五, 12 → 十二, 40 → 四十, 105 → 一百零五.
pub fn cardinal(n: u32) -> String {
    match n {
        0..=9 => DIGITS[n as usize].to_owned(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        20..=99 => format!(
            "{}十{}",
            DIGITS[(n / 10) as usize],
            if n.is_multiple_of(10) {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        100..=999 => {
            let rest = n % 100;
            let tail = match rest {
                0 => String::new(),
                1..=9 => format!("零{}", DIGITS[rest as usize]),
                10..=19 => format!("一{}", cardinal(rest)),
                _ => cardinal(rest),
            };
            format!("{}百{tail}", DIGITS[(n / 100) as usize])
        }
        _ => n
            .to_string()
            .chars()
            .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
            .collect(),
    }
}

/// How a Chinese speaker says a Latin letter, in toned pinyin.
fn letter(c: char) -> &'static str {
    match c.to_ascii_uppercase() {
        'A' => "ei1",
        'B' => "bi4",
        'C' => "xi1",
        'D' => "di4",
        'E' => "yi4",
        'F' => "ai2 fu1",
        'G' => "ji4",
        'H' => "ai2 qi1",
        'I' => "ai4",
        'J' => "jie4",
        'K' => "kai4",
        'L' => "ai2 le5",
        'M' => "ai2 mu5",
        'N' => "en1",
        'O' => "ou1",
        'P' => "pi4",
        'Q' => "kiu1",
        'R' => "a4",
        'S' => "ai2 si1",
        'T' => "ti4",
        'U' => "you1",
        'V' => "wei1",
        'W' => "da2 bu5 liu5",
        'X' => "ai2 ke5 si1",
        'Y' => "wai4",
        _ => "zei4",
    }
}

/// Words whose characters have more than one reading, as said in the halls' content.
/// The longest word that matches wins; a character alone takes its most common reading.
const WORDS: &[(&str, &str)] = &[
    ("银行", "yin2 hang2"),
    ("行业", "hang2 ye4"),
    ("同行", "tong2 hang2"),
    ("行政", "xing2 zheng4"),
    ("行驶", "xing2 shi3"),
    ("步行", "bu4 xing2"),
    ("出行", "chu1 xing2"),
    ("通行", "tong1 xing2"),
    ("旅行", "lv3 xing2"),
    ("暂行", "zan4 xing2"),
    ("试行", "shi4 xing2"),
    ("另行", "ling4 xing2"),
    ("进行", "jin4 xing2"),
    ("执行", "zhi2 xing2"),
    ("行动", "xing2 dong4"),
    ("还款", "huan2 kuan3"),
    ("还清", "huan2 qing1"),
    ("还贷", "huan2 dai4"),
    ("还本", "huan2 ben3"),
    ("归还", "gui1 huan2"),
    ("退还", "tui4 huan2"),
    ("偿还", "chang2 huan2"),
    ("返还", "fan3 huan2"),
    ("还需", "hai2 xu1"),
    ("还要", "hai2 yao4"),
    ("还是", "hai2 shi4"),
    ("还有", "hai2 you3"),
    ("还可", "hai2 ke3"),
    ("还没", "hai2 mei2"),
    ("长期", "chang2 qi1"),
    ("延长", "yan2 chang2"),
    ("家长", "jia1 zhang3"),
    ("成长", "cheng2 zhang3"),
    ("重新", "chong2 xin1"),
    ("重复", "chong2 fu4"),
    ("重度", "zhong4 du4"),
    ("调整", "tiao2 zheng3"),
    ("调休", "tiao2 xiu1"),
    ("调解", "tiao2 jie3"),
    ("调取", "diao4 qu3"),
    ("调动", "diao4 dong4"),
    ("调查", "diao4 cha2"),
    ("处理", "chu3 li3"),
    ("处罚", "chu3 fa2"),
    ("办事处", "ban4 shi4 chu4"),
    ("公证处", "gong1 zheng4 chu4"),
    ("取得", "qu3 de2"),
    ("所得", "suo3 de2"),
    ("获得", "huo4 de2"),
    ("了解", "liao3 jie3"),
    ("为了", "wei4 le5"),
    ("应当", "ying1 dang1"),
    ("应该", "ying1 gai1"),
    ("应届", "ying1 jie4"),
    ("应税", "ying1 shui4"),
    ("相应", "xiang1 ying4"),
    ("更新", "geng1 xin1"),
    ("更改", "geng1 gai3"),
    ("变更", "bian4 geng1"),
    ("种类", "zhong3 lei4"),
    ("特种", "te4 zhong3"),
    ("票种", "piao4 zhong3"),
    ("便民", "bian4 min2"),
    ("方便", "fang1 bian4"),
    ("数码", "shu4 ma3"),
    ("会计", "kuai4 ji4"),
    ("给付", "ji3 fu4"),
    ("给予", "ji3 yu3"),
    ("上传", "shang4 chuan2"),
    ("单位", "dan1 wei4"),
    ("作为", "zuo4 wei2"),
    ("因为", "yin1 wei4"),
    ("没有", "mei2 you3"),
    ("什么", "shen2 me5"),
    ("结婚", "jie2 hun1"),
    ("结果", "jie2 guo3"),
    ("结算", "jie2 suan4"),
    ("办结", "ban4 jie2"),
    ("地方", "di4 fang1"),
    ("哪里", "na3 li3"),
];

/// The longest word of [`WORDS`] at the start of `rest`: its length in characters and pinyin.
fn word_at(rest: &str) -> Option<(usize, &'static str)> {
    WORDS
        .iter()
        .filter(|(w, _)| rest.starts_with(w))
        .max_by_key(|(w, _)| w.chars().count())
        .map(|(w, p)| (w.chars().count(), *p))
}

/// Hanzi, Latin letters and digits (said one by one) to toned pinyin; other characters pause.
pub fn to_pinyin(spoken: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let chars: Vec<(usize, char)> = spoken.char_indices().collect();
    let mut i = 0;
    while let Some(&(at, c)) = chars.get(i) {
        if let Some((len, p)) = word_at(&spoken[at..]) {
            words.push(p.to_owned());
            i += len;
            continue;
        }
        i += 1;
        if let Some(p) = c.to_pinyin() {
            let w = p.with_tone_num_end();
            // The neutral tone has no number: espeak-ng's pinyin voice wants 5.
            words.push(if w.ends_with(|d: char| d.is_ascii_digit()) {
                w.to_owned()
            } else {
                format!("{w}5")
            });
        } else if c.is_ascii_alphabetic() {
            words.push(letter(c).to_owned());
        } else if let Some(d) = c.to_digit(10) {
            words.push(to_pinyin(DIGITS[d as usize]));
        } else if matches!(
            c,
            '，' | '。' | ',' | '.' | '；' | ';' | '：' | ':' | '、' | '？' | '！'
        ) {
            words.push(",".to_owned());
        }
    }
    words.join(" ").replace(" ,", ",").replace(",,", ",")
}

/// Text as a person reads it out: a run of one to three digits is a number (约800米 →
/// 约八百米), longer runs (phone numbers) are said digit by digit.
pub fn spoken_pinyin(text: &str) -> String {
    let mut said = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, said: &mut String| {
        match digits.parse::<u32>() {
            Ok(n) if digits.len() <= 3 && !(digits.len() > 1 && digits.starts_with('0')) => {
                said.push_str(&cardinal(n))
            }
            _ => said.push_str(digits),
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut said);
            said.push(c);
        }
    }
    flush(&mut digits, &mut said);
    to_pinyin(&said)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyphonic_characters_are_read_as_their_words() {
        assert_eq!(to_pinyin("银行"), "yin2 hang2");
        assert_eq!(to_pinyin("还款"), "huan2 kuan3");
        assert_eq!(to_pinyin("还需"), "hai2 xu1");
        assert_eq!(to_pinyin("步行"), "bu4 xing2");
        assert_eq!(to_pinyin("到银行还款"), "dao4 yin2 hang2 huan2 kuan3");
        assert_eq!(to_pinyin("重新办理"), "chong2 xin1 ban4 li3");
        assert_eq!(to_pinyin("办事处"), "ban4 shi4 chu4");
    }

    #[test]
    fn short_numbers_are_said_as_numbers_and_long_ones_digit_by_digit() {
        assert_eq!(spoken_pinyin("步行约800米"), "bu4 xing2 yue1 ba1 bai3 mi3");
        assert_eq!(spoken_pinyin("12345"), "yi1 er4 san1 si4 wu3");
        assert_eq!(spoken_pinyin("5个工作日"), "wu3 ge4 gong1 zuo4 ri4");
    }
}
