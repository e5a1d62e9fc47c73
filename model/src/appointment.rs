//! The appointment QR code: signed claims the terminal checks offline.
//!
//! A token is `MPY1.<payload>.<signature>`: the payload is the claims as JSON, the signature
//! an Ed25519 signature of `MPY1.<payload>`, both base64url without padding. Only the masked
//! name travels in it; the phone number and full name stay on the regional server.

use serde::{Deserialize, Serialize};

/// What starts every appointment token.
pub const TOKEN_PREFIX: &str = "MPY1.";

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 1024;

/// What an appointment token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentClaims {
    /// Appointment id on the regional server.
    pub id: String,
    /// Outlet id of the hall it is booked in.
    pub hall: String,
    pub item: String,
    pub item_name: String,
    /// Business type prefix the priority ticket is issued under.
    pub prefix: String,
    /// Local date `YYYY-MM-DD` and slot `HH:MM`-`HH:MM`.
    pub date: String,
    pub start: String,
    pub end: String,
    /// Already masked, e.g. 张*明.
    pub holder: String,
}

impl AppointmentClaims {
    /// The slot in plain words, e.g. `11月23日 10:00-10:30`.
    pub fn slot_label(&self) -> String {
        let date = chrono::NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .map(|d| d.format("%m月%d日").to_string())
            .unwrap_or_else(|_| self.date.clone());
        format!("{date} {}-{}", self.start, self.end)
    }
}

/// Why a token is not a good appointment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("这不是预约二维码")]
    NotAToken,
    #[error("预约码无法识别，请重新扫码")]
    Malformed,
    #[error("预约码无效，请用“i深圳”等官方渠道生成的预约码")]
    BadSignature,
}

/// Finds the token in a scan: the bare token, or a link whose last part is the token.
pub fn token_in_scan(payload: &str) -> Option<&str> {
    let payload = payload.trim();
    if payload.len() > MAX_TOKEN_LEN {
        return None;
    }
    let last = payload.rsplit(['/', '=']).next().unwrap_or(payload);
    last.starts_with(TOKEN_PREFIX).then_some(last)
}

#[cfg(feature = "signing")]
mod signing {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

    use super::*;

    /// Signs claims into a token.
    pub fn sign(claims: &AppointmentClaims, key: &SigningKey) -> String {
        let payload = B64.encode(serde_json::to_vec(claims).expect("claims serialise"));
        let signed = format!("{TOKEN_PREFIX}{payload}");
        let sig = key.sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(sig.to_bytes()))
    }

    /// Checks the signature and reads the claims; time, hall and reuse are the caller's checks.
    pub fn verify(token: &str, key: &VerifyingKey) -> Result<AppointmentClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenError::NotAToken)?;
        let (payload, sig) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let sig: [u8; 64] = B64
            .decode(sig)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(TokenError::Malformed)?;
        let signed = &token[..TOKEN_PREFIX.len() + payload.len()];
        key.verify(signed.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| TokenError::BadSignature)?;
        let json = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
    }

    /// A verifying key from its base64 (standard or url-safe) form.
    pub fn verifying_key(b64: &str) -> Option<VerifyingKey> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .or_else(|_| B64.decode(b64.trim()))
            .ok()?;
        VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
    }

    /// A key's public half in standard base64, as configs carry it.
    pub fn public_b64(key: &SigningKey) -> String {
        base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes())
    }

    /// A fresh signing key from the OS's randomness.
    pub fn generate() -> SigningKey {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS has randomness");
        SigningKey::from_bytes(&seed)
    }
}

#[cfg(feature = "signing")]
pub use signing::{generate, public_b64, sign, verify, verifying_key};

#[cfg(all(test, feature = "signing"))]
mod tests {
    use super::*;

    fn claims() -> AppointmentClaims {
        AppointmentClaims {
            id: "ap-1".into(),
            hall: "hall-futian".into(),
            item: "gjj-tq".into(),
            item_name: "住房公积金提取".into(),
            prefix: "E".into(),
            date: "2026-11-23".into(),
            start: "10:00".into(),
            end: "10:30".into(),
            holder: "张*明".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let key = generate();
        let token = sign(&claims(), &key);
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(verify(&token, &key.verifying_key()).unwrap(), claims());
        assert_eq!(claims().slot_label(), "11月23日 10:00-10:30");

        // Another key, a flipped payload byte, garbage.
        let other = generate();
        assert_eq!(
            verify(&token, &other.verifying_key()),
            Err(TokenError::BadSignature)
        );
        let mut forged = claims();
        forged.hall = "hall-civic".into();
        let forged_payload = sign(&forged, &other);
        let (_, their_sig) = forged_payload.rsplit_once('.').unwrap();
        let (ours, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            verify(&format!("{ours}x.{their_sig}"), &key.verifying_key()),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify("MPY1.abc", &key.verifying_key()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify("hello", &key.verifying_key()),
            Err(TokenError::NotAToken)
        );
        let pk = verifying_key(&public_b64(&key)).unwrap();
        assert_eq!(pk, key.verifying_key());
    }

    #[test]
    fn tokens_are_found_in_links_and_bare() {
        assert_eq!(token_in_scan("MPY1.a.b"), Some("MPY1.a.b"));
        assert_eq!(
            token_in_scan("https://m.example.cn/a/MPY1.a.b\r"),
            Some("MPY1.a.b")
        );
        assert_eq!(token_in_scan("https://m.example.cn/i/gjj"), None);
    }
}
