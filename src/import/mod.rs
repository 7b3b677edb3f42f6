//! Importers: the files teams already have, read into accounts.
//!
//! A file whose container is broken (not JSON, not a zip, a wrong password, a cut-off ciphertext) is an
//! error and imports nothing. Inside a readable file every entry stands on its own: an entry teamotp
//! cannot use (HOTP and other counter-based kinds, an empty or invalid secret, an unknown algorithm) is left out
//! with its reason ([`Entry::LeftOut`]) and the others come in. A secret whose length leaves stray bits
//! (11, 14 or 17 base32 characters), which the source apps accept, is decoded with the stray bits
//! dropped, as Google Authenticator's decoder does, and reported ([`Entry::Normalised`]).

pub mod archive;
pub mod authpro;
pub mod bitwarden;
pub mod crypto;
pub mod csv_exports;
pub mod encrypted;
pub mod ente;
pub mod google;
pub mod json;
pub mod keepass;
pub mod onepassword;
pub mod openssl;
pub mod opvault;
pub mod proton;

use zeroize::Zeroizing;

use crate::account::Account;
use crate::secret::{self, Secret, SecretError};
use crate::vault;
use crate::vault::format::{Reason, otpauth};

/// One thing found in an import file.
#[derive(Debug)]
pub enum Entry {
    Account(Account),
    /// An account whose secret had stray bits past its last whole byte; they were dropped.
    Normalised(Account),
    /// An entry that is not imported, and why (never a secret in either string).
    LeftOut {
        name: String,
        reason: String,
    },
}

impl Entry {
    /// The account, when the entry is one.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Entry::Account(a) | Entry::Normalised(a) => Some(a),
            Entry::LeftOut { .. } => None,
        }
    }

    fn account_mut(&mut self) -> Option<&mut Account> {
        match self {
            Entry::Account(a) | Entry::Normalised(a) => Some(a),
            Entry::LeftOut { .. } => None,
        }
    }
}

/// How an encrypted export is unlocked: the password, asked only when a file needs one (the argument
/// names the product, for the prompt), and a KeePass key file's bytes.
pub struct Unlock<'a> {
    pub password: &'a mut dyn FnMut(&str) -> Result<Zeroizing<String>, String>,
    pub key_file: Option<&'a [u8]>,
}

/// The formats `teamotp import --format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// gauth lines or team CSV, plaintext or encrypted with `openssl enc`
    Gauth,
    /// otpauth:// and otpauth-migration:// URIs, one per line (also Ente Auth's plain export)
    Otpauth,
    /// Google Authenticator export URIs (otpauth-migration://)
    Google,
    /// Aegis JSON export, plain or encrypted
    Aegis,
    /// 2FAS backup, plain or encrypted
    #[value(name = "2fas")]
    TwoFas,
    /// andOTP JSON backup, plain or encrypted (.json.aes)
    Andotp,
    /// A QR code image (PNG or JPEG) of either URI kind
    Qr,
    /// Bitwarden JSON (plain or password-protected) or CSV export
    Bitwarden,
    /// KeePass or KeePassXC database (.kdbx)
    Keepass,
    /// Proton Pass export (.zip, unencrypted)
    ProtonPass,
    /// 1Password export (.1pux)
    #[value(name = "1password")]
    OnePassword,
    /// 1Password 7 OPVault folder (NAME.opvault)
    Opvault,
    /// Proton Authenticator JSON export
    ProtonAuthenticator,
    /// FreeOTP+ JSON export
    FreeotpPlus,
    /// Authenticator Pro (Stratum) backup, plain or encrypted
    AuthenticatorPro,
    /// LastPass Authenticator JSON export
    LastpassAuthenticator,
    /// Keeper JSON export
    Keeper,
    /// Keeper CSV export (with or without its header row)
    KeeperCsv,
    /// Dashlane CSV export (credentials.csv, or the zip that holds it)
    Dashlane,
    /// LastPass CSV export (the password manager)
    Lastpass,
    /// Ente Auth encrypted export (the plain one is an otpauth list)
    Ente,
}

