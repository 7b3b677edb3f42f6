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
use crate::secret;

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

/// Reads an export of `app`. Any malformed entry is an error (nothing is imported from a broken file).
pub fn parse(value: &Value, app: App) -> Result<Vec<Entry>, String> {
    match app {
        App::Aegis => aegis(value),
        App::TwoFas => two_fas(value),
        App::AndOtp => and_otp(value),
    }
}

fn aegis(value: &Value) -> Result<Vec<Entry>, String> {
    let db = value.get("db").ok_or("not an Aegis export: no \"db\"")?;
    if db.is_string() {
        return Err(
            "this Aegis export is encrypted: in Aegis, export the vault again without encryption \
                    (Settings, Import & Export, Export, unencrypted)"
                .into(),
        );
    }
    let entries = db
        .get("entries")
        .and_then(Value::as_array)
        .ok_or("not an Aegis export: no \"db.entries\" list")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let name = or_issuer(text(entry, "name"), entry);
            let kind = text(entry, "type").to_ascii_lowercase();
            let info = entry
                .get("info")
                .ok_or(format!("entry {}: no \"info\"", i + 1))?;
            let kind = match kind.as_str() {
                "totp" => Kind::Totp,
                "steam" => Kind::Steam,
                other => return Ok(unsupported(name, other)),
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
            .map_err(|e| format!("entry {}: {e}", i + 1))
        })
        .collect()
}

fn two_fas(value: &Value) -> Result<Vec<Entry>, String> {
    let services = value.get("services").and_then(Value::as_array);
    let encrypted = value
        .get("servicesEncrypted")
        .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
    if encrypted && services.is_none_or(Vec::is_empty) {
        return Err(
            "this 2FAS backup is encrypted: in 2FAS, export it again without a password".into(),
        );
    }
    let services = services.ok_or("not a 2FAS backup: no \"services\" list")?;
    services
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
            let kind = match text(&otp, "tokenType").to_ascii_uppercase().as_str() {
                "" | "TOTP" => Kind::Totp,
                "STEAM" => Kind::Steam,
                other => return Ok(unsupported(name, other)),
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
            .map_err(|e| format!("service {}: {e}", i + 1))
        })
        .collect()
}

fn and_otp(value: &Value) -> Result<Vec<Entry>, String> {
    let entries = value.as_array().ok_or("not an andOTP backup: not a list")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            if !entry.is_object() {
                return Err(format!("entry {}: not an object", i + 1));
            }
            let name = or_issuer(text(entry, "label"), entry);
            let kind = match text(entry, "type").to_ascii_uppercase().as_str() {
                "" | "TOTP" => Kind::Totp,
                "STEAM" => Kind::Steam,
                other => return Ok(unsupported(name, other)),
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
            .map_err(|e| format!("entry {}: {e}", i + 1))
        })
        .collect()
}

/// An entry's account label, or its issuer when it has no label (the only name it has).
fn or_issuer(name: String, entry: &Value) -> String {
    if name.trim().is_empty() {
        text(entry, "issuer")
    } else {
        name
    }
}

fn unsupported(name: String, kind: &str) -> Entry {
    Entry::Unsupported {
        name,
        reason: format!(
            "{} accounts are not supported, only TOTP and Steam",
            kind.to_uppercase()
        ),
    }
}

fn build(
    name: String,
    issuer: String,
    secret_text: &str,
    digits: &str,
    period: &str,
    algorithm: &str,
    kind: Kind,
) -> Result<Entry, String> {
    let shown = if name.is_empty() {
        "(no name)".to_owned()
    } else {
        format!("'{name}'")
    };
    if name.trim().is_empty() {
        return Err("an account has no name".into());
    }
    let secret = secret::decode(secret_text).map_err(|e| format!("{shown}: {e}"))?;
    let params = match kind {
        Kind::Steam => Params {
            kind,
            ..Params::default()
        },
        Kind::Totp => Params {
            digits: account::parse_digits(digits).map_err(|e| format!("{shown}: {e}"))?,
            period: account::parse_period(period).map_err(|e| format!("{shown}: {e}"))?,
            algorithm: account::parse_algorithm(algorithm).map_err(|e| format!("{shown}: {e}"))?,
            kind,
        },
    };
    Ok(Entry::Account(Account {
        name: name.trim().to_owned(),
        issuer: (!issuer.trim().is_empty()).then(|| issuer.trim().to_owned()),
        params,
        secret,
    }))
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// A number field as text ("" when missing), so the shared parameter parsers give the usual messages.
fn number(value: &Value, key: &str) -> String {
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
        assert!(matches!(&entries[1], Entry::Unsupported { name, .. } if name == "bank"));
    }

    #[test]
    fn encrypted_exports_are_refused_with_a_way_out() {
        let err = accounts(r#"{"version":1,"header":{"slots":[{}],"params":{}},"db":"AAAA"}"#)
            .unwrap_err();
        assert!(
            err.contains("export the vault again without encryption"),
            "{err}"
        );
        let err =
            accounts(r#"{"services":[],"servicesEncrypted":"abc","schemaVersion":4}"#).unwrap_err();
        assert!(err.contains("without a password"), "{err}");
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
    fn a_bad_entry_fails_the_whole_file() {
        let err = accounts(r#"[{"secret":"a2b3c4d5e6f7g8h9","label":"x"}]"#).unwrap_err();
        assert_eq!(
            err,
            "entry 1: 'x': secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)"
        );
    }
}
