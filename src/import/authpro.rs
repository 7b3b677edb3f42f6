//! Authenticator Pro (now Stratum) backups:
//!
//! - plain JSON: `{"Authenticators":[{"Type","Issuer","Username","Secret","Algorithm","Digits",
//!   "Period","Counter"}]}`; `Type` 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex; `Algorithm` 0 SHA1,
//!   1 SHA256, 2 SHA512;
//! - encrypted: `AUTHENTICATORPRO`, a 16-byte salt, a 12-byte IV, then the JSON under AES-256-GCM with
//!   Argon2id(password, salt; 3 passes, 64 MiB, 4 lanes);
//! - legacy encrypted: `AuthenticatorPro`, a 20-byte salt, a 16-byte IV, then the JSON under AES-256-CBC
//!   with PBKDF2-HMAC-SHA1(password, salt, 64,000 iterations).

use serde_json::Value;
use zeroize::Zeroizing;

use super::crypto::{self, Kdf};
use super::json::{build, number, text, unsupported};
use super::{Entry, Unlock};
use crate::account::Kind;

const HEADER: &[u8] = b"AUTHENTICATORPRO";
const HEADER_LEGACY: &[u8] = b"AuthenticatorPro";
const PRODUCT: &str = "Authenticator Pro encrypted backup";

pub fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(HEADER) || bytes.starts_with(HEADER_LEGACY)
}

pub fn is_json(value: &Value) -> bool {
    value.get("Authenticators").is_some_and(Value::is_array)
}

pub fn read(bytes: &[u8], unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    if !is_encrypted(bytes) {
        return entries(&super::parse_json(bytes)?);
    }
    let plain = if bytes.starts_with(HEADER) {
        let rest = &bytes[HEADER.len()..];
        if rest.len() < 16 + 12 + 16 {
            return Err(format!("the {PRODUCT} is cut off"));
        }
        let (salt, rest) = rest.split_at(16);
        let (iv, data) = rest.split_at(12);
        let kdf = Kdf::Argon2id {
            kib: 64 * 1024,
            passes: 3,
            lanes: 4,
        };
        let password = (unlock.password)(PRODUCT)?;
        let key = kdf.derive(password.as_bytes(), salt)?;
        crypto::aes_gcm(&key, iv, data).ok_or_else(|| super::encrypted::wrong_password(PRODUCT))?
    } else {
        let rest = &bytes[HEADER_LEGACY.len()..];
        if rest.len() < 20 + 16 + 16 {
            return Err(format!("the {PRODUCT} is cut off"));
        }
        let (salt, rest) = rest.split_at(20);
        let (iv, data) = rest.split_at(16);
        let kdf = Kdf::Pbkdf2Sha1 { iterations: 64_000 };
        let password = (unlock.password)(PRODUCT)?;
        let key = kdf.derive(password.as_bytes(), salt)?;
        let plain: Zeroizing<Vec<u8>> = crypto::aes_cbc(&key, iv, data)
            .ok_or_else(|| super::encrypted::wrong_password(PRODUCT))?;
        if std::str::from_utf8(&plain).is_err() {
            return Err(super::encrypted::wrong_password(PRODUCT));
        }
        plain
    };
    entries(&super::parse_json(&plain)?)
}

fn entries(value: &Value) -> Result<Vec<Entry>, String> {
    let list = value
        .get("Authenticators")
        .and_then(Value::as_array)
        .ok_or("the Authenticator Pro backup has no \"Authenticators\" list")?;
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let issuer = text(item, "Issuer");
            let username = text(item, "Username");
            let (name, issuer) = if username.trim().is_empty() {
                (issuer, String::new())
            } else {
                (username, issuer)
            };
            let shown = if name.trim().is_empty() {
                format!("entry {}", i + 1)
            } else if issuer.is_empty() {
                name.clone()
            } else {
                format!("{name} ({issuer})")
            };
            let kind = match item.get("Type").and_then(Value::as_u64) {
                Some(2) => Kind::Totp,
                Some(4) => Kind::Steam,
                Some(1) => return unsupported(shown, "HOTP"),
                Some(3) => return unsupported(shown, "mOTP"),
                Some(5) => return unsupported(shown, "Yandex"),
                _ => return unsupported(shown, "unknown"),
            };
            let algorithm = match item.get("Algorithm").and_then(Value::as_u64) {
                None | Some(0) => "SHA1",
                Some(1) => "SHA256",
                Some(2) => "SHA512",
                Some(_) => "unknown",
            };
            build(
                name,
                issuer,
                &text(item, "Secret"),
                &number(item, "Digits"),
                &number(item, "Period"),
                algorithm,
                kind,
            )
        })
        .collect())
}
