//! Offboarding and access review across vaults and their git history: `access KEY|LABEL` (where a key is
//! a recipient now, since when, and which current secrets it could ever read), `audit` (per account: when
//! its current secret was set, who could read it and until when, who was removed without a rotation),
//! and `members rm KEY --all` (every configured vault that lists the key).
//!
//! History is read through `vault::history` (read-only git); each version is opened once with the
//! caller's keys (the agent first), and only secret digests are kept. Every string from history goes
//! through the terminal sanitiser.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::age::decrypt;
use crate::age::identity;
use crate::age::recipients::{self, Member};
use crate::env::Env;
use crate::error::UserError;
use crate::output::Format;
use crate::text::printable;
use crate::trust::membership::{self, Recorded};
use crate::vault::history::{self, Basis, Held, History, Version};
use crate::vault::{Source, load};

/// Why a passphrase vault is left out of access reviews.
const PASSPHRASE_VAULT: &str = "a passphrase vault has no recipients";

/// A vault to look at: its name (config name or file name) and path.
pub struct Place {
    pub name: String,
    pub path: PathBuf,
    pub identities: Vec<PathBuf>,
}

/// A vault as it is now and in its history.
struct Looked {
    name: String,
    path: PathBuf,
    /// The recipients file's members now.
    members: Vec<Member>,
    /// Who the current version is encrypted to (its record, else the recipients file).
    now: Vec<String>,
    /// The current accounts (name, secret digest); None when the current version is not yours to open.
    accounts: Option<Vec<(String, [u8; 32])>>,
    history: Option<History>,
    /// Per version (same index as `history.versions`): what it held, None when not yours to open.
    held: Vec<Option<Held>>,
}

fn open_for(env: &Env, identities: &identity::Identities) -> impl FnMut(&[u8]) -> Option<Held> {
    move |bytes: &[u8]| {
        #[cfg(unix)]
        let plain = match crate::agent::client::open(bytes, env) {
            Some(opened) => Some(opened.bytes),
            None => decrypt::decrypt(bytes, &identities.list, || {
                Err(decrypt::Failure::NoTerminal)
            })
            .ok(),
        };
        #[cfg(not(unix))]
        let plain = {
            let _ = env;
            decrypt::decrypt(bytes, &identities.list, || {
                Err(decrypt::Failure::NoTerminal)
            })
            .ok()
        };
        let plain = plain?;
        let parsed = crate::vault::format::parse(&plain).ok()?;
        Some(Held::new(
            parsed
                .accounts()
                .map(|a| (history::digest(&a.secret), a.name.clone()))
                .collect(),
        ))
    }
}

/// Reads a vault now and its history (when it is in git), opening every version once.
fn look(place: &Place, env: &Env, err: &mut dyn Write) -> Result<Looked, UserError> {
    let identities = identity::load(&identity::paths(&place.identities, env))
        .unwrap_or_else(|_| identity::Identities::empty());
    let mut open = open_for(env, &identities);
    let members =
        crate::files::read_to_string(&crate::vault::inspect::recipients_beside(&place.path))
            .ok()
            .and_then(|text| recipients::parse_lenient(&text, "recipients").ok())
            .map(|p| p.members)
            .unwrap_or_default();
    let current = crate::files::read(&place.path)
        .map_err(|e| UserError::new(format!("cannot read '{}': {e}", place.path.display())))?;
    if membership::recorded(&current) == Recorded::Passphrase {
        return Err(UserError::new(format!(
            "{PASSPHRASE_VAULT}: access reviews are for vaults shared by keys"
        )));
    }
    let now = match membership::recorded(&current) {
        Recorded::Keys(record) => record.keys,
        _ => membership::Record::of(&members).keys,
    };
    let accounts = open(&current).map(|held| {
        held.secrets
            .into_iter()
            .map(|(digest, name)| (name, digest))
            .collect()
    });
    let mut history = history::locate(&place.path)
        .map(|(top, rel)| history::read(&top, &rel))
        .transpose()?;
    if let Some(history) = history.as_mut() {
        // The file's own time, not the clock: when the uncommitted version was written.
        let written = std::fs::metadata(&place.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        history.push_work_tree(&current, written);
    }
    let mut held = Vec::new();
    if let Some(history) = history.as_mut() {
        let started = Instant::now();
        let total = history.versions.len();
        let terminal = std::io::stderr().is_terminal();
        let blobs: Vec<String> = history.versions.iter().map(|v| v.blob.clone()).collect();
        for (i, blob) in blobs.iter().enumerate() {
            held.push(history.held(blob, &mut open).cloned());
            if terminal && started.elapsed().as_secs() >= 1 && (i % 25 == 0 || i + 1 == total) {
                let _ = write!(
                    err,
                    "\rteamotp: reading the history of {}: {}/{total} versions",
                    printable(&place.name),
                    i + 1
                );
            }
        }
        if terminal && started.elapsed().as_secs() >= 1 {
            let _ = writeln!(err);
        }
    }
    Ok(Looked {
        name: place.name.clone(),
        path: place.path.clone(),
        members,
        now,
        accounts,
        history,
        held,
    })
}

impl Looked {
    fn versions(&self) -> &[Version] {
        self.history.as_ref().map_or(&[], |h| h.versions.as_slice())
    }

    /// The label of `key` in the recipients file now, or in any version's record (the key shortened).
    fn label(&self, key: &str) -> String {
        self.members
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| m.label.clone())
            .or_else(|| self.history.as_ref()?.labels.get(key).cloned())
            .unwrap_or_default()
    }

    /// Since when `key` has been a recipient without a break (the version that started the streak).
    fn since(&self, key: &str) -> Option<&Version> {
        let versions = self.versions();
        let mut start = None;
        for v in versions {
            if v.recipients.has(key) {
                start = start.or(Some(v));
            } else {
                start = None;
            }
        }
        start
    }

    /// The last version `key` was a recipient of, and the version after it (its removal).
    fn last_and_removal(&self, key: &str) -> (Option<&Version>, Option<&Version>) {
        let versions = self.versions();
        let last = versions.iter().rposition(|v| v.recipients.has(key));
        match last {
            Some(i) => (versions.get(i), versions.get(i + 1)),
            None => (None, None),
        }
    }
}

