//! Plaintext JSON exports of Aegis, 2FAS and andOTP.
//!
//! - Aegis (docs/vault.md): `{"version":1,"header":{"slots":null,...},"db":{"entries":[{"type":"totp",
//!   "name","issuer","info":{"secret","algo","digits","period"}}]}}`; encrypted when `db` is a string.
//! - 2FAS: `{"services":[{"name","secret","otp":{"issuer","digits","period","algorithm","tokenType"}}],
//!   "schemaVersion":N}`; encrypted when `servicesEncrypted` is set.
//! - andOTP: `[{"secret","issuer","label","digits","type","algorithm","period"}]`.

use serde_json::Value;

use super::Entry;
use crate::account::{self, Account, Kind, Params};

/// Which app made a JSON export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    Aegis,
    TwoFas,
    AndOtp,
}

impl App {
    pub fn name(self) -> &'static str {
        match self {
            App::Aegis => "Aegis",
            App::TwoFas => "2FAS",
            App::AndOtp => "andOTP",
        }
    }
}

/// Recognises the app from the document's shape.
pub fn detect(value: &Value) -> Option<App> {
    match value {
        Value::Array(_) => Some(App::AndOtp),
        Value::Object(map) if map.contains_key("db") && map.contains_key("header") => {
            Some(App::Aegis)
        }
        Value::Object(map)
            if map.contains_key("services") || map.contains_key("servicesEncrypted") =>
        {
            Some(App::TwoFas)
        }
        _ => None,
    }
}

/// True when the export's entries are encrypted (Aegis: `db` is a string; 2FAS: `servicesEncrypted`).
pub fn is_encrypted(value: &Value, app: App) -> bool {
    match app {
        App::Aegis => value.get("db").is_some_and(Value::is_string),
        App::TwoFas => {
            value
                .get("servicesEncrypted")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
                && value
                    .get("services")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
        }
        App::AndOtp => false,
    }
}

/// Reads a plaintext export of `app`. A malformed file is an error; a malformed entry is left out.
pub fn parse(value: &Value, app: App) -> Result<Vec<Entry>, String> {
    match app {
        App::Aegis => {
            let db = value.get("db").ok_or("not an Aegis export: no \"db\"")?;
            aegis_db(db)
        }
        App::TwoFas => {
            let services = value
                .get("services")
                .ok_or("not a 2FAS backup: no \"services\" list")?;
            two_fas_services(services)
        }
        App::AndOtp => and_otp(value),
    }
}

/// The entries of an Aegis vault's `db` object (plaintext, or decrypted from an encrypted vault).
pub fn aegis_db(db: &Value) -> Result<Vec<Entry>, String> {
    let entries = db
        .get("entries")
        .and_then(Value::as_array)
        .ok_or("not an Aegis export: no \"db.entries\" list")?;
    Ok(entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let name = or_issuer(text(entry, "name"), entry);
            let shown = shown_or(&name, "entry", i);
            let kind = text(entry, "type").to_ascii_lowercase();
            let Some(info) = entry.get("info") else {
                return left_out(shown, "the entry has no \"info\"");
            };
            let kind = match kind.as_str() {
                "totp" => Kind::Totp,
                "steam" => Kind::Steam,
                other => return unsupported(shown, other),
            };
            build(
                name,
                text(entry, "issuer"),
                &text(info, "secret"),
                &number(info, "digits"),
                &number(info, "period"),
                &text(info, "algo"),
                kind,
            )
        })
        .collect())
}