/// The most entries one import reads (a hostile file cannot make teamotp build millions of accounts).
pub const MAX_ENTRIES: usize = 100_000;
/// The deepest JSON nesting read (exports nest a handful of levels; serde_json stops at 128 anyway).
pub const MAX_JSON_DEPTH: usize = 64;

/// Parses JSON after checking its nesting depth (brackets outside strings), so a deeply nested document
/// is refused with a message before serde builds it.
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(format!(
                        "the JSON nests deeper than {MAX_JSON_DEPTH} levels; no export does"
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    serde_json::from_slice(bytes).map_err(|e| format!("the file is not valid JSON ({e})"))
}

/// Decodes a secret as the source apps do: as [`secret::decode`], and when the length leaves stray bits
/// (1, 3 or 6 symbols past a multiple of 8), without the last symbol, whose bits fill no whole byte.
/// The flag says the stray bits were dropped.
pub fn decode_secret(text: &str) -> Result<(Secret, bool), SecretError> {
    match secret::decode(text) {
        Err(SecretError::Length { .. }) => {
            let mut symbols = Zeroizing::new(String::with_capacity(text.len()));
            symbols.extend(
                text.chars()
                    .take_while(|c| *c != '=')
                    .filter(|c| c.is_ascii_alphanumeric()),
            );
            symbols.pop();
            secret::decode(&symbols).map(|s| (s, true))
        }
        other => other.map(|s| (s, false)),
    }
}

/// An entry from an otpauth URI in a password manager's or an app's item: as [`uri_entry`], with the
/// label's `Issuer:` prefix dropped from the name when it repeats the issuer (the item's other fields
/// name the account).
pub fn from_uri(uri: &str, fallback: &str) -> Entry {
    uri_entry(uri, fallback, true)
}

/// An entry from an otpauth URI; `fallback` names the entry when the URI cannot.
fn uri_entry(uri: &str, fallback: &str, strip_issuer: bool) -> Entry {
    let uri = uri.trim();
    // otpauth::parse expects what otpauth::is_uri accepts (it slices the scheme off).
    if !otpauth::is_uri(uri) {
        return Entry::LeftOut {
            name: fallback.to_owned(),
            reason: if uri.is_empty() {
                "the entry has no otpauth:// URI".into()
            } else {
                "not an otpauth:// URI".into()
            },
        };
    }
    let (result, normalised) = match otpauth::parse(uri) {
        Err((_, Reason::Secret(SecretError::Length { .. }))) => match strip_stray_bits(uri) {
            Some(fixed) => (otpauth::parse(&fixed), true),
            None => (otpauth::parse(uri), false),
        },
        other => (other, false),
    };
    match result {
        Ok(mut account) => {
            if strip_issuer
                && let Some(issuer) = &account.issuer
                && let Some((prefix, rest)) = account.name.split_once(':')
                && (prefix.trim().eq_ignore_ascii_case(issuer) || prefix.trim().is_empty())
                && !rest.trim().is_empty()
            {
                account.name = rest.trim().to_owned();
            }
            if normalised {
                Entry::Normalised(account)
            } else {
                Entry::Account(account)
            }
        }
        Err((name, reason)) => Entry::LeftOut {
            name: name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| fallback.to_owned()),
            reason: reason.to_string(),
        },
    }
}

