//! The `Secret` type and the lenient base32 decoder.
//!
//! People paste TOTP secrets in every shape: lower case, in groups of four separated by spaces or hyphens,
//! with or without `=` padding, sometimes with non-canonical trailing bits. oathtool and Google
//! Authenticator accept all of these, so we do too. Errors say what is wrong and where, never what the
//! secret is.

use std::fmt;
use std::sync::LazyLock;

use data_encoding::{Encoding, Specification};
use zeroize::Zeroizing;

/// A decoded TOTP key. The bytes are wiped when the value is dropped and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw key bytes (already decoded).
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Secret(bytes)
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The canonical base32 form (upper case, no padding), for writing a vault or an otpauth URI.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32.encode(&self.0))
    }

    /// Number of key bits, for messages such as "80-bit secret".
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Why a pasted secret could not be decoded. The messages name positions, never the secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret is empty")]
    Empty,
    #[error(
        "secret has an invalid character {shown} at position {position} (base32 uses only A-Z and 2-7)"
    )]
    InvalidCharacter {
        /// The offending character, quoted, or a description for control and non-printing characters.
        shown: String,
        /// 1-based position in the pasted text, counted in characters.
        position: usize,
    },
    #[error(
        "secret has an impossible length: {symbols} base32 characters (a secret has a multiple of 8, \
         or 2, 4, 5 or 7 more; a character is probably missing or extra)"
    )]
    Length { symbols: usize },
}

/// Canonical base32 without padding, tolerant of non-canonical trailing bits.
static BASE32: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    spec.encoding().expect("the base32 specification is valid")
});

/// Decodes a secret the way people paste it.
///
/// Accepted: any case; spaces, tabs and hyphens anywhere; `=` padding at the end (any amount, or none);
/// non-canonical trailing bits. Rejected: an empty secret, any other character, and lengths that no byte
/// string encodes to (1, 3 or 6 characters past a multiple of 8).
pub fn decode(pasted: &str) -> Result<Secret, SecretError> {
    // The common case, a secret already in canonical form (upper case, no spaces or padding): decoded
    // straight from the text, with no normalised copy to make and wipe.
    let canonical = |b: &u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b);
    if !pasted.is_empty() && pasted.bytes().all(|b| canonical(&b)) {
        return symbols_to_secret(pasted.as_bytes());
    }
    let mut symbols = Zeroizing::new(Vec::with_capacity(pasted.len()));
    let mut padding_at = None;
    for (index, ch) in pasted.chars().enumerate() {
        match ch {
            ' ' | '\t' | '-' => {}
            '=' => {
                padding_at.get_or_insert(index + 1);
            }
            'a'..='z' | 'A'..='Z' | '2'..='7' => {
                if let Some(position) = padding_at {
                    // Padding followed by more secret: blame the '=', not the symbol after it.
                    return Err(SecretError::InvalidCharacter {
                        shown: describe('='),
                        position,
                    });
                }
                symbols.push(ch.to_ascii_uppercase() as u8);
            }
            _ => {
                return Err(SecretError::InvalidCharacter {
                    shown: describe(ch),
                    position: index + 1,
                });
            }
        }
    }
    if symbols.is_empty() {
        return Err(SecretError::Empty);
    }
    symbols_to_secret(&symbols)
}

/// Decodes canonical base32 symbols (A-Z, 2-7, no padding), refusing impossible lengths.
fn symbols_to_secret(symbols: &[u8]) -> Result<Secret, SecretError> {
    if matches!(symbols.len() % 8, 1 | 3 | 6) {
        return Err(SecretError::Length {
            symbols: symbols.len(),
        });
    }
    let len = BASE32
        .decode_len(symbols.len())
        .map_err(|_| SecretError::Length {
            symbols: symbols.len(),
        })?;
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    let written = BASE32
        .decode_mut(symbols, &mut bytes)
        .map_err(|_| SecretError::Length {
            symbols: symbols.len(),
        })?;
    bytes.truncate(written);
    Ok(Secret(bytes))
}