/// The services of a 2FAS backup (plaintext `services`, or decrypted from `servicesEncrypted`).
pub fn two_fas_services(services: &Value) -> Result<Vec<Entry>, String> {
    let services = services
        .as_array()
        .ok_or("not a 2FAS backup: \"services\" is not a list")?;
    Ok(services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            let otp = service.get("otp").cloned().unwrap_or(Value::Null);
            // 2FAS keeps the service in "name" and the account in "otp.account" (or "otp.label"): as
            // in Aegis, the account is the name and the service the issuer, so two accounts at one
            // service do not collide. Only without an account label does the service name it.
            let service_name = text(service, "name");
            let name = [text(&otp, "account"), text(&otp, "label")]
                .into_iter()
                .find(|n| !n.trim().is_empty())
                .unwrap_or_else(|| service_name.clone());
            let shown = shown_or(&name, "service", i);
            let kind = match text(&otp, "tokenType").to_ascii_uppercase().as_str() {
                "" | "TOTP" => Kind::Totp,
                "STEAM" => Kind::Steam,
                other => return unsupported(shown, other),
            };
            let issuer = match text(&otp, "issuer") {
                i if i.trim().is_empty() => service_name,
                i => i,
            };
            build(
                name,
                issuer,
                &text(service, "secret"),
                &number(&otp, "digits"),
                &number(&otp, "period"),
                &text(&otp, "algorithm"),
                kind,
            )
        })
        .collect())
}

fn and_otp(value: &Value) -> Result<Vec<Entry>, String> {
    let entries = value.as_array().ok_or("not an andOTP backup: not a list")?;
    Ok(entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            if !entry.is_object() {
                return left_out(format!("entry {}", i + 1), "not an object");
            }
            let name = or_issuer(text(entry, "label"), entry);
            let shown = shown_or(&name, "entry", i);
            let kind = match text(entry, "type").to_ascii_uppercase().as_str() {
                "" | "TOTP" => Kind::Totp,
                "STEAM" => Kind::Steam,
                other => return unsupported(shown, other),
            };
            build(
                name,
                text(entry, "issuer"),
                &text(entry, "secret"),
                &number(entry, "digits"),
                &number(entry, "period"),
                &text(entry, "algorithm"),
                kind,
            )
        })
        .collect())
}

/// FreeOTP+ export: `{"tokenOrder":[...],"tokens":[{"algo","digits","issuerExt","label","period",
/// "secret":[signed bytes],"type"}]}`.
pub fn is_freeotp_plus(value: &Value) -> bool {
    value.get("tokens").is_some_and(Value::is_array) && value.get("tokenOrder").is_some()
}

pub fn freeotp_plus(value: &Value) -> Result<Vec<Entry>, String> {
    let tokens = value
        .get("tokens")
        .and_then(Value::as_array)
        .ok_or("not a FreeOTP+ export: no \"tokens\" list")?;
    Ok(tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let name = or_issuer_key(text(token, "label"), token, "issuerExt");
            let shown = shown_or(&name, "token", i);
            let kind = match text(token, "type").to_ascii_uppercase().as_str() {
                "" | "TOTP" => Kind::Totp,
                "STEAM" => Kind::Steam,
                other => return unsupported(shown, other),
            };
            let Some(bytes) = token.get("secret").and_then(Value::as_array) else {
                return left_out(shown, "the token has no secret");
            };
            let mut secret = zeroize::Zeroizing::new(Vec::with_capacity(bytes.len()));
            for b in bytes {
                match b.as_i64() {
                    Some(v @ -128..=255) => secret.push(v as u8),
                    _ => return left_out(shown, "the secret is not a list of bytes"),
                }
            }
            let encoded = crate::secret::Secret::from_bytes(secret).to_base32();
            build(
                name,
                text(token, "issuerExt"),
                &encoded,
                &number(token, "digits"),
                &number(token, "period"),
                &text(token, "algo"),
                kind,
            )
        })
        .collect())
}

/// LastPass Authenticator's export: `{"deviceId",...,"accounts":[{"issuerName","originalIssuerName",
/// "userName","originalUserName","secret","timeStep","digits","algorithm"}],"folders":[]}`. As
/// Bitwarden Authenticator reads it, the original names name the account (the displayed ones when the
/// originals are empty).
pub fn is_lastpass_authenticator(value: &Value) -> bool {
    value.get("accounts").is_some_and(Value::is_array) && value.get("deviceId").is_some()
}

