//! Recipients-file pinning: teamotp remembers (in `$XDG_STATE_HOME/teamotp/pins/`, one file per vault) the
//! exact recipients file it last encrypted a vault to, or that the user accepted with `teamotp members ack`.
//! When the file differs in any byte (a `git pull` brought a new member, someone slipped in their own key,
//! or only a comment changed), or when there is no pin at all (a fresh clone, a new machine, a moved
//! folder), writes stop until the user has looked at the recipients and accepted them.
//!
//! A pin file (version 2) is line-based, one `NAME VALUE` record a line, safe for any vault path:
//!
//! ```text
//! teamotp-pin v2
//! vault /home/alice/team%0Asecrets/vault.csv.age      (the vault's absolute path, percent-encoded)
//! sha256 3f0c...                                       (SHA-256 of the accepted recipients file, hex)
//! recipients IyB0ZWFtb3Rw...                           (the accepted file itself, base64)
//! ```
//!
//! Optional records after those:
//!
//! ```text
//! next-sha256 9a1b...                                  (SHA-256 of the accepted .age-recipients.next)
//! next IyBBbGljZQoj...                                 (that file itself, base64)
//! downgrade 1700000000                                 (when this vault went from post-quantum back to
//!                                                       classic keys, Unix seconds)
//! ```
//!
//! A record this version does not know is an error, never skipped: a later record (such as `downgrade`
//! was once) must not be silently ignored by an older teamotp, and one that appears twice, or `next`
//! without `next-sha256`, is an error too. A pin written before version 2 (a `#` comment line
//! and the keys) is read as keys only and compared by keys; the next accepted write replaces it.

use std::path::{Path, PathBuf};
use std::{fs, io};

use data_encoding::{BASE64, HEXLOWER};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::age::recipients::{self, Member};
use crate::age::sha256;
use crate::env::Env;
use crate::text::printable;

/// The first line of a pin file, before its version.
const MAGIC: &str = "teamotp-pin";
const VERSION: &str = "v2";

/// What a vault path keeps unencoded in the `vault` record.
const PATH_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// What a pin holds: the exact recipients file accepted, or (a pin from before version 2) only its keys.
#[derive(Debug, PartialEq, Eq)]
pub enum Pinned {
    Exact(Vec<u8>),
    Keys(Vec<String>),
}

/// A whole pin: the accepted recipients file, the accepted next file (the post-quantum keys registered
/// ahead of a switch), and the date of a downgrade to classic keys.
#[derive(Debug, PartialEq, Eq)]
pub struct Pin {
    pub main: Pinned,
    pub next: Option<Vec<u8>>,
    pub downgraded: Option<u64>,
}

/// Where the pin of `vault` lives (one file per vault, named by a hash of its absolute path); None when
/// there is no state directory or the vault's directory does not exist.
pub fn path(env: &Env, vault: &Path) -> Option<PathBuf> {
    let absolute = absolute(vault)?;
    let digest = sha256(absolute.as_os_str().as_encoded_bytes());
    let name = HEXLOWER.encode(&digest[..16]);
    Some(env.state_dir()?.join("teamotp").join("pins").join(name))
}

fn absolute(vault: &Path) -> Option<PathBuf> {
    fs::canonicalize(vault)
        .or_else(|_| {
            let parent = vault.parent().filter(|p| !p.as_os_str().is_empty());
            let dir = fs::canonicalize(parent.unwrap_or(Path::new(".")))?;
            Ok::<_, io::Error>(dir.join(vault.file_name().unwrap_or_default()))
        })
        .ok()
}

/// `SHA256:<hex>`: the fingerprint of a recipients file, as reviews show it and `--expect` takes it.
pub fn fingerprint(recipients: &[u8]) -> String {
    format!("SHA256:{}", HEXLOWER.encode(&sha256(recipients)))
}