/// The URI with its `secret=` value cut to whole bytes (see [`decode_secret`]), in wiped memory.
fn strip_stray_bits(uri: &str) -> Option<Zeroizing<String>> {
    let (head, query) = uri.split_once('?')?;
    let mut out = Zeroizing::new(String::with_capacity(uri.len()));
    out.push_str(head);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("secret") => {
                let decoded = Zeroizing::new(
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
                let mut symbols = Zeroizing::new(String::with_capacity(decoded.len()));
                symbols.extend(
                    decoded
                        .chars()
                        .take_while(|c| *c != '=')
                        .filter(|c| c.is_ascii_alphanumeric()),
                );
                symbols.pop();
                out.push_str("secret=");
                out.push_str(&symbols);
            }
            _ => out.push_str(pair),
        }
    }
    Some(out)
}

/// Makes every account name unique within one import: a name already taken is qualified by the
/// entry's issuer when that tells the two apart (`Mason (WWE)`), and numbered otherwise (`Mason (2)`:
/// the same service twice, no issuer, or the issuer already in the name). Names compare without
/// regard to case, as the vault compares them.
pub fn unique_names(entries: &mut [Entry]) {
    let mut taken = std::collections::HashSet::new();
    // The issuers each name was first taken with, so a second entry at the same service is numbered.
    let mut issuers: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for entry in entries.iter_mut() {
        let Some(account) = entry.account_mut() else {
            continue;
        };
        let key = account.name.to_lowercase();
        let issuer = account.issuer.as_deref().map(str::to_lowercase);
        let seen = issuers.entry(key.clone()).or_default();
        let same_service = issuer.as_ref().is_none_or(|i| seen.contains(i));
        if let Some(i) = &issuer {
            seen.push(i.clone());
        }
        if taken.insert(key) {
            continue;
        }
        let base = account.name.clone();
        let qualified = account
            .issuer
            .as_deref()
            .filter(|issuer| !same_service && !base.to_lowercase().contains(&issuer.to_lowercase()))
            .map(|issuer| format!("{base} ({issuer})"))
            .filter(|q| !taken.contains(&q.to_lowercase()));
        let name = qualified.unwrap_or_else(|| {
            (2..)
                .map(|n| format!("{base} ({n})"))
                .find(|c| !taken.contains(&c.to_lowercase()))
                .unwrap_or(base)
        });
        taken.insert(name.to_lowercase());
        account.name = name;
    }
}

/// Guesses the format from the bytes.
pub fn detect(bytes: &[u8]) -> Format {
    let start = bytes.trim_ascii_start();
    if bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xFF\xD8\xFF") {
        return Format::Qr;
    }
    if keepass::is_kdbx(bytes) {
        return Format::Keepass;
    }
    if archive::is_zip(bytes) {
        let names = archive::Archive::open(bytes)
            .map(|a| a.names())
            .unwrap_or_default();
        return if onepassword::is_1pux(&names) {
            Format::OnePassword
        } else if csv_exports::is_dashlane_zip(&names) {
            Format::Dashlane
        } else {
            Format::ProtonPass
        };
    }
    if openssl::is_openssl(bytes) {
        return Format::Gauth;
    }
    if authpro::is_encrypted(bytes) {
        return Format::AuthenticatorPro;
    }
    if is_binary(bytes) {
        return Format::Andotp;
    }
    if start.starts_with(b"{") || start.starts_with(b"[") {
        let Ok(value) = parse_json(bytes) else {
            return Format::Aegis;
        };
        if bitwarden::is_json(&value) {
            return Format::Bitwarden;
        }
        if proton::is_authenticator(&value) {
            return Format::ProtonAuthenticator;
        }
        if json::is_freeotp_plus(&value) {
            return Format::FreeotpPlus;
        }
        if authpro::is_json(&value) {
            return Format::AuthenticatorPro;
        }
        if json::is_lastpass_authenticator(&value) {
            return Format::LastpassAuthenticator;
        }
        if json::is_keeper(&value) {
            return Format::Keeper;
        }
        if ente::is_encrypted(&value) {
            return Format::Ente;
        }
        return match json::detect(&value) {
            Some(json::App::TwoFas) => Format::TwoFas,
            Some(json::App::AndOtp) => Format::Andotp,
            _ => Format::Aegis,
        };
    }
    let text = String::from_utf8_lossy(start);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if bitwarden::is_csv_header(first) {
        Format::Bitwarden
    } else if bitwarden::is_lastpass_header(first) {
        Format::Lastpass
    } else if csv_exports::is_dashlane_header(first) {
        Format::Dashlane
    } else if csv_exports::is_keeper_csv(&text) {
        Format::KeeperCsv
    } else if google::is_uri(first) {
        Format::Google
    } else if otpauth::is_uri(first) {
        Format::Otpauth
    } else {
        Format::Gauth
    }
}

