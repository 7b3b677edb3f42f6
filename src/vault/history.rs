//! A vault's history in git, read-only through the `git` on PATH: every version of the vault on the
//! current branch (each ancestor of HEAD that changed it, merges included), when and by whom it was
//! committed, who it was encrypted to, and, for the versions the caller can open, which secrets it held
//! (as digests: no secret is kept). Two git processes read everything: one `git log`, one
//! `git cat-file --batch` for every blob; each version is decrypted once (versions are cached by blob id,
//! in memory only).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::age::recipients;
use crate::error::UserError;
use crate::trust::membership::{self, Recorded};

/// One committed version of the vault.
#[derive(Debug, Clone)]
pub struct Version {
    pub commit: String,
    /// Committer time, Unix seconds.
    pub time: u64,
    pub author: String,
    /// The vault's blob id at this commit.
    pub blob: String,
    pub recipients: Recipients,
}

/// Who a version was encrypted to, and how that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    pub keys: Vec<String>,
    pub basis: Basis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The version's own record (its header, under the header's MAC).
    Recorded,
    /// The recipients file of that commit: what it says, not what the file was encrypted to.
    RecipientsFile,
    /// A passphrase vault: no recipients (out of scope).
    Passphrase,
    /// Neither a record nor a recipients file.
    Unknown,
}

impl Basis {
    pub fn describe(self) -> &'static str {
        match self {
            Basis::Recorded => "recorded",
            Basis::RecipientsFile => "per the recipients file, unverified",
            Basis::Passphrase => "passphrase",
            Basis::Unknown => "unknown",
        }
    }
}

/// A version as the caller could open it: the digest of every account's secret and its name.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub secrets: Vec<([u8; 32], String)>,
    digests: std::collections::HashSet<[u8; 32]>,
}

impl Held {
    pub fn new(secrets: Vec<([u8; 32], String)>) -> Held {
        let digests = secrets.iter().map(|(d, _)| *d).collect();
        Held { secrets, digests }
    }

    pub fn holds(&self, digest: &[u8; 32]) -> bool {
        self.digests.contains(digest)
    }
}

impl Recipients {
    /// `key` is one of them (the keys are sorted).
    pub fn has(&self, key: &str) -> bool {
        self.keys.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
    }
}

/// The full digest a secret is compared by (never its value, never textconv's short fingerprint).
pub fn digest(secret: &crate::secret::Secret) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"teamotp secret digest\0");
    hasher.update(secret.expose());
    hasher.finalize().into()
}

/// A vault's history: its versions, oldest first, and the bytes of each distinct version.
pub struct History {
    pub versions: Vec<Version>,
    /// The label each key last had in a committed recipients file (labels of people who left too).
    pub labels: HashMap<String, String>,
    blobs: HashMap<String, Vec<u8>>,
    opened: HashMap<String, Option<Held>>,
}

impl History {
    /// What a version held, opened with `open` once per blob (None: the caller cannot open it).
    pub fn held(
        &mut self,
        blob: &str,
        open: &mut dyn FnMut(&[u8]) -> Option<Held>,
    ) -> Option<&Held> {
        if !self.opened.contains_key(blob) {
            let held = self.blobs.get(blob).and_then(|bytes| open(bytes));
            self.opened.insert(blob.to_owned(), held);
        }
        self.opened.get(blob).and_then(Option::as_ref)
    }

    /// Adds the vault as it is in the work tree when it differs from the last committed version (or there
    /// is none): a change not committed yet is part of who can read what now.
    pub fn push_work_tree(&mut self, bytes: &[u8], time: u64) {
        let last = self.versions.last().and_then(|v| self.blobs.get(&v.blob));
        if last.is_some_and(|b| b.as_slice() == bytes) {
            return;
        }
        let recipients = recorded(bytes).unwrap_or(Recipients {
            keys: Vec::new(),
            basis: Basis::Unknown,
        });
        let blob = "work-tree".to_owned();
        self.blobs.insert(blob.clone(), bytes.to_vec());
        self.versions.push(Version {
            commit: "(not committed)".to_owned(),
            time,
            author: String::new(),
            blob,
            recipients,
        });
    }
}

/// Whether `vault` is in a git work tree: its top and the vault's path inside it.
pub fn locate(vault: &Path) -> Option<(PathBuf, String)> {
    let real = std::fs::canonicalize(vault).ok()?;
    let dir = real.parent()?;
    let top = crate::git::text(dir, &["rev-parse", "--show-toplevel"]).ok()?;
    let top = PathBuf::from(top.trim());
    let rel = real.strip_prefix(std::fs::canonicalize(&top).ok()?).ok()?;
    Some((top, rel.to_string_lossy().replace('\\', "/")))
}

