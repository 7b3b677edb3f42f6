//! `teamotp audit [--since DATE] [--format table|csv|json]`: per account of each vault, when its current
//! secret was set and by whom, everyone who could read it from when until when, and who was removed
//! without a rotation (exit 1 when anyone was). The review itself is `vault::readers`; this renders it.

use std::io::{IsTerminal, Write};

use serde_json::json;

use super::access::{describe, io, when};
use crate::env::Env;
use crate::error::UserError;
use crate::output::Format;
use crate::text::printable;
use crate::vault::readers::{self, Audited, PASSPHRASE_VAULT, Place, Reader};

/// `teamotp audit [--since DATE] [--format table|csv|json]` over `places`.
pub fn audit(
    places: &[Place],
    since: Option<u64>,
    format: Format,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header = [
        "vault",
        "account",
        "secret_set",
        "secret_set_known",
        "secret_set_commit",
        "secret_set_by",
        "key",
        "label",
        "readable_from",
        "readable_until",
        "member_now",
        "removed_without_rotation",
        "basis",
    ];
    csv.write_record(header).map_err(|e| io(e.into()))?;
    let mut table = String::new();
    let mut code = 0;
    for place in places {
        let l = match readers::review(place, env, std::io::stderr().is_terminal(), err) {
            Ok(l) => l,
            Err(e) if e.message.starts_with(PASSPHRASE_VAULT) => {
                let _ = writeln!(
                    err,
                    "teamotp: note: {}: {}; left out",
                    printable(&place.name),
                    e.message
                );
                continue;
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "teamotp: error: {}: {}",
                    printable(&place.name),
                    e.message
                );
                code = 2;
                continue;
            }
        };
        let Some(accounts) = &l.accounts else {
            let _ = writeln!(
                err,
                "teamotp: error: {}: the current version is not yours to open",
                printable(&l.name)
            );
            code = 2;
            continue;
        };
        if l.history.is_none() {
            let _ = writeln!(
                err,
                "teamotp: note: {} is not in a git repository: only its current recipients are known",
                printable(&l.name)
            );
        }
        let unopened = l.held.iter().filter(|h| h.is_none()).count();
        if unopened > 0 {
            let _ = writeln!(
                err,
                "teamotp: note: {}: {unopened} version{} of its history {} not yours to open and {} not \
                 counted",
                printable(&l.name),
                if unopened == 1 { "" } else { "s" },
                if unopened == 1 { "is" } else { "are" },
                if unopened == 1 { "is" } else { "are" },
            );
        }
        table.push_str(&format!(
            "{} ({}):\n",
            printable(&l.name),
            printable(&l.path.display().to_string())
        ));
        let keys = l.keys_ever();
        for (name, digest) in accounts {
            let Audited {
                set,
                exact,
                readers,
            } = l.audit(digest, &keys, since);
            let known = match (set, exact) {
                (None, _) => "",
                (Some(_), true) => "exact",
                (Some(_), false) => "at or before",
            };
            let set_date = set.map(|v| crate::time::date(v.time)).unwrap_or_default();
            let set_commit = set.map(|v| v.commit.clone()).unwrap_or_default();
            let set_by = set.map(|v| v.author.clone()).unwrap_or_default();
            let exposed: Vec<&Reader> = readers.iter().filter(|r| r.until.is_some()).collect();
            table.push_str(&format!(
                "  {}: secret set {}{}\n",
                printable(name),
                if set_date.is_empty() {
                    "(unknown)".to_owned()
                } else {
                    format!(
                        "{}{}",
                        if exact { "" } else { "at or before " },
                        set.map(when).unwrap_or_default()
                    )
                },
                if exposed.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; REMOVED WITHOUT ROTATION: {}",
                        exposed
                            .iter()
                            .map(|r| describe(&r.key, &r.label))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            let mut json_readers = Vec::new();
            for r in &readers {
                let from = match r.from {
                    0 => String::new(),
                    t => crate::time::date(t),
                };
                let until = r.until.map(crate::time::date).unwrap_or_default();
                table.push_str(&format!(
                    "      {}: {}{}\n",
                    describe(&r.key, &r.label),
                    if from.is_empty() {
                        "now".to_owned()
                    } else {
                        format!("from {from}")
                    },
                    match &r.until {
                        None => " (a member now)".to_owned(),
                        Some(_) => format!(" until {until} (removed, not rotated)"),
                    }
                ));
                csv.write_record([
                    l.name.as_str(),
                    name,
                    &set_date,
                    known,
                    &set_commit,
                    &set_by,
                    &r.key,
                    &r.label,
                    &from,
                    &until,
                    if r.until.is_none() { "yes" } else { "no" },
                    if r.until.is_some() { "yes" } else { "no" },
                    r.basis.describe(),
                ])
                .map_err(|e| io(e.into()))?;
                json_readers.push(json!({
                    "key": r.key,
                    "label": r.label,
                    "readable_from": from,
                    "readable_until": until,
                    "member_now": r.until.is_none(),
                    "removed_without_rotation": r.until.is_some(),
                    "basis": r.basis.describe(),
                }));
            }
            rows.push(json!({
                "vault": l.name,
                "account": name,
                "secret_set": set_date,
                "secret_set_known": known,
                "secret_set_commit": set_commit,
                "secret_set_by": set_by,
                "readers": json_readers,
            }));
            if !exposed.is_empty() {
                code = code.max(1);
            }
        }
    }
    let text = match format {
        Format::Table => table,
        Format::Csv => {
            String::from_utf8(csv.into_inner().map_err(|e| io(e.into_error()))?).unwrap_or_default()
        }
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
    };
    crate::error::write_data(out, text.as_bytes())?;
    Ok(code)
}
