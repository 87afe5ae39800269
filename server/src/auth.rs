//! Secrets: merchant API keys and device tokens.
//!
//! A secret is 32 bytes from the operating system's CSPRNG (through `ring`), base64url without
//! padding, behind a prefix that says what it is (`wmk_` merchant key, `wdt_` device token) so
//! a leaked one is recognisable in logs and scanners. The server stores only its SHA-256: a
//! database dump does not let anyone authenticate, and a lookup by hash needs no constant-time
//! comparison of the secret itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// The prefix of merchant API keys.
pub const MERCHANT_KEY_PREFIX: &str = "wmk_";
/// The prefix of device tokens.
pub const DEVICE_TOKEN_PREFIX: &str = "wdt_";
/// Characters of a key kept in clear to tell keys apart (`wmk_` + 6).
pub const KEY_PREFIX_LEN: usize = 10;

/// A new secret: `prefix` + base64url(32 random bytes).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's CSPRNG failed");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a secret's text.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of arbitrary bytes (intent payload hashes).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// The part of a key shown by `merchant list`.
pub fn key_prefix(secret: &str) -> String {
    secret.chars().take(KEY_PREFIX_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let a = new_secret(MERCHANT_KEY_PREFIX);
        let b = new_secret(MERCHANT_KEY_PREFIX);
        assert!(a.starts_with("wmk_"));
        assert_eq!(a.len(), 4 + 43);
        assert_ne!(a, b);
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert_eq!(hash_secret(&a), hash_secret(&a.clone()));
        assert_eq!(key_prefix(&a).len(), KEY_PREFIX_LEN);
    }
}
