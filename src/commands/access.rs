//! Offboarding across vaults and their git history: `access KEY|LABEL` (where a key is a recipient now,
//! since when, and which current secrets it could ever read) and `members rm KEY --all` (every configured
//! vault that lists the key). `audit` is in `audit.rs`; the review both render is `vault::readers`.
//!
//! History is read through `vault::history` (read-only git); each version is opened once with the
//! caller's keys (the agent first), and only secret digests are kept. Every string from history goes
//! through the terminal sanitiser.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::age::recipients;
use crate::env::Env;
use crate::error::UserError;
use crate::text::printable;
use crate::vault::history::Version;
use crate::vault::readers::{self, Place, Readable, readable};
use crate::vault::{Source, load};

/// A commit id shortened to 10 characters (the work tree's version keeps its name).
fn short_commit(commit: &str) -> &str {
    match commit.starts_with('(') {
        true => commit,
        false => &commit[..commit.len().min(10)],
    }
}

/// `DATE (COMMIT, AUTHOR)`, or `DATE (not committed)` for the work tree's version.
pub(super) fn when(v: &Version) -> String {
    match v.author.is_empty() {
        true => format!("{} {}", crate::time::date(v.time), v.commit),
        false => format!(
            "{} ({}, {})",
            crate::time::date(v.time),
            short_commit(&v.commit),
            printable(&v.author)
        ),
    }
}

/// `teamotp access KEY|LABEL` over `places`.
pub fn access(
    places: &[Place],
    who: &str,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let mut reviewed = Vec::new();
    for place in places {
        match readers::review(place, env, std::io::stderr().is_terminal(), err) {
            Ok(l) => reviewed.push(l),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "teamotp: warning: {}: {}",
                    printable(&place.name),
                    e.message
                );
            }
        }
    }
    let keys = readers::resolve(who, &reviewed)?;
    let mut any = false;
    for key in &keys {
        let label = reviewed
            .iter()
            .map(|l| l.label(key))
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        let shown = recipients::shown(key);
        let _ = writeln!(
            out,
            "{}{}",
            shown,
            if label.is_empty() {
                String::new()
            } else {
                format!("  # {}", printable(&label))
            }
        );
        for l in &reviewed {
            let member_now = l.now.iter().any(|k| k == key);
            let ever = l.versions().iter().any(|v| v.recipients.has(key));
            if !member_now && !ever {
                continue;
            }
            any = true;
            let place = format!(
                "{} ({})",
                printable(&l.name),
                printable(&l.path.display().to_string())
            );
            let status = if member_now {
                match l.since(key) {
                    Some(v) => format!(
                        "a recipient now, since {} [{}]",
                        when(v),
                        v.recipients.basis.describe()
                    ),
                    None => "a recipient now (no git history)".to_owned(),
                }
            } else {
                match l.last_and_removal(key) {
                    (Some(last), Some(removed)) => format!(
                        "not a recipient now; last in {}, removed {}",
                        when(last),
                        when(removed)
                    ),
                    _ => "not a recipient now".to_owned(),
                }
            };
            writeln!(out, "  {place}: {status}").map_err(io)?;
            let Some(accounts) = &l.accounts else {
                writeln!(
                    out,
                    "    (its current version is not yours to open: its accounts cannot be listed)"
                )
                .map_err(io)?;
                continue;
            };
            for (name, digest) in accounts {
                let unverified = |verified: bool| match verified {
                    true => "",
                    false => " [per the recipients file, unverified]",
                };
                let verdict = match readable(l, key, digest) {
                    Readable::Yes(first, _, verified) if member_now => format!(
                        "can read its current secret (since {}){}",
                        crate::time::date(l.versions()[first].time),
                        unverified(verified)
                    ),
                    Readable::Yes(first, last, verified) => format!(
                        "could read its current secret ({} to {}): re-enrol it{}",
                        crate::time::date(l.versions()[first].time),
                        crate::time::date(l.versions()[last].time),
                        unverified(verified)
                    ),
                    Readable::Unknown(n) => format!(
                        "unknown: {n} version{} it was a recipient of {} not yours to open",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "is" } else { "are" }
                    ),
                    Readable::No if member_now && l.versions().is_empty() => {
                        "can read its current secret".to_owned()
                    }
                    Readable::No => "never held its current secret".to_owned(),
                };
                writeln!(out, "    {}: {verdict}", printable(name)).map_err(io)?;
            }
        }
    }
    if !any {
        let _ = writeln!(
            err,
            "teamotp: {} is not and never was a recipient of the vaults looked at",
            printable(who)
        );
        return Ok(1);
    }
    Ok(0)
}

