//! Identity and verification rules, independent of HTTP and storage: SMS OTP codes, session
//! tokens, SIM-binding tokens, Ed25519 signed requests, PINs (PBKDF2) and the knobs of all of
//! them ([`IdentityConfig`]).
//!
//! Why here: the handlers (`http::identity`) stay thin and the store sees only hashes. Every
//! random value comes from `ring`'s `SystemRandom` (the OS CSPRNG); every comparison of a
//! secret-derived value is constant-time (`ring::pbkdf2::verify`, `ring::signature`, or
//! [`ct_eq`] over SHA-256 digests).

use ring::rand::{SecureRandom, SystemRandom};
use std::num::NonZeroU32;
use warung_core::protocol::OTP_DIGITS;
// The shared rules, defined once in the core's wire module.
pub use warung_core::protocol::{PinProblem, check_new_pin, hex, is_ascii_digits};

/// Prefix of access tokens (`Authorization: Bearer wat_…`).
pub const ACCESS_TOKEN_PREFIX: &str = "wat_";
/// Prefix of refresh tokens.
pub const REFRESH_TOKEN_PREFIX: &str = "wrt_";
/// PBKDF2 iterations of a new PIN hash: OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub const DEFAULT_PIN_ITERATIONS: u32 = 600_000;

/// OTP sends per client address group per hour. Generous because mobile carriers put many
/// phones behind one IPv4 address (CGNAT); still stops one host from pumping thousands.
pub const DEFAULT_OTP_PER_ADDRESS_HOUR: u32 = 30;
/// OTP sends per block of numbers per hour (see [`DEFAULT_OTP_PREFIX_DROP_DIGITS`]).
pub const DEFAULT_OTP_PER_PREFIX_HOUR: u32 = 10;
/// Trailing digits dropped to form a number block: blocks of 1,000 consecutive numbers, the
/// size premium-rate ranges are sold in, while real users of one block are few.
pub const DEFAULT_OTP_PREFIX_DROP_DIGITS: u32 = 3;
/// OTP sends per hour over the whole service.
pub const DEFAULT_OTP_GLOBAL_HOUR: u32 = 1000;

/// Lifetimes and limits of the identity flows.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    pub access_ttl_s: i64,
    pub refresh_ttl_s: i64,
    pub otp_ttl_s: i64,
    /// No second code for a phone within this many seconds.
    pub otp_resend_s: i64,
    pub otp_max_attempts: u32,
    pub otp_per_phone_hour: u32,
    pub otp_per_device_hour: u32,
    /// Codes per client address group ([`client_key`]: an IPv4 address, an IPv6 /64) per hour.
    /// The device id is the caller's invention; the address is not.
    pub otp_per_address_hour: u32,
    /// Codes per number block ([`phone_prefix`]) per hour: ranges of (premium) numbers cannot
    /// be pumped one number at a time.
    pub otp_per_prefix_hour: u32,
    /// How many trailing digits [`phone_prefix`] drops: `3` groups numbers in blocks of 1,000.
    pub otp_prefix_drop_digits: u32,
    /// Codes per hour over the whole service: the SMS bill has a ceiling whatever else fails.
    pub otp_global_hour: u32,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a reverse
    /// proxy that sets it; otherwise any caller could pick its own address).
    pub trust_forwarded_for: bool,
    /// How long a verified step-up OTP may be used.
    pub step_up_ttl_s: i64,
    pub binding_ttl_s: i64,
    pub pin_iterations: u32,
    pub pin_max_attempts: u32,
    pub pin_lock_s: i64,
    pub totp_max_failures: u32,
    pub totp_window_s: i64,
    /// Inbound SMS per sender per minute.
    pub inbound_per_minute: u32,
    /// Largest |now − timestamp| of a signed request or an inbound delivery.
    pub max_clock_skew_s: i64,
}

impl Default for IdentityConfig {
    fn default() -> IdentityConfig {
        IdentityConfig {
            access_ttl_s: 15 * 60,
            refresh_ttl_s: 30 * 24 * 3600,
            otp_ttl_s: 5 * 60,
            otp_resend_s: 30,
            otp_max_attempts: 5,
            otp_per_phone_hour: 5,
            otp_per_device_hour: 10,
            otp_per_address_hour: DEFAULT_OTP_PER_ADDRESS_HOUR,
            otp_per_prefix_hour: DEFAULT_OTP_PER_PREFIX_HOUR,
            otp_prefix_drop_digits: DEFAULT_OTP_PREFIX_DROP_DIGITS,
            otp_global_hour: DEFAULT_OTP_GLOBAL_HOUR,
            trust_forwarded_for: false,
            step_up_ttl_s: 5 * 60,
            binding_ttl_s: 10 * 60,
            pin_iterations: DEFAULT_PIN_ITERATIONS,
            pin_max_attempts: 5,
            pin_lock_s: 30 * 60,
            totp_max_failures: 5,
            totp_window_s: 5 * 60,
            inbound_per_minute: 10,
            max_clock_skew_s: warung_core::protocol::MAX_CLOCK_SKEW_SECS,
        }
    }
}

/// Fills `buf` from the OS CSPRNG.
pub fn random_bytes(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's CSPRNG failed");
}

/// A uniformly random index below `n` (rejection sampling: no modulo bias).
fn random_below(n: u8) -> u8 {
    let limit = 256 - (256 % u16::from(n));
    loop {
        let mut b = [0u8; 1];
        random_bytes(&mut b);
        if u16::from(b[0]) < limit {
            return b[0] % n;
        }
    }
}

