//! Property tests of what parses outside bytes in the model: appointment tokens as scanned
//! (any text, bare or in a link) and as verified. No input panics; every refusal is a clear
//! error; a changed token never verifies.

use menpai_model::appointment::{
    AppointmentClaims, MAX_TOKEN_LEN, TOKEN_PREFIX, generate, sign, token_in_scan, verify,
};
use proptest::prelude::*;

fn claims() -> AppointmentClaims {
    AppointmentClaims {
        id: "ap-0123456789ab".into(),
        hall: "hall-futian".into(),
        item: "P43".into(),
        item_name: "住房公积金购房提取".into(),
        prefix: "E".into(),
        date: "2026-11-30".into(),
        start: "10:00".into(),
        end: "10:30".into(),
        holder: "张*明".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_scan_is_found_or_not_never_a_panic(payload in ".{0,1500}") {
        if let Some(t) = token_in_scan(&payload) {
            prop_assert!(t.starts_with(TOKEN_PREFIX));
            prop_assert!(t.len() <= MAX_TOKEN_LEN);
        }
    }

    #[test]
    fn random_tokens_are_refused_with_a_reason(rest in "[A-Za-z0-9_.=-]{0,1200}") {
        let key = generate().verifying_key();
        let token = format!("{TOKEN_PREFIX}{rest}");
        let e = verify(&token, &key).unwrap_err();
        prop_assert!(!e.to_string().is_empty());
    }

    #[test]
    fn a_changed_token_never_verifies(at in 0usize..400, with in any::<u8>()) {
        let key = generate();
        let token = sign(&claims(), &key);
        let mut bytes = token.clone().into_bytes();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != with);
        bytes[at] = with;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        match verify(&changed, &key.verifying_key()) {
            Ok(c) => prop_assert_eq!(c, claims(), "only an equivalent encoding may pass"),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn the_signed_token_verifies_in_a_link_too() {
    let key = generate();
    let token = sign(&claims(), &key);
    let scanned = format!("https://m.example.cn/a/x?t={token}");
    let found = token_in_scan(&scanned).unwrap();
    assert_eq!(verify(found, &key.verifying_key()).unwrap(), claims());
}
