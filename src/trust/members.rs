//! The recipients files as this machine reads them: `.age-recipients` (who the vault is encrypted to) and
//! `.age-recipients.next` (the post-quantum keys registered ahead of `rekey --post-quantum`). Never read
//! through a link committed in the repository, every line a key, a comment or blank.

use std::io::Write;
use std::path::Path;

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
