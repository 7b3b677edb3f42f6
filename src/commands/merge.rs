//! Merging in git: the vault's driver (`merge-driver`: a three-way merge by account name, encrypted to
//! the merged members), the recipients file's driver (`merge-recipients`), and `members ack` finishing a
//! vault merge that stopped for a review.
//!
//! Membership follows one three-way rule on both files (`membership::merge3`: a key added on either side
//! is in, a key removed on either side is out). git merges each path on its own, in its own order, and
//! writes the work tree only at the end, so the vault's driver never reads `.age-recipients` from the
//! work tree for the other side: it takes each version's recipients from that version's own record
//! (its header), and the recipients file's driver applies the same rule to the file. The merges
//! themselves are `vault::merge` and `trust::members::merge_text`; this reads what git hands over,
//! writes and says what happened.

use std::io::Write;
use std::path::Path;

use super::ask::Terminal;
use crate::age::recipients::{self, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::{members, membership};
use crate::vault::merge::{self, Merged, Versions};
use crate::vault::store;
use crate::vault::transaction::Context;

/// `teamotp merge-driver BASE OURS THEIRS [PATH]`: git's `%O %A %B %P`. Writes the merge into OURS,
/// encrypted to the merged members; exit 0, or 1 when an account changed differently on both sides (ours
/// is kept for it and the conflicts are listed). A merged set holding a key this machine has not
/// accepted stops the merge (an error: ours is kept as it was) until `teamotp members ack`.
pub fn merge_driver(
    ctx: &Context,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: Option<&Path>,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let read = |file: &Path| {
        crate::files::read(file)
            .map_err(|e| UserError::new(format!("cannot read '{}': {e}", file.display())))
    };
    let versions = Versions {
        base: read(base)?.to_vec(),
        ours: read(ours)?.to_vec(),
        theirs: read(theirs)?.to_vec(),
        names: [
            base.display().to_string(),
            ours.display().to_string(),
            theirs.display().to_string(),
        ],
    };
    let vault_path = path.map_or_else(|| ours.to_owned(), Path::to_path_buf);
    let merged = merge::merge(ctx, &mut Terminal, ours, &vault_path, &versions, err)?;
    Ok(report(&merged, &vault_path, err))
}

/// Says what `merge` did: the merged vault, or the accounts that conflict (exit 1, ours kept for them).
fn report(merged: &Merged, vault_path: &Path, err: &mut dyn Write) -> u8 {
    let shown = printable(&vault_path.display().to_string()).into_owned();
    if merged.conflicts.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: merged {shown} by account (name, or secret across a rename){}",
            match merged.members {
                0 => String::new(),
                n => format!(", encrypted to the {n} merged members"),
            }
        );
        return 0;
    }
    let _ = writeln!(
        err,
        "teamotp: {} account{} changed differently on both sides; kept ours for:",
        merged.conflicts.len(),
        if merged.conflicts.len() == 1 { "" } else { "s" }
    );
    for name in &merged.conflicts {
        let _ = writeln!(err, "    {}", printable(name));
    }
    let _ = writeln!(
        err,
        "teamotp: hint: fix them with 'teamotp edit' (their version: git show :3:{shown} | teamotp \
         textconv -), then git add and commit"
    );
    1
}

// ---------------------------------------------------------------------------------------------------
// The recipients file's driver