pub fn lastpass_authenticator(value: &Value) -> Result<Vec<Entry>, String> {
    let accounts = value
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or("not a LastPass Authenticator export: no \"accounts\" list")?;
    Ok(accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let first = |keys: [&str; 2]| {
                keys.into_iter()
                    .map(|k| text(account, k))
                    .find(|v| !v.trim().is_empty())
                    .unwrap_or_default()
            };
            let issuer = first(["originalIssuerName", "issuerName"]);
            let user = first(["originalUserName", "userName"]);
            let (name, issuer) = if user.trim().is_empty() {
                (issuer, String::new())
            } else {
                (user, issuer)
            };
            if name.trim().is_empty() {
                return left_out(format!("account {}", i + 1), "the account has no name");
            }
            build(
                name,
                issuer,
                &text(account, "secret"),
                &number(account, "digits"),
                &number(account, "timeStep"),
                &text(account, "algorithm"),
                Kind::Totp,
            )
        })
        .collect())
}

/// Keeper's JSON export: `{"shared_folders":[...],"records":[{"title","login","custom_fields":
/// {"$oneTimeCode":"otpauth://..."}}]}` (older exports: the custom field `TFC:Keeper`). A record may hold
/// several one-time codes (`$oneTimeCode:LABEL`).
pub fn is_keeper(value: &Value) -> bool {
    value.get("records").is_some_and(Value::is_array)
}

pub fn keeper(value: &Value) -> Result<Vec<Entry>, String> {
    let records = value
        .get("records")
        .and_then(Value::as_array)
        .ok_or("not a Keeper export: no \"records\" list")?;
    let mut entries = Vec::new();
    for record in records {
        let Some(fields) = record.get("custom_fields").and_then(Value::as_object) else {
            continue;
        };
        for (key, code) in fields {
            let one_time =
                key == "$oneTimeCode" || key.starts_with("$oneTimeCode:") || key == "TFC:Keeper";
            let Some(code) = code.as_str().filter(|c| one_time && !c.trim().is_empty()) else {
                continue;
            };
            entries.push(super::bitwarden::entry(
                &text(record, "title"),
                &text(record, "login"),
                code,
            ));
        }
    }
    Ok(entries)
}

/// An entry's account label, or its issuer when it has no label (the only name it has).
fn or_issuer(name: String, entry: &Value) -> String {
    or_issuer_key(name, entry, "issuer")
}

fn or_issuer_key(name: String, entry: &Value, key: &str) -> String {
    if name.trim().is_empty() {
        text(entry, key)
    } else {
        name
    }
}

/// The name to report an entry by: its own, or its place in the file.
fn shown_or(name: &str, what: &str, index: usize) -> String {
    if name.trim().is_empty() {
        format!("{what} {}", index + 1)
    } else {
        name.trim().to_owned()
    }
}

fn left_out(name: String, reason: &str) -> Entry {
    Entry::LeftOut {
        name,
        reason: reason.to_owned(),
    }
}

pub(crate) fn unsupported(name: String, kind: &str) -> Entry {
    Entry::LeftOut {
        name,
        reason: format!(
            "{} accounts are not supported, only TOTP and Steam",
            kind.to_uppercase()
        ),
    }
}

/// An account from its parts, or the entry left out with the reason (never the secret).
pub(crate) fn build(
    name: String,
    issuer: String,
    secret_text: &str,
    digits: &str,
    period: &str,
    algorithm: &str,
    kind: Kind,
) -> Entry {
    let name = name.trim().to_owned();
    if name.is_empty() {
        return left_out("(no name)".into(), "the entry has no name");
    }
    let (secret, normalised) = match super::decode_secret(secret_text) {
        Ok(found) => found,
        Err(e) => return left_out(name, &e.to_string()),
    };
    let params = match kind {
        Kind::Steam => Ok(Params {
            kind,
            ..Params::default()
        }),
        Kind::Totp => (|| {
            Ok::<_, account::ParamError>(Params {
                digits: account::parse_digits(digits)?,
                period: account::parse_period(period)?,
                algorithm: account::parse_algorithm(algorithm)?,
                kind,
            })
        })(),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return left_out(name, &e.to_string()),
    };
    let account = Account {
        name,
        issuer: (!issuer.trim().is_empty()).then(|| issuer.trim().to_owned()),
        params,
        secret,
    };
    if normalised {
        Entry::Normalised(account)
    } else {
        Entry::Account(account)
    }
}

