//! The phone-side plate served by the regional server: the hall's page and an item's guide,
//! from the published content, with search in characters or pinyin, cache validators, and a
//! friendly page for unknown links.

use menpai_tests::regional::server;
use menpai_tests::{demo_region, https_reply};

#[test]
fn the_hall_page_and_the_guide_from_the_published_content() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let get = |path: &str, headers: &[(&str, &str)]| {
        let r = https_reply(&s.ca_pem(), s.public, "GET", path, headers, b"");
        let body = String::from_utf8_lossy(&r.body).into_owned();
        (r.status, r.headers, body)
    };

    // The hall: name, hours today, phone, the most asked-for items, topics.
    let (st, h, page) = get("/h/hall-futian", &[]);
    assert_eq!(st, 200, "{page}");
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert!(page.contains("<h1 id=\"hall\">福田区"), "{page}");
    assert!(page.contains("<h2>常办事项</h2>"), "{page}");
    assert!(
        page.contains("href=\"/i/P03?h=hall-futian\">居民身份证补领</a>"),
        "{page}"
    );
    assert!(page.contains("<p>今日办公时间 "), "{page}");
    assert!(page.contains("<h2>按主题找</h2>"));
    assert!(page.contains("href=\"tel:"));
    assert!(
        !page.contains("<script"),
        "the pages work without JavaScript"
    );

    // Cache validators: the same ETag → 304 without a body.
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(h["cache-control"], "public, max-age=60");
    let (st, _, body) = get("/h/hall-futian", &[("if-none-match", &etag)]);
    assert_eq!(st, 304);
    assert!(body.is_empty());

    // Search the way a phone types: characters, full pinyin, initials.
    for q in ["%E7%A4%BE%E4%BF%9D", "shebao", "sb"] {
        let (st, _, page) = get(&format!("/h/hall-futian?q={q}"), &[]);
        assert_eq!(st, 200);
        assert!(
            page.contains(">个人社保参保证明打印</a>"),
            "`{q}` did not find 社保: {page}"
        );
    }
    let (_, _, page) = get("/h/hall-futian?q=%E5%8A%9E%E6%8A%A4%E7%85%A7", &[]);
    assert!(
        page.contains(">普通护照签发</a>"),
        "everyday words (办护照) find it"
    );

    // The guide: every element, light enough for a weak signal.
    let (st, _, guide) = get("/i/P08?h=hall-futian", &[]);
    assert_eq!(st, 200, "{guide}");
    for part in [
        "<h1 id=\"item\">普通护照签发</h1>",
        "id=\"materials\"",
        "<h2>申请条件</h2>",
        "<h2>收费</h2>",
        "<h2>办理时限</h2>",
        "<h2>办理流程</h2>",
        "<h2>在哪里办</h2>",
        "<h2>咨询与投诉</h2>",
        "<h2>设定依据</h2>",
        "回到福田区",
        "href=\"/book/hall-futian/P08\"",
    ] {
        assert!(guide.contains(part), "the guide lacks {part}: {guide}");
    }
    println!("guide page P08: {} bytes", guide.len());
    assert!(guide.len() <= 100 * 1024, "{} bytes", guide.len());

    // Unknown links: a friendly page, not an error dump.
    for (path, says) in [
        ("/i/NOPE?h=hall-futian", "没有找到这个事项"),
        ("/h/no-such-hall", "没有找到这个服务大厅"),
    ] {
        let (st, _, page) = get(path, &[]);
        assert_eq!(st, 404, "{path}");
        assert!(page.contains(says), "{path}: {page}");
        assert!(page.contains("重新扫描门牌上的二维码"), "{page}");
    }
    let (_, _, page) = get("/i/NOPE?h=hall-futian", &[]);
    assert!(
        page.contains("href=\"/h/hall-futian\""),
        "the way back: {page}"
    );
}
