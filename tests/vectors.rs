//! TOTP codes compared with values that come from outside teamotp: the RFC 6238 Appendix B vectors and
//! rows computed by the real oathtool (tests/data/README.md), plus property tests of the lenient base32
//! decoder and of the prev/curr/next window. Library level; no clock, no files at run time.

use proptest::prelude::*;

use teamotp::account::{Account, Algorithm, Kind, Params};
use teamotp::secret::{self, Secret};
use teamotp::totp::{code, window};

const RFC6238: &str = include_str!("data/rfc6238.tsv");
const OATHTOOL: &str = include_str!("data/oathtool.tsv");

fn algorithm(text: &str) -> Algorithm {
    match text {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        other => panic!("unknown algorithm {other:?} in test data"),
    }
}

fn account(secret: Secret, digits: u8, period: u64, algorithm: Algorithm) -> Account {
    Account {
        name: "vector".into(),
        issuer: None,
        params: Params {
            digits,
            period,
            algorithm,
            kind: Kind::Totp,
        },
        secret,
    }
}

/// The data rows of a TSV file (header checked, then skipped), split on tabs.
fn rows<'a>(tsv: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    let mut lines = tsv.lines();
    assert_eq!(lines.next(), Some(header), "unexpected header");
    lines
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\t').collect())
        .collect()
}

#[test]
fn rfc6238_appendix_b_vectors() {
    let rows = rows(
        RFC6238,
        "time\talgorithm\tsecret_ascii\tsecret_base32\tcode",
    );
    assert_eq!(rows.len(), 18, "RFC 6238 Appendix B has 18 vectors");
    for row in &rows {
        let [time, algo, ascii, base32, expected] = row[..] else {
            panic!("row has {} fields, not 5: {row:?}", row.len());
        };
        let secret = secret::decode(base32).unwrap_or_else(|e| panic!("{base32}: {e}"));
        assert_eq!(
            secret.expose(),
            ascii.as_bytes(),
            "{base32} decodes to the RFC seed"
        );
        let time: u64 = time.parse().unwrap();
        let a = account(secret, 8, 30, algorithm(algo));
        assert_eq!(code(&a, time), expected, "{algo} at {time}");
        assert_eq!(window(&a, time).curr, expected, "{algo} at {time} (window)");
    }
}

#[test]
fn oathtool_rows_through_the_lenient_decoder() {
    let rows = rows(
        OATHTOOL,
        "pasted\talgorithm\tdigits\tperiod\ttime\tprev\tcurr\tnext",
    );
    assert_eq!(rows.len(), 62);
    for (index, row) in rows.iter().enumerate() {
        let [pasted, algo, digits, period, time, prev, curr, next] = row[..] else {
            panic!("row {} has {} fields, not 8: {row:?}", index + 2, row.len());
        };
        let pasted = pasted.replace("\\t", "\t");
        let context = format!(
            "line {}: {pasted:?} {algo} {digits} {period} {time}",
            index + 2
        );
        let secret = secret::decode(&pasted).unwrap_or_else(|e| panic!("{context}: {e}"));
        let a = account(
            secret,
            digits.parse().unwrap(),
            period.parse().unwrap(),
            algorithm(algo),
        );
        let time: u64 = time.parse().unwrap();
        let w = window(&a, time);
        assert_eq!(
            (w.prev.as_str(), w.curr.as_str(), w.next.as_str()),
            (prev, curr, next),
            "{context}"
        );
        assert_eq!(code(&a, time), curr, "{context}");
    }
}

/// RFC 4648 base32 with `=` padding, written independently of the code under test.
fn base32_padded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < symbols {
                out.push(char::from(ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn independent_encoder_matches_rfc4648_examples() {
    // RFC 4648 section 10.
    for (input, expected) in [
        ("f", "MY======"),
        ("fo", "MZXQ===="),
        ("foo", "MZXW6==="),
        ("foob", "MZXW6YQ="),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI======"),
    ] {
        assert_eq!(base32_padded(input.as_bytes()), expected);
    }
}

fn any_algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

proptest! {
    #[test]
    fn pasted_variants_decode_to_the_key(
        key in prop::collection::vec(any::<u8>(), 1..=64),
        lower in any::<bool>(),
        separator in prop_oneof![Just(None), Just(Some(' ')), Just(Some('-'))],
        group in 1usize..=8,
        padding in 0usize..=10,
    ) {
        let canonical = base32_padded(&key);
        let bare = canonical.trim_end_matches('=');
        let cased = if lower { bare.to_ascii_lowercase() } else { bare.to_owned() };
        let grouped = match separator {
            None => cased,
            Some(sep) => cased
                .as_bytes()
                .chunks(group)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(&sep.to_string()),
        };
        let pasted = format!("{grouped}{}", "=".repeat(padding));
        let decoded = secret::decode(&pasted);
        prop_assert!(decoded.is_ok(), "{:?}: {:?}", pasted, decoded);
        let decoded = decoded.unwrap();
        prop_assert_eq!(decoded.expose(), &key[..], "{:?}", pasted);
        // The canonically padded form decodes too.
        let canonical_decoded = secret::decode(&canonical).unwrap();
        prop_assert_eq!(canonical_decoded.expose(), &key[..]);
    }

    #[test]
    fn decode_never_panics(text in any::<String>()) {
        let _ = secret::decode(&text);
    }

    #[test]
    fn decode_never_panics_on_base32_like_text(text in "[A-Za-z0-9 =\t-]{0,120}") {
        let _ = secret::decode(&text);
    }

    #[test]
    fn window_agrees_with_code_one_period_away(
        key in prop::collection::vec(any::<u8>(), 1..=64),
        period in 1u64..=300,
        digits in 6u8..=8,
        algo in any_algorithm(),
        offset in 0u64..=20_000_000_000,
    ) {
        let t = period + offset;
        let secret = secret::decode(&base32_padded(&key)).unwrap();
        let a = account(secret, digits, period, algo);
        let w = window(&a, t);
        prop_assert_eq!(&w.curr, &code(&a, t));
        prop_assert_eq!(&w.next, &code(&a, t + period));
        prop_assert_eq!(&w.prev, &code(&a, t - period));
        prop_assert_eq!(w.curr.len(), usize::from(digits));
        prop_assert!(w.curr.bytes().all(|b| b.is_ascii_digit()), "{}", w.curr);
        prop_assert!((1..=period).contains(&w.remaining), "remaining {} of {}", w.remaining, period);
        prop_assert_eq!(w.remaining, period - t % period);
        prop_assert_eq!(w.period, period);
    }
}
