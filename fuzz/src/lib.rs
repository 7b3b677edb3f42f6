//! The checks behind the fuzz targets, shared with the regression tests.
//!
//! Each `fuzz_targets/NAME.rs` calls the function `NAME` here with libFuzzer's input, and
//! `tests/fuzz_regressions.rs` includes this file (`#[path]`) to replay every committed seed and every
//! saved crash through exactly the same function under plain `cargo test`. A function must not panic on
//! any input; the `assert!`s are the properties the targets check on top of "no panic".

use std::cell::Cell;

use teamotp::account::{Account, Algorithm, Kind, Params};
use teamotp::age::identity::{self, Identities};
use teamotp::import::{self, Entry, Format};
use teamotp::secret::{self, SecretError};
use teamotp::vault;
use teamotp::vault::document::Document;
use teamotp::vault::format::otpauth;
use zeroize::Zeroizing;

/// The X25519 identity `bytes_to_accounts` decrypts with (a public test key, see the fixture README).
const IDENTITY: &[u8] = include_bytes!("../../tests/fixtures/age/x25519.key");

/// The passphrase of the passphrase-encrypted (scrypt) fixtures and seeds.
const PASSPHRASE: &str = "fixture-vault-pass";

/// The password of the `openssl enc` fixtures (tests/fixtures/import/*.enc).
const OPENSSL_PASSWORD: &str = "gauth-fixture-pass";

/// Every plaintext an encrypted seed holds. The fuzzer cannot forge an age file (that would take the
/// file key or the passphrase's scrypt key), so a decrypted vault that is not one of these means bytes
/// were released without authentication.
const KNOWN_PLAINTEXTS: [&[u8]; 3] = [
    include_bytes!("../../tests/fixtures/age/plain.csv"),
    include_bytes!("../../tests/fixtures/cli/canary-team.csv"),
    include_bytes!("../../src/demo/demo.csv"),
];

/// Instants at which every account a parser accepted gets its codes computed: `totp::window` relies on
/// the parsers' validation (digits 6..=8, period >= 1, a non-empty secret) to never panic.
const TIMES: [u64; 3] = [0, 1_800_000_000, u64::MAX];

/// Every import format but `Qr` (image decoding is third-party code; see `import_qr`).
const TEXT_FORMATS: [Format; 19] = [
    Format::Gauth,
    Format::Otpauth,
    Format::Google,
    Format::Aegis,
    Format::TwoFas,
    Format::Andotp,
    Format::Bitwarden,
    Format::Keepass,
    Format::ProtonPass,
    Format::OnePassword,
    Format::ProtonAuthenticator,
    Format::FreeotpPlus,
    Format::AuthenticatorPro,
    Format::LastpassAuthenticator,
    Format::Keeper,
    Format::Lastpass,
    Format::Ente,
    Format::KeeperCsv,
    Format::Dashlane,
];

/// Fails to compile when a format is added, so `TEXT_FORMATS` is kept complete.
#[allow(dead_code)]
fn every_format_is_fuzzed(format: Format) -> bool {
    match format {
        Format::Gauth
        | Format::Otpauth
        | Format::Google
        | Format::Aegis
        | Format::TwoFas
        | Format::Andotp
        | Format::Bitwarden
        | Format::Keepass
        | Format::ProtonPass
        | Format::OnePassword
        | Format::ProtonAuthenticator
        | Format::FreeotpPlus
        | Format::AuthenticatorPro
        | Format::LastpassAuthenticator
        | Format::Keeper
        | Format::Lastpass
        | Format::Ente
        | Format::KeeperCsv
        | Format::Dashlane => TEXT_FORMATS.contains(&format),
        Format::Qr | Format::Opvault => false,
    }
}

/// Formats that never hold an encrypted file: asking a password for one is a bug.
const NEVER_ENCRYPTED: [Format; 10] = [
    Format::Otpauth,
    Format::Google,
    Format::ProtonPass,
    Format::OnePassword,
    Format::FreeotpPlus,
    Format::LastpassAuthenticator,
    Format::Keeper,
    Format::Lastpass,
    Format::KeeperCsv,
    Format::Dashlane,
];

