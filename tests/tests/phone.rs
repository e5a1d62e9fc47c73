//! The phone-side plate served by the regional server: the hall's page and an item's guide,
//! from the published content, with search in characters or pinyin, cache validators, and a
//! friendly page for unknown links; 问一问 answering a question from the FAQs.

use menpai_tests::regional::server;
use menpai_tests::{demo_region, https_oversized, https_reply};

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
    assert!(
        page.contains("<div class=\"card\"><p>今日")
            && (page.contains("正在办公") || page.contains("现在不办公")),
        "hours today: {page}"
    );
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
    // A whole sentence, as a citizen says it: the plate's search engine, the item among the
    // first three.
    let q = menpai_model::percent_encode("想在小区门口摆个早餐摊要办啥证");
    let (_, _, page) = get(&format!("/h/hall-futian?q={q}"), &[]);
    let items = between(&page, "<div class=\"card list\" id=\"items\">", "</div>");
    let first_three: Vec<&str> = items.split("</a>").take(3).collect();
    assert!(
        first_three
            .iter()
            .any(|a| a.contains("<a href=\"/i/E04?h=hall-futian\">")
                || a.contains("<a href=\"/i/E07?h=hall-futian\">")),
        "{items}"
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
    assert!(!guide.contains("<script"), "a guide needs no JavaScript");
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

fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let i = s.find(from).unwrap_or_else(|| panic!("no {from} in {s}")) + from.len();
    &s[i..i + s[i..].find(to).unwrap()]
}

