//! KeePass and KeePassXC databases (`.kdbx`, KDBX 3.1 and 4), opened with the `keepass` crate, with a
//! password and/or a key file. The key derivation's cost is read from the outer header and checked
//! against the caps before the crate derives anything.
//!
//! TOTP is stored in one of these ways (first found wins):
//! - `otp`: an otpauth URI (KeePassXC, KeeWeb), or KeeOtp's `key=BASE32&step=30&size=6&otpHashMode=sha1`;
//! - KeePass 2.47+ (`TimeOtp-Secret-Base32`, `-Secret`, `-Secret-Hex`, `-Secret-Base64`, `TimeOtp-Length`,
//!   `TimeOtp-Period`, `TimeOtp-Algorithm` = `HMAC-SHA-1`/`-256`/`-512`); `HmacOtp-*` is HOTP, left out;
//! - KeeTrayTOTP and KeePassXC 2.5 and older: `TOTP Seed` and `TOTP Settings` (`PERIOD;DIGITS`, or
//!   `PERIOD;S` for Steam).
//!
//! The entry's title is the issuer and its user name the name (or the otpauth URI's label and issuer).

use zeroize::Zeroizing;

use super::json::build;
use super::{Entry, Unlock};
use crate::account::Kind;

/// KeePass signatures: KDBX 2 to 4, and the pre-release KDBX.
const SIG1: [u8; 4] = [0x03, 0xd9, 0xa2, 0x9a];
const SIG2_KDBX: [u8; 4] = [0x67, 0xfb, 0x4b, 0xb5];
const SIG2_PRE: [u8; 4] = [0x66, 0xfb, 0x4b, 0xb5];
const SIG2_KDB: [u8; 4] = [0x65, 0xfb, 0x4b, 0xb5];

/// AES-KDF rounds: KeePass's one-second calibration is a few million on today's machines.
pub const AES_KDF_MAX_ROUNDS: u64 = 200_000_000;

pub fn is_kdbx(bytes: &[u8]) -> bool {
    bytes.len() >= 8
        && bytes[..4] == SIG1
        && [SIG2_KDBX, SIG2_PRE, SIG2_KDB].contains(&[bytes[4], bytes[5], bytes[6], bytes[7]])
}

/// The key derivation named in the outer header, checked against the caps.
fn check_kdf(bytes: &[u8]) -> Result<(), String> {
    let cut = || "the KeePass database's header is cut off".to_string();
    if bytes.len() < 12 {
        return Err(cut());
    }
    if bytes[4..8] == SIG2_KDB {
        return Err("this is a KeePass 1 database (.kdb): open it in KeePassXC or KeePass 2 and save it as .kdbx".into());
    }
    let major = u16::from_le_bytes([bytes[10], bytes[11]]);
    let mut at = 12;
    loop {
        let id = *bytes.get(at).ok_or_else(cut)?;
        let (len, head) = if major >= 4 {
            let b = bytes.get(at + 1..at + 5).ok_or_else(cut)?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5)
        } else {
            let b = bytes.get(at + 1..at + 3).ok_or_else(cut)?;
            (u16::from_le_bytes([b[0], b[1]]) as usize, 3)
        };
        let data = bytes.get(at + head..at + head + len).ok_or_else(cut)?;
        match id {
            0 => return Ok(()),
            6 if major < 4 => {
                let rounds = u64::from_le_bytes(data.try_into().map_err(|_| cut())?);
                check_aes_rounds(rounds)?;
            }
            11 if major >= 4 => check_kdf_parameters(data)?,
            _ => {}
        }
        at += head + len;
    }
}

fn check_aes_rounds(rounds: u64) -> Result<(), String> {
    if rounds > AES_KDF_MAX_ROUNDS {
        return Err(format!(
            "the KeePass database asks for {rounds} AES-KDF rounds, above the cap of \
             {AES_KDF_MAX_ROUNDS}; teamotp refuses it before doing any work"
        ));
    }
    Ok(())
}

