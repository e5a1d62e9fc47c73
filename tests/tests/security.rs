//! The holes a security review found, one regression test each, against real processes on
//! loopback: the server, the agent, two terminals, Chromium.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use menpai_tests::proxy::Proxy;
use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::webdriver::Driver;
use menpai_tests::{
    RunningAgent, RunningServer, demo_region, get_json, http, https, https_exchange_from,
    https_from, login, start_agent,
};
use serde_json::{Value, json};

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\n";

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn take(agent: &RunningAgent, prefix: &str) -> (u16, Value) {
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/queue/tickets",
        &JSON,
        format!("{{\"prefix\":\"{prefix}\"}}").as_bytes(),
    );
    (st, serde_json::from_str(&r).unwrap_or(Value::String(r)))
}

fn peak_memory_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Shared strings holding one string of `mib` MiB.
fn shared_string(w: &mut dyn Write, mib: usize) {
    w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..mib {
        w.write_all(&chunk).unwrap();
    }
    w.write_all(b"</t></si></sst>").unwrap();
}

/// Writes a part's bytes.
type WritePart<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// A minimal workbook: one sheet `事项`, shared strings when given, and `fillers` images of
/// 40 MB each (each under the per-part bound, together over the whole's).
fn xlsx(sheet_xml: &str, shared: Option<WritePart>, fillers: usize) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut part = |name: &str, body: &str| {
        z.start_file(name, opts).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    };
    part(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="事项" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    part(
        "xl/worksheets/sheet1.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_xml}</sheetData></worksheet>"#
        ),
    );
    if let Some(write) = shared {
        z.start_file("xl/sharedStrings.xml", opts).unwrap();
        write(&mut z);
    }
    let zeros = vec![0u8; 1 << 20];
    for n in 0..fillers {
        z.start_file(format!("xl/media/image{n}.png"), opts)
            .unwrap();
        for _ in 0..40 {
            z.write_all(&zeros).unwrap();
        }
    }
    z.finish().unwrap();
    out.into_inner()
}