#[test]
fn checklists_outlets_and_forms_from_the_published_content() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let get = |path: &str| {
        let r = https_reply(&s.ca_pem(), s.public, "GET", path, &[], b"");
        let body = String::from_utf8_lossy(&r.body).into_owned();
        (r.status, r.headers, body)
    };

    // A checklist link holds only the chosen situations; both ways of listing them agree.
    let (st, h, list) = get("/c/P08?s=s2,s3&h=hall-futian");
    assert_eq!(st, 200, "{list}");
    assert!(h["etag"].to_str().is_ok());
    for part in [
        "原护照",
        "监护人居民身份证",
        "<span class=\"tag\">换发或补发</span>",
        "value=\"s2\" checked",
        "value=\"s3\" checked",
        "href=\"/c/P08?s=s2,s3&amp;h=hall-futian\"",
    ] {
        assert!(list.contains(part), "the checklist lacks {part}: {list}");
    }
    assert!(!list.contains("value=\"s1\" checked"));
    assert!(
        !list.contains("所在单位出具的同意出境意见"),
        "s4 was not chosen"
    );
    let (_, _, repeated) = get("/c/P08?s=s2&s=s3&h=hall-futian");
    assert_eq!(
        between(&repeated, "<ol>", "</ol>"),
        between(&list, "<ol>", "</ol>")
    );
    let (st, _, stale) = get("/c/P08?s=s9");
    assert_eq!(st, 200);
    assert!(stale.contains("已经变更"), "{stale}");

    // Outlets by distance from the hall, with GCJ-02 navigation links in three map apps.
    let (st, h, near) = get("/o?h=hall-futian");
    assert_eq!(st, 200, "{near}");
    let first = between(&near, "class=\"card outlet\"", "</div>");
    assert!(
        first.contains("福田区政务服务中心") && first.contains("0 米"),
        "{first}"
    );
    let futian = menpai_model::geo::GeoPoint::new(
        between(first, "data-lat=\"", "\"").parse().unwrap(),
        between(first, "data-lon=\"", "\"").parse().unwrap(),
    )
    .to_gcj02();
    for link in [
        format!(
            "https://uri.amap.com/marker?position={:.6},{:.6}&amp;",
            futian.lon, futian.lat
        ),
        format!(
            "https://api.map.baidu.com/marker?location={:.6},{:.6}&amp;",
            futian.lat, futian.lon
        ),
        format!(
            "https://apis.map.qq.com/uri/v1/marker?marker=coord:{:.6},{:.6};",
            futian.lat, futian.lon
        ),
    ] {
        assert!(first.contains(&link), "{link} in {first}");
    }
    assert!(first.contains("coord_type=gcj02"));
    assert!(first.contains("营业中") || first.contains("休息中"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'sha256-") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let (_, _, for_item) = get("/o?item=P08&h=hall-futian");
    assert!(for_item.contains("可以办理：<b>普通护照签发</b>"));
    assert!(
        for_item.matches("class=\"card outlet\"").count()
            < near.matches("class=\"card outlet\"").count(),
        "only outlets that handle the item"
    );
    let (st, _, outlet) = get("/o/hall-futian");
    assert_eq!(st, 200);
    for part in [
        "<h1 id=\"outlet\">福田区政务服务中心</h1>",
        "周一",
        "周日",
        "可以办理",
        "高德地图",
    ] {
        assert!(outlet.contains(part), "{part}: {outlet}");
    }

    // 下载表格 gives the real form: a PDF under its Chinese name, cached by its bytes.
    let r = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        "/forms/form-E01-1.pdf",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"form-E01-1.pdf\"; filename*=UTF-8''"),
        "{:?}",
        r.headers["content-disposition"]
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(r.body.starts_with(b"%PDF-"));
    let text = menpai_content::pdf::text_of(&r.body).expect("pdftotext reads the PDF");
    assert!(text.contains("公司登记（备案）申请书"), "{text}");
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    let again = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        "/forms/form-E01-1.pdf",
        &[("if-none-match", &etag)],
        b"",
    );
    assert_eq!(again.status, 304);
    // A form the content carries no file for lands on a page that says where to get it.
    let (st, _, form) = get("/forms/form-P01-1.pdf");
    assert_eq!(st, 200, "{form}");
    assert!(form.contains("咨询台免费领取"), "{form}");

    // Unknown ids: friendly pages, never a stack of JSON.
    let today = menpai_model::queue::china_now()
        .format("%Y%m%d")
        .to_string();
    for (path, says) in [
        ("/c/NOPE".to_owned(), "没有找到这个事项"),
        ("/o/nope".to_owned(), "没有找到这个办事地点"),
        ("/forms/nope.pdf".to_owned(), "没有找到这份表格"),
        (
            "/t/hall-futian/20200101/E001".to_owned(),
            "没有找到这张排队号",
        ),
        ("/t/no-hall/20200101/E001".to_owned(), "没有找到这张排队号"),
        (format!("/t/hall-futian/{today}/E999"), "暂时查不到 E999 号"),
        ("/a/ap-000000000000".to_owned(), "没有找到这个预约"),
        ("/book/hall-futian/NOPE".to_owned(), "没有找到这个预约事项"),
    ] {
        let (st, h, page) = get(&path);
        assert_eq!(st, 404, "{path}: {page}");
        assert!(page.contains(says), "{path}: {page}");
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{path}");
    }
    let (st, _, live) = get(&format!("/t/hall-futian/{today}/E999/live"));
    assert_eq!(st, 404, "{live}");
}

