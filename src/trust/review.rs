//! The recipients review: a write stops unless this machine accepted exactly the recipients file it
//! would encrypt to (its pin, see [`pin`]); with no pin the whole list is shown, with a changed file the
//! difference, and both need `teamotp members ack`. Also the pin's other records: the next file accepted,
//! and a downgrade from post-quantum keys.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::members::Next;
use super::pin;
use crate::age::recipients::Member;
use crate::env::Env;
use crate::error::UserError;

/// Said with every review: what a review can and cannot vouch for.
pub const LABELS_HINT: &str = "only the keys are authenticated: labels are comments anyone with write \
                           access can change; compare the keys";

/// A review: its lines indented, then the recipients file's fingerprint (what `--expect` takes).
pub fn review_block(lines: &[String], text: &str) -> String {
    let mut block: String = lines.iter().map(|l| format!("    {l}\n")).collect();
    block.push_str(&format!(
        "    recipients file fingerprint: {}",
        pin::fingerprint(text.as_bytes())
    ));
    block
}

/// Every member in full, one a line, as a review lists them when nothing was accepted yet.
pub fn listing(members: &[Member]) -> Vec<String> {
    members.iter().map(Member::entry).collect()
}

/// The pin file of `vault`; an error when there is no state directory to keep it in.
pub fn pin_path(env: &Env, vault: &Path) -> Result<PathBuf, UserError> {
    pin::path(env, vault).ok_or_else(|| {
        UserError::new(format!(
            "there is no state directory to keep the recipients pin of '{}' in, so its recipients \
             cannot be checked; nothing was written",
            vault.display()
        ))
        .hint("set XDG_STATE_HOME (or HOME) to a directory of your own")
    })
}

/// The pin of `vault`, None when there is none; a pin that cannot be read or parsed is an error.
pub fn read_pin(pin_path: &Path, vault: &Path) -> Result<Option<pin::Pinned>, UserError> {
    pin::read(pin_path).map_err(|reason| unusable_pin(pin_path, vault, &reason))
}

pub fn unusable_pin(pin_path: &Path, vault: &Path, reason: &str) -> UserError {
    UserError::new(format!(
        "the recipients pin '{}' is not usable: {reason}",
        pin_path.display()
    ))
    .hint(format!(
        "it records the recipients file you accepted for '{}'; if you did not change it, someone else \
         may have: remove it, then review the recipients with 'teamotp members ack'",
        vault.display()
    ))
}

/// The whole pin of the vault (None when there is none).
pub fn read_whole_pin(env: &Env, vault: &Path) -> Result<Option<pin::Pin>, UserError> {
    let pin_path = pin_path(env, vault)?;
    pin::read_pin(&pin_path).map_err(|reason| unusable_pin(&pin_path, vault, &reason))
}

/// Stops a write unless this machine accepted exactly this recipients file (`text`, parsed as `members`)
/// for the vault: with no pin (a new clone, machine or folder) the whole list is shown, with a changed
/// file the difference; both need `teamotp members ack`.
pub fn check_accepted(
    env: &Env,
    vault: &Path,
    text: &str,
    members: &[Member],
) -> Result<(), UserError> {
    let pin_path = pin_path(env, vault)?;
    let Some(pinned) = read_pin(&pin_path, vault)? else {
        return Err(UserError::new(format!(
            "this machine has not accepted the recipients of '{}' yet (a new clone, machine or folder); \
             a write would encrypt every secret to:\n{}",
            vault.display(),
            review_block(&listing(members), text)
        ))
        .hint(LABELS_HINT)
        .hint(
            "if these are your team's keys, accept them: teamotp members ack (in a script: teamotp \
             members ack --expect FINGERPRINT, with the fingerprint checked with a teammate)",
        ));
    };
    let changes = pin::review(&pinned, text.as_bytes(), members)
        .map_err(|reason| unusable_pin(&pin_path, vault, &reason))?;
    if changes.is_empty() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "the recipients file changed since you last wrote '{}':\n{}",
        vault.display(),
        review_block(&changes, text)
    ))
    .hint(LABELS_HINT)
    .hint("if you expected this change (a teammate joined or left), accept it: teamotp members ack")
    .hint("if not, someone may have slipped in a key: check the file's history before going on"))
}

