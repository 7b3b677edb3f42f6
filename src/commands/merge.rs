//! Merging in git: the vault's driver (`merge-driver`: a three-way merge by account name, encrypted to
//! the merged members), the recipients file's driver (`merge-recipients`), and `members ack` finishing a
//! vault merge that stopped for a review.
//!
//! Membership follows one three-way rule on both files (`membership::merge3`: a key added on either side
//! is in, a key removed on either side is out). git merges each path on its own, in its own order, and
//! writes the work tree only at the end, so the vault's driver never reads `.age-recipients` from the
//! work tree for the other side: it takes each version's recipients from that version's own record
//! (its header), and the recipients file's driver applies the same rule to the file.

use std::io::Write;
use std::path::Path;

use crate::age::decrypt;
use crate::age::identity::{self, MAX_WORK_FACTOR};
use crate::age::recipients::{self, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::members;
use crate::trust::membership::{self, Recorded};
use crate::trust::pin;
use crate::trust::review;
use crate::vault::document::Document;
use crate::vault::store::{self, Check, Protection, Request};
use crate::vault::transaction::Context;
use crate::vault::{self, load};

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
    merge_into(ctx, ours, &vault_path, &versions, err)
}

/// The three versions of a vault being merged, and how to name each in messages.
struct Versions {
    base: Vec<u8>,
    ours: Vec<u8>,
    theirs: Vec<u8>,
    names: [String; 3],
}

/// Merges the three versions and writes the result into `target` (git's OURS, or the vault itself when
/// `members ack` finishes a stopped merge), which must still hold `versions.ours`.
fn merge_into(
    ctx: &Context,
    target: &Path,
    vault_path: &Path,
    versions: &Versions,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let [base_name, our_name, their_name] = &versions.names;
    if versions.ours.is_empty() {
        return Err(UserError::new("our version of the vault is empty"));
    }
    refuse_plaintext(
        vault_path,
        [
            ("the base", base_name, &versions.base),
            ("our", our_name, &versions.ours),
            ("their", their_name, &versions.theirs),
        ],
    )?;
    let document = |name: &str, bytes: &[u8]| -> Result<Document, UserError> {
        let parsed =
            vault::format::parse(bytes).map_err(|e| UserError::new(format!("{name}: {e}")))?;
        Document::from_plaintext(bytes, &parsed).map_err(|e| UserError::new(format!("{name}: {e}")))
    };
    // Ours is opened first, through the usual path: its keys (identities loaded once, or the passphrase
    // asked once) then open the other two versions, so nothing is asked three times.
    let our_plain = load::open(
        &versions.ours,
        our_name.clone(),
        || identity::load(&identity::paths(ctx.identities, ctx.env)),
        || load::ask_passphrase(our_name),
        ctx.env,
    )?;
    let our_doc = document(our_name, &our_plain.bytes)?;
    let open_other = |bytes: &[u8]| -> Result<Option<Document>, decrypt::Failure> {
        if bytes.is_empty() {
            return Ok(Some(Document::new()));
        }
        if !decrypt::is_age(bytes) {
            return Ok(document("", bytes).ok());
        }
        let plain = decrypt::decrypt_with(bytes, &our_plain.identities.list, || {
            our_plain
                .passphrase
                .as_ref()
                .map(|p| {
                    let passphrase = age::secrecy::SecretString::from(p.as_str().to_owned());
                    crate::agent::passphrase_identity(passphrase, MAX_WORK_FACTOR)
                })
                .ok_or(decrypt::Failure::NoTerminal)
        })?;
        Ok(document("", &plain).ok())
    };
    let their_doc = match open_other(&versions.theirs) {
        Ok(Some(doc)) => doc,
        Ok(None) => document(their_name, &versions.theirs)?,
        Err(decrypt::Failure::NoMatch | decrypt::Failure::NoIdentity) => {
            return Err(UserError::new(format!(
                "their version of '{}' is not encrypted to your key (it was written before you joined, \
                 or without you); ours is kept as it was",
                printable(&vault_path.display().to_string())
            ))
            .hint("ask a member who can read both versions to merge, or to run 'teamotp rekey' on that branch"));
        }
        Err(e) => {
            return Err(load::failure(their_name, e, &our_plain.identities, ctx.env));
        }
    };
    let (base_doc, two_way) = match open_other(&versions.base) {
        Ok(Some(doc)) => (doc, false),
        Ok(None) => (document(base_name, &versions.base)?, false),
        // A base encrypted before you joined: a two-way merge of ours and theirs.
        Err(decrypt::Failure::NoMatch | decrypt::Failure::NoIdentity) => (Document::new(), true),
        Err(e) => {
            return Err(load::failure(base_name, e, &our_plain.identities, ctx.env));
        }
    };
    if two_way {
        let _ = writeln!(
            err,
            "teamotp: the common version of {} is not encrypted to your key (it predates you): merged \
             ours and theirs two ways: accounts on one side only are kept (a two-way merge cannot tell \
             an addition from a removal: remove again what the other side had removed), identical \
             accounts merge, accounts that differ are listed as conflicts",
            printable(&vault_path.display().to_string())
        );
    }
    let (merged, conflicts) = Document::merge(&base_doc, &our_doc, &their_doc);

    let team_ctx = Context {
        source: vault::Source::File(vault_path.to_owned()),
        identities: ctx.identities,
        recipients_file: ctx.recipients_file,
        env: ctx.env,
        now: ctx.now,
    };
    let plaintext = merged.serialize();
    let members = match &our_plain.passphrase {
        Some(_) => Vec::new(),
        None => merged_members(&team_ctx, versions, err)?,
    };
    let protection = match &our_plain.passphrase {
        Some(passphrase) => Protection::Passphrase(passphrase),
        None => Protection::Recipients(&members),
    };
    let check = match &our_plain.passphrase {
        Some(passphrase) => Check::Passphrase(passphrase),
        None => Check::Identities(&our_plain.identities),
    };
    store::save(&Request {
        path: target,
        plaintext: &plaintext,
        protection,
        check,
        armored: our_plain.armored,
        expected_hash: Some(our_plain.file_hash),
        // git's OURS is a scratch file, and git keeps every version: a .bak would be noise.
        backup: store::Backup::None,
    })?;
    let shown = printable(&vault_path.display().to_string()).into_owned();
    if conflicts.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: merged {shown} by account (name, or secret across a rename){}",
            match members.len() {
                0 => String::new(),
                n => format!(", encrypted to the {n} merged members"),
            }
        );
        return Ok(0);
    }
    let _ = writeln!(
        err,
        "teamotp: {} account{} changed differently on both sides; kept ours for:",
        conflicts.len(),
        if conflicts.len() == 1 { "" } else { "s" }
    );
    for name in &conflicts {
        let _ = writeln!(err, "    {}", printable(name));
    }
    let _ = writeln!(
        err,
        "teamotp: hint: fix them with 'teamotp edit' (their version: git show :3:{shown} | teamotp \
         textconv -), then git add and commit"
    );
    Ok(1)
}

