//! The member commands: `members` (list), `members add`, `members rm`, `members ack` (accept the
//! recipients file) and `rekey` (re-encrypt to the recipients file). The post-quantum switch (`--next`,
//! `rekey --post-quantum`) is in `switch.rs`.

use std::io::Write;
use std::path::Path;

use super::ask::{Terminal, confirm};
use super::switch::{Readiness, readiness};
use crate::age::recipients::{self, Kind, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::members::{read_members, read_next, read_recipients};
use crate::trust::pin;
use crate::trust::reenrol::Reenrol;
use crate::trust::review::{LABELS_HINT, listing, read_pin, review_block, unusable_pin};
use crate::vault::transaction::{Context, Locked, Transaction, write_text};

/// A `members` line: the kind and (with a next file) the readiness in fixed-width columns, then the key
/// and its label.
fn member_line(kind: &Kind, status: Option<&str>, member: &Member) -> String {
    let mut line = format!("{:<11}  ", kind.name());
    if let Some(status) = status {
        line.push_str(&format!("{status:<7}  "));
    }
    line.push_str(&recipients::shown(&member.key));
    if let Some(label) = &member.label {
        line.push_str(&format!("  # {}", printable(label)));
    }
    line
}

/// `teamotp members`: the recipients with their kinds and comments, on stdout; with a next file, each
/// member's readiness for the post-quantum switch and the keys that join at it.
pub fn members(ctx: &Context, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), UserError> {
    let path = ctx.recipients_path()?;
    let (members, _) = read_members(&path, err)?;
    let next = read_next(&ctx.next_path()?)?;
    if ctx.vault_path().is_ok() {
        ctx.warn_downgraded(err);
    }
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    for member in &members {
        let status = next.as_ref().map(|next| match readiness(member, next) {
            Readiness::Ready => "ready",
            Readiness::Waiting => {
                notes.push(format!(
                    "{} has not registered a post-quantum key yet",
                    member.describe()
                ));
                "waiting"
            }
            Readiness::Cannot(reason) => {
                notes.push(format!(
                    "{} cannot become ready with this key: {reason}",
                    member.describe()
                ));
                "cannot"
            }
        });
        lines.push(member_line(&member.kind(), status, member));
    }
    if let Some(next) = &next {
        for (member, replaces) in next.members.iter().zip(&next.replaces) {
            let replaced = members
                .iter()
                .any(|m| m.key == member.key || replaces.as_deref() == Some(m.key.as_str()));
            if !replaced {
                lines.push(member_line(&member.kind(), Some("joins"), member));
            }
        }
    }
    for line in lines {
        crate::error::write_data(out, format!("{}\n", printable(&line)).as_bytes())?;
    }
    if let Some(next) = &next {
        let ready = members
            .iter()
            .filter(|m| next.successor(m).is_some())
            .count();
        let _ = writeln!(
            err,
            "teamotp: post-quantum switch: {ready} of {} members ready (keys in {})",
            members.len(),
            ctx.next_path()?.display()
        );
        for note in notes {
            let _ = writeln!(err, "    {note}");
        }
    }
    Ok(())
}

pub(super) fn refuse_passphrase(passphrase: bool, path: &Path) -> Result<(), UserError> {
    if passphrase {
        return Err(UserError::new(format!(
            "'{}' is encrypted with a passphrase; it has no members",
            path.display()
        ))
        .hint("age cannot mix recipients with a passphrase: create a recipients vault with 'teamotp init' and move the accounts"));
    }
    Ok(())
}

/// Locks a recipients vault and reads its accepted recipients file (path, members, text), all before
/// anything is decrypted.
fn lock_members(
    ctx: &Context,
    err: &mut dyn Write,
) -> Result<(Locked, std::path::PathBuf, Vec<Member>, String), UserError> {
    let locked = Transaction::lock(ctx, err)?;
    refuse_passphrase(locked.passphrase, ctx.vault_path()?)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    ctx.check_accepted(&text, &members)?;
    Ok((locked, path, members, text))
}

/// `teamotp members add RECIPIENT [--name LABEL]`: adds the key and re-encrypts the vault.
pub fn members_add(
    ctx: &Context,
    recipient: &str,
    label: Option<&str>,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    // Everything that needs no key comes before the vault is decrypted (and a passphrase asked).
    let (locked, path, members, text) = lock_members(ctx, err)?;
    // An argument naming an existing file is a recipients file (a .pub, or a list as `init -R` takes);
    // anything else is a key.
    let file = Path::new(recipient);
    let mut new = if file.is_file() {
        let hint = "each line is an age1... key, or an ssh-ed25519 or ssh-rsa public key";
        read_recipients(file, hint, true, err)?.0
    } else {
        let parsed = recipients::parse_lenient(recipient, "RECIPIENT")?;
        if let Some((_, reason)) = parsed.skipped.first() {
            return Err(UserError::new(format!(
                "cannot add {}: {reason}",
                recipients::short(recipient.trim())
            ))
            .hint("age supports age1... keys and ssh-ed25519 and ssh-rsa public keys"));
        }
        if parsed.members.len() != 1 {
            return Err(UserError::new("give exactly one recipient")
                .hint("to add the keys of a file, give the file's path")
                .hint("'teamotp whoami' prints one key a line: pick one, e.g. \"$(teamotp whoami | sed -n 2p)\""));
        }
        parsed.members
    };
    if let Some(label) = label {
        if label.chars().any(char::is_control) {
            return Err(UserError::new("the name must be one line of text"));
        }
        let [member] = new.as_mut_slice() else {
            return Err(UserError::new(format!(
                "--name names one recipient, and '{}' lists {}",
                file.display(),
                new.len()
            )));
        };
        member.label = Some(label.trim().to_owned());
    }
    if let Some(member) = new
        .iter()
        .find(|m| members.iter().any(|old| old.key == m.key))
        .filter(|_| new.len() == 1)
    {
        return Err(UserError::new(format!(
            "{} is already a member",
            member.describe()
        )));
    }
    for member in new
        .iter()
        .filter(|m| members.iter().any(|old| old.key == m.key))
    {
        let _ = writeln!(err, "teamotp: {} is already a member", member.describe());
    }
    new.retain(|m| !members.iter().any(|old| old.key == m.key));
    if new.is_empty() {
        return Err(UserError::new(format!(
            "every key of '{}' is already a member",
            file.display()
        )));
    }
    let mut new_text = text.clone();
    for member in &new {
        new_text = recipients::with_member(&new_text, member);
    }
    let members = new_members(&path, &new_text, members.len() + new.len())?;
    let open = locked.read(ctx, &mut Terminal, err)?;
    open.commit(ctx, Some((&members, &new_text)), force, err)?;
    write_text(&path, &new_text)?;
    let added: Vec<String> = new.iter().map(Member::describe).collect();
    let _ = writeln!(
        err,
        "teamotp: added {}; the vault is now encrypted to {} recipients",
        added.join(", "),
        members.len()
    );
    Ok(())
}

/// The members of the recipients file teamotp is about to write: the vault is encrypted to exactly what
/// that text says (and the pin records it), so it is parsed again rather than assumed.
fn new_members(path: &Path, text: &str, count: usize) -> Result<Vec<Member>, UserError> {
    let members = recipients::parse(text, &path.display().to_string())?.members;
    if members.len() != count {
        return Err(UserError::new(format!(
            "the new '{}' would list {} recipients, not {count}; nothing was changed",
            path.display(),
            members.len()
        )));
    }
    Ok(members)
}

/// `teamotp members rm NAME-OR-KEY`: removes the key, re-encrypts, and says what to re-enrol.
pub fn members_rm(
    ctx: &Context,
    who: &str,
    yes: bool,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    // The y/N question and the pin check come before the vault is decrypted (and a passphrase asked).
    let (locked, path, members, text) = lock_members(ctx, err)?;
    let member = find_member(&members, who)?;
    if members.len() == 1 {
        return Err(UserError::new(format!(
            "{} is the last recipient; a vault without recipients could not be opened by anyone",
            member.describe()
        )));
    }
    if !confirm(
        &format!("Remove {} from the vault's recipients?", member.describe()),
        yes,
    )? {
        let _ = writeln!(err, "teamotp: nothing removed");
        return Ok(());
    }
    let new_text = recipients::without_member(&text, &member);
    let remaining = new_members(&path, &new_text, members.len() - 1)?;
    if remaining.iter().any(|m| m.key == member.key) {
        return Err(UserError::new(format!(
            "cannot remove {} from '{}'; nothing was changed",
            member.describe(),
            path.display()
        )));
    }
    let mut open = locked.read(ctx, &mut Terminal, err)?;
    // The backup must not open with the removed member's key either.
    open.reencrypt_backup = true;
    // They could read every account: each waits for a new secret at its service (docs/team-sharing.md).
    let label = member
        .label
        .clone()
        .unwrap_or_else(|| recipients::shown(&member.key));
    open.document.mark_all(&Reenrol {
        since: crate::time::date(ctx.now),
        members: vec![label],
    });
    open.commit(ctx, Some((&remaining, &new_text)), force, err)?;
    write_text(&path, &new_text)?;
    let _ = writeln!(err, "teamotp: removed {}", member.describe());
    let _ = writeln!(
        err,
        "teamotp: {}.bak, the previous version, is re-encrypted to the remaining recipients too",
        open.path.display()
    );
    let _ = writeln!(
        err,
        "teamotp: warning: removal is not retroactive: they may keep old copies of the vault \
         (git history, the shared drive, backups) and every secret in them"
    );
    let names = open.document.names();
    if !names.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp rotate NAME'); \
             'teamotp check' lists them until then:"
        );
        for name in names {
            let _ = writeln!(err, "    {}", printable(&name));
        }
    }
    Ok(())
}

