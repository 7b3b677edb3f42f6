//! Codes for a point in time. Nothing here reads the clock: every function takes `unix` seconds.

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
    let totp = generator(account);
    let period = account.params.period;
    Window {
        prev: totp.generate(unix.saturating_sub(period)).to_string(),
        curr: totp.generate(unix).to_string(),
        next: totp.generate(unix.saturating_add(period)).to_string(),
        remaining: remaining(period, unix),
        period,
    }
}

/// The code of `account` at `unix`.
pub fn code(account: &Account, unix: u64) -> String {
    generator(account).generate(unix).to_string()
}

/// Seconds until the code that is current at `unix` expires.
pub fn remaining(period: u64, unix: u64) -> u64 {
    period - unix % period
}

/// A totp-rs generator for the account. `build_noncompliant` because 80-bit secrets are everyday
/// reality; the parameters were validated when the account was read (digits 6..=8, period >= 1, a
/// non-empty secret), which are exactly the conditions under which `generate` cannot panic.
fn generator(account: &Account) -> Totp {
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
}