/// The members the merged vault is encrypted to: the three-way merge of the three versions' recorded
/// recipients. It must not mix post-quantum and classic keys, and every key in it must be one this
/// machine accepted (the pin); otherwise the merge stops with the review.
fn merged_members(
    ctx: &Context,
    versions: &Versions,
    err: &mut dyn Write,
) -> Result<Vec<Member>, UserError> {
    let vault_path = ctx.vault_path()?;
    let shown = printable(&vault_path.display().to_string()).into_owned();
    // The recipients file in the work tree is ours from before the merge (git writes the work tree
    // after every path is merged): labels for messages, and our set when our version has no record.
    let work_tree = members::read_members(&ctx.recipients_path()?, &mut std::io::sink())
        .map(|(members, _)| members)
        .unwrap_or_default();
    let record = |bytes: &[u8]| -> Option<Vec<String>> {
        if bytes.is_empty() {
            // The vault did not exist on that side: nobody could read it.
            return Some(Vec::new());
        }
        match membership::recorded(bytes) {
            Recorded::Keys(record) => Some(record.keys),
            _ => None,
        }
    };
    let [base_name, _, their_name] = &versions.names;
    let mut unknown = Vec::new();
    let ours = record(&versions.ours).unwrap_or_else(|| {
        unknown.push("our version");
        membership::Record::of(&work_tree).keys
    });
    let theirs_recorded = record(&versions.theirs);
    let base_recorded = record(&versions.base);
    let base = match (&base_recorded, &theirs_recorded) {
        (Some(base), _) => base.clone(),
        // Without the base, a key on one side only may be an addition or a removal: it is left out (the
        // mismatch is then said on every command until `rekey`), never given access by a guess.
        (None, Some(theirs)) => {
            unknown.push("the common version");
            let mut all = ours.clone();
            all.extend(theirs.iter().cloned());
            all
        }
        (None, None) => {
            unknown.push("the common version");
            ours.clone()
        }
    };
    let theirs = theirs_recorded.unwrap_or_else(|| {
        unknown.push("their version");
        base.clone()
    });
    if !unknown.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: warning: {} of {shown} carr{} no record of {} recipients (written by another tool \
             or an older teamotp; {base_name}, {their_name}): taken as unchanged; after the merge run \
             'teamotp check', and 'teamotp rekey' if it reports a mismatch",
            unknown.join(" and "),
            if unknown.len() == 1 { "ies" } else { "y" },
            if unknown.len() == 1 { "its" } else { "their" },
        );
    }
    let keys = membership::merge3(&base, &ours, &theirs);
    if keys.is_empty() {
        return Err(UserError::new(format!(
            "the merged members of {shown} would be nobody; ours is kept as it was"
        ))
        .hint("one side removed the members the other kept: fix .age-recipients, then 'teamotp rekey'"));
    }
    let members = membership::members_of(&keys, &work_tree);
    recipients::check_mix(&members, &format!("the merge of {shown}"))?;
    let accepted = accepted_keys(ctx)?;
    let unaccepted: Vec<&Member> = members
        .iter()
        .filter(|m| !accepted.as_ref().is_some_and(|keys| keys.contains(&m.key)))
        .collect();
    if !unaccepted.is_empty() {
        let lines: Vec<String> = members
            .iter()
            .map(|m| {
                let new = unaccepted.iter().any(|u| u.key == m.key);
                format!("{} {}", if new { "+" } else { " " }, m.entry())
            })
            .collect();
        let removed: Vec<String> = accepted
            .iter()
            .flatten()
            .filter(|k| !keys.contains(k))
            .map(|k| format!("- {}", recipients::shown(k)))
            .collect();
        let block: String = lines
            .iter()
            .chain(&removed)
            .map(|l| format!("    {l}\n"))
            .collect();
        return Err(UserError::new(format!(
            "the merge of {shown} would encrypt every secret to keys this machine has not accepted \
             (+); ours is kept and this file's merge stops here:\n{}",
            block.trim_end()
        ))
        .hint(review::LABELS_HINT)
        .hint(
            "if these are your team's keys, accept them: teamotp members ack (it reviews the merged \
             .age-recipients, finishes this vault's merge and stages it); then git commit, or git \
             rebase --continue",
        )
        .hint("if not, abort: git merge --abort (or git rebase --abort), and check the other side's history"));
    }
    Ok(members)
}