/// A fresh 6-digit OTP code.
pub fn new_otp_code() -> String {
    (0..OTP_DIGITS)
        .map(|_| char::from(b'0' + random_below(10)))
        .collect()
}

/// What the store keeps of a code: SHA-256(challenge_id ":" code).
pub fn otp_code_hash(challenge_id: &str, code: &str) -> [u8; 32] {
    crate::auth::sha256(format!("{challenge_id}:{code}").as_bytes())
}

/// A fresh binding token from `sms::BIND_TOKEN_ALPHABET`.
pub fn new_bind_token() -> String {
    let alphabet = warung_core::sms::BIND_TOKEN_ALPHABET;
    (0..warung_core::sms::BIND_TOKEN_LEN)
        .map(|_| char::from(alphabet[random_below(alphabet.len() as u8) as usize]))
        .collect()
}

/// Lowercase hex of 64 characters (a SHA-256).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The number block an E.164 number belongs to: the number without its last `drop` digits
/// (`+6281234567890`, 3 → `+6281234567`), keeping at least the `+` and one digit. E.164 is
/// ASCII, so byte slicing is character slicing.
pub fn phone_prefix(e164: &str, drop: u32) -> String {
    let keep = e164
        .len()
        .saturating_sub(drop as usize)
        .max(2.min(e164.len()));
    e164.get(..keep).unwrap_or(e164).to_owned()
}

/// The key the per-address limit counts by: an IPv4 address as is; an IPv6 address by its
/// /64 (one subscriber's allocation: rotating inside it must not reset the limit); an
/// IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn client_key(ip: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

/// The client's address: the TCP peer, or with `trust_forwarded_for` the last entry of the
/// last `X-Forwarded-For` header (the one the proxy appended; earlier entries are the
/// client's own claims). `None` when neither is known (a service without connect info).
pub fn client_ip(
    peer: Option<std::net::SocketAddr>,
    headers: &axum::http::HeaderMap,
    trust_forwarded_for: bool,
) -> Option<std::net::IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// The digest a PIN change's step-up OTP must be bound to.
pub fn pin_change_digest(user_id: &str) -> String {
    hex(&crate::auth::sha256(
        warung_core::protocol::step_up_text(warung_core::protocol::STEP_UP_PIN_CHANGE, user_id)
            .as_bytes(),
    ))
}

/// The digest a TOTP reset's step-up OTP must be bound to.
pub fn totp_reset_digest(user_id: &str) -> String {
    hex(&crate::auth::sha256(
        warung_core::protocol::step_up_text(warung_core::protocol::STEP_UP_TOTP_RESET, user_id)
            .as_bytes(),
    ))
}

/// Constant-time equality (same length inputs; different lengths are unequal).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time_eq::constant_time_eq(a, b)
}

fn iterations(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// PBKDF2-HMAC-SHA256 of a PIN with a fresh 16-byte salt: (hash, salt). CPU-heavy: call it
/// from `spawn_blocking`.
pub fn hash_pin(pin: &str, iterations_count: u32) -> (Vec<u8>, Vec<u8>) {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt);
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(iterations_count),
        &salt,
        pin.as_bytes(),
        &mut out,
    );
    (out.to_vec(), salt.to_vec())
}

/// Whether `pin` matches a stored hash (constant-time, inside ring). CPU-heavy.
pub fn verify_pin(pin: &str, hash: &[u8], salt: &[u8], iterations_count: u32) -> bool {
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(iterations_count),
        salt,
        pin.as_bytes(),
        hash,
    )
    .is_ok()
}

/// Verifies an Ed25519 signature by a 32-byte public key.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

/// A nonce of a signed request: base64url characters, 16 to 64 of them.
pub fn is_valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_codes_are_six_ascii_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| new_otp_code()).collect();
        assert!(codes.iter().all(|c| is_ascii_digits(c, 6)));
        assert!(codes.len() > 190);
        let t = new_bind_token();
        assert!(warung_core::sms::is_bind_token(&t), "{t}");
    }

    #[test]
    fn pin_hash_round_trip_with_salt() {
        let (h1, s1) = hash_pin("739154", 1000);
        let (h2, s2) = hash_pin("739154", 1000);
        assert_ne!(s1, s2);
        assert_ne!(h1, h2);
        assert!(verify_pin("739154", &h1, &s1, 1000));
        assert!(!verify_pin("739155", &h1, &s1, 1000));
        assert!(!verify_pin("739154", &h1, &s1, 1001));
    }

    #[test]
    fn number_blocks_and_address_groups() {
        assert_eq!(phone_prefix("+6281234567890", 3), "+6281234567");
        assert_eq!(phone_prefix("+6281234567890", 0), "+6281234567890");
        assert_eq!(phone_prefix("+62812", 40), "+6");
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(client_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
        let peer = Some("10.0.0.1:5000".parse().unwrap());
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 198.51.100.9".parse().unwrap());
        assert_eq!(client_ip(peer, &h, false), Some(ip("10.0.0.1")));
        assert_eq!(client_ip(peer, &h, true), Some(ip("198.51.100.9")));
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(peer, &h, true), Some(ip("10.0.0.1")));
        assert_eq!(client_ip(None, &axum::http::HeaderMap::new(), false), None);
    }

    #[test]
    fn pin_change_digest_is_sha256_hex() {
        assert!(is_sha256_hex(&pin_change_digest("u1")));
        assert_ne!(pin_change_digest("u1"), pin_change_digest("u2"));
    }
}
