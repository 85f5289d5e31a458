//! Password hashing: PBKDF2-HMAC-SHA256 with a per-user random salt. Pure.
//!
//! Stored form: `pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`. The iteration count is in
//! the string so it can be raised later without invalidating existing hashes. The same format
//! is produced by `scripts/lib/password.mjs` (Node's `crypto.pbkdf2`), which creates accounts.
//!
//! Why 100,000 iterations: Workers' WebCrypto caps PBKDF2 at 100k. In the Worker the derivation
//! runs in the runtime's native WebCrypto (`resources/accounts/hashing.rs`); this pure-Rust one
//! serves native tests, parity with Node, and stored counts above the runtime's cap. Both read
//! and write the same stored form, so existing hashes verify unchanged; a hash with fewer
//! iterations than today's is replaced after its next successful login.
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const DEFAULT_ITERATIONS: u32 = 100_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;
const SCHEME: &str = "pbkdf2_sha256";
/// Refuse absurd counts read from storage: a corrupted row must not pin the CPU.
const MAX_ITERATIONS: u32 = 1_000_000;

type HmacSha256 = Hmac<Sha256>;

/// PBKDF2 (RFC 8018) with HMAC-SHA256, one 32-byte block.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    // Keying HMAC once and cloning the keyed state saves re-hashing the key every round.
    let keyed = HmacSha256::new_from_slice(password).expect("HMAC accepts any key length");
    let mut mac = keyed.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; HASH_LEN] = mac.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut mac = keyed.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hashes with a fresh random salt.
pub fn hash(password: &str) -> Result<String, getrandom::Error> {
    Ok(hash_with(password, &new_salt()?, DEFAULT_ITERATIONS))
}

pub fn hash_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let dk = pbkdf2_sha256(password.as_bytes(), salt, iterations);
    format!("{SCHEME}${iterations}${}${}", to_hex(salt), to_hex(&dk))
}

/// Constant-time comparison so the time taken does not reveal how many bytes matched.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True when `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    parse(stored).is_some_and(|p| p.matches(&derive(password, &p.salt, p.iterations)))
}

/// The hash an unknown login id is checked against, so that a wrong id and a wrong password
/// cost the same single PBKDF2 run (no account enumeration by timing). A constant: computed
/// once, offline, from a random password nobody knows; never computed at run time.
pub const DUMMY_HASH: &str = "pbkdf2_sha256$100000$ab9ee575a47f7bdc574c4deaf99cdcc2$\
299430f5a06fb6310b1a7e0b3f56430c63007a9a06151b4f65ecb505fe91897e";

/// A stored hash, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Parses `pbkdf2_sha256$iter$salt$hash`; `None` for anything else (which never verifies).
pub fn parse(stored: &str) -> Option<Stored> {
    let mut parts = stored.split('$');
    let (Some(scheme), Some(iter), Some(salt), Some(want), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let iterations = iter.parse::<u32>().ok()?;
    if scheme != SCHEME || iterations == 0 || iterations > MAX_ITERATIONS {
        return None;
    }
    let hash = from_hex(want)?;
    (hash.len() == HASH_LEN).then_some(())?;
    Some(Stored {
        iterations,
        salt: from_hex(salt)?,
        hash,
    })
}

impl Stored {
    /// Whether `derived` (PBKDF2 of the candidate with this salt and count) matches.
    pub fn matches(&self, derived: &[u8]) -> bool {
        ct_eq(derived, &self.hash)
    }
    /// Weaker than today's parameters: re-hash after the next successful login.
    pub fn needs_upgrade(&self) -> bool {
        self.iterations < DEFAULT_ITERATIONS
    }
}

/// The stored form of a derived key.
pub fn format(salt: &[u8], iterations: u32, derived: &[u8]) -> String {
    format!("{SCHEME}${iterations}${}${}", to_hex(salt), to_hex(derived))
}

/// A fresh random salt.
pub fn new_salt() -> Result<[u8; SALT_LEN], getrandom::Error> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt)?;
    Ok(salt)
}

/// The pure-Rust derivation (native tests, parity with Node, and stored counts above what
/// the runtime's WebCrypto accepts).
pub fn derive(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    pbkdf2_sha256(password.as_bytes(), salt, iterations).to_vec()
}

/// The password policy, one rule for the server, the CLI and the seed (the CLI's copy in
/// `scripts/lib/password.mjs` is tested against the same cases,
/// `tests/corpus/password-policy.json`): at least 12 characters, at most 256 bytes, and not
/// one of the common passwords in `common-passwords.txt`.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 256;
const COMMON: &str = include_str!("common-passwords.txt");

