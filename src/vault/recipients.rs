//! The recipients file (`.age-recipients` beside the vault, the passage convention): one recipient per line,
//! `#` comments naming the people. Every write encrypts to exactly this list.

use std::str::FromStr;

use crate::error::UserError;

/// The recipients file name, in the vault's directory.
pub const FILE_NAME: &str = ".age-recipients";

/// One recipient and the person it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The recipient as age reads it: `age1...`, `ssh-ed25519 AAAA...`, `ssh-rsa AAAA...` (no comment).
    pub key: String,
    /// Who it is: the `#` comment above the key, else an SSH key's own comment.
    pub label: Option<String>,
    /// 1-based line of the key.
    pub line: usize,
}

impl Member {
    /// `label (key)` or just the key, shortened for messages.
    pub fn describe(&self) -> String {
        let key = short(&self.key);
        match &self.label {
            Some(label) => format!("{label} ({key})"),
            None => key,
        }
    }
}

/// A parsed recipients file: the members, and lines skipped with the reason (keys age cannot use).
#[derive(Debug, Default)]
pub struct Parsed {
    pub members: Vec<Member>,
    pub skipped: Vec<(usize, String)>,
}

/// Parses a recipients file. Blank lines are ignored; a `#` comment names the key on the next line.
/// `authorized_keys` lines (options before the key) and GitHub `.keys` files work; SSH key types age does
/// not support (ecdsa, sk-) are skipped with a note. Anything else is an error naming the line.
pub fn parse(text: &str, shown: &str) -> Result<Parsed, UserError> {
    let mut parsed = Parsed::default();
    let mut label: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            label = None;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            label = (!comment.is_empty()).then(|| comment.to_owned());
            continue;
        }
        match recipient(trimmed) {
            Ok((key, comment)) => {
                if parsed.members.iter().any(|m| m.key == key) {
                    parsed
                        .skipped
                        .push((line, "the same key is listed twice".into()));
                } else {
                    parsed.members.push(Member {
                        key,
                        label: label.take().or(comment),
                        line,
                    });
                }
            }
            Err(Unusable::Skip(reason)) => parsed.skipped.push((line, reason)),
            Err(Unusable::Invalid(reason)) => {
                return Err(UserError::new(format!("{shown}:{line}: {reason}")).hint(
                    "each line is an age1... key, an ssh-ed25519 or ssh-rsa public key, or a # comment",
                ));
            }
        }
        label = None;
    }
    Ok(parsed)
}

enum Unusable {
    Skip(String),
    Invalid(String),
}

/// Checks one recipient line and returns the key as age reads it, and an SSH key's own comment.
fn recipient(line: &str) -> Result<(String, Option<String>), Unusable> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if let Some(position) = words
        .iter()
        .position(|w| *w == "ssh-ed25519" || *w == "ssh-rsa")
    {
        let Some(body) = words.get(position + 1) else {
            return Err(Unusable::Invalid(format!(
                "'{}' has no key after it",
                words[position]
            )));
        };
        let key = format!("{} {body}", words[position]);
        age::ssh::Recipient::from_str(&key)
            .map_err(|e| Unusable::Invalid(format!("not a usable SSH public key ({e:?})")))?;
        let comment = words[position + 2..].join(" ");
        return Ok((key, (!comment.is_empty()).then_some(comment)));
    }
    if let Some(other) = words
        .iter()
        .find(|w| w.starts_with("ecdsa-") || w.starts_with("sk-") || **w == "ssh-dss")
    {
        return Err(Unusable::Skip(format!(
            "'{other}' keys are not supported by age; that key gets no access"
        )));
    }
    let key = words.first().copied().unwrap_or_default();
    if words.len() == 1 && key.starts_with("age1") {
        if age::x25519::Recipient::from_str(key).is_ok() {
            return Ok((key.to_owned(), None));
        }
        if age::plugin::Recipient::from_str(key).is_ok() {
            return Ok((key.to_owned(), None));
        }
        return Err(Unusable::Invalid(format!(
            "'{}' is not a valid age recipient",
            short(key)
        )));
    }
    Err(Unusable::Invalid(format!(
        "'{}' is not a recipient",
        short(line)
    )))
}