/// KDBX 4's KDF parameters, a variant dictionary: `$UUID`, `R` (AES-KDF rounds), `M` (Argon2 memory,
/// bytes), `I` (Argon2 passes), `P` (Argon2 lanes).
fn check_kdf_parameters(data: &[u8]) -> Result<(), String> {
    let bad = || "the KeePass database's KDF parameters are malformed".to_string();
    let mut at = 2;
    let (mut memory, mut passes, mut lanes, mut rounds) = (None, None, None, None);
    loop {
        let kind = *data.get(at).ok_or_else(bad)?;
        if kind == 0 {
            break;
        }
        let word = |from: usize| -> Result<usize, String> {
            let b = data.get(from..from + 4).ok_or_else(bad)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let key_len = word(at + 1)?;
        let key = data.get(at + 5..at + 5 + key_len).ok_or_else(bad)?;
        let value_len = word(at + 5 + key_len)?;
        let value_at = at + 9 + key_len;
        let value = data.get(value_at..value_at + value_len).ok_or_else(bad)?;
        let number = match value.len() {
            4 => Some(u64::from(u32::from_le_bytes(
                value.try_into().map_err(|_| bad())?,
            ))),
            8 => Some(u64::from_le_bytes(value.try_into().map_err(|_| bad())?)),
            _ => None,
        };
        match key {
            b"M" => memory = number,
            b"I" => passes = number,
            b"P" => lanes = number,
            b"R" => rounds = number,
            _ => {}
        }
        at = value_at + value_len;
    }
    if let Some(rounds) = rounds {
        check_aes_rounds(rounds)?;
    }
    if let (Some(memory), Some(passes), Some(lanes)) = (memory, passes, lanes) {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        super::crypto::Kdf::Argon2id {
            kib: clamp(memory / 1024),
            passes: clamp(passes),
            lanes: clamp(lanes),
        }
        .check()?;
    }
    Ok(())
}

pub fn read(bytes: &[u8], unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    const PRODUCT: &str = "KeePass database";
    check_kdf(bytes)?;
    let mut key = keepass::DatabaseKey::new();
    if let Some(mut key_file) = unlock.key_file {
        key = key
            .with_keyfile(&mut key_file)
            .map_err(|e| format!("the key file cannot be read ({e})"))?;
    }
    let password = if unlock.key_file.is_some() {
        // With a key file the password may be empty; an empty answer means "no password".
        (unlock.password)("KeePass database (empty if it has only a key file)")?
    } else {
        (unlock.password)(PRODUCT)?
    };
    if !password.is_empty() {
        key = key.with_password(&password);
    }
    drop(password);
    let db = keepass::Database::parse(bytes, key).map_err(|e| match e {
        // KDBX 3.1 decrypts before it checks the key: a wrong key shows as bad padding.
        keepass::db::DatabaseOpenError::Key(_)
        | keepass::db::DatabaseOpenError::Cryptography(_) => {
            if unlock.key_file.is_some() {
                "wrong password or key file for this KeePass database".to_string()
            } else {
                super::encrypted::wrong_password(PRODUCT)
            }
        }
        keepass::db::DatabaseOpenError::UnsupportedVersion => {
            "this KeePass database version is not supported (KDBX 3.1 and 4 are)".to_string()
        }
        // Only the outer layers' messages are shown: an inner (XML) error may quote the decrypted
        // database, secrets included.
        keepass::db::DatabaseOpenError::Io(e) => {
            format!("the KeePass database cannot be read ({})", e.kind())
        }
        keepass::db::DatabaseOpenError::UnexpectedEof => {
            "the KeePass database is cut off".to_string()
        }
        _ => "the KeePass database cannot be read: it is damaged or cut off, or uses a feature \
              teamotp does not support"
            .to_string(),
    })?;
    let mut entries = Vec::new();
    walk(db.root(), 0, &mut entries);
    Ok(entries)
}

/// The deepest group nesting read.
const MAX_GROUP_DEPTH: usize = 64;

/// Collects the TOTP entries of a group and its subgroups, in the database's order, skipping the
/// recycle bin.
fn walk(group: keepass::db::GroupRef<'_>, depth: usize, entries: &mut Vec<Entry>) {
    if depth > MAX_GROUP_DEPTH || entries.len() > super::MAX_ENTRIES {
        return;
    }
    if depth > 0 && group.name.eq_ignore_ascii_case("Recycle Bin") {
        return;
    }
    for item in group.entries() {
        // KeePassXC keeps a passkey in `KPEX_PASSKEY_*` fields.
        if item.fields.keys().any(|k| k.starts_with("KPEX_PASSKEY_")) {
            let field = |key: &str| item.get(key).unwrap_or("").to_owned();
            entries.push(super::bitwarden::passkey(
                &field("Title"),
                &field("UserName"),
            ));
        }
        if let Some(found) = entry(&item) {
            entries.push(found);
        }
    }
    for child in group.groups() {
        walk(child, depth + 1, entries);
    }
}

/// The TOTP of one KeePass entry, if it has one.
fn entry(item: &keepass::db::Entry) -> Option<Entry> {
    let field = |key: &str| item.get(key).map(str::trim).filter(|v| !v.is_empty());
    let title = field("Title").unwrap_or("");
    let username = field("UserName").unwrap_or("");
    if let Some(otp) = field("otp") {
        if otp.contains("key=") && !crate::vault::format::otpauth::is_uri(otp) {
            return Some(kee_otp(title, username, otp));
        }
        return Some(super::bitwarden::entry(title, username, otp));
    }
    let (name, issuer) = if username.is_empty() {
        (title.to_owned(), String::new())
    } else {
        (username.to_owned(), title.to_owned())
    };
    let secret = field("TimeOtp-Secret-Base32")
        .map(|s| Zeroizing::new(s.to_owned()))
        .or_else(|| field("TimeOtp-Secret").map(|s| base32(s.as_bytes())))
        .or_else(|| {
            field("TimeOtp-Secret-Hex").map(|s| {
                let bytes = data_encoding::HEXLOWER_PERMISSIVE
                    .decode(s.replace(' ', "").as_bytes())
                    .map(Zeroizing::new)
                    .unwrap_or_default();
                base32(&bytes)
            })
        })
        .or_else(|| {
            field("TimeOtp-Secret-Base64").map(|s| {
                let bytes = super::crypto::base64(s).unwrap_or_default();
                base32(&bytes)
            })
        });
    if let Some(secret) = secret {
        let algorithm = field("TimeOtp-Algorithm")
            .unwrap_or("")
            .trim_start_matches("HMAC-")
            .replace('-', "");
        return Some(build(
            name,
            issuer,
            &secret,
            field("TimeOtp-Length").unwrap_or(""),
            field("TimeOtp-Period").unwrap_or(""),
            &algorithm,
            Kind::Totp,
        ));
    }
    if item.fields.keys().any(|k| k.starts_with("HmacOtp-Secret")) {
        return Some(super::json::unsupported(
            super::bitwarden::shown(title, username),
            "HOTP",
        ));
    }
    if let Some(seed) = field("TOTP Seed") {
        let settings = field("TOTP Settings").unwrap_or("30;6");
        let mut parts = settings.split(';').map(str::trim);
        let period = parts.next().unwrap_or("");
        let digits = parts.next().unwrap_or("");
        let kind = if digits.eq_ignore_ascii_case("S") {
            Kind::Steam
        } else {
            Kind::Totp
        };
        return Some(build(name, issuer, seed, digits, period, "", kind));
    }
    None
}

/// KeeOtp's `otp` field: `key=BASE32&step=30&size=6&otpHashMode=sha256` (`type=hotp` is HOTP).
fn kee_otp(title: &str, username: &str, otp: &str) -> Entry {
    let mut key = Zeroizing::new(String::new());
    let (mut step, mut size, mut mode) = ("", "", "");
    for pair in otp.split('&') {
        match pair.split_once('=') {
            Some(("key", v)) => {
                key = Zeroizing::new(
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
            }
            Some(("step", v)) => step = v,
            Some(("size", v)) => size = v,
            Some(("otpHashMode", v)) => mode = v,
            Some(("type", v)) if v.eq_ignore_ascii_case("hotp") => {
                return super::json::unsupported(super::bitwarden::shown(title, username), "HOTP");
            }
            _ => {}
        }
    }
    let (name, issuer) = if username.is_empty() {
        (title.to_owned(), String::new())
    } else {
        (username.to_owned(), title.to_owned())
    };
    build(name, issuer, &key, size, step, mode, Kind::Totp)
}

fn base32(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(data_encoding::BASE32_NOPAD.encode(bytes))
}
