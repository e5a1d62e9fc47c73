//! Property tests of the drivers' parsers of outside bytes: the scanner's line framing and
//! the ESC/POS decoder. Whatever arrives, in whatever chunks, nothing panics and memory stays
//! within the configured bound.

use std::time::{Duration, Instant};

use menpai_drivers::escpos::{Element, decode, preview};
use menpai_drivers::scanner::{FrameEvent, FramingConfig, LineFramer, Suffix};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn framing_any_bytes_in_any_chunks_gives_bounded_text_scans(
        chunks in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..600), 0u64..300), 0..12),
        crlf in any::<bool>(),
    ) {
        let config = FramingConfig {
            suffix: if crlf { Suffix::CrLf } else { Suffix::Cr },
            inter_byte_timeout: Duration::from_millis(100),
            max_len: 256,
        };
        let mut framer = LineFramer::new(config);
        let mut now = Instant::now();
        let mut events = Vec::new();
        for (bytes, pause_ms) in &chunks {
            now += Duration::from_millis(*pause_ms);
            events.extend(framer.push(bytes, now));
        }
        events.extend(framer.idle(now + Duration::from_secs(1)));
        events.extend(framer.disconnected());
        for e in events {
            if let FrameEvent::Scan(s) = e {
                prop_assert!(s.payload.len() <= 256 * 2, "{}", s.payload.len());
                prop_assert!(!s.payload.trim().is_empty());
                prop_assert!(s.payload.chars().all(|c| !c.is_control() || c == '\t'));
            }
        }
    }

    #[test]
    fn escpos_any_bytes_decode_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let elements = decode(&bytes);
        for e in &elements {
            if let Element::Qr(payload) = e {
                prop_assert!(payload.len() <= bytes.len());
            }
        }
        let _ = preview(&bytes);
    }
}

#[test]
fn a_scan_split_anywhere_is_still_one_scan() {
    let line = "MPY1.abc.def\r";
    for cut in 0..line.len() {
        let mut framer = LineFramer::new(FramingConfig::default());
        let now = Instant::now();
        let mut events = framer.push(&line.as_bytes()[..cut], now);
        events.extend(framer.push(&line.as_bytes()[cut..], now));
        assert!(
            matches!(&events[..], [FrameEvent::Scan(s)] if s.payload == "MPY1.abc.def"),
            "{cut}: {events:?}"
        );
    }
}
