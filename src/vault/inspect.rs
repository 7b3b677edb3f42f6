//! What a read says about the vault file it read, before and beside decrypting it: whether the version
//! is encrypted to exactly the keys of the recipients file beside it (its recorded recipients, see
//! `membership`), and whether the git clone it lives in has teamotp's diff and merge drivers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::age::recipients;
use crate::env::Env;
use crate::text::printable;
use crate::trust::membership::{self, Recorded};

/// How a version's recorded recipients compare with the recipients file beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Agreement {
    /// The record and the recipients file hold the same keys; or there is nothing to compare (a
    /// passphrase vault, a plaintext file, no recipients file beside the vault, the demo).
    #[default]
    Agrees,
    /// The version differs from the recipients file, or its record is broken: the one line to say.
    Mismatch(String),
    /// No record: written by another tool (plain `age`) or by an older teamotp.
    NoRecord,
}

/// The recipients file beside the real vault (a link to a vault in a repository uses that repository's).
/// Resolved without the writer's link checks (`files::Target`, which may ask git whether a link is
/// committed): this is the read path, and only informs.
pub fn recipients_beside(vault: &Path) -> PathBuf {
    let link = std::fs::symlink_metadata(vault).is_ok_and(|m| m.file_type().is_symlink());
    let real = match link {
        true => std::fs::canonicalize(vault).unwrap_or_else(|_| vault.to_owned()),
        false => vault.to_owned(),
    };
    let dir = real.parent().filter(|p| !p.as_os_str().is_empty());
    dir.unwrap_or(Path::new(".")).join(recipients::FILE_NAME)
}

/// Compares the record in `header` (the file's first bytes, holding its header) with the recipients
/// file beside `vault`.
pub fn agreement(vault: &Path, header: &[u8]) -> Agreement {
    let shown = printable(&vault.display().to_string()).into_owned();
    let record = match membership::recorded(header) {
        Recorded::Keys(record) => record,
        Recorded::None => {
            return match recipients_file(vault) {
                Some(_) => Agreement::NoRecord,
                None => Agreement::Agrees,
            };
        }
        Recorded::Passphrase | Recorded::NotAge => return Agreement::Agrees,
        Recorded::Broken(why) => {
            return Agreement::Mismatch(format!(
                "'{shown}': {why}, so who can open it is not known; re-encrypt it to the recipients \
                 file: teamotp rekey"
            ));
        }
    };
    let Some((members, file)) = recipients_file(vault) else {
        return Agreement::Agrees;
    };
    match membership::compare(&record, &members) {
        None => Agreement::Agrees,
        Some(mismatch) => {
            let mut parts = Vec::new();
            if !mismatch.locked_out.is_empty() {
                parts.push(format!(
                    "{} cannot open it",
                    membership::describe_keys(&mismatch.locked_out, &members)
                ));
            }
            if !mismatch.extra.is_empty() {
                parts.push(format!(
                    "{} can open it but {} not in {}",
                    membership::describe_keys(&mismatch.extra, &members),
                    if mismatch.extra.len() == 1 {
                        "is"
                    } else {
                        "are"
                    },
                    recipients::FILE_NAME
                ));
            }
            Agreement::Mismatch(format!(
                "'{shown}' is not encrypted to exactly the keys of '{}': {}; re-encrypt it: teamotp \
                 rekey",
                printable(&file.display().to_string()),
                parts.join("; ")
            ))
        }
    }
}

/// The recipients file beside `vault`, parsed leniently (its errors are the write path's to report);
/// None when there is none or it does not parse.
fn recipients_file(vault: &Path) -> Option<(Vec<recipients::Member>, PathBuf)> {
    let path = recipients_beside(vault);
    let text = crate::files::read_to_string(&path).ok()?;
    let parsed = recipients::parse_lenient(&text, &path.display().to_string()).ok()?;
    Some((parsed.members, path))
}

/// Says the mismatch of a version with its recipients file (one line on `err`).
pub fn warn(agreement: &Agreement, err: &mut dyn Write) {
    if let Agreement::Mismatch(line) = agreement {
        let _ = writeln!(err, "teamotp: warning: {line}");
    }
}

static GIT_HINT_GIVEN: AtomicBool = AtomicBool::new(false);

