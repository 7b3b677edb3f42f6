//! Codes for a point in time. Nothing here reads the clock: every function takes `unix` seconds.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac as _};
use totp_rs::{Builder, Totp};

use crate::account::{Account, Algorithm, Kind};

/// One code: up to 10 ASCII characters (6 to 8 digits, or Steam's 5 letters and digits), held inline so
/// that printing 30,000 codes allocates nothing. Reads as a `&str`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    bytes: [u8; Code::CAPACITY],
    len: u8,
}

impl Code {
    const CAPACITY: usize = 10;

    /// `value` as exactly `digits` decimal digits, zero-padded (`value` < 10^digits, digits <= 10).
    fn decimal(mut value: u32, digits: u8) -> Code {
        let mut bytes = [b'0'; Code::CAPACITY];
        let len = usize::from(digits).min(Code::CAPACITY);
        for slot in bytes[..len].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        Code {
            bytes,
            len: len as u8,
        }
    }

    /// A code produced as text (Steam's), cut at the capacity on a character boundary (never needed:
    /// Steam codes are 5 ASCII characters).
    fn text(text: &str) -> Code {
        let mut len = text.len().min(Code::CAPACITY);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; Code::CAPACITY];
        bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
        Code {
            bytes,
            len: len as u8,
        }
    }

    pub fn as_str(&self) -> &str {
        // Built only from ASCII digits or from a `&str` cut on a character boundary.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// A copied code is wiped after use (the TUI's clipboard path).
impl zeroize::Zeroize for Code {
    fn zeroize(&mut self) {
        self.bytes.zeroize();
        self.len.zeroize();
    }
}

impl std::ops::Deref for Code {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

/// The previous, current and next codes of one account at one instant, and the seconds the current code
/// has left. All four come from the same timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub prev: Code,
    pub curr: Code,
    pub next: Code,
    /// Seconds until `curr` expires: 1 ..= period.
    pub remaining: u64,
    /// The account's period, so callers can draw a countdown without the account.
    pub period: u64,
}

/// prev / curr / next and the time left, from one timestamp and the account's own period.
///
/// Before the first period (unix < period) there is no previous code; `prev` then repeats `curr`.
pub fn window(account: &Account, unix: u64) -> Window {
    Generator::new(account).window(unix)
}

/// The code of `account` at `unix`.
pub fn code(account: &Account, unix: u64) -> Code {
    Generator::new(account).code(unix)
}

/// Seconds until the code that is current at `unix` expires.
pub fn remaining(period: u64, unix: u64) -> u64 {
    period - unix % period
}

/// The codes of one account, with the HMAC key schedule (the inner and outer padded key blocks) done
/// once: each code then costs two hash compressions instead of four, and nothing is rebuilt per code.
/// totp-rs stays the reference: the tests check this against it on random keys, algorithms, digits,
/// periods and times, and Steam codes still come from totp-rs.
pub struct Generator {
    mac: Mac,
    digits: u8,
    period: u64,
}

/// The keyed HMAC states are as secret as the key: the `zeroize` feature of `hmac` wipes them on drop
/// (and [`Sha1Key`] wipes its own).
enum Mac {
    Sha1(Sha1Key),
    Sha256(Hmac<sha2_011::Sha256>),
    Sha512(Hmac<sha2_011::Sha512>),
    Steam(Box<Totp>),
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Generator(..)")
    }
}

impl Generator {
    /// The parameters were validated when the account was read (digits 6..=8, period >= 1, a non-empty
    /// secret), which is what makes `code` panic-free.
    pub fn new(account: &Account) -> Generator {
        let key = account.secret.expose();
        // HMAC takes keys of any length, so `new_from_slice` cannot fail.
        let mac = match (account.params.kind, account.params.algorithm) {
            (Kind::Steam, _) => Mac::Steam(Box::new(steam(account))),
            (Kind::Totp, Algorithm::Sha1) => Mac::Sha1(Sha1Key::new(key)),
            (Kind::Totp, Algorithm::Sha256) => {
                Mac::Sha256(Hmac::new_from_slice(key).expect("HMAC takes any key length"))
            }
            (Kind::Totp, Algorithm::Sha512) => {
                Mac::Sha512(Hmac::new_from_slice(key).expect("HMAC takes any key length"))
            }
        };
        Generator {
            mac,
            digits: account.params.digits,
            period: account.params.period,
        }
    }