/// Finding 1: sheets that would make the reader allocate without bound.
#[test]
fn spreadsheet_bombs_are_refused_in_bounded_answers_and_the_server_keeps_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let editor = login(&s, ADMIN.0, ADMIN.1);
    let import = |format: &str, ct: &str, body: &[u8]| {
        api(
            &s,
            &editor,
            "POST",
            &format!("/api/v1/admin/content/import?format={format}"),
            ct,
            body,
        )
    };
    let xlsx_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    // A refused sheet (422, the answer bounded): its message and its first problem's.
    let refused = |bytes: &[u8]| {
        let (st, r) = import("xlsx", xlsx_ct, bytes);
        assert_eq!(st, 422, "{r}");
        assert!(r.to_string().len() < 64 * 1024, "a bounded answer");
        let text = |v: &Value| v.as_str().unwrap().to_owned();
        (
            text(&r["error"]),
            text(&r["details"]["problems"][0]["message"]),
        )
    };

    // Cells at A1 and XFD1048576: 1.6 KB that a range reader sizes at 2^34 cells.
    let corners = xlsx(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>事项ID</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
        None,
        0,
    );
    assert!(corners.len() < 4096, "{}", corners.len());
    assert!(refused(&corners).1.contains("表格超出 20000 行或 64 列"));

    // A zip bomb: shared strings that inflate to 128 MB from well under 1 MB.
    let one_cell = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    let bomb = xlsx(one_cell, Some(&mut |w| shared_string(w, 128)), 0);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let started = Instant::now();
    let (error, problem) = refused(&bomb);
    assert!(error.contains("1 处问题"), "{error}");
    assert!(problem.contains("解压后超过 96 MB"), "{problem}");
    println!(
        "zip bomb ({} KB) refused in {:.1} s",
        bomb.len() / 1024,
        started.elapsed().as_secs_f64()
    );
    // One long shared string named by many cells: refused before any copy is made.
    let cells: String = (1..=2000)
        .map(|n| format!(r#"<row r="{n}"><c r="A{n}" t="s"><v>0</v></c></row>"#))
        .collect();
    let amplified = xlsx(&cells, Some(&mut |w| shared_string(w, 1)), 0);
    assert!(refused(&amplified).1.contains("单元格内容超过"));
    // Parts each within bounds that together inflate past the whole's: counted as inflated.
    let spread = xlsx(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#, None, 3);
    let started = Instant::now();
    assert!(refused(&spread).1.contains("解压后超过 96 MB"));
    println!(
        "spread bomb ({} KB, 120 MB inflated) refused in {:.1} s",
        spread.len() / 1024,
        started.elapsed().as_secs_f64()
    );

    // Five thousand broken rows: the first hundred problems in full, and the count.
    let mut csv = String::from("事项ID,到现场次数\n");
    for n in 0..5000 {
        csv.push_str(&format!("NEW{n},9\n"));
    }
    let (st, r) = import("csv", "text/csv", csv.as_bytes());
    assert_eq!(st, 422);
    let total = r["details"]["total"].as_u64().unwrap();
    assert!(total >= 5000, "{total}");
    assert_eq!(r["details"]["problems"].as_array().unwrap().len(), 100);
    assert!(
        r["error"].as_str().unwrap().contains("列出前 100 处"),
        "{}",
        r["error"]
    );
    assert!(r.to_string().len() < 64 * 1024, "a bounded answer");

    // Rows beyond the bound are refused whole.
    let mut long = String::from("事项ID\n");
    for n in 0..20_001 {
        long.push_str(&format!("X{n}\n"));
    }
    let (st, r) = import("csv", "text/csv", long.as_bytes());
    assert_eq!(st, 422, "{r}");

    // Still up, and the good sheet still imports.
    let (st, _) = https(&s.ca_pem(), s.public, "GET", "/login", &[], b"");
    assert_eq!(st, 200);
    let (st, r) = import(
        "csv",
        "text/csv",
        "事项ID,承诺时限\nP43,3个工作日\n".as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    let peak = peak_memory_kib(s.child.id());
    println!(
        "regional server peak memory after the bombs: {} MiB",
        peak / 1024
    );
    assert!(peak < 1024 * 1024, "peak {peak} KiB");
}

/// Serves the attack page on the first connection, then, as a DNS rebinding would, passes
/// every later connection to `agent`: the page's origin is this server, its requests reach
/// the agent with a foreign `Host`.
fn rebinding_server(agent: SocketAddr, page: String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut first = true;
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            if first {
                first = false;
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{page}",
                    page.len()
                );
                let _ = c.write_all(reply.as_bytes());
                continue;
            }
            let Ok(mut up) = TcpStream::connect(agent) else {
                continue;
            };
            let (mut c2, mut up2) = (c.try_clone().unwrap(), up.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c2, &mut up2));
            std::thread::spawn(move || std::io::copy(&mut up, &mut c));
        }
    });
    addr
}

/// Finding 2: a web page cannot drive the agent: not by rebinding a name to 127.0.0.1, not
/// from another origin on this machine; the kiosk's own requests still pass.
#[test]
fn pages_of_other_origins_cannot_print_take_tickets_or_listen_to_the_scanner() {
    let agent = start_agent(&demo_region(), "[queue]\nallow_outside_hours = true\n");
    let (_, before) = get_json(agent.addr, "/api/v1/sim/printer");
    let attack = r#"<!doctype html><html><body><pre id="out">running</pre><script>
var out = {};
function done() { document.getElementById('out').textContent = JSON.stringify(out); }
function ws(url, key, next) {
  var w = new WebSocket(url);
  w.onopen = function () { out[key] = 'open'; w.close(); next(); };
  w.onerror = function () { out[key] = 'refused'; next(); };
}
var body = JSON.stringify({prefix: 'A'});
fetch('/api/v1/queue/tickets', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: body})
 .then(function (r) { out.ticket = r.status; })
 .catch(function () { out.ticket = 'error'; })
 .then(function () {
   return fetch('/api/v1/print/ticket', {method: 'POST', headers: {'Content-Type': 'application/json'},
     body: JSON.stringify({number: 'A001', business: '综合', people_ahead: 0, estimated_wait_min: 1,
       priority: null, follow_url: 'https://m.menpai.example.cn/t/evil'})});
 })
 .then(function (r) { out.print = r.status; })
 .catch(function () { out.print = 'error'; })
 .then(function () {
   ws('ws://' + location.host + '/api/v1/events', 'events', function () {
     ws('ws://127.0.0.1:AGENT_PORT/api/v1/events', 'events_cross_origin', done);
   });
 });