/// The keys this machine accepted for the vault (its pin); None when it accepted none.
fn accepted_keys(ctx: &Context) -> Result<Option<Vec<String>>, UserError> {
    let vault = ctx.vault_path()?;
    let pin_path = ctx.pin_path()?;
    Ok(match review::read_pin(&pin_path, vault)? {
        None => None,
        Some(pin::Pinned::Keys(keys)) => Some(keys),
        Some(pin::Pinned::Exact(bytes)) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let parsed = recipients::parse_lenient(&text, "pin")
                .map_err(|e| review::unusable_pin(&pin_path, vault, &e.message))?;
            Some(parsed.members.into_iter().map(|m| m.key).collect())
        }
    })
}

/// When any version of the vault is age-encrypted, every non-empty version must be: a plaintext one (team
/// CSV or gauth lines committed on a branch) is refused with exit 1, a conflict that leaves OURS as it
/// was. Merging it would copy secrets that sit in the clear in git history into the team vault, and would
/// re-encrypt accounts a teammate planted as if they were the team's. Nothing is decrypted before this.
fn refuse_plaintext(
    vault: &Path,
    versions: [(&str, &String, &Vec<u8>); 3],
) -> Result<(), UserError> {
    let present = || versions.iter().filter(|(_, _, bytes)| !bytes.is_empty());
    if !present().any(|(_, _, bytes)| decrypt::is_age(bytes)) {
        return Ok(());
    }
    let plain: Vec<String> = present()
        .filter(|(_, _, bytes)| !decrypt::is_age(bytes))
        .map(|(word, file, _)| format!("{word} version ('{}')", printable(file)))
        .collect();
    if plain.is_empty() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "refusing to merge {}: {} {} not encrypted, but the vault is (a plaintext vault on a branch \
         carries its secrets in the clear, and merging it would re-encrypt planted accounts as if they \
         were the team's); ours is kept as it was",
        printable(&vault.display().to_string()),
        plain.join(" and "),
        if plain.len() == 1 { "is" } else { "are" },
    ))
    .hint(format!(
        "see who committed it: git log -p --textconv -- '{}'; if the plaintext is wanted, encrypt it on \
         its branch with 'teamotp encrypt' and merge again",
        printable(&vault.display().to_string())
    ))
    .code(1))
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
    let merged = merge_recipients_text(&texts, &parsed);
    let keys = parsed_keys(&merged.1);
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

