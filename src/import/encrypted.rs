//! The encrypted backups of the authenticator apps teamotp already reads in plaintext:
//!
//! - Aegis (docs/vault.md of Aegis): each password slot holds the master key, AES-256-GCM-encrypted
//!   under scrypt(password, salt, N, r, p); the `db` string is the vault, AES-256-GCM under the master
//!   key (`header.params` nonce and tag).
//! - 2FAS: `servicesEncrypted` is `Base64(ciphertext ‖ tag):Base64(salt):Base64(iv)`, AES-256-GCM under
//!   PBKDF2-HMAC-SHA256(password, salt, 10,000 iterations).
//! - andOTP (`.json.aes`): a 4-byte big-endian iteration count, a 12-byte salt, a 12-byte nonce, then the
//!   JSON, AES-256-GCM under PBKDF2-HMAC-SHA1(password, salt, iterations).
//!
//! Each returns the plaintext JSON; the JSON readers in `json.rs` take it from there.

use serde_json::Value;
use zeroize::Zeroizing;

use super::Unlock;
use super::crypto::{self, Kdf};

/// The message for a password that does not open the file.
pub fn wrong_password(product: &str) -> String {
    format!("wrong password for this {product} (or the file is damaged)")
}

/// Decrypts an encrypted Aegis vault's `db`, returning it as JSON.
pub fn aegis(value: &Value, unlock: &mut Unlock) -> Result<Value, String> {
    const PRODUCT: &str = "Aegis encrypted vault";
    let header = value.get("header").ok_or("the Aegis vault has no header")?;
    let slots: Vec<&Value> = header
        .get("slots")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter(|slot| slot.get("type").and_then(Value::as_u64) == Some(1))
                .collect()
        })
        .unwrap_or_default();
    if slots.is_empty() {
        return Err(
            "the Aegis vault has no password slot (it is unlocked by biometrics only): in Aegis, \
             set a password, or export it without encryption"
                .into(),
        );
    }
    // Every slot's parameters are checked before the password is asked.
    let mut prepared = Vec::new();
    for slot in &slots {
        let number = |key: &str| slot.get(key).and_then(Value::as_u64).unwrap_or(0);
        let n = number("n");
        if !n.is_power_of_two() || n < 2 {
            return Err(format!(
                "the Aegis slot's scrypt N = {n} is not a power of two"
            ));
        }
        let kdf = Kdf::Scrypt {
            log_n: n.trailing_zeros() as u8,
            r: u32::try_from(number("r")).unwrap_or(u32::MAX),
            p: u32::try_from(number("p")).unwrap_or(u32::MAX),
        };
        kdf.check()?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
        let salt = crypto::hex(&text(slot.get("salt")))?;
        let mut key = crypto::hex(&text(slot.get("key")))?;
        let params = slot.get("key_params");
        let nonce = crypto::hex(&text(params.and_then(|p| p.get("nonce"))))?;
        key.extend_from_slice(&crypto::hex(&text(params.and_then(|p| p.get("tag"))))?);
        prepared.push((kdf, salt, nonce, key));
    }
    let params = header.get("params");
    let field = |key: &str| {
        params
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let nonce = crypto::hex(&field("nonce"))?;
    let tag = crypto::hex(&field("tag"))?;
    let mut db = crypto::base64(value.get("db").and_then(Value::as_str).unwrap_or(""))?;
    db.extend_from_slice(&tag);

    let password = (unlock.password)(PRODUCT)?;
    for (kdf, salt, slot_nonce, slot_key) in prepared {
        let derived = kdf.derive(password.as_bytes(), &salt)?;
        let Some(master) = crypto::aes_gcm(&derived, &slot_nonce, &slot_key) else {
            continue;
        };
        let master: [u8; 32] = master[..]
            .try_into()
            .map_err(|_| "the Aegis slot's master key is not 32 bytes")?;
        let master = Zeroizing::new(master);
        let plain = crypto::aes_gcm(&master, &nonce, &db).ok_or(
            "the password is right, but the Aegis vault's contents do not decrypt: the file is \
             damaged or cut off",
        )?;
        return super::parse_json(&plain);
    }
    Err(wrong_password(PRODUCT))
}

/// Decrypts a 2FAS backup's `servicesEncrypted`, returning the services list as JSON.
pub fn two_fas(value: &Value, unlock: &mut Unlock) -> Result<Value, String> {
    const PRODUCT: &str = "2FAS encrypted backup";
    let text = value
        .get("servicesEncrypted")
        .and_then(Value::as_str)
        .unwrap_or("");
    let parts: Vec<&str> = text.split(':').collect();
    let [data, salt, iv] = parts[..] else {
        return Err(
            "the 2FAS backup's servicesEncrypted field is malformed (is the file cut off?)".into(),
        );
    };
    let (data, salt, iv) = (
        crypto::base64(data)?,
        crypto::base64(salt)?,
        crypto::base64(iv)?,
    );
    let kdf = Kdf::Pbkdf2Sha256 { iterations: 10_000 };
    let password = (unlock.password)(PRODUCT)?;
    let key = kdf.derive(password.as_bytes(), &salt)?;
    let plain = crypto::aes_gcm(&key, &iv, &data).ok_or_else(|| wrong_password(PRODUCT))?;
    super::parse_json(&plain)
}

/// Decrypts an andOTP encrypted backup (`.json.aes`), returning its JSON bytes.
pub fn and_otp(bytes: &[u8], unlock: &mut Unlock) -> Result<Zeroizing<Vec<u8>>, String> {
    const PRODUCT: &str = "andOTP encrypted backup";
    if bytes.len() < 4 + 12 + 12 + 16 {
        return Err(format!(
            "the file is binary but too short to be an {PRODUCT} ({} bytes)",
            bytes.len()
        ));
    }
    let iterations = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let kdf = Kdf::Pbkdf2Sha1 { iterations };
    kdf.check()
        .map_err(|e| format!("{e} (if this is not an {PRODUCT}, it is no format teamotp reads)"))?;
    let (salt, rest) = bytes[4..].split_at(12);
    let (nonce, data) = rest.split_at(12);
    let password = (unlock.password)(PRODUCT)?;
    let key = kdf.derive(password.as_bytes(), salt)?;
    crypto::aes_gcm(&key, nonce, data).ok_or_else(|| wrong_password(PRODUCT))
}
