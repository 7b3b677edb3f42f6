//! Bitwarden exports (personal and organisation): JSON, CSV, and the password-protected JSON.
//!
//! - JSON: `{"encrypted":false,"items":[{"type":1,"name","login":{"username","totp"}}]}` (an
//!   organisation export has `collections` instead of `folders`).
//! - CSV: a header with `name`, `login_username` and `login_totp` (personal: `folder,favorite,type,...`;
//!   organisation: `collections,type,...`).
//! - Password-protected JSON: `{"encrypted":true,"passwordProtected":true,"salt","kdfType",
//!   "kdfIterations","kdfMemory","kdfParallelism","encKeyValidation_DO_NOT_EDIT","data"}`. The key is
//!   PBKDF2-HMAC-SHA256(password, salt) (`kdfType` 0) or Argon2id(password, SHA-256(salt), memory in
//!   MiB) (`kdfType` 1), stretched with HKDF-Expand-SHA256 into an encryption key (`enc`) and a MAC key
//!   (`mac`); each field is `2.IV|CIPHERTEXT|MAC` (AES-256-CBC, HMAC-SHA256 over IV ‖ ciphertext).
//!
//! `login.totp` is an otpauth URI, a `steam://SECRET`, or a bare base32 secret. Only items with a
//! `totp` are entries; the others hold no one-time password.

use hmac::{KeyInit, Mac};
use serde_json::Value;
use zeroize::Zeroizing;

use super::crypto::{self, Kdf};
use super::json::{build, text};
use super::{Entry, Unlock, from_uri};
use crate::account::Kind;

/// True for a Bitwarden JSON export (plain or encrypted).
pub fn is_json(value: &Value) -> bool {
    let items = value.get("items").is_some_and(Value::is_array);
    let encrypted = value.get("encrypted").is_some_and(Value::is_boolean);
    let grouped = value.get("folders").is_some() || value.get("collections").is_some();
    (encrypted && (items || value.get("data").is_some())) || (items && grouped)
}

/// True for the header line of a Bitwarden CSV export.
pub fn is_csv_header(line: &str) -> bool {
    let columns: Vec<&str> = line.split(',').map(str::trim).collect();
    columns.contains(&"login_totp") && columns.contains(&"name")
}

pub fn read(bytes: &[u8], unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    let start = bytes.trim_ascii_start();
    if !(start.starts_with(b"{")) {
        return csv(bytes);
    }
    let value = super::parse_json(bytes)?;
    if !is_json(&value) {
        return Err(
            "the file is not a Bitwarden export (no \"items\" with \"folders\" or \"collections\")"
                .into(),
        );
    }
    if value.get("encrypted").and_then(Value::as_bool) == Some(true) {
        if value.get("passwordProtected").and_then(Value::as_bool) != Some(true) {
            return Err(
                "this Bitwarden export is \"account restricted\": only the Bitwarden account that \
                 made it can read it; export again choosing \"Password protected\" (or unencrypted)"
                    .into(),
            );
        }
        let plain = decrypt(&value, unlock)?;
        let inner = super::parse_json(&plain)?;
        return items(&inner);
    }
    items(&value)
}

/// The entries of a plaintext JSON export.
fn items(value: &Value) -> Result<Vec<Entry>, String> {
    let items = value
        .get("items")
        .and_then(Value::as_array)
        .ok_or("the Bitwarden export has no \"items\" list")?;
    let mut entries = Vec::new();
    for item in items {
        let Some(login) = item.get("login") else {
            continue;
        };
        let (title, username) = (text(item, "name"), text(login, "username"));
        if login
            .get("fido2Credentials")
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty())
        {
            entries.push(passkey(&title, &username));
        }
        let totp = text(login, "totp");
        if !totp.trim().is_empty() {
            entries.push(entry(&title, &username, &totp));
        }
    }
    Ok(entries)
}

/// A passkey found beside (or instead of) a one-time password: listed as left out, so a team knows it
/// stays in the password manager.
pub(crate) fn passkey(title: &str, username: &str) -> Entry {
    Entry::LeftOut {
        name: shown(title.trim(), username.trim()),
        reason:
            "a passkey: teamotp holds one-time-password secrets only (the passkey stays in the \
                 password manager)"
                .into(),
    }
}

