//! Ente Auth's exports.
//!
//! - Plain text: one `otpauth://` URI per line (with Ente's own `codeDisplay` parameter): read as an
//!   otpauth list.
//! - Encrypted (Ente's export document, docs/docs/auth/migration/export.md): `{"version":1,"kdfParams":
//!   {"memLimit":BYTES,"opsLimit":N,"salt":B64},"encryptedData":B64,"encryptionNonce":B64}`. The key is
//!   Argon2id(password, salt; opsLimit passes, memLimit / 1024 KiB, 1 lane, 32 bytes), as libsodium's
//!   `crypto_pwhash` does; the data is one libsodium `crypto_secretstream_xchacha20poly1305` message
//!   whose header is `encryptionNonce`, holding the plain-text export.

use crypto_secretstream::{Header, Key, PullStream};
use serde_json::Value;
use zeroize::Zeroizing;

use super::crypto::{self, Kdf};
use super::{Entry, Unlock};

const PRODUCT: &str = "Ente Auth encrypted export";

pub fn is_encrypted(value: &Value) -> bool {
    value.get("kdfParams").is_some_and(Value::is_object)
        && value.get("encryptedData").is_some_and(Value::is_string)
        && value.get("encryptionNonce").is_some_and(Value::is_string)
}

pub fn read(value: &Value, unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    if value.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("this Ente Auth export has a version teamotp does not know (1 is)".into());
    }
    let params = value.get("kdfParams").unwrap_or(&Value::Null);
    let number = |key: &str| params.get(key).and_then(Value::as_u64);
    let (Some(memory), Some(passes)) = (number("memLimit"), number("opsLimit")) else {
        return Err("the Ente Auth export has no memLimit and opsLimit".into());
    };
    let kdf = Kdf::Argon2id {
        kib: u32::try_from(memory / 1024).unwrap_or(u32::MAX),
        passes: u32::try_from(passes).unwrap_or(u32::MAX),
        lanes: 1,
    };
    kdf.check()?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    let salt = crypto::base64(&text(params.get("salt")))?;
    let nonce = crypto::base64(&text(value.get("encryptionNonce")))?;
    let header = Header::try_from(&nonce[..])
        .map_err(|_| "the Ente Auth export's encryptionNonce is not 24 bytes".to_string())?;
    let data = crypto::base64(&text(value.get("encryptedData")))?;

    let password = (unlock.password)(PRODUCT)?;
    let key = kdf.derive(password.as_bytes(), &salt)?;
    drop(password);
    let mut stream = PullStream::init(header, &Key::from(*key));
    let mut plain = Zeroizing::new(data.to_vec());
    stream
        .pull(&mut *plain, b"")
        .map_err(|_| super::encrypted::wrong_password(PRODUCT))?;
    let text =
        std::str::from_utf8(&plain).map_err(|_| format!("the {PRODUCT} does not hold text"))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            if crate::vault::format::otpauth::is_uri(line.trim()) {
                super::from_uri(line, &format!("line {}", index + 1))
            } else {
                Entry::LeftOut {
                    name: format!("line {}", index + 1),
                    reason: "not an otpauth:// URI".into(),
                }
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ente's CLI test vector (cli/internal/crypto/crypto_test.go, `TestDeriveArgonKey`): the key
    /// teamotp derives from an export's kdfParams is the one Ente derives.
    #[test]
    fn derives_entes_key_from_its_kdf_params() {
        let kdf = Kdf::Argon2id {
            kib: 64 * 1024,
            passes: 2,
            lanes: 1,
        };
        let salt = crypto::base64("vd0dcYMGNLKn/gpT6uTFTw==").unwrap();
        let key = kdf.derive(b"test_password", &salt).unwrap();
        assert_eq!(
            data_encoding::BASE64.encode(&key[..]),
            "vp8d8Nee0BbIML4ab8Cp34uYnyrN77cRwTl920flyT0="
        );
    }
}