/// Says once per run, when `vault` is in a git work tree whose clone lacks teamotp's drivers, what that
/// means and what to run. Reads the repository's config files only (no git process on the read path).
pub fn warn_git_drivers(vault: &Path, env: &Env, err: &mut dyn Write) {
    if GIT_HINT_GIVEN.load(Ordering::Relaxed) {
        return;
    }
    let Some(state) = git_drivers(vault, env) else {
        return;
    };
    let shown = printable(&vault.display().to_string()).into_owned();
    let line = match state {
        Drivers::Complete => return,
        Drivers::None => format!(
            "'{shown}' is in a git clone without teamotp's drivers: git shows its diffs as binary and \
             a merge of two changed versions conflicts; run once in this clone: teamotp git-setup"
        ),
        Drivers::NoRecipientsDriver => format!(
            "the git clone of '{shown}' merges .age-recipients without teamotp's driver (set up by an \
             older teamotp): run once in this clone: teamotp git-setup"
        ),
    };
    GIT_HINT_GIVEN.store(true, Ordering::Relaxed);
    let _ = writeln!(err, "teamotp: note: {line}");
}

/// What git drivers a clone has configured.
#[derive(Debug, PartialEq, Eq)]
pub enum Drivers {
    None,
    NoRecipientsDriver,
    Complete,
}

/// The drivers configured for the clone holding `vault` (its config, the user's global config, the
/// system's); None when the vault is not a team vault (no recipients file beside it, no attributes
/// routing vaults to teamotp) in a git work tree.
pub fn git_drivers(vault: &Path, env: &Env) -> Option<Drivers> {
    let real = std::fs::canonicalize(vault).ok()?;
    let dir = real.parent()?.to_path_buf();
    let (top, git_dir) = dir
        .ancestors()
        .find_map(|d| Some((d.to_path_buf(), git_dir_of(d)?)))?;
    // A team's vault: a recipients file beside it, or a repository whose attributes route vaults to
    // teamotp. (An age file that merely sits in some repository is not told to set up drivers.)
    let routed = read_small(&top.join(".gitattributes"))
        .is_some_and(|text| text.lines().any(|l| l.contains("merge=teamotp")));
    if !routed && !recipients_beside(vault).is_file() {
        return None;
    }
    let common = match read_small(&git_dir.join("commondir")) {
        Some(rel) => git_dir.join(rel.trim()),
        None => git_dir,
    };
    let mut configs = vec![common.join("config")];
    if let Some(home) = env.home() {
        configs.push(home.join(".gitconfig"));
    }
    match env.var("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => configs.push(PathBuf::from(xdg).join("git").join("config")),
        None => {
            if let Some(home) = env.home() {
                configs.push(home.join(".config").join("git").join("config"));
            }
        }
    }
    configs.push(PathBuf::from("/etc/gitconfig"));
    let text: String = configs
        .iter()
        .filter_map(|p| read_small(p))
        .collect::<Vec<_>>()
        .join("\n");
    let has = |section: &str| has_driver(&text, section);
    Some(match (has("teamotp"), has("teamotp-recipients")) {
        (true, true) => Drivers::Complete,
        (true, false) => Drivers::NoRecipientsDriver,
        _ => Drivers::None,
    })
}

/// The git directory of a work tree's top `dir`: `dir/.git` (a directory, or a file `gitdir: PATH`).
fn git_dir_of(dir: &Path) -> Option<PathBuf> {
    let dot_git = dir.join(".git");
    let metadata = std::fs::symlink_metadata(&dot_git).ok()?;
    if metadata.is_dir() {
        return Some(dot_git);
    }
    let text = read_small(&dot_git)?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    Some(dir.join(target))
}

/// A small text file of the repository, read through the one bounded reader: a committed
/// `.gitattributes` that is a link to `/dev/zero`, or a FIFO planted as `.git/config`, is skipped at
/// once, never read without end.
fn read_small(path: &Path) -> Option<String> {
    crate::files::read_to_string(path)
        .ok()
        .map(|text| text.to_string())
}

/// True when a git config text has `[merge "NAME"]` with a `driver` line in it.
fn has_driver(text: &str, name: &str) -> bool {
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            inside = header.eq_ignore_ascii_case(&format!("[merge\"{name}\"]"));
            continue;
        }
        if inside
            && line
                .split('=')
                .next()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case("driver"))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_merge_driver_sections() {
        let text = "[core]\n\tbare = false\n[merge \"teamotp\"]\n\tname = x\n\tdriver = teamotp merge-driver %O %A %B %P\n";
        assert!(has_driver(text, "teamotp"));
        assert!(!has_driver(text, "teamotp-recipients"));
        assert!(!has_driver("[merge \"teamotp\"]\n\tname = x\n", "teamotp"));
    }
}