</script></body></html>"#
        .replace("AGENT_PORT", &agent.addr.port().to_string());
    let site = rebinding_server(agent.addr, attack);
    let d = Driver::start_with(&["--host-resolver-rules=MAP rebind.test 127.0.0.1"]);
    d.go(&format!("http://rebind.test:{}/", site.port()));
    let out = d
        .wait_text("#out", "events_cross_origin", 30)
        .unwrap_or_else(|t| panic!("the page never finished: {t}"));
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["ticket"], 403, "{out}");
    assert_eq!(out["print"], 403, "{out}");
    assert_eq!(out["events"], "refused", "{out}");
    assert_eq!(out["events_cross_origin"], "refused", "{out}");
    let (_, after) = get_json(agent.addr, "/api/v1/sim/printer");
    assert_eq!(before, after, "nothing was printed");
    let (_, q) = get_json(agent.addr, "/api/v1/queue");
    assert!(
        q["businesses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["waiting"] == 0),
        "no ticket was taken: {q}"
    );
    let log = agent.log();
    assert!(
        log.contains("why=\"host\"") || log.contains("why=host"),
        "{log}"
    );

    // The kiosk's requests (loopback Host, no Origin) and its event stream still work.
    let (st, t) = take(&agent, "A");
    assert_eq!(st, 201, "{t}");
    let _stream_with_its_hello = agent.events();
}

/// Finding 3: a ticket's rating needs the secret its slip's QR code carries.
#[test]
fn only_the_holder_of_the_slip_can_rate_its_service() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let t = terminal(&s, &admin, "entrance", None, TERMINAL);
    let (st, ticket) = take(&t, "E");
    assert_eq!(st, 201, "{ticket}");
    let follow = ticket["follow_url"].as_str().unwrap().to_owned();
    let (path, secret) = follow.split_once("?k=").expect("a secret in the link");
    let path = &path[path.find("/t/").unwrap()..];
    let (_, view) = api(&s, &staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    let w = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .and_then(|b| b["windows"][0].as_u64())
        .unwrap();
    for action in ["call_next", "serve", "finish"] {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{w}"),
            "application/json",
            format!("{{\"action\":\"{action}\"}}").as_bytes(),
        );
        assert_eq!(st, 200, "{r}");
    }
    // The page by its guessable address shows no form; with the slip's secret it does.
    let (st, page) = https(&s.ca_pem(), s.public, "GET", path, &[], b"");
    assert_eq!(st, 200);
    assert!(
        !page.contains("id=\"rate\"") && page.contains("rate-hint"),
        "{page}"
    );
    let with_secret = format!("{path}?k={secret}");
    let r = menpai_tests::https_reply(&s.ca_pem(), s.public, "GET", &with_secret, &[], b"");
    let page = String::from_utf8_lossy(&r.body).into_owned();
    assert!(page.contains("id=\"rate\""), "{page}");
    let cookie = r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = cookie.split('=').nth(1).unwrap().to_owned();
    let origin = format!("https://{}", s.public);
    let rate = |k: &str| {
        https(
            &s.ca_pem(),
            s.public,
            "POST",
            &format!("{path}/rate"),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", &cookie),
                ("origin", &origin),
            ],
            format!("csrf={csrf}&stars=1&comment=&k={k}").as_bytes(),
        )
    };
    // A guesser without the secret, or with a made-up one, is refused; the holder is not.
    for forged in ["", "0000000000000000", &secret[..15]] {
        let (st, page) = rate(forged);
        assert_eq!(st, 403, "{forged}: {page}");
        assert!(page.contains("取号单上的二维码"), "{page}");
    }
    let (st, page) = rate(secret);
    assert_eq!(st, 303, "{page}");
    let (_, ratings) = api(
        &s,
        &staff,
        "GET",
        "/api/v1/admin/ratings?hall=hall-futian",
        "",
        b"",
    );
    assert_eq!(ratings["windows"][0]["count"], 1, "{ratings}");
}