/// How an item is named in a report: `title (username)`, or whichever it has.
pub(crate) fn shown(title: &str, username: &str) -> String {
    match (title.is_empty(), username.is_empty()) {
        (false, false) => format!("{title} ({username})"),
        (false, true) => title.to_owned(),
        (true, _) => username.to_owned(),
    }
}

/// An entry from an item's title, username and TOTP field.
pub(crate) fn entry(title: &str, username: &str, totp: &str) -> Entry {
    let title = title.trim();
    let username = username.trim();
    let shown = shown(title, username);
    let totp = totp.trim();
    if crate::vault::format::otpauth::is_uri(totp) {
        return match from_uri(totp, &shown) {
            Entry::LeftOut { reason, .. } => Entry::LeftOut {
                name: shown,
                reason,
            },
            Entry::Account(mut a) => {
                a.issuer = a
                    .issuer
                    .or_else(|| Some(title.to_owned()).filter(|t| !t.is_empty()));
                Entry::Account(a)
            }
            Entry::Normalised(mut a) => {
                a.issuer = a
                    .issuer
                    .or_else(|| Some(title.to_owned()).filter(|t| !t.is_empty()));
                Entry::Normalised(a)
            }
        };
    }
    let (name, issuer) = if username.is_empty() {
        (title.to_owned(), String::new())
    } else {
        (username.to_owned(), title.to_owned())
    };
    let (secret, kind) = match totp.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("steam://") => (&totp[8..], Kind::Steam),
        _ => (totp, Kind::Totp),
    };
    match build(name, issuer, secret, "", "", "", kind) {
        Entry::LeftOut { reason, .. } => Entry::LeftOut {
            name: shown,
            reason,
        },
        found => found,
    }
}

/// A password manager's CSV layout: which columns hold the item's title, its user name and its TOTP.
#[derive(Debug, Clone, Copy)]
pub struct CsvLayout {
    pub product: &'static str,
    pub title: &'static str,
    pub username: &'static str,
    pub totp: &'static str,
}

/// Bitwarden: `folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,
/// login_password,login_totp` (organisations: `collections,type,...`).
pub const BITWARDEN_CSV: CsvLayout = CsvLayout {
    product: "Bitwarden",
    title: "name",
    username: "login_username",
    totp: "login_totp",
};

/// LastPass: `url,username,password,totp,extra,name,grouping,fav`.
pub const LASTPASS_CSV: CsvLayout = CsvLayout {
    product: "LastPass",
    title: "name",
    username: "username",
    totp: "totp",
};

/// True for the header line of a LastPass CSV export.
pub fn is_lastpass_header(line: &str) -> bool {
    let columns: Vec<&str> = line.split(',').map(str::trim).collect();
    ["url", "username", "totp", "extra", "name", "grouping"]
        .iter()
        .all(|c| columns.contains(c))
}

fn csv(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    csv_export(bytes, BITWARDEN_CSV)
}

/// The entries of a password manager's CSV export: every row with a TOTP.
pub fn csv_export(bytes: &[u8], layout: CsvLayout) -> Result<Vec<Entry>, String> {
    let product = layout.product;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the {product} CSV cannot be read ({e})"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(name_at), Some(totp_at)) = (column(layout.title), column(layout.totp)) else {
        return Err(format!(
            "the CSV has no \"{}\" and \"{}\" columns: not a {product} export",
            layout.title, layout.totp
        ));
    };
    let user_at = column(layout.username);
    let mut entries = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(format!(
                    "the {product} CSV is malformed after line {line} ({e})"
                ));
            }
        }
        line = record.position().map_or(line + 1, |p| p.line() as usize);
        let field = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("");
        let totp = Zeroizing::new(field(Some(totp_at)).to_owned());
        if totp.trim().is_empty() {
            continue;
        }
        entries.push(entry(field(Some(name_at)), field(user_at), &totp));
        if entries.len() > super::MAX_ENTRIES {
            break;
        }
    }
    Ok(entries)
}