/// `teamotp merge-recipients BASE OURS THEIRS [PATH]`: merges three versions of `.age-recipients` (or
/// `.age-recipients.next`) by key with the membership rule: a key added on either side is in (with the
/// comment lines above it, its label), a key removed on either side is out, a label changed on one side
/// only takes that change; the rest of ours is kept as written. Exit 1 (ours kept) when a version does
/// not parse or the result would mix post-quantum and classic keys.
pub fn merge_recipients(
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: Option<&Path>,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let shown = printable(
        &path
            .map_or_else(|| ours.to_owned(), Path::to_path_buf)
            .display()
            .to_string(),
    )
    .into_owned();
    let read = |file: &Path| -> Result<String, UserError> {
        match crate::files::read_to_string(file) {
            Ok(text) => Ok(text.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(UserError::new(format!(
                "cannot read '{}': {e}",
                file.display()
            ))),
        }
    };
    let texts = [read(base)?, read(ours)?, read(theirs)?];
    let words = ["the base", "our", "their"];
    let mut parsed = Vec::new();
    for (text, word) in texts.iter().zip(words) {
        match recipients::parse(text, &format!("{word} version of {shown}")) {
            Ok(p) => parsed.push(p.members),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "teamotp: cannot merge {shown}: {}; ours is kept",
                    e.message
                );
                return Ok(1);
            }
        }
    }
    let merged = members::merge_text(&texts, &parsed);
    let keys = members::keys_of(&merged.1);
    let members: Vec<Member> = membership::members_of(&keys, &merged.1);
    if let Err(e) = recipients::check_mix(&members, &format!("the merge of {shown}")) {
        let _ = writeln!(err, "teamotp: {}; ours is kept", e.message);
        for hint in &e.hints {
            let _ = writeln!(err, "teamotp: hint: {hint}");
        }
        return Ok(1);
    }
    crate::files::replace(ours, merged.0.as_bytes(), 0o644)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", ours.display())))?;
    let _ = writeln!(
        err,
        "teamotp: merged {shown} by key: {} member{}",
        keys.len(),
        if keys.len() == 1 { "" } else { "s" }
    );
    Ok(0)
}

// ---------------------------------------------------------------------------------------------------
// Finishing a stopped merge

/// After `members ack` accepted the recipients: when the vault has a merge pending in git (its driver
/// stopped for the review, so the index holds its three stages), merges them now, writes the vault and
/// stages it. Nothing happens when no merge is pending.
pub fn finish_pending(ctx: &Context, err: &mut dyn Write) -> Result<(), UserError> {
    let vault = ctx.vault_path()?.to_owned();
    let Some(dir) = std::fs::canonicalize(&vault)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    else {
        return Ok(());
    };
    let Ok(stages) = crate::git::text(&dir, &["ls-files", "-u", "-z", "--", &file_name(&vault)])
    else {
        return Ok(());
    };
    let mut blobs: [Option<String>; 3] = [None, None, None];
    for record in stages.split('\0').filter(|r| !r.is_empty()) {
        // "MODE SHA STAGE\tPATH"
        let Some((meta, _)) = record.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split(' ').collect();
        if let [_, sha, stage] = fields.as_slice()
            && let Ok(stage @ 1..=3) = stage.parse::<usize>()
        {
            blobs[stage - 1] = Some((*sha).to_owned());
        }
    }
    if blobs.iter().all(Option::is_none) {
        return Ok(());
    }
    let shown = printable(&vault.display().to_string()).into_owned();
    let blob = |sha: &Option<String>| -> Result<Vec<u8>, UserError> {
        match sha {
            None => Ok(Vec::new()),
            Some(sha) => crate::git::output(&dir, &["cat-file", "blob", sha]),
        }
    };
    let (base, ours_staged, theirs) = (blob(&blobs[0])?, blob(&blobs[1])?, blob(&blobs[2])?);
    let _lock = store::lock(&vault, ctx.env, ctx.now, err)?;
    let ours = crate::files::read(&vault)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?
        .to_vec();
    if ours != ours_staged {
        return Err(UserError::new(format!(
            "{shown} was changed since its merge stopped (it is not our version any more); its merge \
             was not finished"
        ))
        .hint(format!(
            "to start it again: git checkout -m -- '{shown}', then teamotp members ack"
        )));
    }
    let versions = Versions {
        base,
        ours,
        theirs,
        names: [
            format!("{shown} (base)"),
            format!("{shown} (ours)"),
            format!("{shown} (theirs)"),
        ],
    };
    let merged = merge::merge(ctx, &mut Terminal, &vault, &vault, &versions, err)?;
    if report(&merged, &vault, err) != 0 {
        let _ = writeln!(
            err,
            "teamotp: {shown} is merged but has conflicts: fix them, then git add '{shown}' and commit"
        );
        return Ok(());
    }
    crate::git::text(&dir, &["add", "--", &file_name(&vault)])?;
    let _ = writeln!(
        err,
        "teamotp: finished the merge of {shown} and staged it; complete it: git commit (or git rebase \
         --continue, git cherry-pick --continue)"
    );
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
