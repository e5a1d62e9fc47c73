//! Search and questions come from anyone (the plate's keyboard, the phone pages): whatever is
//! typed, the engines answer without panicking, within their bounds.

use menpai_model::ContentPack;
use menpai_search::SearchIndex;
use menpai_search::ask::AskIndex;
use proptest::prelude::*;

fn engines() -> (ContentPack, SearchIndex, AskIndex) {
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let search = SearchIndex::build(&pack.items);
    let ask = AskIndex::over_items(&pack.faqs, &pack.items);
    (pack, search, ask)
}

#[test]
fn characters_without_a_reading_are_searched_as_characters() {
    let (pack, search, ask) = engines();
    // 兙 (U+5159) and 㐂 (U+3402) have no pinyin: no sound to match, no panic.
    for q in [
        "兙兙",
        "sb兙兙",
        "社保的兙兙",
        "㐂㐂社保",
        "兙",
        "shebao 㐂㐂 兙",
    ] {
        let _ = search.search(q, 10);
        let _ = ask.ask(q, &search);
    }
    let hits = search.search("sb兙兙", 10);
    assert!(
        hits.iter().any(|h| pack.items[h.doc].name.contains("社")),
        "the letters still find 社保: {:?}",
        hits.iter()
            .map(|h| &pack.items[h.doc].name)
            .collect::<Vec<_>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_text_is_answered_without_a_panic(q in "[a-z 兙㐂社保卡的了吗？!0-9\u{3000}\u{20000}-\u{2000f}\u{1f600}\u{301}]{0,80}") {
        thread_local! {
            static ENGINES: (ContentPack, SearchIndex, AskIndex) = engines();
        }
        ENGINES.with(|(_, search, ask)| {
            let hits = search.search(&q, 10);
            prop_assert!(hits.len() <= 10);
            let answers = ask.ask(&q, search);
            prop_assert!(answers.len() <= menpai_search::ask::MAX_ANSWERS);
            Ok(())
        })?;
    }
}