fn parsed_keys(members: &[Member]) -> Vec<String> {
    members.iter().map(|m| m.key.clone()).collect()
}

/// The lines of a member's entry in a recipients file: the comment lines right above its key (its
/// label, a `# replaces:` line) and the key's line, as 0-based line indexes `start..=key`.
fn entry_lines(lines: &[&str], key_line: usize) -> std::ops::RangeInclusive<usize> {
    let key = key_line - 1;
    let mut start = key;
    while start > 0 && lines[start - 1].trim_start().starts_with('#') {
        start -= 1;
    }
    start..=key
}

/// The merged text and its members: ours with the removed entries left out, entries whose label changed
/// on their side only replaced by theirs, and entries only their side added appended in their order.
fn merge_recipients_text(texts: &[String; 3], parsed: &[Vec<Member>]) -> (String, Vec<Member>) {
    let [base, ours, theirs] = [&parsed[0], &parsed[1], &parsed[2]];
    let keys = membership::merge3(&parsed_keys(base), &parsed_keys(ours), &parsed_keys(theirs));
    let lines: Vec<Vec<&str>> = texts.iter().map(|t| t.lines().collect()).collect();
    let entry = |side: usize, member: &Member| -> Vec<String> {
        let range = entry_lines(&lines[side], member.line);
        lines[side][range].iter().map(|l| (*l).to_owned()).collect()
    };
    let find = |list: &[Member], key: &str| list.iter().find(|m| m.key == key).cloned();
    // Ours, entry by entry: each line belongs to at most one member's entry.
    let mut owner: Vec<Option<&Member>> = vec![None; lines[1].len()];
    for member in ours {
        for i in entry_lines(&lines[1], member.line) {
            owner[i] = Some(member);
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines[1].len() {
        let Some(member) = owner[i] else {
            out.push(lines[1][i].to_owned());
            i += 1;
            continue;
        };
        let range = entry_lines(&lines[1], member.line);
        i = range.end() + 1;
        if !keys.contains(&member.key) {
            continue;
        }
        let ours_entry = entry(1, member);
        let replaced = match (find(base, &member.key), find(theirs, &member.key)) {
            (Some(b), Some(t)) => {
                let (b_entry, t_entry) = (entry(0, &b), entry(2, &t));
                (ours_entry == b_entry && t_entry != b_entry).then_some(t_entry)
            }
            _ => None,
        };
        out.extend(replaced.unwrap_or(ours_entry));
    }
    for member in theirs {
        if keys.contains(&member.key) && find(ours, &member.key).is_none() {
            out.extend(entry(2, member));
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    let members = recipients::parse_lenient(&text, "merge")
        .map(|p| p.members)
        .unwrap_or_default();
    (text, members)
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
    let code = merge_into(ctx, &vault, &vault, &versions, err)?;
    if code != 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
    const B: &str = "age1cy0su9fwf3gf9mw868g5yut09p6nytfmmnktexz2ya5uqg9vl9sss4euqm";
    const C: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    fn merge(base: &str, ours: &str, theirs: &str) -> String {
        let texts = [base.to_owned(), ours.to_owned(), theirs.to_owned()];
        let parsed: Vec<Vec<Member>> = texts
            .iter()
            .map(|t| recipients::parse(t, "t").unwrap().members)
            .collect();
        merge_recipients_text(&texts, &parsed).0
    }

    #[test]
    fn a_removal_and_an_addition_both_hold() {
        let base = format!("# team\n\n# alice\n{A}\n# bob\n{B}\n");
        let ours = format!("# team\n\n# alice\n{A}\n");
        let theirs = format!("# team\n\n# alice\n{A}\n# bob\n{B}\n# carol\n{C}\n");
        assert_eq!(
            merge(&base, &ours, &theirs),
            format!("# team\n\n# alice\n{A}\n# carol\n{C}\n")
        );
        // The other way round: the same members.
        let swapped = merge(&base, &theirs, &ours);
        assert_eq!(swapped, format!("# team\n\n# alice\n{A}\n# carol\n{C}\n"));
    }

    #[test]
    fn a_label_changed_on_one_side_is_taken() {
        let base = format!("# alice\n{A}\n# bob\n{B}\n");
        let theirs = format!("# alice (new laptop)\n{A}\n# bob\n{B}\n");
        assert_eq!(merge(&base, &base, &theirs), theirs);
    }
}
