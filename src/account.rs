//! An account: a name, an optional issuer, the code parameters and the secret.
//!
//! The parameter parsers here are shared by the team CSV reader and the otpauth URI reader, so a bad value
//! gets the same message wherever it was written.

use std::fmt;

use crate::secret::Secret;

/// HMAC algorithm of a TOTP account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of codes an account produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// RFC 6238 numeric codes.
    #[default]
    Totp,
    /// Steam Guard: 5 characters from Steam's alphabet, SHA1, 30 seconds.
    Steam,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Totp => "totp",
            Kind::Steam => "steam",
        }
    }
}

/// Digits, period, algorithm and kind of an account, already validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub digits: u8,
    pub period: u64,
    pub algorithm: Algorithm,
    pub kind: Kind,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            digits: 6,
            period: 30,
            algorithm: Algorithm::Sha1,
            kind: Kind::Totp,
        }
    }
}

impl Params {
    /// The number of characters in a code (Steam codes are always 5).
    pub fn code_len(&self) -> usize {
        match self.kind {
            Kind::Totp => usize::from(self.digits),
            Kind::Steam => 5,
        }
    }
}

/// A bad parameter value. The value is quoted: parameters are not secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("digits must be 6, 7 or 8, not '{0}'")]
    Digits(String),
    #[error("period must be a whole number of seconds, at least 1, not '{0}'")]
    Period(String),
    #[error("algorithm must be SHA1, SHA256 or SHA512, not '{0}'")]
    Algorithm(String),
    #[error("type must be totp or steam, not '{0}'")]
    Kind(String),
}

/// Longest period we accept: one year. Longer values are typos and would only make codes meaningless.
const MAX_PERIOD: u64 = 366 * 24 * 3600;

/// Parses `digits`; empty means the default (6).
pub fn parse_digits(text: &str) -> Result<u8, ParamError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(6);
    }
    match text.parse::<u8>() {
        Ok(d @ 6..=8) => Ok(d),
        _ => Err(ParamError::Digits(text.to_owned())),
    }
}

/// Parses `period` in seconds; empty means the default (30).
pub fn parse_period(text: &str) -> Result<u64, ParamError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(30);
    }
    match text.parse::<u64>() {
        Ok(p @ 1..=MAX_PERIOD) => Ok(p),
        _ => Err(ParamError::Period(text.to_owned())),
    }
}

/// Parses `algorithm`, case-insensitive, with or without the hyphen (`sha-256`); empty means SHA1.
pub fn parse_algorithm(text: &str) -> Result<Algorithm, ParamError> {
    let text = text.trim();
    // Compared without the hyphens and case, and without allocating: this runs once per row.
    let is = |wanted: &str| {
        let mut got = text.bytes().filter(|b| *b != b'-');
        wanted
            .bytes()
            .all(|w| got.next().is_some_and(|g| g.eq_ignore_ascii_case(&w)))
            && got.next().is_none()
    };
    if is("") || is("SHA1") {
        Ok(Algorithm::Sha1)
    } else if is("SHA256") {
        Ok(Algorithm::Sha256)
    } else if is("SHA512") {
        Ok(Algorithm::Sha512)
    } else {
        Err(ParamError::Algorithm(text.to_owned()))
    }
}

/// Parses `type`, case-insensitive; empty means totp.
pub fn parse_kind(text: &str) -> Result<Kind, ParamError> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("totp") {
        Ok(Kind::Totp)
    } else if text.eq_ignore_ascii_case("steam") {
        Ok(Kind::Steam)
    } else {
        Err(ParamError::Kind(text.to_owned()))
    }
}

/// A usable account.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub issuer: Option<String>,
    pub params: Params,
    pub secret: Secret,
}

impl Account {
    /// The name, with the issuer in parentheses when it adds information (is not already in the name).
    pub fn label(&self) -> String {
        match &self.issuer {
            Some(issuer) if !self.name.to_lowercase().contains(&issuer.to_lowercase()) => {
                format!("{} ({issuer})", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_cells_mean_defaults() {
        assert_eq!(parse_digits(""), Ok(6));
        assert_eq!(parse_period(" "), Ok(30));
        assert_eq!(parse_algorithm(""), Ok(Algorithm::Sha1));
        assert_eq!(parse_kind(""), Ok(Kind::Totp));
    }

    #[test]
    fn accepts_algorithm_spellings() {
        assert_eq!(parse_algorithm("sha256"), Ok(Algorithm::Sha256));
        assert_eq!(parse_algorithm("SHA-512"), Ok(Algorithm::Sha512));
        assert_eq!(parse_algorithm("Sha1"), Ok(Algorithm::Sha1));
        assert_eq!(parse_algorithm("-s-h-a-1-"), Ok(Algorithm::Sha1));
        assert_eq!(parse_algorithm("--"), Ok(Algorithm::Sha1));
        assert!(parse_algorithm("SHA").is_err());
        assert!(parse_algorithm("SHA2560").is_err());
        assert!(parse_algorithm("SHA１").is_err());
        assert_eq!(parse_kind("STEAM"), Ok(Kind::Steam));
    }

    #[test]
    fn rejects_bad_parameters_with_the_value_quoted() {
        assert_eq!(
            parse_digits("10").unwrap_err().to_string(),
            "digits must be 6, 7 or 8, not '10'"
        );
        assert_eq!(
            parse_digits("5").unwrap_err().to_string(),
            "digits must be 6, 7 or 8, not '5'"
        );
        assert_eq!(
            parse_period("0").unwrap_err().to_string(),
            "period must be a whole number of seconds, at least 1, not '0'"
        );
        assert!(parse_period("-30").is_err());
        assert!(parse_period("30s").is_err());
        assert_eq!(
            parse_algorithm("MD5").unwrap_err().to_string(),
            "algorithm must be SHA1, SHA256 or SHA512, not 'MD5'"
        );
        assert_eq!(
            parse_kind("hotp").unwrap_err().to_string(),
            "type must be totp or steam, not 'hotp'"
        );
    }

    #[test]
    fn label_adds_the_issuer_only_when_it_adds_information() {
        let secret = crate::secret::decode("JBSWY3DPEHPK3PXP").unwrap();
        let mut account = Account {
            name: "GitHub ops".into(),
            issuer: Some("GitHub".into()),
            params: Params::default(),
            secret,
        };
        assert_eq!(account.label(), "GitHub ops");
        account.issuer = Some("Amazon".into());
        assert_eq!(account.label(), "GitHub ops (Amazon)");
    }
}