/// Stops unless this machine accepted exactly this next file (`teamotp members ack --next`).
pub fn check_next_accepted(
    env: &Env,
    vault: &Path,
    next_path: &Path,
    next: &Next,
) -> Result<(), UserError> {
    let shown = next_path.display().to_string();
    let pinned = read_whole_pin(env, vault)?.and_then(|p| p.next);
    let pin_path = pin_path(env, vault)?;
    let changes = match &pinned {
        None => listing(&next.members),
        Some(bytes) => pin::review(
            &pin::Pinned::Exact(bytes.clone()),
            next.text.as_bytes(),
            &next.members,
        )
        .map_err(|reason| unusable_pin(&pin_path, vault, &reason))?,
    };
    if changes.is_empty() {
        return Ok(());
    }
    let what = match pinned {
        None => "this machine has not accepted",
        Some(_) => "this machine accepted another version of",
    };
    Err(UserError::new(format!(
        "{what} '{shown}', the keys '{}' will be encrypted to after the switch:\n{}",
        vault.display(),
        review_block(&changes, &next.text)
    ))
    .hint(LABELS_HINT)
    .hint("if these are your team's post-quantum keys, accept them: teamotp members ack --next"))
}

/// Says that the vault was downgraded from post-quantum to classic keys, and when (from the pin).
pub fn warn_downgraded(env: &Env, vault: &Path, err: &mut dyn Write) {
    let Ok(Some(pin)) = read_whole_pin(env, vault) else {
        return;
    };
    if let Some(date) = pin.downgraded {
        let _ = writeln!(
            err,
            "teamotp: warning: '{}' was downgraded from post-quantum to classic keys on {} (recorded \
             in this machine's pin); 'teamotp rekey --post-quantum' switches back",
            vault.display(),
            crate::time::date(date)
        );
    }
}

/// Records `text` (the recipients file's exact bytes) as accepted for the vault; a failure is a warning
/// (the next write then asks for `members ack` again).
pub fn record_pin(env: &Env, vault: &Path, text: &str, err: &mut dyn Write) {
    let mut first = false;
    let result = match pin::path(env, vault) {
        Some(pin_path) => {
            first = matches!(pin::read(&pin_path), Ok(None));
            pin::record(&pin_path, vault, text.as_bytes()).map_err(|e| {
                format!(
                    "cannot write the recipients pin '{}': {e}",
                    pin_path.display()
                )
            })
        }
        None => Err("there is no state directory to keep the recipients pin in".to_owned()),
    };
    if first && result.is_ok() {
        // Pinning is silent afterwards: say once that it started.
        let _ = writeln!(
            err,
            "teamotp: this machine now trusts these recipients of {} (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)",
            vault.display()
        );
    }
    if let Err(reason) = result {
        let _ = writeln!(
            err,
            "teamotp: warning: {reason}; the next write will ask you to accept the recipients again"
        );
    }
}

/// Records in the pin that the vault was downgraded now (a failure is a warning).
pub fn record_downgrade(env: &Env, vault: &Path, text: &str, now: u64, err: &mut dyn Write) {
    let Ok(pin_path) = pin_path(env, vault) else {
        return;
    };
    let next = read_whole_pin(env, vault)
        .ok()
        .flatten()
        .and_then(|p| p.next);
    if let Err(e) = pin::record_with(
        &pin_path,
        vault,
        text.as_bytes(),
        next.as_deref(),
        Some(now),
    ) {
        let _ = writeln!(
            err,
            "teamotp: warning: cannot record the downgrade in '{}': {e}",
            pin_path.display()
        );
    }
}
