//! Proton Pass and Proton Authenticator exports.
//!
//! - Proton Pass (unencrypted zip): `Proton Pass/data.json` holds `{"encrypted":false,"vaults":{ID:
//!   {"name","items":[{"data":{"type":"login","metadata":{"name"},"content":{"itemUsername",
//!   "itemEmail","totpUri"},"extraFields":[{"fieldName","type":"totp","data":{"totpUri"}}]}}]}}}`.
//!   `totpUri` is an otpauth URI or a bare secret. The PGP-encrypted export is out of scope.
//! - Proton Authenticator: `{"version":1,"entries":[{"content":{"uri","entry_type","name"}}]}`.

use serde_json::Value;

use super::archive::Archive;
use super::json::text;
use super::{Entry, from_uri};

pub fn pass(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut archive = Archive::open(bytes)?;
    let names = archive.names();
    if super::onepassword::is_1pux(&names) {
        return Err("this is a 1Password export (.1pux): import it as 1password".into());
    }
    let Some(data) = names.iter().find(|n| n.ends_with("data.json")).cloned() else {
        if names.iter().any(|n| n.ends_with(".pgp")) {
            return Err(pgp());
        }
        return Err(
            "the zip archive holds no data.json: it is not a Proton Pass export (the zip exports \
             teamotp reads are Proton Pass's)"
                .into(),
        );
    };
    let json = archive.read(&data)?;
    let value = super::parse_json(&json)?;
    if value.get("encrypted").and_then(Value::as_bool) == Some(true) {
        return Err(pgp());
    }
    let vaults = value
        .get("vaults")
        .and_then(Value::as_object)
        .ok_or("the Proton Pass export has no \"vaults\"")?;
    let mut entries = Vec::new();
    for vault in vaults.values() {
        let Some(items) = vault.get("items").and_then(Value::as_array) else {
            continue;
        };
        for item in items {
            let data = item.get("data").unwrap_or(&Value::Null);
            let title = data
                .get("metadata")
                .map(|m| text(m, "name"))
                .unwrap_or_default();
            let content = data.get("content").unwrap_or(&Value::Null);
            let username = [text(content, "itemUsername"), text(content, "itemEmail")]
                .into_iter()
                .find(|u| !u.trim().is_empty())
                .unwrap_or_default();
            if content
                .get("passkeys")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty())
            {
                entries.push(super::bitwarden::passkey(&title, &username));
            }
            let totp = text(content, "totpUri");
            if !totp.trim().is_empty() {
                entries.push(super::bitwarden::entry(&title, &username, &totp));
            }
            for field in data
                .get("extraFields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if text(field, "type") != "totp" {
                    continue;
                }
                let uri = field
                    .get("data")
                    .map(|d| text(d, "totpUri"))
                    .unwrap_or_default();
                if uri.trim().is_empty() {
                    continue;
                }
                let label = format!("{title} {}", text(field, "fieldName"));
                entries.push(super::bitwarden::entry(label.trim(), &username, &uri));
            }
        }
    }
    Ok(entries)
}

fn pgp() -> String {
    "this Proton Pass export is PGP-encrypted, which teamotp does not read: in Proton Pass, export \
     again without encryption (Settings, Export, uncheck \"Encrypt with PGP\")"
        .into()
}

/// Proton Authenticator's password-protected export: `{"version":1,"salt":B64,"content":B64(nonce ‖
/// ciphertext ‖ tag)}`, AES-256-GCM with the associated data `proton.authenticator.export.v1` under
/// Argon2id(password, salt; 2 passes, 19 MiB, 1 lane).
fn is_encrypted_authenticator(value: &Value) -> bool {
    value.get("salt").is_some_and(Value::is_string)
        && value.get("content").is_some_and(Value::is_string)
        && value.get("version").is_some()
}

pub fn is_authenticator(value: &Value) -> bool {
    if is_encrypted_authenticator(value) {
        return true;
    }
    value
        .get("entries")
        .and_then(Value::as_array)
        .is_some_and(|e| {
            e.first()
                .is_some_and(|first| first.get("content").and_then(|c| c.get("uri")).is_some())
        })
        && value.get("version").is_some()
}

pub fn authenticator(value: &Value, unlock: &mut super::Unlock) -> Result<Vec<Entry>, String> {
    const PRODUCT: &str = "Proton Authenticator encrypted export";
    if is_encrypted_authenticator(value) {
        let salt = super::crypto::base64(&text(value, "salt"))?;
        let content = super::crypto::base64(&text(value, "content"))?;
        if content.len() < 12 + 16 {
            return Err(format!("the {PRODUCT} is cut off"));
        }
        let kdf = super::crypto::Kdf::Argon2id {
            kib: 19 * 1024,
            passes: 2,
            lanes: 1,
        };
        let password = (unlock.password)(PRODUCT)?;
        let key = kdf.derive(password.as_bytes(), &salt)?;
        let (nonce, data) = content.split_at(12);
        let plain =
            super::crypto::aes_gcm_aad(&key, nonce, data, b"proton.authenticator.export.v1")
                .ok_or_else(|| super::encrypted::wrong_password(PRODUCT))?;
        let inner = super::parse_json(&plain)?;
        if is_encrypted_authenticator(&inner) {
            return Err(format!("the {PRODUCT} holds another encrypted export"));
        }
        return authenticator(&inner, unlock);
    }
    let entries = value
        .get("entries")
        .and_then(Value::as_array)
        .ok_or("the Proton Authenticator export has no \"entries\" list")?;
    Ok(entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let content = entry.get("content").unwrap_or(&Value::Null);
            let name = text(content, "name");
            let fallback = if name.trim().is_empty() {
                format!("entry {}", i + 1)
            } else {
                name
            };
            from_uri(&text(content, "uri"), &fallback)
        })
        .collect())
}