/// A device client with the terminal's own certificate (what a compromised terminal could send).
fn as_terminal(
    s: &RunningServer,
    t: &RunningAgent,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let id = t.dir.path().join("data/identity");
    let read = |f: &str| std::fs::read_to_string(id.join(f)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = menpai_agent::sync::client::Client::new(
            &format!("https://{}", s.devices),
            &read("ca.pem"),
            Some((&read("device.pem"), &read("device.key.pem"))),
        )
        .unwrap();
        let r = client
            .request(
                method,
                path,
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    })
}

fn today() -> String {
    menpai_model::queue::china_now().date().to_string()
}

/// Findings 4 and 5: leases for today only, capped, no repeats; `replaces` cancels only the
/// sender's own request.
#[test]
fn a_terminal_cannot_hoard_numbers_or_cancel_another_terminals_ticket() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(
        tmp.path(),
        "queue_leases_per_terminal = 3\n",
        &demo_region(),
    );
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let a = terminal(&s, &admin, "entrance", None, TERMINAL);
    let b = terminal(&s, &admin, "lobby", None, TERMINAL);
    let lease = |wants: Vec<(&str, &str)>| {
        let wants: Vec<Value> = wants
            .into_iter()
            .map(|(d, p)| json!({"day": d, "prefix": p}))
            .collect();
        as_terminal(
            &s,
            &b,
            "POST",
            "/device/v1/queue/leases",
            &json!({ "wants": wants }),
        )
    };
    let day = today();
    let (st, r) = lease(vec![(day.as_str(), "E"); 64]);
    assert_eq!(st, 400, "{r}");
    let (st, r) = lease(vec![(day.as_str(), "E"), (day.as_str(), "E")]);
    assert_eq!(st, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("重复"), "{r}");
    for other in ["9999-12-31", "1900-01-01"] {
        let (st, r) = lease(vec![(other, "E")]);
        assert_eq!(st, 400, "{other}: {r}");
        assert!(r["error"].as_str().unwrap().contains("只能租今天"), "{r}");
    }
    // One at a time: no more than the cap (3 blocks, the one it took at start included).
    let mut granted = 0;
    for _ in 0..6 {
        let (st, r) = lease(vec![(day.as_str(), "E")]);
        assert_eq!(st, 200, "{r}");
        granted += r.as_array().unwrap().len();
    }
    let held: i64 = s.sql_value(
        "SELECT COUNT(*) FROM number_leases WHERE prefix = 'E' AND device LIKE 'hall-futian-lobby-%'",
    );
    assert_eq!(held, 3, "granted {granted} more");

    // Terminal A's online ticket, then B reports an offline ticket that "replaces" A's request.
    let victim = as_terminal(
        &s,
        &a,
        "POST",
        "/device/v1/queue/tickets",
        &json!({"request_id": "a-request-1", "prefix": "E", "priority": "normal"}),
    );
    assert_eq!(victim.0, 201, "{}", victim.1);
    let number = victim.1["number"].as_str().unwrap().to_owned();
    // A number from B's own lease, so the event itself is one B may send.
    let seq: u32 = s.sql_value(
        "SELECT first FROM number_leases WHERE prefix = 'E' AND device LIKE 'hall-futian-lobby-%' ORDER BY first LIMIT 1",
    );
    let event = json!({"events": [{"key": "evil-1", "kind": "ticket_issued", "created_at": "2026-11-29T00:00:00Z",
        "body": {"hall": "hall-futian", "day": day, "prefix": "E", "seq": seq, "number": format!("E{seq:03}"),
                 "business": "公积金", "priority": "normal", "issued_at": format!("{day} 09:00:00.000"),
                 "offline": true, "replaces": "a-request-1"}}]});
    let (st, r) = as_terminal(&s, &b, "POST", "/device/v1/events", &event);
    assert_eq!(st, 200, "{r}");
    let (st, t) = api(
        &s,
        &staff,
        "GET",
        &format!("/api/v1/queue/hall-futian/tickets/{number}"),
        "",
        b"",
    );
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["state"], "waiting", "A's ticket was not cancelled: {t}");
}