/// The one member `who` names: the whole key, an SSH key's body, or the label (any case).
pub(super) fn find_member(members: &[Member], who: &str) -> Result<Member, UserError> {
    let matches: Vec<&Member> = members
        .iter()
        .filter(|m| {
            m.key == who
                || m.key.split_whitespace().nth(1) == Some(who)
                || m.label
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(who))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(UserError::new(format!("no member is '{}'", printable(who)))
            .hint("'teamotp members' lists them: give the name in its comment, or the whole key")),
        several => Err(UserError::new(format!(
            "'{}' names {} members: {}",
            printable(who),
            several.len(),
            several
                .iter()
                .map(|m| m.describe())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("give the whole key")),
    }
}

/// Accepts `text` on the terminal, with `--yes`, or with `--expect` when its fingerprint matches (a
/// mismatch is an error); false when the user said no.
pub(super) fn accept(
    text: &str,
    yes: bool,
    expect: Option<&str>,
    question: &str,
) -> Result<bool, UserError> {
    let actual = pin::fingerprint(text.as_bytes());
    if let Some(given) = expect {
        let hex = pin::parse_fingerprint(given).ok_or_else(|| {
            UserError::new(format!("'{}' is not a fingerprint", printable(given)))
                .hint("give the fingerprint a review shows: SHA256: and 64 hex digits")
        })?;
        if actual.strip_prefix("SHA256:") != Some(hex.as_str()) {
            return Err(UserError::new(format!(
                "the file's fingerprint is {actual}, not '{}'; nothing was accepted",
                printable(given)
            )));
        }
        return Ok(true);
    }
    confirm(question, yes)
}

/// `teamotp members ack [--yes | --expect FINGERPRINT]`: shows the recipients (all of them when this
/// machine accepted none yet, else how the file changed) and the file's fingerprint, and accepts them: on
/// the terminal, with `--yes`, or with `--expect` only when the fingerprint is the one given.
pub fn members_ack(
    ctx: &Context,
    yes: bool,
    expect: Option<&str>,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?.to_owned();
    let (members, text) = read_members(&ctx.recipients_path()?, err)?;
    let expected = match expect {
        Some(given) => Some(pin::parse_fingerprint(given).ok_or_else(|| {
            UserError::new(format!("'{}' is not a fingerprint", printable(given))).hint(
                "give the recipients file fingerprint a review shows: SHA256: and 64 hex digits",
            )
        })?),
        None => None,
    };
    let actual = pin::fingerprint(text.as_bytes());
    let mismatch = |given: &str| {
        UserError::new(format!(
            "the recipients file's fingerprint is {actual}, not '{}'; nothing was accepted",
            printable(given)
        ))
        .hint("someone may have changed the file since the fingerprint was taken: compare the keys above")
    };
    let matches = expected
        .as_deref()
        .is_none_or(|hex| actual.strip_prefix("SHA256:") == Some(hex));
    let pin_path = ctx.pin_path()?;
    let pinned = read_pin(&pin_path, &vault)?;
    let (title, lines) = match &pinned {
        None => (
            format!(
                "the recipients of '{}' (none accepted on this machine yet):",
                vault.display()
            ),
            listing(&members),
        ),
        Some(pinned) => {
            let changes = pin::review(pinned, text.as_bytes(), &members)
                .map_err(|reason| unusable_pin(&pin_path, &vault, &reason))?;
            if changes.is_empty() {
                if !matches {
                    return Err(mismatch(expect.unwrap_or_default()));
                }
                if matches!(pinned, pin::Pinned::Keys(_)) {
                    // A keys-only pin of the same keys: now the exact file.
                    ctx.record_pin(&text, err);
                }
                let _ = writeln!(
                    err,
                    "teamotp: the recipients are unchanged; nothing to accept"
                );
                return super::merge::finish_pending(ctx, err);
            }
            (
                "the recipients file changed since your last write:".to_owned(),
                changes,
            )
        }
    };
    let _ = writeln!(err, "teamotp: {title}\n{}", review_block(&lines, &text));
    let _ = writeln!(err, "teamotp: hint: {LABELS_HINT}");
    if expected.is_some() {
        if !matches {
            return Err(mismatch(expect.unwrap_or_default()));
        }
    } else if !confirm("Accept these recipients?", yes)? {
        let _ = writeln!(err, "teamotp: nothing accepted");
        return Ok(());
    }
    pin::record(&pin_path, &vault, text.as_bytes())
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", pin_path.display())))?;
    let _ = writeln!(
        err,
        "teamotp: accepted; the next write encrypts to these {} recipients (or run 'teamotp rekey' now)",
        members.len()
    );
    // In a merge that stopped for this review: finish the vault's merge now.
    super::merge::finish_pending(ctx, err)
}

/// `teamotp rekey`: re-encrypts the vault to the current recipients file.
pub fn rekey(ctx: &Context, force: bool, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    open.reencrypt_backup = true;
    let members = open.commit(ctx, None, force, err)?;
    if members.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: re-encrypted {} with its passphrase",
            open.path.display()
        );
    } else {
        let _ = writeln!(
            err,
            "teamotp: re-encrypted {} to {} recipient{}",
            open.path.display(),
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
