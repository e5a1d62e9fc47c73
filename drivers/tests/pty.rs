//! Drivers against simulated devices on pseudo-terminals: the real serial code paths, the twin on
//! the other end.

use std::io::Write;
use std::time::Duration;

use menpai_drivers::ErrorKind;
use menpai_drivers::escpos::{Element, PrinterStatus, Ticket, decode};
use menpai_drivers::led::{LedMessage, LedTwin, MenpaiFraming, QueueDisplay, SerialLedBar};
use menpai_drivers::printer::{Printer, PrinterTwin, SerialPrinter};
use menpai_drivers::scanner::{FramingConfig, Scanner, SerialScanner, Suffix};
use menpai_drivers::serial::PtyPair;

fn scanner_on(pair: &PtyPair) -> SerialScanner {
    let framing = FramingConfig {
        suffix: Suffix::Cr,
        inter_byte_timeout: Duration::from_millis(80),
        max_len: 512,
    };
    SerialScanner::open(&pair.device_path.display().to_string(), 9600, framing).unwrap()
}

#[test]
fn a_scan_typed_into_the_pty_is_read_back() {
    let mut pair = PtyPair::new().unwrap();
    let mut scanner = scanner_on(&pair);
    pair.twin.write_all(b"MP1:appointment:abc123\r").unwrap();
    let scan = scanner
        .next_scan(Duration::from_secs(5))
        .unwrap()
        .expect("a scan");
    assert_eq!(scan.payload, "MP1:appointment:abc123");
}

#[test]
fn unplugging_mid_line_delivers_no_garbage_and_a_new_port_works() {
    let mut pair = PtyPair::new().unwrap();
    let mut scanner = scanner_on(&pair);
    pair.twin.write_all(b"HALF-A-SC").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    drop(pair);
    let mut result = Ok(None);
    for _ in 0..50 {
        result = scanner.next_scan(Duration::from_millis(100));
        if result.is_err() {
            break;
        }
        assert!(
            result.as_ref().unwrap().is_none(),
            "a half scan was delivered: {result:?}"
        );
    }
    assert_eq!(result.unwrap_err().kind, ErrorKind::Disconnected);
    // Replugged: a new device, a new driver, scans flow again.
    let mut pair = PtyPair::new().unwrap();
    let mut scanner = scanner_on(&pair);
    pair.twin.write_all(b"AFTER\r").unwrap();
    assert_eq!(
        scanner
            .next_scan(Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .payload,
        "AFTER"
    );
}

#[test]
fn a_ten_megabyte_line_noise_and_a_stall_are_dropped_and_scanning_goes_on() {
    let mut pair = PtyPair::new().unwrap();
    let mut scanner = scanner_on(&pair);
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'7'; 64 * 1024];
        for _ in 0..160 {
            pair.twin.write_all(&chunk).unwrap();
        }
        pair.twin.write_all(b"\r").unwrap();
        pair.twin
            .write_all(&[0x00, 0xFF, 0xFE, 0x07, 0x1B, b'\r'])
            .unwrap();
        pair.twin.write_all(b"STALL").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        pair.twin.write_all(b"GOOD\r").unwrap();
        std::thread::sleep(Duration::from_millis(500));
        pair
    });
    let scan = scanner
        .next_scan(Duration::from_secs(30))
        .unwrap()
        .expect("the good scan after the junk");
    assert_eq!(scan.payload, "GOOD");
    assert_eq!(
        scanner.dropped, 3,
        "flood, noise and stall each dropped once"
    );
    assert!(scanner.buffered_capacity() <= 4096, "memory stayed bounded");
    writer.join().unwrap();
}

#[test]
fn a_printed_ticket_reaches_the_twin_as_gb18030_text_a_qr_and_a_cut() {
    let twin = PrinterTwin::start(PrinterStatus {
        online: true,
        ..Default::default()
    })
    .unwrap();
    let mut printer = SerialPrinter::open(&twin.device_path_str(), 19200).unwrap();
    assert!(printer.status().unwrap().ready());
    let ticket = Ticket {
        hall: "福田区政务服务中心".into(),
        number: "E017".into(),
        business: "公积金".into(),
        people_ahead: 3,
        estimated_wait_min: Some(9),
        priority: Some("预约优先".into()),
        follow_url: "https://plate.example/t/E017x".into(),
        issued_at: "2026-11-23 10:05".into(),
    };
    printer.print(ticket.job(32).bytes()).unwrap();
    let mut bytes = Vec::new();
    for _ in 0..100 {
        bytes = twin.received();
        if bytes.ends_with(&[0x1D, b'V', 66, 0]) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // GB18030 on the wire, not UTF-8.
    let (gb, _, _) = encoding_rs::GB18030.encode("公积金");
    assert!(bytes.windows(gb.len()).any(|w| w == &*gb));
    let elements = decode(&bytes);
    let lines: Vec<&str> = elements
        .iter()
        .filter_map(|e| {
            if let Element::Line { text, .. } = e {
                Some(text.as_str())
            } else {
                None
            }
        })
        .collect();
    for expected in [
        "福田区政务服务中心",
        "E017",
        "公积金",
        "【预约优先】",
        "前面还有 3 人",
        "预计等候约 9 分钟",
    ] {
        assert!(
            lines.contains(&expected),
            "{expected} missing from {lines:?}"
        );
    }
    assert!(elements.contains(&Element::Qr("https://plate.example/t/E017x".into())));
    assert_eq!(elements.last(), Some(&Element::Cut));

    twin.set_status(PrinterStatus {
        online: false,
        paper_out: true,
        ..Default::default()
    });
    let status = printer.status().unwrap();
    assert!(status.paper_out && !status.ready());
}

#[test]
fn the_led_bar_receives_framed_chinese_calls() {
    let mut twin = LedTwin::start().unwrap();
    let mut bar =
        SerialLedBar::open(&twin.device_path(), 9600, 2, Box::new(MenpaiFraming)).unwrap();
    bar.show(&LedMessage::Blink("请E017号到18号窗口".into()))
        .unwrap();
    bar.show(&LedMessage::Clear).unwrap();
    let mut frames = Vec::new();
    for _ in 0..50 {
        frames = twin.frames().unwrap();
        if frames.len() == 2 {
            break;
        }
    }
    assert_eq!(
        frames,
        vec![
            (2, LedMessage::Blink("请E017号到18号窗口".into())),
            (2, LedMessage::Clear)
        ]
    );
}

#[test]
fn the_presence_query_gets_the_scanners_answer_and_silence_is_a_timeout() {
    let mut pair = PtyPair::new().unwrap();
    let mut scanner = scanner_on(&pair);
    let twin = std::thread::spawn(move || {
        let mut q = [0u8; 3];
        std::io::Read::read_exact(&mut pair.twin, &mut q).unwrap();
        assert_eq!(&q, b"\x16M\r");
        pair.twin.write_all(b"REVINF 1.2\r").unwrap();
        pair
    });
    let reply = scanner.probe(b"\x16M\r", Duration::from_secs(2)).unwrap();
    assert_eq!(reply, b"REVINF 1.2\r");
    let _pair = twin.join().unwrap();
    let silent = PtyPair::new().unwrap();
    let err = scanner_on(&silent)
        .probe(b"\x16M\r", Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
}
