//! The vault's merge: three versions of an encrypted vault (git's base, ours and theirs) into one, by
//! account ([`Document::merge`]), encrypted to the three-way merge of the members the versions record
//! ([`membership::merge3`]), and only to keys this machine accepted. What git runs is
//! `commands/merge.rs`; this is the same whether git runs it or `members ack` finishes a stopped merge.

use std::io::Write;
use std::path::Path;

use super::document::Document;
use super::load;
use super::store::{self, Check, Protection, Request};
use super::transaction::{Context, Questions};
use crate::age::decrypt;
use crate::age::identity;
use crate::age::recipients::{self, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::membership::{self, Recorded};
use crate::trust::{members, pin, review};

/// The three versions of a vault being merged, and how to name each in messages.
pub struct Versions {
    pub base: Vec<u8>,
    pub ours: Vec<u8>,
    pub theirs: Vec<u8>,
    pub names: [String; 3],
}

/// What a merge did: how many members the result is encrypted to (0: a passphrase vault), and the
/// accounts changed differently on both sides (ours kept for each).
pub struct Merged {
    pub members: usize,
    pub conflicts: Vec<String>,
}

/// Merges the three versions and writes the result into `target` (git's OURS, or the vault itself when
/// `members ack` finishes a stopped merge), which must still hold `versions.ours`: ours is opened first
/// (its passphrase, if any, asked through `questions`), and its keys open the other two. Warnings go to
/// `err`.
pub fn merge(
    ctx: &Context,
    questions: &mut dyn Questions,
    target: &Path,
    vault_path: &Path,
    versions: &Versions,
    err: &mut dyn Write,
) -> Result<Merged, UserError> {
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
            super::format::parse(bytes).map_err(|e| UserError::new(format!("{name}: {e}")))?;
        Document::from_plaintext(bytes, &parsed).map_err(|e| UserError::new(format!("{name}: {e}")))
    };
    // Ours is opened first, through the usual path: its keys (identities loaded once, or the passphrase
    // asked once) then open the other two versions, so nothing is asked three times.
    let our_plain = load::open(
        &versions.ours,
        our_name.clone(),
        || identity::load(&identity::paths(ctx.identities, ctx.env)),
        || questions.passphrase(our_name),
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
            crate::agent::reopening(our_plain.passphrase.as_ref().map(|p| p.as_str()))
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
        source: super::Source::File(vault_path.to_owned()),
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
    Ok(Merged {
        members: members.len(),
        conflicts,
    })
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