/// How an invalid character is shown in an error: quoted when printable, named otherwise.
fn describe(ch: char) -> String {
    match ch {
        '=' => "'=' (padding is only allowed at the end)".to_owned(),
        c if c.is_control() => format!("U+{:04X} (a control character)", c as u32),
        c if c.is_whitespace() => format!("U+{:04X} (a space character)", c as u32),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(secret: &Secret) -> String {
        secret.expose().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn decodes_canonical_80_bit_secret() {
        let secret = decode("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(hex(&secret), "48656c6c6f21deadbeef");
        assert_eq!(secret.bits(), 80);
    }

    #[test]
    fn accepts_lower_case_spaces_tabs_hyphens_and_padding() {
        let canonical = decode("JBSWY3DPEHPK3PXP").unwrap();
        for pasted in [
            "jbswy3dpehpk3pxp",
            "jbsw y3dp ehpk 3pxp",
            "JBSW-Y3DP-EHPK-3PXP",
            "JBSW\tY3DP\tEHPK 3PXP",
            "JBSWY3DPEHPK3PXP======",
            " jbswy3dpehpk3pxp ",
        ] {
            assert_eq!(decode(pasted).unwrap(), canonical, "{pasted:?}");
        }
    }

    #[test]
    fn accepts_exact_excessive_and_absent_padding() {
        // 10 bytes -> 16 symbols, no padding needed; 11 bytes -> 18 symbols + 6 '='.
        let eleven = decode("JBSWY3DPEHPK3PXPJA").unwrap();
        assert_eq!(eleven.expose().len(), 11);
        assert_eq!(decode("JBSWY3DPEHPK3PXPJA======").unwrap(), eleven);
        assert_eq!(decode("JBSWY3DPEHPK3PXPJA==========").unwrap(), eleven);
    }

    #[test]
    fn accepts_non_canonical_trailing_bits() {
        // "JB" decodes to 0x48 with 2 leftover bits; "JD" sets them. oathtool accepts both.
        assert_eq!(decode("JD").unwrap(), decode("JB").unwrap());
    }

    #[test]
    fn rejects_secret_with_digit_eight() {
        // The old gauth README example.
        let err = decode("a2b3c4d5e6f7g8h9").unwrap_err();
        assert_eq!(
            err,
            SecretError::InvalidCharacter {
                shown: "'8'".into(),
                position: 14
            }
        );
        assert_eq!(
            err.to_string(),
            "secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)"
        );
    }

    #[test]
    fn rejects_empty_and_blank_secret() {
        assert_eq!(decode(""), Err(SecretError::Empty));
        assert_eq!(decode(" - \t"), Err(SecretError::Empty));
        assert_eq!(decode("===="), Err(SecretError::Empty));
    }

    #[test]
    fn rejects_impossible_lengths() {
        for (pasted, symbols) in [("A", 1), ("ABC", 3), ("ABCDEF", 6), ("JBSWY3DPE", 9)] {
            assert_eq!(
                decode(pasted),
                Err(SecretError::Length { symbols }),
                "{pasted}"
            );
        }
    }

    #[test]
    fn rejects_padding_in_the_middle() {
        let err = decode("JBSW==Y3DP").unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret has an invalid character '=' (padding is only allowed at the end) at position 5 \
             (base32 uses only A-Z and 2-7)"
        );
    }

    #[test]
    fn names_control_characters_instead_of_printing_them() {
        let err = decode("JBSW\u{7}Y3DP").unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret has an invalid character U+0007 (a control character) at position 5 (base32 uses only A-Z and 2-7)"
        );
    }

    #[test]
    fn debug_output_is_redacted() {
        let secret = decode("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn round_trips_through_canonical_base32() {
        let secret = decode("jbsw y3dp ehpk 3pxp").unwrap();
        assert_eq!(secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
    }
}