/// What a binary file that no importer claims is.
const ENCRYPTED_BINARY: &str = "the file is binary, not a plaintext export, and not a format teamotp \
     reads (an andOTP encrypted backup, a KeePass database, a zip export): see docs/migrating.md for the \
     products teamotp imports";

/// True for bytes that are not text: a NUL byte, or mostly bytes no text file holds (an encrypted
/// backup: andOTP writes a 4-byte iteration count, a salt and a nonce, then ciphertext). A text file
/// with a stray non-UTF-8 byte is still text: its row is reported where it is.
fn is_binary(bytes: &[u8]) -> bool {
    let image = bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xFF\xD8\xFF");
    if image || std::str::from_utf8(bytes).is_ok() {
        return false;
    }
    if bytes.contains(&0) {
        return true;
    }
    let odd = bytes
        .iter()
        .filter(|b| (**b < 0x20 && !b"\t\n\r".contains(b)) || **b >= 0x80)
        .count();
    odd * 10 > bytes.len() * 3
}

/// Reads an import file. A password is asked (through `unlock`) only for a file that is encrypted.
pub fn read(bytes: &[u8], format: Format, unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    let binary_format = matches!(
        format,
        Format::Qr
            | Format::Keepass
            | Format::ProtonPass
            | Format::OnePassword
            | Format::Dashlane
            | Format::Andotp
            | Format::AuthenticatorPro
    );
    if !binary_format && !openssl::is_openssl(bytes) && is_binary(bytes) {
        return Err(ENCRYPTED_BINARY.into());
    }
    let mut entries = match format {
        Format::Gauth if openssl::is_openssl(bytes) => {
            let password = (unlock.password)("openssl enc")?;
            let plain = openssl::decrypt(bytes, password.as_bytes()).map_err(|e| e.to_string())?;
            lines(&plain)?
        }
        Format::Gauth | Format::Otpauth | Format::Google => lines(bytes)?,
        Format::Andotp if is_binary(bytes) => {
            let plain = encrypted::and_otp(bytes, unlock)?;
            let value = parse_json(&plain)?;
            json::parse(&value, json::App::AndOtp)?
        }
        Format::Aegis | Format::TwoFas | Format::Andotp => {
            let value = parse_json(bytes)?;
            let app = match format {
                Format::Aegis => json::App::Aegis,
                Format::TwoFas => json::App::TwoFas,
                _ => json::App::AndOtp,
            };
            if json::detect(&value) != Some(app) {
                return Err(format!("the file is not an {} export", app.name()));
            }
            match app {
                json::App::Aegis if json::is_encrypted(&value, app) => {
                    let db = encrypted::aegis(&value, unlock)?;
                    json::aegis_db(&db)?
                }
                json::App::TwoFas if json::is_encrypted(&value, app) => {
                    let services = encrypted::two_fas(&value, unlock)?;
                    json::two_fas_services(&services)?
                }
                _ => json::parse(&value, app)?,
            }
        }
        Format::Qr => qr(bytes)?,
        Format::Bitwarden => bitwarden::read(bytes, unlock)?,
        Format::Keepass => keepass::read(bytes, unlock)?,
        Format::ProtonPass => proton::pass(bytes)?,
        Format::OnePassword => onepassword::read(bytes)?,
        Format::Opvault => {
            return Err(
                "an OPVault is a folder (NAME.opvault): give the folder, not a file in it".into(),
            );
        }
        Format::ProtonAuthenticator => proton::authenticator(&parse_json(bytes)?, unlock)?,
        Format::FreeotpPlus => json::freeotp_plus(&parse_json(bytes)?)?,
        Format::AuthenticatorPro => authpro::read(bytes, unlock)?,
        Format::LastpassAuthenticator => json::lastpass_authenticator(&parse_json(bytes)?)?,
        Format::Keeper => json::keeper(&parse_json(bytes)?)?,
        Format::KeeperCsv => csv_exports::keeper(bytes)?,
        Format::Dashlane => csv_exports::dashlane(bytes)?,
        Format::Lastpass => bitwarden::csv_export(bytes, bitwarden::LASTPASS_CSV)?,
        Format::Ente => {
            let value = parse_json(bytes)?;
            if !ente::is_encrypted(&value) {
                return Err(
                    "the file is not an Ente Auth encrypted export (its plain export is an \
                            otpauth list: import it as such)"
                        .into(),
                );
            }
            ente::read(&value, unlock)?
        }
    };
    if entries.len() > MAX_ENTRIES {
        return Err(format!(
            "the file holds more than {MAX_ENTRIES} entries; split it"
        ));
    }
    unique_names(&mut entries);
    Ok(entries)
}

