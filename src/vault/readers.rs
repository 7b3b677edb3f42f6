//! Who could read what: a vault now and over its git history, for `access` and `audit`. Each version
//! is opened once with the caller's keys (the agent first) and only secret digests are kept
//! ([`history`]); a version you cannot open counts as unknown, never guessed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::history::{self, Basis, Held, History, Version};
use crate::age::recipients::{self, Member};
use crate::age::{decrypt, identity};
use crate::env::Env;
use crate::error::UserError;
use crate::text::printable;
use crate::trust::membership::{self, Recorded};

/// Why a passphrase vault is left out of access reviews.
pub const PASSPHRASE_VAULT: &str = "a passphrase vault has no recipients";

/// A vault to look at: its name (config name or file name) and path.
pub struct Place {
    pub name: String,
    pub path: PathBuf,
    pub identities: Vec<PathBuf>,
}

/// A vault as it is now and in its history: who could read what.
pub struct Reviewed {
    pub name: String,
    pub path: PathBuf,
    /// The recipients file's members now.
    pub members: Vec<Member>,
    /// Who the current version is encrypted to (its record, else the recipients file).
    pub now: Vec<String>,
    /// The current accounts (name, secret digest); None when the current version is not yours to open.
    pub accounts: Option<Vec<(String, [u8; 32])>>,
    pub history: Option<History>,
    /// Per version (same index as `history.versions`): what it held, None when not yours to open.
    pub held: Vec<Option<Held>>,
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
        let parsed = super::format::parse(&plain).ok()?;
        Some(Held::new(
            parsed
                .accounts()
                .map(|a| (history::digest(&a.secret), a.name.clone()))
                .collect(),
        ))
    }
}

/// Reads a vault now and its history (when it is in git), opening every version once; with `progress`,
/// says on `err` how far it got once it takes more than a second.
pub fn review(
    place: &Place,
    env: &Env,
    progress: bool,
    err: &mut dyn Write,
) -> Result<Reviewed, UserError> {
    let identities = identity::load(&identity::paths(&place.identities, env))
        .unwrap_or_else(|_| identity::Identities::empty());
    let mut open = open_for(env, &identities);
    let members = crate::files::read_to_string(&super::inspect::recipients_beside(&place.path))
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
        let blobs: Vec<String> = history.versions.iter().map(|v| v.blob.clone()).collect();
        for (i, blob) in blobs.iter().enumerate() {
            held.push(history.held(blob, &mut open).cloned());
            if progress && started.elapsed().as_secs() >= 1 && (i % 25 == 0 || i + 1 == total) {
                let _ = write!(
                    err,
                    "\rteamotp: reading the history of {}: {}/{total} versions",
                    printable(&place.name),
                    i + 1
                );
            }
        }
        if progress && started.elapsed().as_secs() >= 1 {
            let _ = writeln!(err);
        }
    }
    Ok(Reviewed {
        name: place.name.clone(),
        path: place.path.clone(),
        members,
        now,
        accounts,
        history,
        held,
    })
}

impl Reviewed {
    pub fn versions(&self) -> &[Version] {
        self.history.as_ref().map_or(&[], |h| h.versions.as_slice())
    }

    /// The label of `key` in the recipients file now, or in any version's record (the key shortened).
    pub fn label(&self, key: &str) -> String {
        self.members
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| m.label.clone())
            .or_else(|| self.history.as_ref()?.labels.get(key).cloned())
            .unwrap_or_default()
    }

    /// Since when `key` has been a recipient without a break (the version that started the streak).
    pub fn since(&self, key: &str) -> Option<&Version> {
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
    pub fn last_and_removal(&self, key: &str) -> (Option<&Version>, Option<&Version>) {
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
pub enum Readable {
    /// Yes: the first and the last such version (indexes), and whether every version it rests on
    /// recorded its recipients (else some come from the recipients file of their commit, unverified).
    Yes(usize, usize, bool),
    /// Not in any version you could open; `n` versions it was a recipient of are not yours to open.
    Unknown(usize),
    No,
}

/// Whether `key` could read the secret with `digest` (see [`Readable`]).
pub fn readable(reviewed: &Reviewed, key: &str, digest: &[u8; 32]) -> Readable {
    let mut first = None;
    let mut last = None;
    let mut unknown = 0;
    let mut verified = true;
    for (i, v) in reviewed.versions().iter().enumerate() {
        if !v.recipients.has(key) {
            continue;
        }
        match &reviewed.held[i] {
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

/// The keys `who` names: a key itself, or the keys labelled `who` in any of the vaults' recipients files.
pub fn resolve(who: &str, reviewed: &[Reviewed]) -> Result<Vec<String>, UserError> {
    if let Ok(parsed) = recipients::parse(&format!("{who}\n"), "the key given")
        && let [member] = parsed.members.as_slice()
    {
        return Ok(vec![member.key.clone()]);
    }
    let mut keys: Vec<String> = reviewed
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

/// One reader of an account's current secret.
pub struct Reader {
    pub key: String,
    pub label: String,
    /// When it could first read it (0: no history, a recipient now).
    pub from: u64,
    /// None: still a recipient.
    pub until: Option<u64>,
    pub basis: Basis,
}

/// What `audit` says about one current account.
pub struct Audited<'a> {
    /// The version that set the current secret (the first of the last run of versions holding it).
    pub set: Option<&'a Version>,
    /// False when a version you cannot open comes just before that run: set "at or before".
    pub exact: bool,
    /// Everyone who could read the current secret (left out: who stopped before `since`).
    pub readers: Vec<Reader>,
}

impl Reviewed {
    /// Every key that ever was a recipient (of a version, or now), once, sorted.
    pub fn keys_ever(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .versions()
            .iter()
            .flat_map(|v| v.recipients.keys.iter().cloned())
            .chain(self.now.iter().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// When the secret with `digest` was set and who could read it, over `keys`; readers whose access
    /// ended before `since` are left out.
    pub fn audit(&self, digest: &[u8; 32], keys: &[String], since: Option<u64>) -> Audited<'_> {
        let versions = self.versions();
        // When the current secret was set: the first version of the last run holding it.
        // A version you cannot open just before that run leaves the date "at or before".
        let mut set: Option<&Version> = None;
        let mut exact = true;
        let mut unknown_before = false;
        for (i, v) in versions.iter().enumerate() {
            match &self.held[i] {
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
        let mut readers: Vec<Reader> = Vec::new();
        for key in keys {
            let member_now = self.now.contains(key);
            let (from, until, basis) = match readable(self, key, digest) {
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
                Readable::No if member_now && self.versions().is_empty() => {
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
                label: self.label(key),
                from,
                until,
                basis,
            });
        }
        Audited {
            set,
            exact,
            readers,
        }
    }
}
