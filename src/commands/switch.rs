//! The post-quantum switch: `members add --next` registers each member's post-quantum key in the next
//! file (`.age-recipients.next`), `members ack --next` accepts it, and `rekey --post-quantum` re-encrypts
//! the vault to it once every member is ready (docs/team-sharing.md, "Post-quantum keys").

use std::io::Write;

use super::ask::Terminal;
use super::members::{accept, find_member, refuse_passphrase, rekey};
use crate::age::recipients::{self, Kind, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::members::{Next, read_members, read_next};
use crate::trust::pin;
use crate::trust::review::{LABELS_HINT, review_block, unusable_pin};
use crate::vault::transaction::{Context, Transaction, write_text};

/// Where a current member stands for the post-quantum switch.
pub(super) enum Readiness {
    /// A key in the next file takes over (the same key, or one that `# replaces:` it).
    Ready,
    /// No key in the next file yet; this key could have one (an age key's owner runs keygen --pq).
    Waiting,
    /// No key in the next file, and this kind of key has no post-quantum form: the reason.
    Cannot(&'static str),
}

pub(super) fn readiness(member: &Member, next: &Next) -> Readiness {
    if next.successor(member).is_some() {
        return Readiness::Ready;
    }
    match member.kind() {
        Kind::SshEd25519 | Kind::SshRsa => Readiness::Cannot(
            "an SSH key has no post-quantum form: they need an age post-quantum key (teamotp \
             keygen --pq) registered in its place",
        ),
        Kind::Tag => Readiness::Cannot(
            "an age1tag1 hardware key is classic: they need an age1tagpq1 key from their plugin \
             (or a teamotp keygen --pq key) registered in its place",
        ),
        _ => Readiness::Waiting,
    }
}

/// `teamotp members add --next KEY [--name LABEL] [--replaces NAME-OR-KEY]`: registers a post-quantum key
/// in the next file (no re-encryption: nothing is encrypted to it before `rekey --post-quantum`).
pub fn members_add_next(
    ctx: &Context,
    recipient: &str,
    label: Option<&str>,
    replaces: Option<&str>,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?.to_owned();
    let _lock = crate::vault::store::lock(&vault, ctx.env, ctx.now, err)?;
    let (members, main_text) = read_members(&ctx.recipients_path()?, err)?;
    ctx.check_accepted(&main_text, &members)?;
    let next_path = ctx.next_path()?;
    let next = read_next(&next_path)?;
    if let Some(next) = &next {
        ctx.check_next_accepted(next)?;
    }
    let mut parsed = recipients::parse(recipient, "RECIPIENT")?.members;
    let Some(mut member) = parsed.pop().filter(|_| parsed.is_empty()) else {
        return Err(UserError::new("give exactly one recipient"));
    };
    if member.kind().post_quantum() == Some(false) {
        return Err(UserError::new(format!(
            "{} is a classic ({}) key; the next file holds the post-quantum keys of the switch",
            member.describe(),
            member.kind().name()
        ))
        .hint("make a post-quantum key with 'teamotp keygen --pq' (age1pq1...), or use age1tagpq1... from a hardware plugin"));
    }
    if let Some(label) = label {
        if label.chars().any(char::is_control) {
            return Err(UserError::new("the name must be one line of text"));
        }
        member.label = Some(label.trim().to_owned());
    }
    let replaced = replaces.map(|who| find_member(&members, who)).transpose()?;
    let empty = Next {
        members: Vec::new(),
        replaces: Vec::new(),
        text:
            "# teamotp: the post-quantum keys of the next switch ('teamotp rekey --post-quantum'); \
               nothing is encrypted to them before it.\n\n"
                .to_owned(),
    };
    let next = next.unwrap_or(empty);
    if next.members.iter().any(|m| m.key == member.key) {
        return Err(UserError::new(format!(
            "{} is already in '{}'",
            member.describe(),
            next_path.display()
        )));
    }
    if let Some(old) = &replaced
        && let Some(taken) = next.successor(old)
    {
        return Err(UserError::new(format!(
            "{} is already replaced by {} in '{}'",
            old.describe(),
            taken.describe(),
            next_path.display()
        ))
        .hint("edit the next file to change it, then accept it: teamotp members ack --next"));
    }
    let mut text = next.text.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if let Some(label) = &member.label {
        text.push_str(&format!("# {label}\n"));
    }
    if let Some(old) = &replaced {
        text.push_str(&format!("# {} {}\n", recipients::REPLACES, old.key));
    }
    text.push_str(&format!("{}\n", member.key));
    // What is written is what was reviewed: parse it again.
    let check = read_next_text(&next_path, &text)?;
    if check.members.len() != next.members.len() + 1 {
        return Err(UserError::new(format!(
            "the new '{}' would not parse as intended; nothing was changed",
            next_path.display()
        )));
    }
    write_text(&next_path, &text)?;
    let pin_path = ctx.pin_path()?;
    let downgraded = ctx.read_whole_pin()?.and_then(|p| p.downgraded);
    pin::record_with(
        &pin_path,
        &vault,
        main_text.as_bytes(),
        Some(text.as_bytes()),
        downgraded,
    )
    .map_err(|e| UserError::new(format!("cannot write '{}': {e}", pin_path.display())))?;
    let _ = writeln!(
        err,
        "teamotp: registered {} in {}{}; nothing is encrypted to it before 'teamotp rekey --post-quantum'",
        member.describe(),
        next_path.display(),
        replaced
            .as_ref()
            .map(|old| format!(" (replaces {})", old.describe()))
            .unwrap_or_default()
    );
    if replaced.is_none() {
        let _ = writeln!(
            err,
            "teamotp: hint: it replaces no current key, so it joins at the switch; to take over a \
             member's access pass --replaces NAME-OR-KEY"
        );
    }
    Ok(())
}

fn read_next_text(path: &std::path::Path, text: &str) -> Result<Next, UserError> {
    let parsed = recipients::parse(text, &path.display().to_string())?;
    Ok(Next {
        members: parsed.members,
        replaces: parsed.replaces,
        text: text.to_owned(),
    })
}

/// `teamotp members ack --next [--yes | --expect FINGERPRINT]`: shows the next file (all of it, or how it
/// changed since this machine accepted it) and accepts it.
pub fn members_ack_next(
    ctx: &Context,
    yes: bool,
    expect: Option<&str>,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?.to_owned();
    let (members, main_text) = read_members(&ctx.recipients_path()?, err)?;
    ctx.check_accepted(&main_text, &members)?;
    let next_path = ctx.next_path()?;
    let Some(next) = read_next(&next_path)? else {
        return Err(UserError::new(format!(
            "there is no '{}' to accept",
            next_path.display()
        ))
        .hint("members register post-quantum keys with 'teamotp members add --next KEY --replaces THEIR-KEY'"));
    };
    let whole = ctx.read_whole_pin()?;
    let pin_path = ctx.pin_path()?;
    let (title, lines) = match whole.as_ref().and_then(|p| p.next.clone()) {
        None => (
            format!(
                "the post-quantum keys of '{}' after the switch (none accepted on this machine yet):",
                vault.display()
            ),
            next_listing(&next),
        ),
        Some(old) => {
            let changes = pin::review(
                &pin::Pinned::Exact(old),
                next.text.as_bytes(),
                &next.members,
            )
            .map_err(|reason| unusable_pin(&pin_path, &vault, &reason))?;
            if changes.is_empty() {
                let _ = writeln!(
                    err,
                    "teamotp: the next file is unchanged; nothing to accept"
                );
                return Ok(());
            }
            (
                "the next file changed since you accepted it:".to_owned(),
                changes,
            )
        }
    };
    let _ = writeln!(
        err,
        "teamotp: {title}\n{}",
        review_block(&lines, &next.text)
    );
    let _ = writeln!(err, "teamotp: hint: {LABELS_HINT}");
    if !accept(&next.text, yes, expect, "Accept these post-quantum keys?")? {
        let _ = writeln!(err, "teamotp: nothing accepted");
        return Ok(());
    }
    pin::record_with(
        &pin_path,
        &vault,
        main_text.as_bytes(),
        Some(next.text.as_bytes()),
        whole.and_then(|p| p.downgraded),
    )
    .map_err(|e| UserError::new(format!("cannot write '{}': {e}", pin_path.display())))?;
    let _ = writeln!(
        err,
        "teamotp: accepted the next file ({} keys); 'teamotp members' shows who is ready",
        next.members.len()
    );
    Ok(())
}

/// The next file's entries in full, with the key each replaces.
fn next_listing(next: &Next) -> Vec<String> {
    next.members
        .iter()
        .zip(&next.replaces)
        .map(|(m, r)| match r {
            Some(old) => format!("{}  (replaces {})", m.entry(), recipients::shown(old)),
            None => format!("{}  (joins)", m.entry()),
        })
        .collect()
}

/// `teamotp rekey --post-quantum`: when every member has a key in the next file, re-encrypts the vault to
/// the next file's keys only, makes it the recipients file, and removes it; else lists who is not ready.
pub fn rekey_post_quantum(
    ctx: &Context,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    open.reencrypt_backup = true;
    refuse_passphrase(open.plain.passphrase.is_some(), ctx.vault_path()?)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    ctx.check_accepted(&text, &members)?;
    let next_path = ctx.next_path()?;
    let Some(next) = read_next(&next_path)? else {
        if members
            .iter()
            .all(|m| m.kind().post_quantum() == Some(true))
        {
            let _ = writeln!(err, "teamotp: the recipients are post-quantum already");
            return rekey(ctx, force, err);
        }
        return Err(UserError::new(format!(
            "there is no '{}': nobody has registered a post-quantum key yet",
            next_path.display()
        ))
        .hint("each member runs 'teamotp keygen --pq' and registers the key: teamotp members add --next KEY --replaces THEIR-CURRENT-KEY"));
    };
    ctx.check_next_accepted(&next)?;
    let not_ready: Vec<String> = members
        .iter()
        .filter_map(|m| match readiness(m, &next) {
            Readiness::Ready => None,
            Readiness::Waiting => Some(format!(
                "{} [{}]: no post-quantum key registered yet",
                m.describe(),
                m.kind().name()
            )),
            Readiness::Cannot(reason) => {
                Some(format!("{} [{}]: {reason}", m.describe(), m.kind().name()))
            }
        })
        .collect();
    if !not_ready.is_empty() {
        return Err(UserError::new(format!(
            "{} of {} members are not ready for the post-quantum switch; nothing was written:\n    {}",
            not_ready.len(),
            members.len(),
            not_ready.join("\n    ")
        ))
        .hint("each of them registers a key: teamotp members add --next KEY --replaces THEIR-CURRENT-KEY")
        .hint("to drop someone instead, remove them first: teamotp members rm NAME"));
    }
    open.commit(ctx, Some((&next.members, &next.text)), force, err)?;
    write_text(&path, &next.text)?;
    let vault = ctx.vault_path()?.to_owned();
    let pin_path = ctx.pin_path()?;
    // The next file is now the recipients file: no next record, and a switch ends a downgrade.
    pin::record_with(&pin_path, &vault, next.text.as_bytes(), None, None)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", pin_path.display())))?;
    std::fs::remove_file(&next_path)
        .map_err(|e| UserError::new(format!("cannot remove '{}': {e}", next_path.display())))?;
    let _ = writeln!(
        err,
        "teamotp: switched {} to post-quantum keys: re-encrypted to {} recipient{}; {} is now {}",
        vault.display(),
        next.members.len(),
        if next.members.len() == 1 { "" } else { "s" },
        next_path.display(),
        path.display()
    );
    let _ = writeln!(
        err,
        "teamotp: warning: older versions of the vault (git history, clones, backups) stay encrypted to \
         the classic keys: someone who kept a copy can open it with a quantum computer later"
    );
    let names = open.document.names();
    if !names.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: hint: to be safe from that, re-enrol these accounts (new secret at each service, then 'teamotp edit NAME --secret'):"
        );
        for name in names {
            let _ = writeln!(err, "    {}", printable(&name));
        }
    }
    Ok(())
}