/// Finding 6: booking needs the code texted to the phone; an attacker naming someone's number
/// locks no one out and learns nothing.
#[test]
fn booking_abuse_locks_out_no_one_and_reveals_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let (date, start) = menpai_tests::regional::first_slot(&s, "P43");
    let request = |phone: &str| json!({"hall": "hall-futian", "item": "P43", "date": date, "start": start, "name": "张小明", "phone": phone});
    // The victim books (code and all) from their own address.
    let booked = menpai_tests::regional::book(&s, &request("13812345678"));
    assert!(booked["token"].as_str().unwrap().starts_with("MPY1."));

    // The attacker, from another address, names the victim's number: the same answer as for a
    // number that never booked; five wrong codes only spend the attacker's held booking.
    let from = |addr: u8, path: &str, body: &Value| {
        let (st, r) = https_from(
            &s.ca_pem(),
            ip(addr),
            s.public,
            "POST",
            path,
            &JSON,
            body.to_string().as_bytes(),
        );
        (
            st,
            serde_json::from_str::<Value>(&r).unwrap_or(Value::String(r)),
        )
    };
    let (st_booked, booked_phone) = from(2, "/api/v1/appointments", &request("13812345678"));
    let (st_fresh, fresh_phone) = from(2, "/api/v1/appointments", &request("13912345678"));
    assert_eq!(
        (st_booked, st_fresh),
        (202, 202),
        "{booked_phone} {fresh_phone}"
    );
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&booked_phone), keys(&fresh_phone));
    assert_eq!(booked_phone["sent_to"], "138****5678");
    let pending = booked_phone["pending"].as_str().unwrap();
    let confirm = format!("/api/v1/appointments/{pending}/confirm");
    for n in 0..5 {
        let (st, r) = from(2, &confirm, &json!({"code": format!("99999{n}")}));
        assert!(st == 403 || st == 410, "{st} {r}");
    }
    let (st, r) = from(2, &confirm, &json!({"code": "000000"}));
    assert_eq!(st, 410, "spent after five tries: {r}");
    // More requests naming the number: the attacker's address runs out, not the phone.
    let mut refused = 0;
    for n in 0..25 {
        let (st, _) = from(
            2,
            "/api/v1/appointments",
            &request(&format!("1370000{n:04}")),
        );
        refused += usize::from(st == 429);
    }
    assert!(refused > 0, "the attacker's address is limited");

    // The victim, from their own address, is not locked out: a code comes at once, and once
    // the phone is proved the answer is the honest one (one booking per item and day).
    let (st, r) = menpai_tests::regional::try_book(&s, &request("13812345678"));
    assert_eq!(st, 409, "{r}");
}