#[test]
fn booking_refuses_cross_site_posts_proves_the_phone_and_keeps_no_personal_data_in_urls_or_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "booking_per_ip_per_hour = 6\n", &demo_region());
    let origin = format!("https://{}", s.public);
    let r = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        "/book/hall-futian/P43",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["cache-control"], "no-store");
    let set_cookie = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with("__Host-menpai-form=")
            && set_cookie.contains("Secure")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let form = String::from_utf8_lossy(&r.body).into_owned();
    let csrf = between(&form, "name=\"csrf\" value=\"", "\"").to_owned();
    assert_eq!(cookie, format!("__Host-menpai-form={csrf}"));
    let slots: Vec<String> = form
        .split("name=\"slot\" value=\"")
        .skip(1)
        .map(|p| p[..p.find('"').unwrap()].replace(' ', "+"))
        .collect();
    assert!(slots.len() >= 2, "{form}");

    let post = |path: &str, body: String, cookie: &str, origin: &str| {
        let r = https_reply(
            &s.ca_pem(),
            s.public,
            "POST",
            path,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", cookie),
                ("origin", origin),
            ],
            body.as_bytes(),
        );
        let text = String::from_utf8_lossy(&r.body).into_owned();
        (r.status, r.headers, text)
    };
    let book = |phone: &str, slot: &str, cookie: &str, origin: &str, csrf: &str| {
        post(
            "/book/hall-futian/P43",
            format!("csrf={csrf}&slot={slot}&name=%E5%BC%A0%E5%B0%8F%E6%98%8E&phone={phone}"),
            cookie,
            origin,
        )
    };

    // Another site's page cannot post the form, nor can a page without the form's cookie.
    let (st, _, page) = book(
        "13812345678",
        &slots[0],
        &cookie,
        "https://evil.example",
        &csrf,
    );
    assert_eq!(st, 403, "{page}");
    assert!(page.contains("请在本站页面提交"), "{page}");
    let (st, _, page) = book("13812345678", &slots[0], "", &origin, &csrf);
    assert_eq!(st, 403, "{page}");
    assert!(page.contains("页面已过期"), "{page}");

    // The form goes to the code page (its address holds no personal data); the code is texted.
    let (st, h, _) = book("13812345678", &slots[0], &cookie, &origin, &csrf);
    assert_eq!(st, 303);
    let code_page = h["location"].to_str().unwrap().to_owned();
    assert!(
        code_page.starts_with("/book/code/bk-")
            && !code_page.contains("13812345678")
            && !code_page.contains("****"),
        "{code_page}"
    );
    let r = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        &code_page,
        &[("cookie", &cookie)],
        b"",
    );
    let page = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, 200, "{page}");
    assert!(page.contains("验证码已发到 138****5678"), "{page}");
    let code = menpai_tests::regional::sms_code(&s);
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (st, _, page) = post(
        &code_page,
        format!("csrf={csrf}&code={wrong}"),
        &cookie,
        &origin,
    );
    assert_eq!(st, 403, "{page}");
    assert!(page.contains("验证码不对，还可以再试 4 次"), "{page}");
    let (st, h, page) = post(
        &code_page,
        format!("csrf={csrf}&code={code}"),
        &cookie,
        &origin,
    );
    assert_eq!(st, 303, "{page}");
    let location = h["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/a/ap-") && location.len() == 18,
        "{location}"
    );
    // A code works once.
    let (st, _, page) = post(
        &code_page,
        format!("csrf={csrf}&code={code}"),
        &cookie,
        &origin,
    );
    assert_eq!(st, 410, "{page}");
    let r = https_reply(&s.ca_pem(), s.public, "GET", &location, &[], b"");
    let page = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, 200, "{page}");
    assert_eq!(r.headers["cache-control"], "no-store");
    for part in [
        "预约成功",
        "住房公积金购房提取",
        "张*明",
        "138****5678",
        "<svg",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    assert!(!page.contains("13812345678") && !page.contains("张小明"));

    // The text messages (log backend): the number masked, the confirmation's link.
    let sms = std::fs::read_to_string(tmp.path().join("data/sms-outbox.log")).unwrap();
    assert!(
        sms.contains("138****5678")
            && sms.contains(&format!(":{}{location}", s.public.port()))
            && !sms.contains("13812345678"),
        "{sms}"
    );

    // Requests from one address, whatever the number, until its limit (6 an hour: four so far).
    for n in 0..2 {
        let (st, _, page) = book(
            &format!("1390000000{n}"),
            &slots[1],
            &cookie,
            &origin,
            &csrf,
        );
        assert_eq!(st, 303, "{page}");
    }
    let (st, _, page) = book("13900000009", &slots[1], &cookie, &origin, &csrf);
    assert_eq!(st, 429, "{page}");
    assert!(page.contains("操作太频繁"), "{page}");
    let json = r#"{"hall":"hall-futian","item":"P43","date":"2026-01-01","start":"09:00","name":"李四","phone":"13900000008"}"#;
    let (st, body) = menpai_tests::https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/appointments",
        &[("content-type", "application/json")],
        json.as_bytes(),
    );
    assert_eq!(st, 429, "the API shares the limit: {body}");

    // Neither names nor numbers reach the server's log.
    let log = s.log();
    assert!(log.contains("An appointment was booked."), "{log}");
    for secret in ["13812345678", "1390000000", "张小明", "李四"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

#[test]
fn the_question_box_answers_from_the_faqs_and_offers_a_person_when_nothing_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let ask = |body: &[u8]| {
        let r = https_reply(
            &s.ca_pem(),
            s.public,
            "POST",
            "/q/hall-futian",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        );
        let page = String::from_utf8_lossy(&r.body).into_owned();
        (r.status, r.headers, page)
    };
    let form = |q: &str| format!("q={}", menpai_model::percent_encode(q)).into_bytes();

    // The box on the hall's page posts the question (never in a URL).
    let r = https_reply(&s.ca_pem(), s.public, "GET", "/h/hall-futian", &[], b"");
    let hall = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        hall.contains("<form method=\"post\" action=\"/q/hall-futian\" id=\"ask-box\">"),
        "{hall}"
    );

    // A colloquial question: the FAQ that answers it first, with the way to its guide.
    let (st, h, page) = ask(&form("我的医保卡掉了，也不知道掉哪了，要去哪重新弄一张"));
    assert_eq!(st, 200, "{page}");
    assert_eq!(h["cache-control"], "no-store");
    let first = page.find("<div class=\"card answer\"").expect("an answer");
    assert!(
        page[first..].starts_with("<div class=\"card answer\" data-faq=\"faq-001\">"),
        "{page}"
    );
    assert!(page.contains("社保卡丢了怎么补办？"), "{page}");
    let out = menpai_tests::workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("phone-ask-answer.html"), &page).unwrap();
    assert!(
        page.contains("<a href=\"/i/P33?h=hall-futian\">看办事指南：社会保障卡补换</a>"),
        "{page}"
    );
    // Typed in pinyin, too.
    let (st, _, page) = ask(&form("shebaoka diule zenme ban"));
    assert_eq!(st, 200);
    assert!(page.contains("data-faq=\"faq-001\""), "{page}");

    // Nothing a hall can answer: said so, and a person offered.
    let (st, _, page) = ask(&form("这期双色球开什么号"));
    assert_eq!(st, 200);
    assert!(!page.contains("card answer"), "{page}");
    assert!(page.contains("没有找到能回答这个问题的内容。"), "{page}");
    assert!(
        page.contains("href=\"/ask/hall-futian?kind=consult\">在线咨询（工作人员回复）</a>"),
        "{page}"
    );

    // Bad input: clear words, the question kept in the box; a body past the bound refused.
    let (st, _, page) = ask(b"q=+++");
    assert_eq!(st, 400);
    assert!(page.contains("请先输入您的问题"), "{page}");
    let long = "我想问".repeat(70);
    let (st, _, page) = ask(&form(&long));
    assert_eq!(st, 400);
    assert!(
        page.contains("问题太长了，请用 200 个字以内说清楚"),
        "{page}"
    );
    let st = https_oversized(
        &s.ca_pem(),
        s.public,
        "/q/hall-futian",
        &[("content-type", "application/x-www-form-urlencoded")],
        20_000,
    );
    assert_eq!(st, 413);
    let r = https_reply(
        &s.ca_pem(),
        s.public,
        "POST",
        "/q/hall-futian",
        &[("content-type", "text/plain")],
        "q=社保".as_bytes(),
    );
    assert_eq!(r.status, 400);
    let page = String::from_utf8_lossy(&r.body);
    assert!(
        page.contains("没有收到问题，请在框里写下问题后再点提问"),
        "{page}"
    );
    // Characters without a reading, and a search far longer than the engine reads.
    let (st, _, page) = ask(&form("sb兙兙"));
    assert_eq!(st, 200, "{page}");
    let long = menpai_model::percent_encode(&"社保卡补办".repeat(400));
    let r = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        &format!("/h/hall-futian?q={long}"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    // An unknown hall; and the next question is answered.
    let r = https_reply(&s.ca_pem(), s.public, "GET", "/q/hall-nowhere", &[], b"");
    assert_eq!(r.status, 404);
    let (st, _, page) = ask(&form("社保卡丢了去哪补"));
    assert_eq!(st, 200);
    assert!(page.contains("data-faq=\"faq-001\""), "{page}");
}