/// Target `vault_parse`: `vault::format::parse` on both formats, the editable document made from it, and the
/// round trip through `Document::serialize`.
pub fn vault_parse(data: &[u8]) {
    let parsed = match vault::format::parse(data) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    check_rows(&parsed);
    let document = match Document::from_plaintext(data, &parsed) {
        Ok(document) => document,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = document.names();
    let written = document.serialize();
    let again = vault::format::parse(&written).unwrap_or_else(|e| {
        panic!(
            "a serialized document does not parse again ({e}): {written:?}",
            written = lossy(&written)
        )
    });
    assert_eq!(
        again.format,
        vault::format::Format::TeamCsv,
        "a serialized document is not team CSV: {:?}",
        lossy(&written)
    );
    match parsed.format {
        vault::format::Format::TeamCsv => {
            // Every row is kept in place (cells as written), so every valid row reads back the same.
            assert_eq!(
                parsed.rows.len(),
                again.rows.len(),
                "row count changed through serialize: {:?}",
                lossy(&written)
            );
            for (before, after) in parsed.rows.iter().zip(&again.rows) {
                if let Ok(account) = &before.entry {
                    let Ok(read_back) = &after.entry else {
                        panic!(
                            "valid row '{}' is invalid after serialize: {:?}",
                            before.name(),
                            lossy(&written)
                        );
                    };
                    assert_eq!(
                        before.name(),
                        after.name(),
                        "name changed through serialize"
                    );
                    assert_same_account(account, read_back);
                }
            }
        }
        vault::format::Format::Gauth => {
            // gauth lines are converted: the valid accounts, and only they, become rows.
            let accounts: Vec<&Account> = parsed.accounts().collect();
            assert_eq!(
                accounts.len(),
                again.rows.len(),
                "gauth conversion lost or added rows: {:?}",
                lossy(&written)
            );
            for (account, row) in accounts.iter().zip(&again.rows) {
                let Ok(read_back) = &row.entry else {
                    panic!(
                        "converted gauth account '{}' is invalid as team CSV: {:?}",
                        account.name,
                        lossy(&written)
                    );
                };
                assert_same_account(account, read_back);
            }
        }
    }
    check_rows(&again);
}

/// Target `base32`: the lenient secret decoder against a bit-by-bit reference model, and the canonical
/// form decoding back to the same bytes.
pub fn base32(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = secret::decode(text);
    match (&result, reference_base32(text)) {
        (Ok(secret), Ok(bytes)) => {
            assert_eq!(secret.expose(), &bytes[..], "decode differs from the model");
            let canonical = secret.to_base32();
            assert_eq!(canonical.len(), secret.bits().div_ceil(5));
            let again = secret::decode(&canonical).expect("the canonical form decodes");
            assert_eq!(again.expose(), secret.expose(), "canonical form round trip");
        }
        (Err(error), Err(expected)) => {
            assert_eq!(error, &expected, "wrong error");
            let _ = error.to_string();
        }
        (got, want) => panic!("decode gave {got:?}, the model {want:?}"),
    }
}

/// Target `otpauth`: `otpauth://` plus any text; an accepted URI written back by `otpauth::uri` reads
/// back as the same account.
pub fn otpauth(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let uri = format!("otpauth://{text}");
    let account = match otpauth::parse(&uri) {
        Ok(account) => account,
        Err((name, reason)) => {
            assert!(name.is_none_or(|n| !n.is_empty()));
            let _ = reason.to_string();
            return;
        }
    };
    check_account(&account);
    let written = otpauth::uri(&account);
    assert!(otpauth::is_uri(&written));
    let again = otpauth::parse(&written).unwrap_or_else(|(_, reason)| {
        panic!(
            "otpauth::uri output does not parse back ({reason}): {:?}",
            written.as_str()
        )
    });
    assert_same_account(&account, &again);
    assert_eq!(
        otpauth::uri(&again).as_str(),
        written.as_str(),
        "otpauth::uri is not a fixed point"
    );
}

/// Target `importers`: every import format but images, format detection, and `openssl enc`
/// decryption. Everything before a password is fuzzed (containers, headers, the KDF caps); the password
/// is refused for the password managers' and apps' encrypted files, whose ciphertext the fuzzer cannot
/// forge anyway, so no key derivation runs.
pub fn importers(data: &[u8]) {
    let _ = import::detect(data);
    for format in TEXT_FORMATS {
        let asked = Cell::new(false);
        let mut password = |product: &str| {
            asked.set(true);
            if product == "openssl enc" {
                Ok(Zeroizing::new(OPENSSL_PASSWORD.to_owned()))
            } else {
                Err("no password while fuzzing".to_owned())
            }
        };
        let mut unlock = import::Unlock {
            password: &mut password,
            key_file: None,
        };
        let result = import::read(data, format, &mut unlock);
        assert!(
            !asked.get() || !NEVER_ENCRYPTED.contains(&format),
            "password asked for {format:?}"
        );
        check_entries(result);
    }
    if let Ok(plain) = import::openssl::decrypt(data, b"pw") {
        assert!(
            std::str::from_utf8(&plain).is_ok(),
            "decrypt released non-UTF-8"
        );
    }
    // The same bytes as an OPVault's profile and band (everything before the password).
    let folder = import::opvault::Folder {
        profile: Zeroizing::new(data.to_vec()),
        bands: vec![Zeroizing::new(data.to_vec())],
    };
    let mut password = |_: &str| Err("no password while fuzzing".to_owned());
    let mut unlock = import::Unlock {
        password: &mut password,
        key_file: None,
    };
    check_entries(import::read_folder(&folder, &mut unlock));
}

/// Target `import_qr` (optional): QR code images.
pub fn import_qr(data: &[u8]) {
    let _ = import::detect(data);
    let mut password = |_: &str| -> Result<Zeroizing<String>, String> {
        panic!("a password was asked for a QR code image")
    };
    let mut unlock = import::Unlock {
        password: &mut password,
        key_file: None,
    };
    check_entries(import::read(data, Format::Qr, &mut unlock));
}

/// Target `bytes_to_accounts`: the whole path from a vault file's bytes to accounts: `load::open` (age
/// with a fixed X25519 identity or a fixed passphrase, or plaintext), then parsing.
pub fn bytes_to_accounts(data: &[u8]) {
    if costly_scrypt(data) {
        return;
    }
    let env = teamotp::env::Env::default();
    let opened = vault::load::open(
        data,
        "fuzz vault".to_owned(),
        || {
            Ok(Identities {
                list: identity::parse(IDENTITY, "x25519.key")?,
                paths: Vec::new(),
            })
        },
        || Ok(age::secrecy::SecretString::from(PASSPHRASE.to_owned())),
        &env,
    );
    let plain = match opened {
        Ok(plain) => plain,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    if plain.encrypted {
        assert!(
            KNOWN_PLAINTEXTS.contains(&&plain.bytes[..]),
            "decryption released bytes that are not a known plaintext: {:?}",
            lossy(&plain.bytes)
        );
    } else {
        assert_eq!(&plain.bytes[..], data, "plaintext vault not passed through");
    }
    match vault::load::parse(&plain) {
        Ok(loaded) => {
            check_rows(&loaded.parsed);
            for (row, reason) in loaded.parsed.invalid() {
                let _ = loaded.describe(row, reason);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Checks every row of a parsed vault: a valid row's name is its account's, and the account is usable.
fn check_rows(parsed: &vault::format::Parsed) {
    for row in &parsed.rows {
        match &row.entry {
            Ok(account) => {
                assert_eq!(row.name(), account.name);
                check_account(account);
            }
            Err(reason) => {
                let _ = reason.to_string();
            }
        }
    }
    let _ = parsed.duplicate_names();
}

fn check_entries(result: Result<Vec<Entry>, String>) {
    match result {
        Ok(entries) => {
            for entry in &entries {
                if let Some(account) = entry.account() {
                    check_account(account);
                }
            }
        }
        Err(message) => assert!(!message.is_empty()),
    }
}

/// What every parser promises about an account it accepts.
fn check_account(account: &Account) {
    assert!(
        !account.name.is_empty() && account.name.trim() == account.name,
        "account name empty or not trimmed: {:?}",
        account.name
    );
    assert!(!account.secret.expose().is_empty(), "empty secret");
    let params = account.params;
    assert!(
        (6..=8).contains(&params.digits) && params.period >= 1,
        "unchecked parameters {params:?}"
    );
    for at in TIMES {
        let window = teamotp::totp::window(account, at);
        assert_eq!(window.curr.len(), params.code_len(), "code length");
        assert!((1..=params.period).contains(&window.remaining));
    }
}

/// Two accounts give the same codes under the same name and issuer.
fn assert_same_account(a: &Account, b: &Account) {
    assert_eq!(a.name, b.name, "name");
    assert_eq!(a.issuer, b.issuer, "issuer");
    assert_eq!(code_params(&a.params), code_params(&b.params), "parameters");
    assert!(a.secret == b.secret, "secret");
}

/// The parameters that matter for codes: a Steam code is always 5 characters of SHA1, so its digits and
/// algorithm are not part of it (teamotp does not write them for Steam accounts).
fn code_params(params: &Params) -> (Kind, u8, u64, Algorithm) {
    match params.kind {
        Kind::Totp => (Kind::Totp, params.digits, params.period, params.algorithm),
        Kind::Steam => (Kind::Steam, 0, params.period, Algorithm::Sha1),
    }
}

/// An independent model of `secret::decode`: the same rules, decoded five bits at a time.
fn reference_base32(text: &str) -> Result<Vec<u8>, SecretError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut values = Vec::new();
    let mut first_padding = None;
    for (index, ch) in text.chars().enumerate() {
        if matches!(ch, ' ' | '\t' | '-') {
            continue;
        }
        if ch == '=' {
            first_padding.get_or_insert(index + 1);
            continue;
        }
        let upper = ch.to_ascii_uppercase();
        let Some(value) = ALPHABET.iter().position(|&a| char::from(a) == upper) else {
            return Err(invalid_character(ch, index + 1));
        };
        if let Some(position) = first_padding {
            return Err(invalid_character('=', position));
        }
        values.push(value as u32);
    }
    if values.is_empty() {
        return Err(SecretError::Empty);
    }
    if matches!(values.len() % 8, 1 | 3 | 6) {
        return Err(SecretError::Length {
            symbols: values.len(),
        });
    }
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for value in values {
        buffer = (buffer << 5 | value) & 0xFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Ok(out)
}

/// The error `secret::decode` gives for an invalid character (its message is checked by unit tests;
/// here only the variant and the position matter, so the shown text is taken from the real decoder).
fn invalid_character(ch: char, position: usize) -> SecretError {
    let shown = match secret::decode(&ch.to_string()) {
        Err(SecretError::InvalidCharacter { shown, .. }) => shown,
        _ if ch == '=' => match secret::decode("=A") {
            Err(SecretError::InvalidCharacter { shown, .. }) => shown,
            other => panic!("'=A' decoded as {other:?}"),
        },
        other => panic!("{ch:?} alone decoded as {other:?}"),
    };
    SecretError::InvalidCharacter { shown, position }
}

/// True for an age passphrase file whose scrypt work factor makes one run cost seconds to minutes and
/// up to 4 GiB (13..=22; teamotp accepts up to 22 by design). Such inputs are skipped so the target
/// stays fast; cheap work factors (the committed seed uses 10) and refused ones (> 22) still run. The
/// header is read by age itself, with a probe identity that only looks at the scrypt stanza.
fn costly_scrypt(data: &[u8]) -> bool {
    struct Probe(Cell<Option<u8>>);
    impl age::Identity for Probe {
        fn unwrap_stanza(
            &self,
            stanza: &age_core::format::Stanza,
        ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
            if stanza.tag == "scrypt" {
                // age reads the work factor as canonical decimal digits (no leading zero).
                let log_n = stanza.args.get(1).filter(|a| {
                    !a.is_empty() && !a.starts_with('0') && a.bytes().all(|b| b.is_ascii_digit())
                });
                self.0.set(log_n.and_then(|a| a.parse().ok()));
            }
            None
        }
    }
    let costly = |bytes: &[u8]| {
        let Ok(decryptor) = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(bytes))
        else {
            return false;
        };
        if !decryptor.is_scrypt() {
            return false;
        }
        let probe = Probe(Cell::new(None));
        let _ = decryptor.decrypt(std::iter::once(&probe as &dyn age::Identity));
        probe.0.get().is_some_and(|n| (13..=22).contains(&n))
    };
    // teamotp hands age an armoured file without the whitespace before it: probe both framings.
    costly(data) || costly(data.trim_ascii_start())
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `agent_request`: the agent's request parser (what any process of the user can send it). Never panics;
/// a request that parses encodes back to exactly the same bytes (the parser accepts one spelling only);
/// the same bytes read as a response (the client's parser) never panic either.
pub fn agent_request(data: &[u8]) {
    use teamotp::agent::protocol::{Request, Response, frame_len};
    if let Ok(request) = Request::decode(data) {
        assert_eq!(
            &request.encode()[..],
            data,
            "a request re-encodes to other bytes"
        );
    }
    let _ = Response::decode(data);
    if let Some(prefix) = data.get(..4) {
        let _ = frame_len([prefix[0], prefix[1], prefix[2], prefix[3]]);
    }
}

/// The age header: teamotp's grammar check, its stanza parser, the recipients record read from it, and
/// the age crate reading the header through `WholeHeader` (one pass). None may panic; what the stanza
/// parser accepts, the grammar check accepts; a record read back names sorted, distinct keys; the
/// header never exceeds the caps.
pub fn age_header(data: &[u8]) {
    use teamotp::age::header;
    use teamotp::trust::membership::{self, Recorded};
    let checked = header::check(data);
    if let Some(stanzas) = header::stanzas(data) {
        assert!(checked.is_ok(), "stanzas parsed a header the check refused");
        assert!(stanzas.len() <= header::MAX_STANZAS);
    }
    if let Recorded::Keys(record) = membership::recorded(data) {
        let mut sorted = record.keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted, record.keys,
            "a record's keys are sorted and distinct"
        );
        assert_eq!(record.digest().len(), 64);
    }
    let _ = teamotp::age::decrypt::is_scrypt(data);
    let none: Vec<Box<dyn age::Identity>> = Vec::new();
    let _ = teamotp::age::decrypt::decrypt(data, &none, || {
        Err(teamotp::age::decrypt::Failure::NoTerminal)
    });
}