/// The lower-case hex of a fingerprint given as `SHA256:hex` or bare hex, in any case.
pub fn parse_fingerprint(text: &str) -> Option<String> {
    let text = text.trim();
    let hex = match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256:") => &text[7..],
        _ => text,
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The pin: None when there is none; the reason when it exists but cannot be read or is not a pin (never
/// taken for "no pin": that would let whoever broke the file skip the check).
pub fn read(pin: &Path) -> Result<Option<Pinned>, String> {
    Ok(read_pin(pin)?.map(|p| p.main))
}

/// [`read`], with the next file and downgrade records.
pub fn read_pin(pin: &Path) -> Result<Option<Pin>, String> {
    match crate::files::read(pin) {
        Ok(bytes) => parse_pin(&bytes).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// Parses a pin file (version 2, or the keys-only version 1): what it accepted of the recipients file.
pub fn parse(bytes: &[u8]) -> Result<Pinned, String> {
    parse_pin(bytes).map(|p| p.main)
}

/// Parses a whole pin file.
pub fn parse_pin(bytes: &[u8]) -> Result<Pin, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not text".to_owned())?;
    let first = text.lines().next().unwrap_or_default();
    let Some(version) = first.strip_prefix(MAGIC).map(str::trim) else {
        return Ok(Pin {
            main: Pinned::Keys(parse_keys(text)?),
            next: None,
            downgraded: None,
        });
    };
    if version != VERSION {
        return Err(format!(
            "it is version '{}', which this teamotp does not know",
            printable(version)
        ));
    }
    let (mut vault, mut sha256, mut recipients) = (None, None, None);
    let (mut next_sha256, mut next, mut downgrade) = (None, None, None);
    for line in text.lines().skip(1) {
        let (name, value) = line.split_once(' ').unwrap_or((line, ""));
        let slot = match name {
            "vault" => &mut vault,
            "sha256" => &mut sha256,
            "recipients" => &mut recipients,
            "next-sha256" => &mut next_sha256,
            "next" => &mut next,
            "downgrade" => &mut downgrade,
            _ => return Err(format!("it has an unknown record '{}'", printable(name))),
        };
        if slot.replace(value).is_some() {
            return Err(format!("its '{name}' record appears twice"));
        }
    }
    let (Some(_), Some(sha256), Some(recipients)) = (vault, sha256, recipients) else {
        return Err("a record is missing (vault, sha256 and recipients are needed)".into());
    };
    let bytes = BASE64
        .decode(recipients.as_bytes())
        .map_err(|_| "its recipients record is not base64".to_owned())?;
    if HEXLOWER.encode(&crate::age::sha256(&bytes)) != sha256 {
        return Err("its recipients record does not match its sha256 record".into());
    }
    let next = match (next, next_sha256) {
        (None, None) => None,
        (Some(next), Some(sha256)) => {
            let bytes = BASE64
                .decode(next.as_bytes())
                .map_err(|_| "its next record is not base64".to_owned())?;
            if HEXLOWER.encode(&crate::age::sha256(&bytes)) != sha256 {
                return Err("its next record does not match its next-sha256 record".into());
            }
            Some(bytes)
        }
        _ => return Err("it has one of next and next-sha256 without the other".into()),
    };
    let downgraded = match downgrade {
        None => None,
        Some(value) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => Some(
            value
                .parse::<u64>()
                .map_err(|_| "its downgrade date is out of range")?,
        ),
        Some(value) => {
            return Err(format!(
                "its downgrade record '{}' is not a date in Unix seconds",
                printable(value)
            ));
        }
    };
    Ok(Pin {
        main: Pinned::Exact(bytes),
        next,
        downgraded,
    })
}

/// A version 1 pin: a `#` comment line, then one key a line.
fn parse_keys(text: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match recipients::parse(line, "pin") {
            Ok(parsed) if parsed.members.len() == 1 => keys.push(parsed.members[0].key.clone()),
            _ => {
                return Err(format!(
                    "line {} of this keys-only (version 1) pin is not a key",
                    index + 1
                ));
            }
        }
    }
    if keys.is_empty() {
        return Err("it holds no key".into());
    }
    Ok(keys)
}

/// The text of a version 2 pin of `recipients` for `vault` (an absolute path), with the optional records.
fn render(vault: &Path, recipients: &[u8], next: Option<&[u8]>, downgraded: Option<u64>) -> String {
    let path = percent_encoding::percent_encode(vault.as_os_str().as_encoded_bytes(), PATH_SET);
    let mut text = format!(
        "{MAGIC} {VERSION}\nvault {path}\nsha256 {}\nrecipients {}\n",
        HEXLOWER.encode(&sha256(recipients)),
        BASE64.encode(recipients)
    );
    if let Some(next) = next {
        text.push_str(&format!(
            "next-sha256 {}\nnext {}\n",
            HEXLOWER.encode(&sha256(next)),
            BASE64.encode(next)
        ));
    }
    if let Some(date) = downgraded {
        text.push_str(&format!("downgrade {date}\n"));
    }
    text
}

/// Records `recipients` (the file's exact bytes) as what `vault` is encrypted to from this machine; the
/// accepted next file and a downgrade record already in the pin are kept.
pub fn record(pin: &Path, vault: &Path, recipients: &[u8]) -> io::Result<()> {
    let old = read_pin(pin).ok().flatten();
    let next = old.as_ref().and_then(|p| p.next.as_deref());
    let downgraded = old.as_ref().and_then(|p| p.downgraded);
    record_with(pin, vault, recipients, next, downgraded)
}

/// Records the whole pin: the recipients file, the next file (None: none accepted) and a downgrade date.
pub fn record_with(
    pin: &Path,
    vault: &Path,
    recipients: &[u8],
    next: Option<&[u8]>,
    downgraded: Option<u64>,
) -> io::Result<()> {
    let vault = absolute(vault).unwrap_or_else(|| vault.to_owned());
    store(pin, render(&vault, recipients, next, downgraded).as_bytes())
}

/// Writes a pin file: the only place pins are written (private 0700 directory, 0600 file, temp + rename).
fn store(pin: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = pin.parent() {
        // Private: another local user who could edit the pin could silence the recipients check.
        crate::files::create_private_dir(dir)?;
    }
    crate::files::replace(pin, bytes, 0o600)
}

/// How the recipients file (`current`, parsed as `members`) differs from the pin, one line each: `+ KEY  #
/// label` added, `- KEY  # label` removed, `~ KEY  # label (was: old)` relabelled; a first line saying so
/// when the keys are the same. Empty when the file is the accepted one (for a version 1 pin: has the same
/// keys). An error when the pinned file no longer parses.
pub fn review(pinned: &Pinned, current: &[u8], members: &[Member]) -> Result<Vec<String>, String> {
    let old: Vec<Member> = match pinned {
        Pinned::Exact(bytes) if bytes == current => return Ok(Vec::new()),
        Pinned::Exact(bytes) => {
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|text| recipients::parse(text, "pin").ok())
                .ok_or_else(|| "the recipients file it holds does not parse".to_owned())?
                .members
        }
        Pinned::Keys(keys) => {
            let same = keys.len() == members.len() && members.iter().all(|m| keys.contains(&m.key));
            if same {
                return Ok(Vec::new());
            }
            keys.iter()
                .map(|key| Member {
                    key: key.clone(),
                    label: None,
                    line: 0,
                })
                .collect()
        }
    };
    let find = |list: &[Member], key: &str| list.iter().position(|m| m.key == key);
    let mut lines: Vec<String> = Vec::new();
    let mut relabelled = Vec::new();
    for member in members {
        match find(&old, &member.key) {
            None => lines.push(format!("+ {}", member.entry())),
            Some(i) if old[i].label != member.label && matches!(pinned, Pinned::Exact(_)) => {
                let label = |l: &Option<String>| {
                    l.as_deref()
                        .map_or_else(|| "no label".to_owned(), |l| printable(l).into_owned())
                };
                relabelled.push(format!(
                    "~ {}  # {} (was: {})",
                    recipients::shown(&member.key),
                    label(&member.label),
                    label(&old[i].label)
                ));
            }
            Some(_) => {}
        }
    }
    for member in &old {
        if find(members, &member.key).is_none() {
            lines.push(format!("- {}", member.entry()));
        }
    }
    if lines.is_empty() {
        lines.push(if relabelled.is_empty() {
            "the keys are the same; only comments or blank lines changed".to_owned()
        } else {
            "the keys are the same; only comments or labels changed:".to_owned()
        });
    }
    lines.extend(relabelled);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "age145mg5au25vesljhndzr95j6k550cuysmfa8rgcykue72ksh8vpkqvmhqff";
    const MALLORY: &str = "age1mx2s2jaa8rap6u0ftevrf77zvveaqy4va6dkxjlda46la6umgf2szd0ft0";

    fn members(text: &str) -> Vec<Member> {
        recipients::parse(text, "r").unwrap().members
    }

    #[test]
    fn review_lists_added_removed_and_relabelled_keys_in_full() {
        let old = format!("# Alice\n{ALICE}\n");
        let new = format!("# Mallory\n{MALLORY}\n");
        let pinned = Pinned::Exact(old.clone().into_bytes());
        assert_eq!(
            review(&pinned, new.as_bytes(), &members(&new)).unwrap(),
            [
                format!("+ {MALLORY}  # Mallory"),
                format!("- {ALICE}  # Alice")
            ]
        );
        assert!(
            review(&pinned, old.as_bytes(), &members(&old))
                .unwrap()
                .is_empty()
        );
        let relabelled = format!("# Bob\n{ALICE}\n");
        assert_eq!(
            review(&pinned, relabelled.as_bytes(), &members(&relabelled)).unwrap(),
            [
                "the keys are the same; only comments or labels changed:".to_owned(),
                format!("~ {ALICE}  # Bob (was: Alice)")
            ]
        );
        let spaced = format!("\n# Alice\n{ALICE}\n");
        assert_eq!(
            review(&pinned, spaced.as_bytes(), &members(&spaced)).unwrap(),
            ["the keys are the same; only comments or blank lines changed"]
        );
    }

    #[test]
    fn a_keys_only_pin_compares_keys() {
        let v1 = format!("# teamotp: the recipients v.age was last encrypted to\n{ALICE}\n");
        let pinned = parse(v1.as_bytes()).unwrap();
        assert_eq!(pinned, Pinned::Keys(vec![ALICE.to_owned()]));
        let same = format!("# Alice, relabelled\n{ALICE}\n");
        assert!(
            review(&pinned, same.as_bytes(), &members(&same))
                .unwrap()
                .is_empty()
        );
        let more = format!("{ALICE}\n{MALLORY}\n");
        assert_eq!(
            review(&pinned, more.as_bytes(), &members(&more)).unwrap(),
            [format!("+ {MALLORY}")]
        );
        // The old format with a vault path holding a newline: the broken line is not a key.
        let broken = format!("# teamotp: the recipients team\nrepo/v.age was last\n{ALICE}\n");
        assert_eq!(
            parse(broken.as_bytes()),
            Err("line 2 of this keys-only (version 1) pin is not a key".into())
        );
    }

    #[test]
    fn written_pin_reads_back_for_any_path_and_is_per_vault() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("XDG_STATE_HOME", dir.path().to_str().unwrap())]);
        let one = path(&env, &dir.path().join("one.age")).unwrap();
        let two = path(&env, &dir.path().join("two.age")).unwrap();
        assert_ne!(one, two);
        assert!(one.starts_with(dir.path().join("teamotp").join("pins")));
        assert_eq!(read(&one), Ok(None));
        let file = format!("# Alice\n{ALICE}\n");
        let odd = dir.path().join("a\nb %.age");
        record(&one, &odd, file.as_bytes()).unwrap();
        assert_eq!(
            read(&one),
            Ok(Some(Pinned::Exact(file.clone().into_bytes())))
        );
        let text = fs::read_to_string(&one).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("/a%0Ab%20%25.age\n"), "{text}");
    }

    #[test]
    fn a_damaged_pin_is_an_error_not_a_missing_pin() {
        let good = render(Path::new("/v.age"), b"x\n", None, None);
        assert_eq!(parse(good.as_bytes()), Ok(Pinned::Exact(b"x\n".to_vec())));
        for (text, reason) in [
            ("", "it holds no key"),
            (
                "teamotp-pin v3\n",
                "it is version 'v3', which this teamotp does not know",
            ),
            (
                "teamotp-pin v2\nsha256 zz\n",
                "a record is missing (vault, sha256 and recipients are needed)",
            ),
            (
                &good.replace("recipients eAo=", "recipients eQo="),
                "its recipients record does not match its sha256 record",
            ),
            (
                &format!("{good}downgrade x\n"),
                "its downgrade record 'x' is not a date in Unix seconds",
            ),
            (
                &format!("{good}downgraded 1\n"),
                "it has an unknown record 'downgraded'",
            ),
            (
                &format!("{good}downgrade 1\ndowngrade 2\n"),
                "its 'downgrade' record appears twice",
            ),
            (
                &format!("{good}next eAo=\n"),
                "it has one of next and next-sha256 without the other",
            ),
            (
                &render(Path::new("/v.age"), b"x\n", Some(b"y\n"), None)
                    .replace("next eQo=", "next eAo="),
                "its next record does not match its next-sha256 record",
            ),
            (
                &format!("{good}sha256 x\n"),
                "its 'sha256' record appears twice",
            ),
        ] {
            assert_eq!(parse(text.as_bytes()), Err(reason.to_owned()), "{text}");
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read(dir.path())
                .unwrap_err()
                .starts_with("cannot read it: ")
        );
    }

    #[test]
    fn next_and_downgrade_records_round_trip_and_survive_a_new_recipients_record() {
        let dir = tempfile::tempdir().unwrap();
        let pin = dir.path().join("pin");
        let vault = dir.path().join("v.age");
        record_with(&pin, &vault, b"a\n", Some(b"n\n"), Some(1_700_000_000)).unwrap();
        let read = read_pin(&pin).unwrap().unwrap();
        assert_eq!(
            read,
            Pin {
                main: Pinned::Exact(b"a\n".to_vec()),
                next: Some(b"n\n".to_vec()),
                downgraded: Some(1_700_000_000),
            }
        );
        record(&pin, &vault, b"b\n").unwrap();
        let read = read_pin(&pin).unwrap().unwrap();
        assert_eq!(read.main, Pinned::Exact(b"b\n".to_vec()));
        assert_eq!(read.next.as_deref(), Some(&b"n\n"[..]));
        assert_eq!(read.downgraded, Some(1_700_000_000));
    }

    #[test]
    fn fingerprints_are_taken_with_or_without_prefix_in_any_case() {
        let fp = fingerprint(b"x");
        let hex = fp.strip_prefix("SHA256:").unwrap();
        assert_eq!(parse_fingerprint(&fp).as_deref(), Some(hex));
        assert_eq!(parse_fingerprint(&hex.to_uppercase()).as_deref(), Some(hex));
        assert_eq!(
            parse_fingerprint(&format!("sha256:{}", hex.to_uppercase())).as_deref(),
            Some(hex)
        );
        assert_eq!(parse_fingerprint("SHA256:abc"), None);
        assert_eq!(parse_fingerprint(&format!("{hex}0")), None);
    }
}
