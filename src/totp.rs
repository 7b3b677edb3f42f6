//! Codes for a point in time. Nothing here reads the clock: every function takes `unix` seconds.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac as _};
use totp_rs::{Builder, Totp};

use crate::account::{Account, Algorithm, Kind};

/// The previous, current and next codes of one account at one instant, and the seconds the current code
/// has left. All four come from the same timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub prev: String,
    pub curr: String,
    pub next: String,
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
pub fn code(account: &Account, unix: u64) -> String {
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

/// The keyed HMAC states are as secret as the key: the `zeroize` feature of `hmac` wipes them on drop.
enum Mac {
    Sha1(Hmac<sha1::Sha1>),
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
            (Kind::Totp, Algorithm::Sha1) => {
                Mac::Sha1(Hmac::new_from_slice(key).expect("HMAC takes any key length"))
            }
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
    pub fn code(&self, unix: u64) -> String {
        let counter = (unix / self.period).to_be_bytes();
        let value = match &self.mac {
            Mac::Sha1(mac) => truncate(&mac.clone().chain_update(counter).finalize().into_bytes()),
            Mac::Sha256(mac) => {
                truncate(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            Mac::Sha512(mac) => {
                truncate(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            Mac::Steam(totp) => return totp.generate(unix).to_string(),
        };
        let digits = u32::from(self.digits);
        format!(
            "{:0width$}",
            value % 10_u32.pow(digits),
            width = usize::from(self.digits)
        )
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
            prop_assert_eq!(&w.prev, &totp.generate(unix.saturating_sub(period)).to_string());
            prop_assert_eq!(&w.curr, &totp.generate(unix).to_string());
            prop_assert_eq!(&w.next, &totp.generate(unix.saturating_add(period)).to_string());
        });
    }
}