/// Could `key` read the secret with `digest`: the versions it was a recipient of that held it.
#[derive(Debug, PartialEq, Eq)]
enum Readable {
    /// Yes: the first and the last such version (indexes), and whether every version it rests on
    /// recorded its recipients (else some come from the recipients file of their commit, unverified).
    Yes(usize, usize, bool),
    /// Not in any version you could open; `n` versions it was a recipient of are not yours to open.
    Unknown(usize),
    No,
}

fn readable(looked: &Looked, key: &str, digest: &[u8; 32]) -> Readable {
    let mut first = None;
    let mut last = None;
    let mut unknown = 0;
    let mut verified = true;
    for (i, v) in looked.versions().iter().enumerate() {
        if !v.recipients.has(key) {
            continue;
        }
        match &looked.held[i] {
            Some(held) if held.holds(digest) => {
                first = first.or(Some(i));
                last = Some(i);
                verified &= v.recipients.basis == Basis::Recorded;
            }
            Some(_) => {}
            None => unknown += 1,
        }
    }
    match (first, last) {
        (Some(a), Some(b)) => Readable::Yes(a, b, verified),
        _ if unknown > 0 => Readable::Unknown(unknown),
        _ => Readable::No,
    }
}

/// A commit id shortened to 10 characters (the work tree's version keeps its name).
fn short_commit(commit: &str) -> &str {
    match commit.starts_with('(') {
        true => commit,
        false => &commit[..commit.len().min(10)],
    }
}

/// `DATE (COMMIT, AUTHOR)`, or `DATE (not committed)` for the work tree's version.
fn when(v: &Version) -> String {
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

/// The keys `who` names: a key itself, or the keys labelled `who` in any of the vaults' recipients files.
fn resolve(who: &str, looked: &[Looked]) -> Result<Vec<String>, UserError> {
    if let Ok(parsed) = recipients::parse(&format!("{who}\n"), "the key given")
        && let [member] = parsed.members.as_slice()
    {
        return Ok(vec![member.key.clone()]);
    }
    let mut keys: Vec<String> = looked
        .iter()
        .flat_map(|l| &l.members)
        .filter(|m| {
            m.label
                .as_deref()
                .is_some_and(|label| label.eq_ignore_ascii_case(who.trim()))
        })
        .map(|m| m.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Err(UserError::new(format!(
            "'{}' is neither a key nor the label of a member of any vault looked at",
            printable(who)
        ))
        .hint("'teamotp members' lists each vault's members and their labels; history is followed by key"));
    }
    Ok(keys)
}

/// `teamotp access KEY|LABEL` over `places`.
pub fn access(
    places: &[Place],
    who: &str,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let mut looked = Vec::new();
    for place in places {
        match look(place, env, err) {
            Ok(l) => looked.push(l),
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
    let keys = resolve(who, &looked)?;
    let mut any = false;
    for key in &keys {
        let label = looked
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
        for l in &looked {
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

fn io(e: std::io::Error) -> UserError {
    UserError::new(format!("cannot write: {e}"))
}

/// One reader of an account's current secret.
struct Reader {
    key: String,
    label: String,
    from: u64,
    /// None: still a recipient.
    until: Option<u64>,
    basis: Basis,
}

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
        let l = match look(place, env, err) {
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
        // Every key that ever was a recipient, once.
        let mut keys: Vec<String> = l
            .versions()
            .iter()
            .flat_map(|v| v.recipients.keys.iter().cloned())
            .chain(l.now.iter().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        for (name, digest) in accounts {
            let versions = l.versions();
            // When the current secret was set: the first version of the last run holding it.
            // A version you cannot open just before that run leaves the date "at or before".
            let mut set: Option<&Version> = None;
            let mut exact = true;
            let mut unknown_before = false;
            for (i, v) in versions.iter().enumerate() {
                match &l.held[i] {
                    Some(h) if h.holds(digest) => {
                        if set.is_none() {
                            set = Some(v);
                            exact = !unknown_before;
                        }
                        unknown_before = false;
                    }
                    Some(_) => {
                        set = None;
                        unknown_before = false;
                    }
                    None => unknown_before = true,
                }
            }
            let known = match (set, exact) {
                (None, _) => "",
                (Some(_), true) => "exact",
                (Some(_), false) => "at or before",
            };
            let mut readers: Vec<Reader> = Vec::new();
            for key in &keys {
                let member_now = l.now.contains(key);
                let (from, until, basis) = match readable(&l, key, digest) {
                    Readable::Yes(first, last, _) => {
                        let until = match member_now {
                            true => None,
                            false => Some(
                                versions
                                    .get(last + 1)
                                    .map_or(versions[last].time, |v| v.time),
                            ),
                        };
                        (
                            versions[first].time,
                            until,
                            versions[first].recipients.basis,
                        )
                    }
                    // No history: the current recipients can read it.
                    Readable::No if member_now && l.versions().is_empty() => {
                        (0, None, Basis::Recorded)
                    }
                    _ => continue,
                };
                if let (Some(since), Some(until)) = (since, until)
                    && until < since
                {
                    continue;
                }
                readers.push(Reader {
                    key: key.clone(),
                    label: l.label(key),
                    from,
                    until,
                    basis,
                });
            }
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

fn describe(key: &str, label: &str) -> String {
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