/// Reads a 1Password OPVault folder's files (the shell reads them: see [`opvault::Folder`]).
pub fn read_folder(folder: &opvault::Folder, unlock: &mut Unlock) -> Result<Vec<Entry>, String> {
    let mut entries = opvault::read(folder, unlock)?;
    unique_names(&mut entries);
    Ok(entries)
}

/// Text with one account per line: Google export URIs, otpauth URIs, gauth `name:secret` lines, or a
/// team CSV. Each unusable line is left out with its line number and reason; the others come in.
fn lines(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())?;
    let mut entries = Vec::new();
    let mut rest = Zeroizing::new(String::with_capacity(text.len()));
    // Lines handled here (migration URIs, otpauth URIs) stay blank in `rest`, so rows keep their numbers.
    let mut uri_lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if google::is_uri(trimmed) {
            match google::parse(trimmed) {
                Ok(found) => uri_lines.push((index + 1, found)),
                Err(e) => uri_lines.push((
                    index + 1,
                    vec![Entry::LeftOut {
                        name: format!("line {}", index + 1),
                        reason: e.to_string(),
                    }],
                )),
            }
            rest.push('\n');
        } else if otpauth::is_uri(trimmed) {
            let entry = match uri_entry(trimmed, "", false) {
                Entry::LeftOut { name, reason } => Entry::LeftOut {
                    name: if name.is_empty() {
                        format!("line {}", index + 1)
                    } else {
                        format!("line {}: {name}", index + 1)
                    },
                    reason,
                },
                found => found,
            };
            uri_lines.push((index + 1, vec![entry]));
            rest.push('\n');
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    let parsed = vault::format::parse(rest.as_bytes()).map_err(|e| e.to_string())?;
    let gauth = parsed.format == vault::format::Format::Gauth;
    let mut rows: Vec<(usize, Vec<Entry>)> = uri_lines;
    for row in parsed.rows {
        let name = row.name().to_owned();
        let entry = match row.entry {
            Ok(account) => Entry::Account(account),
            // A gauth line whose secret leaves stray bits: read again without them.
            Err(Reason::Secret(SecretError::Length { .. }))
                if gauth
                    && let Some(account) = row
                        .line
                        .checked_sub(1)
                        .and_then(|index| rest.lines().nth(index))
                        .and_then(gauth_without_stray_bits) =>
            {
                Entry::Normalised(account)
            }
            Err(reason) if name.is_empty() => Entry::LeftOut {
                name: format!("line {}", row.line),
                reason: reason.to_string(),
            },
            Err(reason) => Entry::LeftOut {
                name: format!("line {}: {name}", row.line),
                reason: reason.to_string(),
            },
        };
        rows.push((row.line, vec![entry]));
    }
    rows.sort_by_key(|(line, _)| *line);
    entries.extend(rows.into_iter().flat_map(|(_, e)| e));
    Ok(entries)
}

