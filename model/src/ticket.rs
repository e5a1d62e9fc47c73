//! A ticket's secret: what its printed QR link carries so that only the citizen holding the
//! slip can rate the service. Made from the issuing terminal's ticket key (the regional server
//! derives the same key), so a terminal mints it offline too.

use hmac::{KeyInit, Mac};

/// Hex characters of a secret (64 bits).
pub const SECRET_CHARS: usize = 16;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn mac(key: &[u8], parts: &[&str]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\0");
    }
    m.finalize().into_bytes().into()
}

/// A terminal's ticket key, derived from the region's ticket master key and the device id.
pub fn device_key(master: &[u8; 32], device_id: &str) -> [u8; 32] {
    mac(master, &["menpai ticket key", device_id])
}

/// The secret of ticket `number` of `day` (`YYYYMMDD` or `YYYY-MM-DD`) in `hall`.
pub fn secret(device_key: &[u8; 32], hall: &str, day: &str, number: &str) -> String {
    let day: String = day.chars().filter(char::is_ascii_digit).collect();
    let m = mac(device_key, &[hall, &day, number]);
    m[..SECRET_CHARS / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is the ticket's secret, compared in constant time.
pub fn matches(device_key: &[u8; 32], hall: &str, day: &str, number: &str, given: &str) -> bool {
    crate::secret::same(
        given.as_bytes(),
        secret(device_key, hall, day, number).as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_by_ticket_and_terminal_and_check_only_themselves() {
        let master = [7u8; 32];
        let (a, b) = (device_key(&master, "t-a"), device_key(&master, "t-b"));
        let s = secret(&a, "hall-futian", "2026-11-29", "E001");
        assert_eq!(s.len(), SECRET_CHARS);
        assert_eq!(
            s,
            secret(&a, "hall-futian", "20261129", "E001"),
            "either day form"
        );
        assert!(matches(&a, "hall-futian", "20261129", "E001", &s));
        assert!(!matches(&a, "hall-futian", "20261129", "E002", &s));
        assert!(!matches(&b, "hall-futian", "20261129", "E001", &s));
        assert!(!matches(&a, "hall-futian", "20261129", "E001", ""));
    }
}
