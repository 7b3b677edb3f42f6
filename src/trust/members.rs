//! The recipients files as this machine reads them: `.age-recipients` (who the vault is encrypted to) and
//! `.age-recipients.next` (the post-quantum keys registered ahead of `rekey --post-quantum`). Never read
//! through a link committed in the repository, every line a key, a comment or blank; and the merge of
//! three versions of one by key (what `teamotp merge-recipients` writes).

use std::io::Write;
use std::path::Path;

use super::membership;
use crate::age::recipients::{self, Member};
use crate::error::UserError;

/// The next file (post-quantum keys registered ahead of `rekey --post-quantum`): its members, the key each
/// replaces (a `# replaces: KEY` comment), its exact text.
pub struct Next {
    pub members: Vec<Member>,
    pub replaces: Vec<Option<String>>,
    pub text: String,
}

impl Next {
    /// The entry that takes over `member`'s access at the switch: the same key carried over, or the key
    /// whose `# replaces:` names it.
    pub fn successor(&self, member: &Member) -> Option<&Member> {
        self.members.iter().zip(&self.replaces).find_map(|(m, r)| {
            (m.key == member.key || r.as_deref() == Some(member.key.as_str())).then_some(m)
        })
    }
}

/// Reads the next file; None when there is none. Every key in it must be post-quantum.
pub fn read_next(path: &Path) -> Result<Option<Next>, UserError> {
    let shown = path.display().to_string();
    crate::files::refuse_committed_links(path)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?;
    let text = match crate::files::read_to_string(path) {
        Ok(text) => text.to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UserError::new(format!("cannot read '{shown}': {e}"))),
    };
    let parsed = recipients::parse(&text, &shown)?;
    if let Some(classic) = parsed
        .members
        .iter()
        .find(|m| m.kind().post_quantum() == Some(false))
    {
        return Err(UserError::new(format!(
            "{shown}:{}: {} is a classic ({}) key; the next file holds only post-quantum keys",
            classic.line,
            classic.describe(),
            classic.kind().name()
        ))
        .hint("remove the line; a post-quantum key is age1pq1... (teamotp keygen --pq) or age1tagpq1..."));
    }
    Ok(Some(Next {
        members: parsed.members,
        replaces: parsed.replaces,
        text,
    }))
}

/// The recipients file's members (at least one; every line a key, a comment or blank) and its exact text.
pub fn read_members(path: &Path, err: &mut dyn Write) -> Result<(Vec<Member>, String), UserError> {
    read_recipients(
        path,
        "add one with 'teamotp members add RECIPIENT'",
        false,
        err,
    )
    .map_err(|e| {
        if e.message.starts_with("cannot read") {
            e.hint(
                "the vault is encrypted to the keys in .age-recipients beside it; \
                 --recipients-file PATH names another file",
            )
        } else {
            e
        }
    })
}

/// Reads a file of recipients: its members (at least one) and its text. Only `lenient` (a file of keys to
/// pick from) skips, with a warning, the keys age cannot use.
pub fn read_recipients(
    path: &Path,
    empty_hint: &str,
    lenient: bool,
    err: &mut dyn Write,
) -> Result<(Vec<Member>, String), UserError> {
    let shown = path.display().to_string();
    // The recipients are what every secret is encrypted to and what a review shows: never read through
    // a link committed in the repository (it could point at ~/.ssh/authorized_keys).
    crate::files::refuse_committed_links(path)
        .map_err(|e| UserError::new(format!("cannot read the recipients file '{shown}': {e}")))?;
    let text = crate::files::read_to_string(path)
        .map_err(|e| UserError::new(format!("cannot read the recipients file '{shown}': {e}")))?
        .to_string();
    let parsed = if lenient {
        recipients::parse_lenient(&text, &shown)?
    } else {
        recipients::parse(&text, &shown)?
    };
    for (line, reason) in &parsed.skipped {
        let _ = writeln!(err, "teamotp: warning: {shown}:{line}: {reason}");
    }
    if parsed.members.is_empty() {
        return Err(
            UserError::new(format!("the recipients file '{shown}' lists no recipient"))
                .hint(empty_hint),
        );
    }
    Ok((parsed.members, text))
}

/// The keys of `members`, in their order.
pub fn keys_of(members: &[Member]) -> Vec<String> {
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

/// The merge of three versions of a recipients file (base, ours, theirs) by key, with the membership rule
/// ([`membership::merge3`]): the merged text and its members. Ours with the removed entries left out,
/// entries whose label changed on their side only replaced by theirs, and entries only their side added
/// appended in their order; an entry is its key's line and the comment lines right above it.
pub fn merge_text(texts: &[String; 3], parsed: &[Vec<Member>]) -> (String, Vec<Member>) {
    let [base, ours, theirs] = [&parsed[0], &parsed[1], &parsed[2]];
    let keys = membership::merge3(&keys_of(base), &keys_of(ours), &keys_of(theirs));
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
        merge_text(&texts, &parsed).0
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