/// A gauth `NAME:SECRET` line read with its secret's stray bits dropped (see [`decode_secret`]).
fn gauth_without_stray_bits(line: &str) -> Option<Account> {
    let (name, secret_text) = line.split_once(':')?;
    let (secret, true) = decode_secret(secret_text).ok()? else {
        return None;
    };
    let mut fixed = Zeroizing::new(String::with_capacity(line.len()));
    fixed.push_str(name);
    fixed.push(':');
    fixed.push_str(&secret.to_base32());
    let parsed = vault::format::parse(fixed.as_bytes()).ok()?;
    parsed.rows.into_iter().next()?.entry.ok()
}

/// Decodes every QR code in a PNG or JPEG image and reads the URIs they hold.
fn qr(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| format!("the image cannot be read ({e})"))?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err("no QR code found in the image".into());
    }
    let mut text = Zeroizing::new(String::new());
    for grid in grids {
        let (_, content) = grid
            .decode()
            .map_err(|e| format!("a QR code in the image cannot be decoded ({e})"))?;
        let content = Zeroizing::new(content);
        if !otpauth::is_uri(content.trim()) && !google::is_uri(content.trim()) {
            return Err(
                "the QR code does not hold an otpauth:// or otpauth-migration:// URI".into(),
            );
        }
        text.push_str(content.trim());
        text.push('\n');
    }
    lines(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(detect(b"AWS:JBSWY3DPEHPK3PXP\n"), Format::Gauth);
        assert_eq!(
            detect(b"# x\notpauth://totp/a?secret=JBSWY3DPEHPK3PXP\n"),
            Format::Otpauth
        );
        assert_eq!(
            detect(b"otpauth-migration://offline?data=AA\n"),
            Format::Google
        );
        assert_eq!(detect(b"[]"), Format::Andotp);
        assert_eq!(detect(br#"{"services":[]}"#), Format::TwoFas);
        assert_eq!(detect(br#"{"header":{},"db":{}}"#), Format::Aegis);
        assert_eq!(detect(b"Salted__12345678"), Format::Gauth);
        assert_eq!(detect(b"\x89PNG\r\n"), Format::Qr);
    }

    #[test]
    fn text_lines_mix_uris_and_report_hotp_as_unsupported() {
        let entries = lines(
            b"otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC\n\
              otpauth://hotp/Bank?secret=JBSWY3DPEHPK3PXP&counter=1\n\
              otpauth://totp/ACME:ops?secret=JBSWY3DPEHPK3PXP\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 3);
        assert!(matches!(&entries[0], Entry::Account(a) if a.name == "alice@google.com"));
        assert!(matches!(&entries[1], Entry::LeftOut { name, .. } if name == "line 2: Bank"));
    }

    #[test]
    fn a_bad_line_is_left_out_with_its_number_and_the_others_come_in() {
        let entries = lines(b"a:JBSWY3DPEHPK3PXP\nb:a2b3c4d5e6f7g8h9\nno colon\n").unwrap();
        assert!(matches!(&entries[0], Entry::Account(a) if a.name == "a"));
        assert!(matches!(
            &entries[1],
            Entry::LeftOut { name, reason } if name == "line 2: b" && reason
                == "secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)"
        ));
        assert!(matches!(
            &entries[2],
            Entry::LeftOut { name, reason } if name == "line 3" && reason.starts_with("no ':'")
        ));
    }

    #[test]
    fn stray_bits_are_dropped_and_reported() {
        for (text, bytes) in [
            ("JBSWY3DPEHP", 6),
            ("JBSWY3DPEHPK3P", 8),
            ("JBSWY3DPEHPK3PXPG", 10),
        ] {
            let (secret, normalised) = decode_secret(text).unwrap();
            assert!(normalised, "{text}");
            assert_eq!(secret.expose().len(), bytes, "{text}");
        }
        let (_, normalised) = decode_secret("JBSWY3DPEHPK3PXP").unwrap();
        assert!(!normalised);
        assert!(decode_secret("A").is_err());
        let entry = from_uri("otpauth://totp/ACME:ops?secret=JBSWY3DPEHP&issuer=ACME", "");
        let Entry::Normalised(account) = entry else {
            panic!("{entry:?}")
        };
        assert_eq!(account.name, "ops");
        assert_eq!(account.secret.expose(), b"Hello!");
    }

    #[test]
    fn a_gauth_line_with_stray_bits_is_normalised() {
        let entries = lines(b"odd:JBSWY3DPEHPK3PXPG\nbad:JBSWY3DPEHPK3PX8\n").unwrap();
        let Entry::Normalised(account) = &entries[0] else {
            panic!("{entries:?}")
        };
        assert_eq!(account.name, "odd");
        assert_eq!(account.secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert!(matches!(&entries[1], Entry::LeftOut { .. }));
    }

    #[test]
    fn the_second_of_two_equal_names_is_qualified_by_its_service() {
        let account = |name: &str, issuer: Option<&str>| {
            Entry::Account(Account {
                name: name.into(),
                issuer: issuer.map(Into::into),
                params: crate::account::Params::default(),
                secret: secret::decode("JBSWY3DPEHPK3PXP").unwrap(),
            })
        };
        let mut entries = vec![
            account("Mason", Some("Deno")),
            account("mason", Some("WWE")),
            account("Mason", None),
            account("Mason (WWE)", None),
        ];
        unique_names(&mut entries);
        let names: Vec<&str> = entries
            .iter()
            .map(|e| e.account().unwrap().name.as_str())
            .collect();
        assert_eq!(
            names,
            ["Mason", "mason (WWE)", "Mason (2)", "Mason (WWE) (2)"]
        );
    }

    /// Regression (found by the importers fuzz target): a Proton Authenticator entry without a `uri`
    /// panicked in the otpauth parser, which slices the scheme off without checking.
    #[test]
    fn an_entry_without_a_uri_is_left_out_not_a_panic() {
        for uri in ["", "otp", "é", "  "] {
            assert!(
                matches!(from_uri(uri, "Elijah"), Entry::LeftOut { name, .. } if name == "Elijah"),
                "{uri:?}"
            );
        }
        let value: serde_json::Value = serde_json::from_str(
            r#"{"version":1,"entries":[{"content":{"entry_type":"Totp","name":"Elijah"}}]}"#,
        )
        .unwrap();
        let mut password = |_: &str| Err("no password".to_owned());
        let mut unlock = Unlock {
            password: &mut password,
            key_file: None,
        };
        let entries = proton::authenticator(&value, &mut unlock).unwrap();
        assert!(matches!(
            &entries[0],
            Entry::LeftOut { name, reason } if name == "Elijah" && reason == "the entry has no otpauth:// URI"
        ));
    }

    #[test]
    fn deep_json_is_refused_before_parsing() {
        let deep = "[".repeat(MAX_JSON_DEPTH + 1);
        assert!(
            parse_json(deep.as_bytes())
                .unwrap_err()
                .contains("nests deeper")
        );
        let shallow = format!("{}{}", "[".repeat(3), "]".repeat(3));
        assert!(parse_json(shallow.as_bytes()).is_ok());
        // Brackets inside strings do not count.
        let quoted = format!("[\"{}\"]", "[".repeat(100));
        assert!(parse_json(quoted.as_bytes()).is_ok());
    }
}