    /// prev / curr / next and the time left at `unix` (see [`window`]).
    pub fn window(&self, unix: u64) -> Window {
        let period = self.period;
        Window {
            prev: self.code(unix.saturating_sub(period)),
            curr: self.code(unix),
            next: self.code(unix.saturating_add(period)),
            remaining: remaining(period, unix),
            period,
        }
    }

    /// The code at `unix` (RFC 6238: HOTP of the counter `unix / period`, dynamic truncation).
    pub fn code(&self, unix: u64) -> Code {
        let counter = (unix / self.period).to_be_bytes();
        let value = match &self.mac {
            Mac::Sha1(key) => truncate(&key.mac(counter)),
            Mac::Sha256(mac) => {
                truncate(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            Mac::Sha512(mac) => {
                truncate(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            Mac::Steam(totp) => return Code::text(&totp.generate(unix).to_string()),
        };
        // Validated when the account was read: 6 ..= 8 digits.
        let digits = self.digits.min(9);
        Code::decimal(value % 10_u32.pow(u32::from(digits)), digits)
    }
}

/// HMAC-SHA-1 (RFC 2104) of 8-byte messages, on the SHA-1 compression function itself: the key's inner
/// and outer padded blocks are compressed once, then each code costs exactly two compressions and no
/// buffer handling. Nearly every account is SHA-1, and a 10,000-account `list` computes 30,000 codes,
/// where the `hmac` crate's copying and wiping of whole buffers per code cost more than the hashing
/// (measured: docs/performance-history.md). Tested against the `hmac` crate and totp-rs.
struct Sha1Key {
    /// The SHA-1 state after the block `key ^ ipad`, and after `key ^ opad`: key-equivalent, wiped on
    /// drop.
    inner: [u32; 5],
    outer: [u32; 5],
}

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const SHA1_INIT: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

impl Sha1Key {
    fn new(key: &[u8]) -> Sha1Key {
        use sha1::Digest as _;
        // A key longer than the block is hashed first (RFC 2104); shorter ones are zero-padded.
        let mut block = zeroize::Zeroizing::new([0u8; 64]);
        if key.len() > 64 {
            let mut digest: [u8; 20] = sha1::Sha1::digest(key).into();
            block[..20].copy_from_slice(&digest);
            zeroize::Zeroize::zeroize(&mut digest);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        // One block, turned from `key ^ ipad` into `key ^ opad` in place, then wiped (once).
        let mut pad = |with: u8| {
            block.iter_mut().for_each(|b| *b ^= with);
            let mut state = SHA1_INIT;
            sha1::block_api::compress(&mut state, std::slice::from_ref(&*block));
            state
        };
        let inner = pad(0x36);
        let outer = pad(0x36 ^ 0x5c);
        Sha1Key { inner, outer }
    }

    /// HMAC-SHA-1 of the 8-byte `message`. Only the compressions' results remain on the stack: the
    /// inner hash of a public counter and the MAC itself, the code's material, neither of which gives
    /// the key (the copies of the key states are overwritten by the compressions).
    fn mac(&self, message: [u8; 8]) -> [u8; 20] {
        // The inner hash's last block: the message, then padding for 64 + 8 bytes. Blocks are built as
        // big-endian words and turned into bytes in one pass (whole 16-byte stores, which the
        // compression's loads read back without stalling).
        let counter = u64::from_be_bytes(message);
        let mut words = [0u32; 16];
        words[0] = (counter >> 32) as u32;
        words[1] = counter as u32;
        words[2] = 0x8000_0000;
        words[15] = (64 + 8) * 8;
        let mut inner = self.inner;
        sha1::block_api::compress(&mut inner, &[block(words)]);
        // The outer hash's last block: the inner digest, then padding for 64 + 20 bytes.
        let mut words = [0u32; 16];
        words[..5].copy_from_slice(&inner);
        words[5] = 0x8000_0000;
        words[15] = (64 + 20) * 8;
        let mut outer = self.outer;
        sha1::block_api::compress(&mut outer, &[block(words)]);
        let mut mac = [0u8; 20];
        for (chunk, word) in mac.chunks_exact_mut(4).zip(outer) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        mac
    }
}

/// A SHA-1 block from its 16 big-endian words.
fn block(words: [u32; 16]) -> [u8; 64] {
    let mut bytes = [0u8; 64];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    bytes
}

impl Drop for Sha1Key {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// RFC 4226 dynamic truncation: 31 bits at the offset named by the last byte's low nibble.
fn truncate(signature: &[u8]) -> u32 {
    let offset = usize::from(signature[signature.len() - 1] & 0xF);
    let bytes = [
        signature[offset],
        signature[offset + 1],
        signature[offset + 2],
        signature[offset + 3],
    ];
    u32::from_be_bytes(bytes) & 0x7FFF_FFFF
}

/// A totp-rs generator for a Steam account. `build_noncompliant` because 80-bit secrets are everyday
/// reality (see [`Generator::new`] for why `generate` cannot panic).
fn steam(account: &Account) -> Totp {
    Builder::new_steam()
        .with_step_duration(account.params.period)
        .with_secret(account.secret.expose())
        .build_noncompliant()
}

/// The totp-rs generator for any account: the reference the tests compare [`Generator`] with.
#[cfg(test)]
fn reference(account: &Account) -> Totp {
    let builder = match account.params.kind {
        Kind::Totp => Builder::new()
            .with_algorithm(match account.params.algorithm {
                Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
                Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
                Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
            })
            .with_digits(account.params.digits),
        Kind::Steam => Builder::new_steam(),
    };
    builder
        .with_step_duration(account.params.period)
        .with_secret(account.secret.expose())
        .build_noncompliant()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Params;
    use crate::secret;

    fn account(secret: &str, params: Params) -> Account {
        Account {
            name: "test".into(),
            issuer: None,
            params,
            secret: secret::decode(secret).unwrap(),
        }
    }

    #[test]
    fn rfc6238_sha1_vector_at_59() {
        let a = account(
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Params {
                digits: 8,
                ..Params::default()
            },
        );
        assert_eq!(code(&a, 59), "94287082");
    }

    #[test]
    fn window_comes_from_one_timestamp() {
        let a = account("JBSWY3DPEHPK3PXP", Params::default());
        let w = window(&a, 1_700_000_055);
        assert_eq!(w.prev, code(&a, 1_700_000_025));
        assert_eq!(w.curr, code(&a, 1_700_000_055));
        assert_eq!(w.next, code(&a, 1_700_000_085));
        assert_eq!(w.remaining, 15);
        assert_eq!(w.period, 30);
    }

    #[test]
    fn remaining_is_full_period_on_the_boundary() {
        assert_eq!(remaining(30, 1_700_000_040), 30);
        assert_eq!(remaining(30, 1_700_000_039), 1);
        assert_eq!(remaining(60, 1_700_000_041), 59);
    }

    #[test]
    fn steam_codes_are_five_characters_from_steams_alphabet() {
        let a = account(
            "STEAMSECRETSTEAMSECRET23",
            Params {
                kind: Kind::Steam,
                ..Params::default()
            },
        );
        let c = code(&a, 1_700_000_000);
        assert_eq!(c.len(), 5);
        assert!(
            c.chars()
                .all(|ch| "23456789BCDFGHJKMNPQRTVWXY".contains(ch)),
            "{c}"
        );
    }

    /// The direct HMAC-SHA-1 is the `hmac` crate's on keys of every length around the block size (a
    /// key longer than 64 bytes is hashed first) and on any message.
    #[test]
    fn sha1_key_matches_the_hmac_crate() {
        use proptest::prelude::*;
        let config = ProptestConfig {
            cases: 2000,
            ..ProptestConfig::default()
        };
        proptest!(config, |(
            key in proptest::collection::vec(any::<u8>(), 0..200),
            message in any::<[u8; 8]>(),
        )| {
            let reference = Hmac::<sha1::Sha1>::new_from_slice(&key)
                .unwrap()
                .chain_update(message)
                .finalize()
                .into_bytes();
            prop_assert_eq!(&Sha1Key::new(&key).mac(message)[..], &reference[..]);
        });
        // RFC 2202 test case 6: a 80-byte key.
        let key = [0xaa; 80];
        let reference = Hmac::<sha1::Sha1>::new_from_slice(&key)
            .unwrap()
            .chain_update(*b"Test Usi")
            .finalize()
            .into_bytes();
        assert_eq!(&Sha1Key::new(&key).mac(*b"Test Usi")[..], &reference[..]);
    }

    #[test]
    fn codes_are_zero_padded_to_their_digits() {
        assert_eq!(Code::decimal(42, 6), "000042");
        assert_eq!(Code::decimal(0, 8), "00000000");
        assert_eq!(Code::decimal(1_234_567, 7), "1234567");
        assert_eq!(
            format!("{:>8}|{:<7}|", Code::decimal(7, 6), Code::decimal(7, 6)),
            "  000007|000007 |"
        );
        assert_eq!(format!("{:?}", Code::text("2BC4D")), "\"2BC4D\"");
        assert_eq!(
            Code::text("ÉÉÉÉÉÉ").as_str(),
            "ÉÉÉÉÉ",
            "cut on a character boundary"
        );
    }

    #[test]
    fn previous_code_before_the_first_period_repeats_current() {
        let a = account("JBSWY3DPEHPK3PXP", Params::default());
        let w = window(&a, 10);
        assert_eq!(w.prev, w.curr);
    }

    #[test]
    fn no_panic_at_the_end_of_time() {
        let a = account("JBSWY3DPEHPK3PXP", Params::default());
        let w = window(&a, u64::MAX);
        assert_eq!(w.curr.len(), 6);
        assert_eq!(w.next, w.curr);
    }

    /// The hot path must give totp-rs's codes: random keys (1 to 100 bytes, longer than a SHA-1 block
    /// too), algorithms, digits, periods and times, prev / curr / next.
    #[test]
    fn generator_matches_totp_rs_on_random_accounts() {
        use proptest::prelude::*;
        let algorithms = prop_oneof![
            Just(Algorithm::Sha1),
            Just(Algorithm::Sha256),
            Just(Algorithm::Sha512)
        ];
        let config = ProptestConfig {
            cases: 2000,
            ..ProptestConfig::default()
        };
        proptest!(config, |(
            key in proptest::collection::vec(any::<u8>(), 1..100),
            algorithm in algorithms,
            digits in 6u8..=8,
            period in prop_oneof![Just(15u64), Just(30), Just(60), 1u64..=366 * 24 * 3600],
            steam in proptest::bool::weighted(0.05),
            unix in prop_oneof![any::<u64>(), 0u64..4_000_000_000],
        )| {
            let a = Account {
                name: "test".into(),
                issuer: None,
                params: Params {
                    digits,
                    period,
                    algorithm,
                    kind: if steam { Kind::Steam } else { Kind::Totp },
                },
                secret: crate::secret::Secret::from_bytes(zeroize::Zeroizing::new(key)),
            };
            let totp = reference(&a);
            let w = window(&a, unix);
            prop_assert_eq!(w.prev.to_string(), totp.generate(unix.saturating_sub(period)).to_string());
            prop_assert_eq!(w.curr.to_string(), totp.generate(unix).to_string());
            prop_assert_eq!(w.next.to_string(), totp.generate(unix.saturating_add(period)).to_string());
        });
    }
}