/// A `2.IV|CIPHERTEXT|MAC` field, decoded.
struct EncString {
    iv: Zeroizing<Vec<u8>>,
    data: Zeroizing<Vec<u8>>,
    mac: Zeroizing<Vec<u8>>,
}

fn enc_string(text: &str) -> Result<EncString, String> {
    let malformed = || {
        "an encrypted field of the Bitwarden export is malformed (is the file cut off?)".to_string()
    };
    let rest = text.strip_prefix("2.").ok_or_else(|| {
        "an encrypted field of the Bitwarden export is not of type 2 (AES-256-CBC with HMAC-SHA256), \
         the only type password-protected exports use"
            .to_string()
    })?;
    let parts: Vec<&str> = rest.split('|').collect();
    let [iv, data, mac] = parts[..] else {
        return Err(malformed());
    };
    let field = EncString {
        iv: crypto::base64(iv).map_err(|_| malformed())?,
        data: crypto::base64(data).map_err(|_| malformed())?,
        mac: crypto::base64(mac).map_err(|_| malformed())?,
    };
    if field.iv.len() != 16 || field.mac.len() != 32 || field.data.is_empty() {
        return Err(malformed());
    }
    Ok(field)
}

type HmacSha256 = hmac::Hmac<sha2_011::Sha256>;

/// Verifies the field's MAC, then decrypts it. `None` when the MAC does not verify.
fn open(field: &EncString, enc: &[u8; 32], mac: &[u8; 32]) -> Option<Zeroizing<Vec<u8>>> {
    let mut check = <HmacSha256 as KeyInit>::new_from_slice(mac).ok()?;
    check.update(&field.iv);
    check.update(&field.data);
    check.verify_slice(&field.mac).ok()?;
    crypto::aes_cbc(enc, &field.iv, &field.data)
}

/// Decrypts a password-protected export's `data`.
fn decrypt(value: &Value, unlock: &mut Unlock) -> Result<Zeroizing<Vec<u8>>, String> {
    const PRODUCT: &str = "Bitwarden password-protected export";
    let number = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let iterations = number("kdfIterations").ok_or("the Bitwarden export has no kdfIterations")?;
    let kdf = match number("kdfType") {
        Some(0) => Kdf::Pbkdf2Sha256 { iterations },
        Some(1) => {
            let mib = number("kdfMemory").ok_or("the Bitwarden export has no kdfMemory")?;
            Kdf::Argon2id {
                kib: mib.saturating_mul(1024),
                passes: iterations,
                lanes: number("kdfParallelism")
                    .ok_or("the Bitwarden export has no kdfParallelism")?,
            }
        }
        other => {
            return Err(format!(
                "the Bitwarden export uses key derivation type {}, which teamotp does not know",
                other.map_or("(none)".to_owned(), |t| t.to_string())
            ));
        }
    };
    kdf.check()?;
    let salt = value.get("salt").and_then(Value::as_str).unwrap_or("");
    let validation = enc_string(
        value
            .get("encKeyValidation_DO_NOT_EDIT")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )?;
    let data = enc_string(value.get("data").and_then(Value::as_str).unwrap_or(""))?;

    let password = (unlock.password)(PRODUCT)?;
    let master = match kdf {
        Kdf::Argon2id { .. } => {
            use sha2::Digest;
            let salt = sha2::Sha256::digest(salt.as_bytes());
            kdf.derive(password.as_bytes(), &salt)?
        }
        _ => kdf.derive(password.as_bytes(), salt.as_bytes())?,
    };
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::from_prk(&master[..])
        .map_err(|_| "HKDF refused the derived key")?;
    let mut enc = Zeroizing::new([0u8; 32]);
    let mut mac = Zeroizing::new([0u8; 32]);
    hkdf.expand(b"enc", &mut *enc)
        .and_then(|()| hkdf.expand(b"mac", &mut *mac))
        .map_err(|_| "HKDF failed")?;
    open(&validation, &enc, &mac).ok_or_else(|| super::encrypted::wrong_password(PRODUCT))?;
    open(&data, &enc, &mac).ok_or_else(|| {
        "the password is right, but the Bitwarden export's data does not decrypt: the file is \
         damaged or cut off"
            .to_string()
    })
}
