//! The member commands: `members` (list), `members add`, `members rm`, `members ack` (accept the
//! recipients file) and `rekey` (re-encrypt to the recipients file).

use std::io::Write;
use std::path::Path;

use super::write::{
    Context, LABELS_HINT, Open, check_accepted, commit, confirm, listing, open, pin_path,
    read_members, read_pin, record_pin, review_block, unusable_pin, write_text,
};
use crate::error::UserError;
use crate::output::printable;
use crate::vault::recipients::{self, Member};
use crate::vault::{Reenrol, pin};

/// `teamotp members`: the recipients with their comments, on stdout.
pub fn members(ctx: &Context, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), UserError> {
    let path = ctx.recipients_path()?;
    let (members, _) = read_members(&path, err)?;
    for member in &members {
        let line = match &member.label {
            Some(label) => format!("{}  # {}", member.key, printable(label)),
            None => member.key.clone(),
        };
        crate::error::write_data(out, format!("{line}\n").as_bytes())?;
    }
    Ok(())
}

fn refuse_passphrase(open: &Open) -> Result<(), UserError> {
    if open.plain.passphrase.is_some() {
        return Err(UserError::new(format!(
            "'{}' is encrypted with a passphrase; it has no members",
            open.path.display()
        ))
        .hint("age cannot mix recipients with a passphrase: create a recipients vault with 'teamotp init' and move the accounts"));
    }
    Ok(())
}

/// `teamotp members add RECIPIENT [--name LABEL]`: adds the key and re-encrypts the vault.
pub fn members_add(
    ctx: &Context,
    recipient: &str,
    label: Option<&str>,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let open = open(ctx, err)?;
    refuse_passphrase(&open)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    check_accepted(ctx, &text, &members)?;
    let parsed = recipients::parse_lenient(recipient, "RECIPIENT")?;
    if let Some((_, reason)) = parsed.skipped.first() {
        return Err(UserError::new(format!(
            "cannot add {}: {reason}",
            recipients::short(recipient.trim())
        ))
        .hint("age supports age1... keys and ssh-ed25519 and ssh-rsa public keys"));
    }
    let mut new = parsed.members;
    let Some(mut member) = new.pop().filter(|_| new.is_empty()) else {
        return Err(UserError::new("give exactly one recipient"));
    };
    if let Some(label) = label {
        if label.chars().any(char::is_control) {
            return Err(UserError::new("the name must be one line of text"));
        }
        member.label = Some(label.trim().to_owned());
    }
    if members.iter().any(|m| m.key == member.key) {
        return Err(UserError::new(format!(
            "{} is already a member",
            member.describe()
        )));
    }
    let new_text = recipients::with_member(&text, &member);
    let members = new_members(&path, &new_text, members.len() + 1)?;
    commit(ctx, &open, Some((&members, &new_text)), force, err)?;
    write_text(&path, &new_text)?;
    let _ = writeln!(
        err,
        "teamotp: added {}; the vault is now encrypted to {} recipients",
        member.describe(),
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
    let mut open = open(ctx, err)?;
    // The backup must not open with the removed member's key either.
    open.reencrypt_backup = true;
    refuse_passphrase(&open)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    check_accepted(ctx, &text, &members)?;
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
    let member = match matches.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(
                UserError::new(format!("no member is '{}'", printable(who))).hint(
                    "'teamotp members' lists them: give the name in its comment, or the whole key",
                ),
            );
        }
        several => {
            return Err(UserError::new(format!(
                "'{}' names {} members: {}",
                printable(who),
                several.len(),
                several
                    .iter()
                    .map(|m| m.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .hint("give the whole key"));
        }
    };
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
    // They could read every account: each waits for a new secret at its service (docs/team-sharing.md).
    let label = member
        .label
        .clone()
        .unwrap_or_else(|| recipients::short(&member.key));
    open.document.mark_all(&Reenrol {
        since: crate::time::date(ctx.now),
        members: vec![label],
    });
    commit(ctx, &open, Some((&remaining, &new_text)), force, err)?;
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
    let pin_path = pin_path(ctx, &vault)?;
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
                    record_pin(ctx, &text, err);
                }
                let _ = writeln!(
                    err,
                    "teamotp: the recipients are unchanged; nothing to accept"
                );
                return Ok(());
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
    Ok(())
}

/// `teamotp rekey`: re-encrypts the vault to the current recipients file.
pub fn rekey(ctx: &Context, force: bool, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = open(ctx, err)?;
    open.reencrypt_backup = true;
    let members = commit(ctx, &open, None, force, err)?;
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