/// Findings 7 and 8: login floods are throttled, audited in a few short entries, refused when
/// another site posts them, and never hold up an admin who has not failed.
#[test]
fn login_floods_are_throttled_audited_briefly_and_do_not_slow_the_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    // A login from one of the test's addresses, timed from its request to its answer.
    let exchange = |addr: u8, name: &str, password: &str| {
        https_exchange_from(
            &s.ca_pem(),
            ip(addr),
            s.public,
            "POST",
            "/api/v1/login",
            &JSON,
            json!({"name": name, "password": password})
                .to_string()
                .as_bytes(),
        )
    };
    let login_from = |addr: u8, name: &str, password: &str| exchange(addr, name, password).status;
    // 200 wrong passwords for one account from one address.
    let started = Instant::now();
    let statuses: Vec<u16> = (0..200)
        .map(|n| login_from(2, STAFF.0, &format!("guess-{n}")))
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    println!(
        "200 wrong passwords: {checked} checked, {refused} refused unhashed, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(checked, 10, "{statuses:?}");
    assert_eq!(refused, 190);
    // The address that guessed is refused even with the right password; the account's owner,
    // from elsewhere, is not locked out (checked in the slow lane).
    assert_eq!(login_from(2, STAFF.0, STAFF.1), 429);
    assert_eq!(login_from(3, STAFF.0, STAFF.1), 200);
    // A burst from a fresh address cannot slip past the count before its failures are known.
    let burst: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|n| scope.spawn(move || login_from(5, "nobody", &format!("burst-{n}"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let hashed = burst.iter().filter(|s| **s == 401).count();
    assert!(
        hashed <= 10,
        "{hashed} of a burst of 30 were checked: {burst:?}"
    );

    // Names of 250,000 characters: cut in the audit log, the database barely grows.
    let size = || menpai_tests::server_db::size(&s.dir);
    let before = size();
    let huge = "x".repeat(250_000);
    for _ in 0..20 {
        let st = login_from(4, &huge, "whatever-1");
        assert!(st == 401 || st == 429, "{st}");
    }
    let grew = size().saturating_sub(before);
    println!("20 logins with 250,000-character names grew the database by {grew} bytes");
    assert!(grew < 256 * 1024, "{grew}");

    // 16 bogus logins keep running from 16 addresses; the admin is not queued behind them. Time
    // on a loaded machine says little, so count instead: the passwords the flood had checked
    // (401) from the admin's request (its handshake done) to its answer. Queued behind the flood,
    // the admin would wait for every bogus login in flight (16); in its own lane, it waits for
    // none, while the flood's lane checks one password at a time beside it.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answered = std::sync::Mutex::new(Vec::<(Instant, u16)>::new());
    let admin = std::thread::scope(|scope| {
        for a in 0..16u8 {
            let (stop, answered, exchange) = (&stop, &answered, &exchange);
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let e = exchange(10 + a, &format!("nobody-{a}-{n}"), "not-a-password");
                    answered.lock().unwrap().push((e.answered, e.status));
                    n += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        let admin = exchange(1, ADMIN.0, ADMIN.1);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        admin
    });
    assert_eq!(admin.status, 200);
    let answered = answered.into_inner().unwrap();
    let checked_meanwhile = answered
        .iter()
        .filter(|(at, st)| *st == 401 && *at > admin.sent && *at < admin.answered)
        .count();
    println!(
        "admin login during the flood: {} ms from its request, while the flood had {checked_meanwhile} of {} \
         bogus logins checked",
        (admin.answered - admin.sent).as_millis(),
        answered.len()
    );
    assert!(
        checked_meanwhile <= 4,
        "the admin waited behind {checked_meanwhile} bogus logins"
    );

    // The audit holds a few bounded entries for all of it.
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let (_, audit) = api(&s, &admin, "GET", "/api/v1/admin/audit", "", b"");
    let entries = audit["audit"].as_array().unwrap();
    let staff_entries = entries.iter().filter(|e| e["operator"] == STAFF.0).count();
    assert!(
        staff_entries <= 14,
        "{staff_entries} entries for 200 attempts"
    );
    assert!(entries.iter().any(|e| e["action"] == "login.locked"));
    for e in entries {
        for f in ["operator", "action", "detail", "outcome"] {
            assert!(e[f].as_str().unwrap().chars().count() <= 201, "{e}");
        }
    }

    // Another site's page cannot log a browser in (login CSRF).
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/login",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "https://evil.example"),
        ],
        format!("name={}&password={}", ADMIN.0, ADMIN.1).as_bytes(),
    );
    assert_eq!(st, 403);
}

/// The appointment's check-in code, signed with the server's key.
fn appointment_token(s: &RunningServer, id: &str) -> String {
    use base64::Engine;
    let seed = std::fs::read_to_string(s.dir.join("data/appointment-signing.key")).unwrap();
    let bytes: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(seed.trim())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&bytes);
    menpai_model::appointment::sign(
        &menpai_model::appointment::AppointmentClaims {
            id: id.into(),
            hall: "hall-futian".into(),
            item: "P43".into(),
            item_name: "住房公积金购房提取".into(),
            prefix: "E".into(),
            date: today(),
            start: "12:00".into(),
            end: "12:30".into(),
            holder: "张*明".into(),
        },
        &key,
    )
}

/// Finding 9: one appointment checked in offline at two terminals: both printed tickets stay
/// in the queue, are called in order, and staff see the conflict.
#[test]
fn an_appointment_checked_in_offline_twice_keeps_both_tickets_and_flags_them() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let (pa, pb) = (Proxy::start(s.devices), Proxy::start(s.devices));
    let a = terminal(&s, &admin, "entrance", Some(pa.addr), TERMINAL);
    let b = terminal(&s, &admin, "lobby", Some(pb.addr), TERMINAL);
    pa.sever(true);
    pb.sever(true);
    let token = appointment_token(&s, "ap-0123456789ab");
    // A minute apart: the order they were taken in is the order they are called in, whichever
    // terminal reconnects first.
    let check_in = |t: &RunningAgent, minute: &str| {
        let at = format!("{}T12:{minute}", today());
        let (st, r) = http(
            t.addr,
            "POST",
            &format!("/api/v1/appointments/check-in?at={at}"),
            &JSON,
            json!({ "token": token }).to_string().as_bytes(),
        );
        assert_eq!(st, 200, "{r}");
        let v: Value = serde_json::from_str(&r).unwrap();
        assert_eq!(v["ticket"]["offline"], true, "{v}");
        assert_eq!(v["ticket"]["printed"], true, "{v}");
        v["ticket"]["number"].as_str().unwrap().to_owned()
    };
    let first = check_in(&a, "00");
    let second = check_in(&b, "01");
    assert_ne!(first, second);
    pa.sever(false);
    pb.sever(false);

    // Reconciled: both wait at the E window, flagged, the first taken first.
    let (_, view) = api(&s, &staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    let w = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .and_then(|b| b["windows"][0].as_u64())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiting = loop {
        let (_, v) = api(
            &s,
            &staff,
            "GET",
            &format!("/api/v1/queue/hall-futian/windows/{w}"),
            "",
            b"",
        );
        let numbers: Vec<String> = v["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_str().unwrap().to_owned())
            .collect();
        if numbers.contains(&first) && numbers.contains(&second) {
            break v["waiting"].as_array().unwrap().clone();
        }
        assert!(Instant::now() < deadline, "never reconciled: {v}");
        std::thread::sleep(Duration::from_millis(300));
    };
    for t in &waiting {
        assert!(
            t["conflict"].as_str().unwrap().contains("同一预约重复签到"),
            "{t}"
        );
    }
    let page = https(
        &s.ca_pem(),
        s.public,
        "GET",
        &format!("/staff?hall=hall-futian&window={w}"),
        &[("cookie", &format!("menpai_session={staff}"))],
        b"",
    )
    .1;
    assert!(page.contains("⚠ 同一预约重复签到"), "{page}");
    let mut called = Vec::new();
    for _ in 0..2 {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{w}"),
            "application/json",
            b"{\"action\":\"call_next\"}",
        );
        assert_eq!(st, 200, "{r}");
        called.push(r["ticket"]["number"].as_str().unwrap().to_owned());
    }
    assert_eq!(called, [first, second], "both called, in the order taken");
}

/// Finding 10: revoking a terminal ends its open live stream at once.
#[test]
fn revoking_a_terminal_closes_its_live_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let t = terminal(&s, &admin, "entrance", None, TERMINAL);
    let id = t.dir.path().join("data/identity");
    let read = |f: &str| std::fs::read_to_string(id.join(f)).unwrap();
    let device: Value = serde_json::from_str(&read("enrollment.json")).unwrap();
    let device_id = device["device_id"].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = menpai_agent::sync::client::Client::new(
        &format!("https://{}", s.devices),
        &read("ca.pem"),
        Some((&read("device.pem"), &read("device.key.pem"))),
    )
    .unwrap();
    let (status, mut body) = rt
        .block_on(client.open_stream("/device/v1/stream"))
        .unwrap();
    assert_eq!(status, 200);
    // The first lines arrive; then the admin revokes; the stream ends well before its next ping.
    use http_body_util::BodyExt;
    let mut opening = String::new();
    while !opening.contains("\"type\":\"queue\"") {
        let f = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), body.frame()).await })
            .expect("the stream's opening lines")
            .unwrap()
            .unwrap();
        if let Some(d) = f.data_ref() {
            opening.push_str(&String::from_utf8_lossy(d));
        }
    }
    let (st, r) = api(
        &s,
        &admin,
        "POST",
        &format!("/api/v1/admin/devices/{device_id}/revoke"),
        "",
        b"",
    );
    assert_eq!(st, 200, "{r}");
    let t0 = Instant::now();
    // A change of the hall's queue right after: it must not reach the revoked terminal.
    let staff = login(&s, STAFF.0, STAFF.1);
    api(
        &s,
        &staff,
        "POST",
        "/api/v1/queue/hall-futian/windows/17",
        "application/json",
        b"{\"action\":\"call_next\"}",
    );
    rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        let line = String::from_utf8_lossy(d);
                        assert!(
                            !line.contains("\"queue\""),
                            "a call after revocation: {line}"
                        );
                    }
                }
                Ok(None) | Ok(Some(Err(_))) => break,
                Err(_) => panic!("the stream stayed open after revocation"),
            }
        }
    });
    println!(
        "stream closed {} ms after revocation",
        t0.elapsed().as_millis()
    );
    // And it cannot come back.
    let (st, _) = rt
        .block_on(client.open_stream("/device/v1/stream"))
        .unwrap();
    assert_eq!(st, 403);
}

