//! Google Authenticator exports: `otpauth-migration://offline?data=BASE64`, a protobuf `MigrationPayload`
//! (one per QR code page). The two messages are small enough to decode by hand:
//!
//! ```text
//! MigrationPayload { repeated OtpParameters otp_parameters = 1; int32 version = 2; int32 batch_size = 3;
//!                    int32 batch_index = 4; int32 batch_id = 5; }
//! OtpParameters    { bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
//!                    DigitCount digits = 5; OtpType type = 6; int64 counter = 7; }
//! Algorithm: 0 unspecified (SHA1), 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5.  DigitCount: 0/1 six, 2 eight.
//! OtpType: 0 unspecified (TOTP), 1 HOTP, 2 TOTP.
//! ```

use zeroize::Zeroizing;

use super::Entry;
use crate::account::{Account, Algorithm, Kind, Params};
use crate::secret::Secret;

/// True when the line is a Google Authenticator export URI.
pub fn is_uri(line: &str) -> bool {
    line.get(..20)
        .is_some_and(|s| s.eq_ignore_ascii_case("otpauth-migration://"))
}

/// Decodes one export URI into entries (accounts, or unsupported ones with their reason).
pub fn parse(uri: &str) -> Result<Vec<Entry>, String> {
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
    let data = query
        .split('&')
        .find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.eq_ignore_ascii_case("data").then_some(value)
        })
        .ok_or("the export URI has no data= parameter")?;
    let decoded: Zeroizing<Vec<u8>> = Zeroizing::new(
        percent_encoding::percent_decode_str(data)
            .map(|b| if b == b' ' { b'+' } else { b })
            .collect(),
    );
    let payload = base64(&decoded).ok_or("the export data is not valid base64")?;
    let mut entries = Vec::new();
    for field in Fields::new(&payload) {
        let (number, value) = field.ok_or("the export data is damaged (bad protobuf)")?;
        if let (1, Value::Bytes(message)) = (number, value) {
            entries.push(otp(message)?);
        }
    }
    if entries.is_empty() {
        return Err("the export holds no accounts".into());
    }
    Ok(entries)
}

fn otp(message: &[u8]) -> Result<Entry, String> {
    let mut secret = Zeroizing::new(Vec::new());
    let (mut name, mut issuer) = (String::new(), String::new());
    let (mut algorithm, mut digits, mut kind) = (0, 0, 0);
    for field in Fields::new(message) {
        match field.ok_or("the export data is damaged (bad protobuf)")? {
            (1, Value::Bytes(b)) => secret = Zeroizing::new(b.to_vec()),
            (2, Value::Bytes(b)) => name = String::from_utf8_lossy(b).into_owned(),
            (3, Value::Bytes(b)) => issuer = String::from_utf8_lossy(b).into_owned(),
            (4, Value::Varint(v)) => algorithm = v,
            (5, Value::Varint(v)) => digits = v,
            (6, Value::Varint(v)) => kind = v,
            _ => {}
        }
    }
    // Google keeps the account's label (`Issuer:account`, as in an otpauth URI) in `name`: it is split
    // the same way, the prefix standing for the issuer when `issuer` is empty.
    let (name, issuer) = match name.trim().split_once(':') {
        Some((prefix, account)) if !account.trim().is_empty() => {
            let issuer = match issuer.trim().is_empty() {
                true => prefix.trim().to_owned(),
                false => issuer,
            };
            (account.trim().to_owned(), issuer)
        }
        _ => (name.trim().to_owned(), issuer),
    };
    if kind == 1 {
        return Ok(Entry::LeftOut {
            name,
            reason: "HOTP (counter-based) accounts are not supported, only TOTP".into(),
        });
    }
    let algorithm = match algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        _ => {
            return Ok(Entry::LeftOut {
                name,
                reason: "MD5 accounts are not supported".into(),
            });
        }
    };
    let digits = match digits {
        0 | 1 => 6,
        2 => 8,
        other => return Err(format!("'{name}': unknown digit count {other}")),
    };
    if secret.is_empty() {
        return Err(format!("'{name}': the secret is empty"));
    }
    if name.is_empty() {
        return Err("an account has no name".into());
    }
    Ok(Entry::Account(Account {
        name,
        issuer: (!issuer.trim().is_empty()).then(|| issuer.trim().to_owned()),
        params: Params {
            digits,
            period: 30,
            algorithm,
            kind: Kind::Totp,
        },
        secret: Secret::from_bytes(secret),
    }))
}

/// Base64, standard or URL-safe alphabet, padding optional.
fn base64(text: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let cleaned: Zeroizing<Vec<u8>> = Zeroizing::new(
        text.iter()
            .filter(|b| !b.is_ascii_whitespace() && **b != b'=')
            .map(|b| match b {
                b'-' => b'+',
                b'_' => b'/',
                other => *other,
            })
            .collect(),
    );
    let len = data_encoding::BASE64_NOPAD.decode_len(cleaned.len()).ok()?;
    let mut out = Zeroizing::new(vec![0; len]);
    let written = data_encoding::BASE64_NOPAD
        .decode_mut(&cleaned, &mut out)
        .ok()?;
    out.truncate(written);
    Some(out)
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Protobuf fields of a message: `None` for a damaged one (then iteration stops).
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields {
            buf,
            pos: 0,
            failed: false,
        }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.buf.get(self.pos)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn field(&mut self) -> Option<(u64, Value<'a>)> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let end = self.pos.checked_add(len)?;
                let bytes = self.buf.get(self.pos..end)?;
                self.pos = end;
                Value::Bytes(bytes)
            }
            1 => {
                self.pos = self.pos.checked_add(8).filter(|p| *p <= self.buf.len())?;
                Value::Varint(0)
            }
            5 => {
                self.pos = self.pos.checked_add(4).filter(|p| *p <= self.buf.len())?;
                Value::Varint(0)
            }
            _ => return None,
        };
        Some((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Option<(u64, Value<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let field = self.field();
        self.failed = field.is_none();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC";

    #[test]
    fn decodes_the_public_sample() {
        assert!(is_uri(SAMPLE));
        let entries = parse(SAMPLE).unwrap();
        let [Entry::Account(account)] = entries.as_slice() else {
            panic!("one account expected");
        };
        // The label `Example:alice@google.com` split as the Key URI format says (issue 21).
        assert_eq!(account.name, "alice@google.com");
        assert_eq!(account.issuer.as_deref(), Some("Example"));
        assert_eq!(account.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
        assert_eq!(account.params, Params::default());
    }

    #[test]
    fn damaged_data_is_an_error_not_a_panic() {
        for bad in [
            "otpauth-migration://offline?data=CjEKCkhlbGxv",
            "otpauth-migration://offline?data=!!!",
            "otpauth-migration://offline",
            "otpauth-migration://offline?data=",
            "otpauth-migration://offline?data=CP%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FAQ",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
