//! Sealing citizens' names and phone numbers at rest, and the keyed phone hash.

use std::path::Path;

use ring::aead::{CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

/// Seals names and phone numbers (ChaCha20-Poly1305, a random nonce per value) and keys the
/// phone hash that limits bookings. The key lives in the data directory (mode 0600).
pub struct Sealer {
    key: LessSafeKey,
    mac: ring::hmac::Key,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn load_or_create(path: &Path) -> anyhow::Result<Sealer> {
        Ok(Sealer::from_key(&crate::secret_key(path)?))
    }

    pub fn from_key(bytes: &[u8; 32]) -> Sealer {
        let key =
            LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("32-byte key"));
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes);
        Sealer { key, mac }
    }

    /// nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the OS gives random bytes");
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::empty(),
                &mut buf,
            )
            .expect("sealing cannot fail for small values");
        [nonce.to_vec(), buf].concat()
    }

    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        let (nonce, rest) = sealed.split_at_checked(12)?;
        let mut buf = rest.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::try_assume_unique_for_key(nonce).ok()?,
                ring::aead::Aad::empty(),
                &mut buf,
            )
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    pub fn phone_hash(&self, phone: &str) -> String {
        hex::encode(ring::hmac::sign(&self.mac, phone.as_bytes()).as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_sealed_and_opens_only_with_the_key() {
        let s = Sealer::from_key(&[7; 32]);
        let sealed = s.seal("13812345678");
        assert!(
            !sealed.windows(11).any(|w| w == b"13812345678"),
            "no plain text at rest"
        );
        assert_eq!(s.open(&sealed).as_deref(), Some("13812345678"));
        assert_ne!(s.seal("13812345678"), sealed, "a fresh nonce each time");
        assert_eq!(Sealer::from_key(&[8; 32]).open(&sealed), None);
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert_eq!(s.open(&tampered), None);
        assert_eq!(s.phone_hash("13812345678").len(), 64);
    }
}