/// Finding 11: a password change and disabling an operator end their sessions.
#[test]
fn password_change_and_disabling_end_every_session() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff_a = login(&s, STAFF.0, STAFF.1);
    let staff_b = login(&s, STAFF.0, STAFF.1);
    let can = |token: &str| api(&s, token, "GET", "/api/v1/queue/hall-futian", "", b"").0;
    assert_eq!((can(&staff_a), can(&staff_b)), (200, 200));
    let (st, r) = api(
        &s,
        &staff_a,
        "POST",
        "/api/v1/account/password",
        "application/json",
        json!({"current": STAFF.1, "new": "a-new-password-2"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (can(&staff_a), can(&staff_b)),
        (401, 401),
        "both sessions ended"
    );
    let fresh = login(&s, STAFF.0, "a-new-password-2");
    assert_eq!(can(&fresh), 200);
    let (st, r) = api(
        &s,
        &admin,
        "POST",
        &format!("/api/v1/admin/operators/{}/disable", STAFF.0),
        "",
        b"",
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(can(&fresh), 401);
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/login",
        &JSON,
        json!({"name": STAFF.0, "password": "a-new-password-2"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(st, 401, "a disabled operator cannot log in");
    let (_, audit) = api(&s, &admin, "GET", "/api/v1/admin/audit", "", b"");
    let actions: Vec<&str> = audit["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"operator.password") && actions.contains(&"operator.disable"));
}

/// Finding 12: window staff act only in their halls; a terminal hands out tickets at its pace;
/// `/metrics` needs its token.
#[test]
fn staff_act_only_in_their_halls_tickets_are_paced_and_metrics_need_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let staff = login(&s, STAFF.0, STAFF.1);
    let (st, _) = api(&s, &staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    assert_eq!(st, 200);
    for hall in ["hall-civic", "hall-lianhua"] {
        let (st, r) = api(&s, &staff, "GET", &format!("/api/v1/queue/{hall}"), "", b"");
        assert_eq!(st, 403, "{hall}: {r}");
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/{hall}/windows/1"),
            "application/json",
            b"{\"action\":\"call_next\"}",
        );
        assert_eq!(st, 403, "{hall}: {r}");
        let (st, _) = api(
            &s,
            &staff,
            "GET",
            &format!("/api/v1/admin/ratings?hall={hall}"),
            "",
            b"",
        );
        assert_eq!(st, 403);
    }
    let (st, _) = https(&s.ca_pem(), s.public, "GET", "/metrics", &[], b"");
    assert_eq!(st, 403, "off without a configured token");

    let agent = start_agent(
        &demo_region(),
        "[queue]\nallow_outside_hours = true\ntickets_burst = 5\ntickets_per_minute = 6\n",
    );
    let statuses: Vec<u16> = (0..20).map(|_| take(&agent, "A").0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15);
    let (_, r) = take(&agent, "A");
    assert!(r["error"].as_str().unwrap().contains("秒后再试"), "{r}");
}

/// `/metrics` with its token configured: the token opens it, nothing else does.
#[test]
fn metrics_answer_only_their_token() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(
        tmp.path(),
        "metrics_token = \"scrape-token-1\"\n",
        &demo_region(),
    );
    let get = |auth: &str| {
        https(
            &s.ca_pem(),
            s.public,
            "GET",
            "/metrics",
            &[("authorization", auth)],
            b"",
        )
    };
    assert_eq!(get("Bearer wrong").0, 401);
    assert_eq!(get("").0, 401);
    let (st, body) = get("Bearer scrape-token-1");
    assert_eq!(st, 200);
    assert!(body.contains("menpai_"), "{body}");
}