pub(crate) fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// A number field as text ("" when missing), so the shared parameter parsers give the usual messages.
pub(crate) fn number(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(json: &str) -> Result<Vec<Entry>, String> {
        let value: Value = serde_json::from_str(json).unwrap();
        parse(&value, detect(&value).unwrap())
    }

    #[test]
    fn aegis_entries_and_unsupported_types() {
        let entries = accounts(
            r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":3,"entries":[
              {"type":"totp","name":"alice","issuer":"Example","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA256","digits":8,"period":60}},
              {"type":"hotp","name":"bank","issuer":"B","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"counter":3}}]}}"#,
        )
        .unwrap();
        let Entry::Account(a) = &entries[0] else {
            panic!()
        };
        assert_eq!(
            (a.name.as_str(), a.params.digits, a.params.period),
            ("alice", 8, 60)
        );
        assert!(matches!(&entries[1], Entry::LeftOut { name, .. } if name == "bank"));
    }

    #[test]
    fn encrypted_exports_are_recognised() {
        let value: Value = serde_json::from_str(
            r#"{"version":1,"header":{"slots":[{}],"params":{}},"db":"AAAA"}"#,
        )
        .unwrap();
        assert!(is_encrypted(&value, App::Aegis));
        let value: Value =
            serde_json::from_str(r#"{"services":[],"servicesEncrypted":"abc","schemaVersion":4}"#)
                .unwrap();
        assert!(is_encrypted(&value, App::TwoFas));
    }

    #[test]
    fn and_otp_and_two_fas() {
        let entries = accounts(
            r#"[{"secret":"JBSWY3DPEHPK3PXP","issuer":"ACME","label":"ops","digits":6,"type":"TOTP","algorithm":"SHA1","period":30}]"#,
        )
        .unwrap();
        assert!(matches!(&entries[0], Entry::Account(a) if a.name == "ops"));
        let entries = accounts(
            r#"{"services":[{"name":"GitHub","secret":"JBSWY3DPEHPK3PXP","otp":{"digits":6,"period":30,"algorithm":"SHA1","tokenType":"TOTP"}}],"schemaVersion":4}"#,
        )
        .unwrap();
        assert!(matches!(&entries[0], Entry::Account(a) if a.issuer.as_deref() == Some("GitHub")));
    }

    #[test]
    fn a_bad_entry_is_left_out_and_the_others_come_in() {
        let entries = accounts(
            r#"[{"secret":"a2b3c4d5e6f7g8h9","label":"x"},{"secret":"JBSWY3DPEHPK3PXP","label":"y"}]"#,
        )
        .unwrap();
        assert!(matches!(
            &entries[0],
            Entry::LeftOut { name, reason } if name == "x" && reason
                == "secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)"
        ));
        assert!(matches!(&entries[1], Entry::Account(a) if a.name == "y"));
    }

    #[test]
    fn a_secret_with_stray_bits_is_normalised() {
        // 11 symbols: 55 bits, 6 whole bytes and 7 stray bits (what 2FAS and Aegis accept).
        let entries = accounts(r#"[{"secret":"JBSWY3DPEHP","label":"odd"}]"#).unwrap();
        let Entry::Normalised(account) = &entries[0] else {
            panic!("{entries:?}")
        };
        assert_eq!(account.secret.expose(), b"Hello!");
    }

    #[test]
    fn freeotp_plus_signed_bytes() {
        let value: Value = serde_json::from_str(
            r#"{"tokenOrder":["A:b"],"tokens":[{"algo":"SHA1","digits":6,"issuerExt":"A","label":"b","period":30,"secret":[72,101,108,108,111,33,-34,-83,-66,-17],"type":"TOTP"}]}"#,
        )
        .unwrap();
        assert!(is_freeotp_plus(&value));
        let entries = freeotp_plus(&value).unwrap();
        let Entry::Account(account) = &entries[0] else {
            panic!("{entries:?}")
        };
        assert_eq!(account.secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(account.issuer.as_deref(), Some("A"));
    }
}