pub(super) fn io(e: std::io::Error) -> UserError {
    UserError::new(format!("cannot write: {e}"))
}

pub(super) fn describe(key: &str, label: &str) -> String {
    match label {
        "" => recipients::shown(key),
        label => format!("{} ({})", printable(label), recipients::shown(key)),
    }
}

fn source(place: &Place) -> Source {
    Source::File(place.path.clone())
}

/// `teamotp members rm KEY --all`: removes the member from every configured vault whose recipients file
/// lists it (by key or label), each with its own pin review and its own change to commit (nothing is
/// committed or pushed), then one combined re-enrolment list (`vault/account`) on stdout, which
/// `check --all` keeps showing until each account is rotated.
#[allow(clippy::too_many_arguments)]
pub fn members_rm_all(
    places: &[Place],
    who: &str,
    yes: bool,
    force: bool,
    cli_identities: &[PathBuf],
    env: &Env,
    now: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let mut changed = Vec::new();
    let mut failed = 0;
    for place in places {
        let path = crate::vault::inspect::recipients_beside(&place.path);
        let Some(members) = crate::files::read_to_string(&path)
            .ok()
            .and_then(|t| recipients::parse_lenient(&t, "recipients").ok())
            .map(|p| p.members)
        else {
            continue;
        };
        let listed = members.iter().any(|m| {
            m.key == who.trim()
                || m.label
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(who.trim()))
        });
        if !listed {
            continue;
        }
        let identities: Vec<PathBuf> = cli_identities
            .iter()
            .chain(&place.identities)
            .cloned()
            .collect();
        let ctx = crate::vault::transaction::Context {
            source: Source::File(place.path.clone()),
            identities: &identities,
            recipients_file: None,
            env,
            now,
        };
        let _ = writeln!(err, "teamotp: {}:", printable(&place.name));
        match super::members::members_rm(&ctx, who, yes, force, err) {
            Ok(()) => changed.push(place),
            Err(e) => {
                failed += 1;
                let _ = writeln!(
                    err,
                    "teamotp: error: {}: {}",
                    printable(&place.name),
                    e.message
                );
                for hint in &e.hints {
                    let _ = writeln!(err, "teamotp: hint: {hint}");
                }
            }
        }
    }
    if changed.is_empty() && failed == 0 {
        return Err(
            UserError::new(format!("no configured vault lists '{}'", printable(who)))
                .hint("'teamotp access WHO' shows where a key is a recipient"),
        );
    }
    let mut marked = Vec::new();
    for place in &changed {
        let identities: Vec<PathBuf> = cli_identities
            .iter()
            .chain(&place.identities)
            .cloned()
            .collect();
        if let Ok(vault) = load::load(&source(place), &identities, env, &mut std::io::sink()) {
            for row in &vault.parsed.rows {
                if row.reenrol.is_some() {
                    marked.push(format!("{}/{}", place.name, row.name()));
                }
            }
        }
    }
    if !marked.is_empty() {
        writeln!(out, "re-enrol:").map_err(io)?;
        for name in &marked {
            writeln!(out, "  {}", printable(name)).map_err(io)?;
        }
    }
    let _ = writeln!(
        err,
        "teamotp: removed from {} vault{}{}; commit and push each change, set a new secret at each service \
         listed, then 'teamotp rotate NAME' ('teamotp check --all' lists what is left)",
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        if failed > 0 {
            format!(", {failed} refused (see above)")
        } else {
            String::new()
        }
    );
    Ok(if failed > 0 { 2 } else { 0 })
}
