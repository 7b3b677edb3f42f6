//! 1Password 7's OPVault folders (`NAME.opvault/default/`): `profile.js` (`var profile={...};`) holds the
//! salt, the PBKDF2-HMAC-SHA512 iteration count and the master and overview keys; `band_*.js`
//! (`ld({...});`) hold the items. Everything is `opdata01` (AES-256-CBC, HMAC-SHA256 checked first):
//!
//! - PBKDF2-HMAC-SHA512(password, salt) gives 64 bytes: an encryption key and a MAC key;
//! - the master key (and the overview key) is `opdata01` under those; SHA-512 of its plaintext gives the
//!   next pair of keys;
//! - each item's `k` is IV ‖ 64 bytes ‖ MAC under the master keys: the item's own key pair;
//! - each item's `d` (details: fields and sections) is `opdata01` under the item's keys, its `o`
//!   (overview: the title) under the overview keys.
//!
//! A TOTP is a section field whose name starts with `TOTP_`, holding an otpauth URI or a bare secret.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::Digest;
use zeroize::Zeroizing;

use super::crypto::{self, Kdf};
use super::json::text;
use super::{Entry, Unlock};

const PRODUCT: &str = "1Password OPVault";

/// The files of an OPVault folder the reader needs: `profile.js` and every `band_*.js`.
pub struct Folder {
    pub profile: Zeroizing<Vec<u8>>,
    pub bands: Vec<Zeroizing<Vec<u8>>>,
}

/// An encryption key and its MAC key.
struct Keys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn from_64(bytes: &[u8]) -> Keys {
        let mut enc = Zeroizing::new([0u8; 32]);
        let mut mac = Zeroizing::new([0u8; 32]);
        enc.copy_from_slice(&bytes[..32]);
        mac.copy_from_slice(&bytes[32..64]);
        Keys { enc, mac }
    }

    /// Keys made from a decrypted key's SHA-512.
    fn hashed(plain: &[u8]) -> Keys {
        let digest = Zeroizing::new(sha2::Sha512::digest(plain));
        Keys::from_64(&digest)
    }
}

type HmacSha256 = hmac::Hmac<sha2_011::Sha256>;

fn verify(keys: &Keys, data: &[u8], tag: &[u8]) -> bool {
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(&keys.mac[..]) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(tag).is_ok()
}

fn cbc_no_padding(keys: &Keys, iv: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if iv.len() != 16 || data.is_empty() || !data.len().is_multiple_of(16) {
        return None;
    }
    let mut buffer = Zeroizing::new(data.to_vec());
    cbc::Decryptor::<aes::Aes256>::new_from_slices(&keys.enc[..], iv)
        .ok()?
        .decrypt_padded_mut::<NoPadding>(&mut buffer)
        .ok()?;
    Some(buffer)
}

/// `opdata01`: magic, plaintext length (u64 LE), IV, ciphertext (random padding first), HMAC-SHA256.
/// `None` when the MAC does not verify or the layout is wrong.
fn opdata(keys: &Keys, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if blob.len() < 8 + 8 + 16 + 16 + 32 || !blob.starts_with(b"opdata01") {
        return None;
    }
    let (body, tag) = blob.split_at(blob.len() - 32);
    if !verify(keys, body, tag) {
        return None;
    }
    let length = u64::from_le_bytes(body[8..16].try_into().ok()?);
    let plain = cbc_no_padding(keys, &body[16..32], &body[32..])?;
    let length = usize::try_from(length).ok().filter(|l| *l <= plain.len())?;
    Some(Zeroizing::new(plain[plain.len() - length..].to_vec()))
}

/// The JSON object in `var profile={...};` or `ld({...});`.
fn object(bytes: &[u8]) -> Result<Value, String> {
    let start = bytes.iter().position(|b| *b == b'{');
    let end = bytes.iter().rposition(|b| *b == b'}');
    match (start, end) {
        (Some(start), Some(end)) if start < end => super::parse_json(&bytes[start..=end]),
        _ => Err("an OPVault file holds no JSON object (is the folder damaged?)".into()),
    }
}

fn field_base64(value: &Value, key: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    crypto::base64(value.get(key).and_then(Value::as_str).unwrap_or(""))
}

pub fn read(folder: &Folder, unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    let profile = object(&folder.profile)?;
    let iterations = profile
        .get("iterations")
        .and_then(Value::as_u64)
        .ok_or("the OPVault profile has no iteration count")?;
    let kdf = Kdf::Pbkdf2Sha512 {
        iterations: u32::try_from(iterations).unwrap_or(u32::MAX),
    };
    kdf.check()?;
    let salt = field_base64(&profile, "salt")?;
    let master = field_base64(&profile, "masterKey")?;
    let overview = field_base64(&profile, "overviewKey")?;
    let mut items = Vec::new();
    for band in &folder.bands {
        if let Value::Object(map) = object(band)? {
            items.extend(map.into_iter().map(|(_, item)| item));
        }
        if items.len() > super::MAX_ENTRIES {
            return Err(format!(
                "the OPVault holds more than {} items",
                super::MAX_ENTRIES
            ));
        }
    }

    let password = (unlock.password)(PRODUCT)?;
    let derived = kdf.derive_64(password.as_bytes(), &salt)?;
    drop(password);
    let derived = Keys::from_64(&derived[..]);
    let master = opdata(&derived, &master)
        .map(|plain| Keys::hashed(&plain))
        .ok_or_else(|| super::encrypted::wrong_password(PRODUCT))?;
    let overview = opdata(&derived, &overview)
        .map(|plain| Keys::hashed(&plain))
        .ok_or("the OPVault's overview key does not decrypt: the profile is damaged")?;

    let mut entries = Vec::new();
    for item in items {
        if item.get("trashed").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let title = field_base64(&item, "o")
            .ok()
            .and_then(|o| opdata(&overview, &o))
            .and_then(|plain| super::parse_json(&plain).ok())
            .map(|o| text(&o, "title"))
            .unwrap_or_default();
        let shown = if title.is_empty() {
            format!("item {}", text(&item, "uuid"))
        } else {
            title.clone()
        };
        let damaged = |what: &str| Entry::LeftOut {
            name: shown.clone(),
            reason: format!("the item's {what} does not decrypt (the vault is damaged)"),
        };
        let key = field_base64(&item, "k").unwrap_or_default();
        let item_keys = (key.len() == 16 + 64 + 32)
            .then(|| {
                let (body, tag) = key.split_at(16 + 64);
                verify(&master, body, tag)
                    .then(|| cbc_no_padding(&master, &body[..16], &body[16..]))
                    .flatten()
            })
            .flatten()
            .map(|plain| Keys::from_64(&plain));
        let Some(item_keys) = item_keys else {
            entries.push(damaged("key"));
            continue;
        };
        let Some(details) = field_base64(&item, "d")
            .ok()
            .and_then(|d| opdata(&item_keys, &d))
            .and_then(|plain| super::parse_json(&plain).ok())
        else {
            entries.push(damaged("details"));
            continue;
        };
        let username = super::onepassword::designated_username(details.get("fields"));
        for field in super::onepassword::section_fields(&details) {
            if !text(field, "n").starts_with("TOTP_") {
                continue;
            }
            let totp = Zeroizing::new(text(field, "v"));
            if totp.trim().is_empty() {
                continue;
            }
            entries.push(super::bitwarden::entry(&title, &username, &totp));
        }
    }
    Ok(entries)
}
