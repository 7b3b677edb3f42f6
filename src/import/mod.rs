//! Importers: the files teams already have, read into accounts. Every importer is all-or-nothing: a
//! malformed file gives a clear error and imports nothing. Accounts of kinds teamotp cannot use (HOTP,
//! mOTP, ...) are reported as unsupported, never silently dropped.

pub mod google;
pub mod json;
pub mod openssl;

use zeroize::Zeroizing;

use crate::account::Account;
use crate::vault::{self, Reason, otpauth};

/// One thing found in an import file.
#[derive(Debug)]
pub enum Entry {
    Account(Account),
    Unsupported { name: String, reason: String },
}

/// The formats `teamotp import --format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// gauth lines or team CSV, plaintext or encrypted with `openssl enc`
    Gauth,
    /// otpauth:// and otpauth-migration:// URIs, one per line
    Otpauth,
    /// Google Authenticator export URIs (otpauth-migration://)
    Google,
    /// Aegis plaintext JSON export
    Aegis,
    /// 2FAS plaintext backup
    #[value(name = "2fas")]
    TwoFas,
    /// andOTP plaintext JSON backup
    Andotp,
    /// A QR code image (PNG or JPEG) of either URI kind
    Qr,
}

/// Guesses the format from the bytes.
pub fn detect(bytes: &[u8]) -> Format {
    let start = bytes.trim_ascii_start();
    if bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xFF\xD8\xFF") {
        return Format::Qr;
    }
    if openssl::is_openssl(bytes) {
        return Format::Gauth;
    }
    if start.starts_with(b"{") || start.starts_with(b"[") {
        let app = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| json::detect(&v));
        return match app {
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
    if google::is_uri(first) {
        Format::Google
    } else if otpauth::is_uri(first) {
        Format::Otpauth
    } else {
        Format::Gauth
    }
}

/// What a binary file that is no image is: most likely an encrypted backup, andOTP's above all.
const ENCRYPTED_BINARY: &str = "the file is binary, not a plaintext export: it looks like an encrypted \
     backup, such as andOTP's (.json.aes), which teamotp cannot read; in andOTP, make a plain-text backup \
     instead (Backups, Backup (plain)), import that, then delete it";

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

/// Reads an import file. `password` is asked only for an `openssl enc` file.
pub fn read(
    bytes: &[u8],
    format: Format,
    password: &mut dyn FnMut() -> Result<Zeroizing<String>, String>,
) -> Result<Vec<Entry>, String> {
    if format != Format::Qr && !openssl::is_openssl(bytes) && is_binary(bytes) {
        return Err(ENCRYPTED_BINARY.into());
    }
    match format {
        Format::Gauth if openssl::is_openssl(bytes) => {
            let password = password()?;
            let plain = openssl::decrypt(bytes, password.as_bytes()).map_err(|e| e.to_string())?;
            lines(&plain)
        }
        Format::Gauth | Format::Otpauth | Format::Google => lines(bytes),
        Format::Aegis | Format::TwoFas | Format::Andotp => {
            let value: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| format!("the file is not valid JSON ({e})"))?;
            let app = match format {
                Format::Aegis => json::App::Aegis,
                Format::TwoFas => json::App::TwoFas,
                _ => json::App::AndOtp,
            };
            if json::detect(&value) != Some(app) {
                return Err(format!("the file is not an {} export", app.name()));
            }
            json::parse(&value, app)
        }
        Format::Qr => qr(bytes),
    }
}

/// Text with one account per line: Google export URIs, otpauth URIs, gauth `name:secret` lines, or a
/// team CSV. Invalid rows fail the import (with every problem listed); HOTP rows are unsupported.
fn lines(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut rest = Zeroizing::new(String::with_capacity(text.len()));
    for (index, line) in text.lines().enumerate() {
        if google::is_uri(line.trim()) {
            match google::parse(line.trim()) {
                Ok(found) => entries.extend(found),
                Err(e) => problems.push(format!("line {}: {e}", index + 1)),
            }
            rest.push('\n');
        } else {
            rest.push_str(line);
            rest.push('\n');
        }
    }
    let parsed = vault::parse(rest.as_bytes()).map_err(|e| e.to_string())?;
    for row in parsed.rows {
        let name = row.name().to_owned();
        match row.entry {
            Ok(account) => entries.push(Entry::Account(account)),
            Err(Reason::Hotp) => entries.push(Entry::Unsupported {
                name,
                reason: Reason::Hotp.to_string(),
            }),
            Err(reason) if name.is_empty() => {
                problems.push(format!("line {}: {reason}", row.line));
            }
            Err(reason) => problems.push(format!("line {}: '{name}': {reason}", row.line)),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| {
            p.trim_start_matches("line ")
                .split(':')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        });
        return Err(problems.join("\n"));
    }
    Ok(entries)
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
        assert!(matches!(&entries[0], Entry::Account(a) if a.name == "Example:alice@google.com"));
        assert!(matches!(&entries[1], Entry::Unsupported { name, .. } if name == "Bank"));
    }

    #[test]
    fn one_bad_line_imports_nothing_and_every_problem_is_listed() {
        let err = lines(b"a:JBSWY3DPEHPK3PXP\nb:a2b3c4d5e6f7g8h9\nno colon\n").unwrap_err();
        assert_eq!(
            err,
            "line 2: 'b': secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)\n\
             line 3: no ':' between the account name and the secret (gauth lines are NAME:SECRET)"
        );
    }
}