/// Builds age recipients from members (all were validated when parsed).
pub fn to_age(members: &[Member]) -> Result<Vec<Box<dyn age::Recipient + Send>>, UserError> {
    members
        .iter()
        .map(|m| -> Result<Box<dyn age::Recipient + Send>, UserError> {
            if m.key.starts_with("ssh-") {
                return age::ssh::Recipient::from_str(&m.key)
                    .map(|r| Box::new(r) as _)
                    .map_err(|e| {
                        UserError::new(format!("bad SSH recipient on line {}: {e:?}", m.line))
                    });
            }
            if let Ok(r) = age::x25519::Recipient::from_str(&m.key) {
                return Ok(Box::new(r));
            }
            let plugin = age::plugin::Recipient::from_str(&m.key)
                .map_err(|e| UserError::new(format!("bad recipient on line {}: {e}", m.line)))?;
            let name = plugin.plugin().to_owned();
            age::plugin::RecipientPluginV1::new(&name, &[plugin], &[], crate::tty::TtyCallbacks)
                .map(|r| Box::new(r) as _)
                .map_err(|e| {
                    UserError::new(format!(
                        "cannot use the plugin recipient on line {}: {e}",
                        m.line
                    ))
                    .hint(format!("install age-plugin-{name} on PATH"))
                })
        })
        .collect()
}

/// A new recipients file with these members, each under its `# label` comment.
pub fn render(members: &[Member]) -> String {
    let mut out = String::from(
        "# teamotp recipients: every write encrypts the vault to exactly these keys.\n\n",
    );
    for member in members {
        out.push_str(&entry(member));
    }
    out
}

/// The file's text with `member` appended (the rest of the file is kept as written).
pub fn with_member(text: &str, member: &Member) -> String {
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&entry(member));
    out
}

/// The file's text without `member`'s line, and without the comment line naming it just above.
pub fn without_member(text: &str, member: &Member) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let key_index = member.line - 1;
    let label_index = key_index
        .checked_sub(1)
        .filter(|i| lines[*i].trim_start().starts_with('#') && member.label.is_some());
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == key_index || Some(i) == label_index {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn entry(member: &Member) -> String {
    match &member.label {
        Some(label) => format!("# {label}\n{}\n", member.key),
        None => format!("{}\n", member.key),
    }
}

/// A key shortened for messages: `age1abc…xyz`, `ssh-ed25519 AAAA…wxyz`.
pub fn short(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 24 {
        return key.to_owned();
    }
    let head: String = chars[..16].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "age145mg5au25vesljhndzr95j6k550cuysmfa8rgcykue72ksh8vpkqvmhqff";

    #[test]
    fn comments_name_the_next_key_and_ssh_comments_are_a_fallback() {
        let text = format!(
            "# Alice\n{ALICE}\n\nno-pty,from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN bob@laptop\n"
        );
        let parsed = parse(&text, "r").unwrap();
        assert_eq!(parsed.members.len(), 2);
        assert_eq!(parsed.members[0].label.as_deref(), Some("Alice"));
        assert_eq!(parsed.members[0].line, 2);
        assert_eq!(
            parsed.members[1].key,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
        );
        assert_eq!(parsed.members[1].label.as_deref(), Some("bob@laptop"));
        assert_eq!(to_age(&parsed.members).unwrap().len(), 2);
    }

    #[test]
    fn unsupported_ssh_types_are_skipped_and_garbage_is_an_error() {
        let text = format!("ecdsa-sha2-nistp256 AAAAE2VjZHNh carol\n{ALICE}\n{ALICE}\n");
        let parsed = parse(&text, "r").unwrap();
        assert_eq!(parsed.members.len(), 1);
        assert_eq!(parsed.skipped.len(), 2);
        assert_eq!(
            parsed.skipped[1],
            (3, "the same key is listed twice".into())
        );
        let err = parse("hello world\n", ".age-recipients").unwrap_err();
        assert_eq!(
            err.message,
            ".age-recipients:1: 'hello world' is not a recipient"
        );
        let err = parse("age1notakey\n", "r").unwrap_err();
        assert_eq!(
            err.message,
            "r:1: 'age1notakey' is not a valid age recipient"
        );
    }

    #[test]
    fn adding_and_removing_keeps_the_rest_of_the_file() {
        let text = format!("# team\n\n# Alice\n{ALICE}\n");
        let bob = Member {
            key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN"
                .into(),
            label: Some("Bob".into()),
            line: 0,
        };
        let added = with_member(&text, &bob);
        assert_eq!(
            added,
            format!("# team\n\n# Alice\n{ALICE}\n# Bob\n{}\n", bob.key)
        );
        let parsed = parse(&added, "r").unwrap();
        let removed = without_member(&added, &parsed.members[0]);
        assert_eq!(removed, format!("# team\n\n# Bob\n{}\n", bob.key));
    }

    #[test]
    fn render_round_trips() {
        let parsed = parse(&format!("# Alice\n{ALICE}\n"), "r").unwrap();
        let again = parse(&render(&parsed.members), "r").unwrap();
        assert_eq!(again.members[0].key, ALICE);
        assert_eq!(again.members[0].label.as_deref(), Some("Alice"));
    }
}
