//! 1Password's `.1pux` export: a zip holding `export.attributes` and `export.data`, the JSON
//! `{"accounts":[{"vaults":[{"attrs":{"name"},"items":[{"state","overview":{"title"},"details":
//! {"loginFields":[{"designation":"username","value"}],"sections":[{"fields":[{"title","value":
//! {"totp":"otpauth://... or a bare secret"}}]}]}}]}]}]}`. An item may hold several one-time-password
//! fields: each is an entry (the names are made unique as for any import).

use serde_json::Value;

use super::Entry;
use super::archive::Archive;
use super::json::text;

/// True for a zip that is a 1PUX export.
pub fn is_1pux(names: &[String]) -> bool {
    names.iter().any(|n| n == "export.data")
}

pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut archive = Archive::open(bytes)?;
    if !is_1pux(&archive.names()) {
        return Err(
            "the zip archive has no export.data: it is not a 1Password export (.1pux)".into(),
        );
    }
    let data = archive.read("export.data")?;
    let value = super::parse_json(&data)?;
    let accounts = value
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or("the 1Password export has no \"accounts\" list")?;
    let mut entries = Vec::new();
    for vault in accounts
        .iter()
        .filter_map(|a| a.get("vaults").and_then(Value::as_array))
        .flatten()
    {
        for item in vault
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if text(item, "state") == "deleted" {
                continue;
            }
            let title = item
                .get("overview")
                .map(|o| text(o, "title"))
                .unwrap_or_default();
            let details = item.get("details").unwrap_or(&Value::Null);
            let username = designated_username(details.get("loginFields"));
            for field in section_fields(details) {
                let Some(totp) = field
                    .get("value")
                    .and_then(|v| v.get("totp"))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                if totp.trim().is_empty() {
                    continue;
                }
                entries.push(super::bitwarden::entry(&title, &username, totp));
            }
        }
    }
    Ok(entries)
}

/// The value of the field designated `username` in a list of login fields (1PUX `loginFields`,
/// OPVault `fields`), or "".
pub(crate) fn designated_username(fields: Option<&Value>) -> String {
    fields
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|f| text(f, "designation") == "username")
        .map(|f| text(f, "value"))
        .unwrap_or_default()
}

/// Every field of every section of an item's details (1PUX and OPVault alike).
pub(crate) fn section_fields(details: &Value) -> impl Iterator<Item = &Value> {
    details
        .get("sections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("fields").and_then(Value::as_array))
        .flatten()
}