/// Reads the history of the vault at `rel` in the work tree `top`.
pub fn read(top: &Path, rel: &str) -> Result<History, UserError> {
    let recipients_rel = match rel.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{}", recipients::FILE_NAME),
        None => recipients::FILE_NAME.to_owned(),
    };
    if crate::git::output(top, &["rev-parse", "--verify", "-q", "HEAD"]).is_err() {
        // A repository without a commit yet: no history.
        return Ok(History {
            versions: Vec::new(),
            labels: HashMap::new(),
            blobs: HashMap::new(),
            opened: HashMap::new(),
        });
    }
    let log = crate::git::text(
        top,
        &[
            "log",
            "--full-history",
            "--format=%H%x09%ct%x09%aN",
            "HEAD",
            "--",
            rel,
        ],
    )?;
    let commits: Vec<(String, u64, String)> = log
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, '\t');
            let commit = parts.next()?.to_owned();
            let time = parts.next()?.parse().ok()?;
            let author = parts.next().unwrap_or_default().to_owned();
            Some((commit, time, author))
        })
        .collect();
    // One batch: the vault's and the recipients file's blob at every commit.
    let mut queries = Vec::new();
    for (commit, ..) in &commits {
        queries.push(format!("{commit}:{rel}"));
        queries.push(format!("{commit}:{recipients_rel}"));
    }
    let objects = batch(top, &queries)?;
    let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
    let mut labels: HashMap<String, String> = HashMap::new();
    // Newest first: the first label seen for a key is its latest.
    for object in objects.iter().skip(1).step_by(2).flatten() {
        let text = String::from_utf8_lossy(&object.1);
        if let Ok(parsed) = recipients::parse_lenient(&text, &recipients_rel) {
            for member in parsed.members {
                if let Some(label) = member.label {
                    labels.entry(member.key).or_insert(label);
                }
            }
        }
    }
    let mut versions = Vec::new();
    for (i, (commit, time, author)) in commits.into_iter().enumerate() {
        let Some((blob, bytes)) = objects[2 * i].clone() else {
            continue; // the vault was deleted in this commit
        };
        let recipients = match recorded(&bytes) {
            Some(recipients) => recipients,
            None => match &objects[2 * i + 1] {
                Some((_, file)) => {
                    let text = String::from_utf8_lossy(file);
                    let keys = recipients::parse_lenient(&text, &recipients_rel)
                        .map(|p| membership::Record::of(&p.members).keys)
                        .unwrap_or_default();
                    Recipients {
                        keys,
                        basis: Basis::RecipientsFile,
                    }
                }
                None => Recipients {
                    keys: Vec::new(),
                    basis: Basis::Unknown,
                },
            },
        };
        blobs.entry(blob.clone()).or_insert(bytes);
        versions.push(Version {
            commit,
            time,
            author,
            blob,
            recipients,
        });
    }
    // git log lists newest first; oldest first reads better and is what every analysis walks.
    versions.reverse();
    versions.sort_by_key(|v| v.time);
    Ok(History {
        versions,
        labels,
        blobs,
        opened: HashMap::new(),
    })
}

/// Who a version's header says it is encrypted to: its record, or no one for a passphrase vault; None
/// when it has no record.
fn recorded(bytes: &[u8]) -> Option<Recipients> {
    match membership::recorded(bytes) {
        Recorded::Keys(record) => Some(Recipients {
            keys: record.keys,
            basis: Basis::Recorded,
        }),
        Recorded::Passphrase => Some(Recipients {
            keys: Vec::new(),
            basis: Basis::Passphrase,
        }),
        _ => None,
    }
}

/// An object git holds: its id and bytes.
type Object = (String, Vec<u8>);

/// `git cat-file --batch` over `queries` (`COMMIT:PATH`): for each, the object's id and bytes, or None
/// when the path does not exist there.
fn batch(top: &Path, queries: &[String]) -> Result<Vec<Option<Object>>, UserError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| UserError::new(format!("cannot run git: {e}")).hint("install git"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input: String = queries.iter().map(|q| format!("{q}\n")).collect();
    // Written from a thread: git answers while it reads, and both pipes have limits.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut results = Vec::with_capacity(queries.len());
    for _ in queries {
        let mut header = String::new();
        if out.read_line(&mut header).unwrap_or(0) == 0 {
            break;
        }
        let words: Vec<&str> = header.split_whitespace().collect();
        match words.as_slice() {
            [id, "blob", size] => {
                let size: usize = size.parse().unwrap_or(0);
                if size > crate::files::READ_LIMIT as usize {
                    return Err(UserError::new(format!(
                        "a version in the history is larger than {} MiB",
                        crate::files::READ_LIMIT >> 20
                    )));
                }
                let mut bytes = vec![0u8; size + 1];
                out.read_exact(&mut bytes)
                    .map_err(|e| UserError::new(format!("cannot read git's answer: {e}")))?;
                bytes.pop(); // the line feed after the object
                results.push(Some(((*id).to_owned(), bytes)));
            }
            _ => results.push(None),
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    results.resize(queries.len(), None);
    Ok(results)
}