/// The demo accounts' passwords (published in the README). They are on the common list, so no
/// one can set them through the Worker; the seed writes them for local development, and a login
/// with one is refused unless `ALLOW_DEMO_PASSWORDS` is `"true"` (only `.dev.vars` and the
/// test helper set it).
pub const DEMO_PASSWORDS: &[&str] = &["cti-admin-demo", "cti-staff-demo"];

pub fn is_demo(password: &str) -> bool {
    DEMO_PASSWORDS.contains(&password)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    TooShort,
    TooLong,
    Common,
}

impl PolicyError {
    pub fn code(self) -> &'static str {
        match self {
            PolicyError::TooShort => "password_too_short",
            PolicyError::TooLong => "password_too_long",
            PolicyError::Common => "password_too_common",
        }
    }
}

pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PolicyError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PolicyError::TooShort);
    }
    let lower = password.to_lowercase();
    let common = COMMON
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l == lower);
    if common {
        return Err(PolicyError::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7914_pbkdf2_sha256_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", c=1, dkLen=64), first 32 bytes.
        let dk = pbkdf2_sha256(b"passwd", b"salt", 1);
        assert_eq!(
            to_hex(&dk),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // Well-known vector: ("password", "salt", 4096) -> c5e478d5...
        let dk = pbkdf2_sha256(b"password", b"salt", 4096);
        assert_eq!(
            to_hex(&dk),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn hash_and_verify_round_trip() {
        let h = hash_with("correct horse", b"0123456789abcdef", 1000);
        assert!(h.starts_with("pbkdf2_sha256$1000$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsf", &h));
        assert!(!verify("", &h));
    }

    #[test]
    fn random_salts_differ() {
        let a = hash("same").unwrap();
        let b = hash("same").unwrap();
        assert_ne!(a, b);
        assert!(verify("same", &a) && verify("same", &b));
    }

    #[test]
    fn malformed_hashes_never_verify() {
        for bad in [
            "",
            "plain",
            "sha256$1$00$00",
            "pbkdf2_sha256$0$00$00",
            "pbkdf2_sha256$x$00$00",
            "pbkdf2_sha256$99999999$00$00",
            "pbkdf2_sha256$10$zz$00",
            "pbkdf2_sha256$10$00$00$extra",
        ] {
            assert!(!verify("pw", bad), "{bad:?}");
        }
    }

    #[test]
    fn dummy_hash_is_well_formed_and_current() {
        let d = parse(DUMMY_HASH).expect("parses");
        assert_eq!(d.iterations, DEFAULT_ITERATIONS);
        assert!(!d.needs_upgrade());
        assert!(!verify("", DUMMY_HASH));
    }

    #[test]
    fn old_weaker_hashes_verify_and_ask_for_an_upgrade() {
        let old = hash_with("correct horse battery", b"0123456789abcdef", 1000);
        let p = parse(&old).unwrap();
        assert!(p.needs_upgrade());
        assert!(p.matches(&derive("correct horse battery", &p.salt, p.iterations)));
        assert_eq!(format(&p.salt, p.iterations, &p.hash), old);
    }

    #[test]
    fn the_common_list_is_real_and_holds_the_demo_passwords() {
        let n = COMMON
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert!(n > 5000, "{n} entries");
        for demo in DEMO_PASSWORDS {
            assert!(is_demo(demo));
            assert_eq!(check_policy(demo), Err(PolicyError::Common));
        }
        assert!(!is_demo("a-real-long-password"));
    }

    #[test]
    fn policy_agrees_with_the_shared_cases() {
        #[derive(serde::Deserialize)]
        struct Case {
            password: String,
            ok: bool,
            code: Option<String>,
        }
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../../tests/corpus/password-policy.json")).unwrap();
        assert!(cases.len() > 5);
        for c in cases {
            let got = check_policy(&c.password);
            assert_eq!(got.is_ok(), c.ok, "{:?}", c.password);
            assert_eq!(
                got.err().map(|e| e.code().to_string()),
                c.code,
                "{:?}",
                c.password
            );
        }
    }

    #[test]
    fn matches_node_crypto_output() {
        // Accounts are created by scripts/lib/password.mjs with Node's pbkdf2Sync; this is its
        // output for the same input, so both sides must agree byte for byte.
        let h = hash_with("デモ", &[0, 1, 2, 3], 10);
        assert_eq!(
            h,
            "pbkdf2_sha256$10$00010203$c334875fb2f35fa2c9f2bbee2347e03b68cb6bdbfeca90bf93c2052285566440"
        );
    }
}
