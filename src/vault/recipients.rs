//! The recipients file (`.age-recipients` beside the vault, the passage convention): one recipient per line,
//! `#` comments naming the people. Every write encrypts to exactly this list.

use std::str::FromStr;

use crate::error::UserError;
use crate::output::printable;

/// The recipients file name, in the vault's directory.
pub const FILE_NAME: &str = ".age-recipients";

/// The file of post-quantum keys registered ahead of a switch (`teamotp rekey --post-quantum`), beside
/// [`FILE_NAME`]. Nothing that reads `.age-recipients` (age -R, passage) encrypts to it early.
pub const NEXT_FILE_NAME: &str = ".age-recipients.next";

/// The comment that ties a key in the next file to the current key it replaces: `# replaces: KEY`.
pub const REPLACES: &str = "replaces:";

/// What kind of recipient a key is, as `teamotp members` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    X25519,
    /// `age1pq1...`: ML-KEM-768 + X25519 (mlkem768x25519).
    Pq,
    SshEd25519,
    SshRsa,
    /// `age1tag1...`: a hardware P-256 key (age-plugin-yubikey, age-plugin-se), classic.
    Tag,
    /// `age1tagpq1...`: a hardware key with ML-KEM-768 + P-256 (mlkem768p256tag), post-quantum.
    TagPq,
    /// `age1NAME1...`: encrypted to by `age-plugin-NAME`.
    Plugin(String),
}

impl Kind {
    /// The key kind of `key` (a key as [`Member::key`] holds it, already validated).
    pub fn of(key: &str) -> Kind {
        if key.starts_with("ssh-ed25519 ") {
            Kind::SshEd25519
        } else if key.starts_with("ssh-") {
            Kind::SshRsa
        } else if key.starts_with("age1pq1") {
            Kind::Pq
        } else if key.starts_with("age1tag1") {
            Kind::Tag
        } else if key.starts_with("age1tagpq1") {
            Kind::TagPq
        } else if age::x25519::Recipient::from_str(key).is_ok() {
            Kind::X25519
        } else {
            let name = key
                .strip_prefix("age1")
                .and_then(|rest| rest.rsplit_once('1'))
                .map_or("?", |(name, _)| name);
            Kind::Plugin(name.to_owned())
        }
    }

    /// One word, for a column: `x25519`, `pq`, `ssh-ed25519`, `ssh-rsa`, `tag`, `tagpq`, `plugin:NAME`.
    pub fn name(&self) -> String {
        match self {
            Kind::X25519 => "x25519".into(),
            Kind::Pq => "pq".into(),
            Kind::SshEd25519 => "ssh-ed25519".into(),
            Kind::SshRsa => "ssh-rsa".into(),
            Kind::Tag => "tag".into(),
            Kind::TagPq => "tagpq".into(),
            Kind::Plugin(name) => format!("plugin:{}", printable(name)),
        }
    }

    /// Post-quantum (carries age's `postquantum` label); None for a plugin, whose label only its plugin
    /// knows (age itself refuses a mix when it encrypts).
    pub fn post_quantum(&self) -> Option<bool> {
        match self {
            Kind::Pq | Kind::TagPq => Some(true),
            Kind::Plugin(_) => None,
            _ => Some(false),
        }
    }
}

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
    pub fn kind(&self) -> Kind {
        Kind::of(&self.key)
    }

    /// `label (key)` or just the key, shortened for messages; the label made printable.
    pub fn describe(&self) -> String {
        let key = short(&self.key);
        match &self.label {
            Some(label) => format!("{} ({key})", printable(label)),
            None => key,
        }
    }

    /// `KEY  # label` for a review: the whole key (see [`shown`]) and the label made printable.
    pub fn entry(&self) -> String {
        match &self.label {
            Some(label) => format!("{}  # {}", shown(&self.key), printable(label)),
            None => shown(&self.key),
        }
    }
}

/// A parsed recipients file: the members, and (only from [`parse_lenient`]) lines skipped with the reason.
#[derive(Debug, Default)]
pub struct Parsed {
    pub members: Vec<Member>,
    pub skipped: Vec<(usize, String)>,
    /// For each member (same index): the key named by a `# replaces: KEY` comment above it (the next
    /// file's link from a post-quantum key to the current key it takes over).
    pub replaces: Vec<Option<String>>,
}

/// What to do about a key type age cannot use.
const UNSUPPORTED_HINT: &str = "remove the line, or replace it with an age1... key or an ssh-ed25519 or \
                                ssh-rsa public key; nothing was written";

/// Parses a recipients file. Blank lines are ignored; a `#` comment names the key on the next line.
/// `authorized_keys` lines (options before the key) and GitHub `.keys` files work. Anything else is an
/// error naming the line, so that nothing in the file goes unchecked: a key type age cannot use (ecdsa,
/// sk-, ssh-dss), a key listed twice, a line that is not a key.
pub fn parse(text: &str, shown: &str) -> Result<Parsed, UserError> {
    parse_lines(text, shown, false)
}

/// Like [`parse`], for a file of keys to pick from (a GitHub `.keys` file given to `init -R`): key types
/// age cannot use and repeated keys are skipped with a reason instead; anything else is still an error.
pub fn parse_lenient(text: &str, shown: &str) -> Result<Parsed, UserError> {
    parse_lines(text, shown, true)
}

fn parse_lines(text: &str, shown: &str, lenient: bool) -> Result<Parsed, UserError> {
    let mut parsed = Parsed::default();
    let mut label: Option<String> = None;
    let mut replaces: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            label = None;
            replaces = None;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(key) = comment.strip_prefix(REPLACES) {
                replaces = Some(key.trim().to_owned());
                continue;
            }
            label = (!comment.is_empty()).then(|| comment.to_owned());
            continue;
        }
        match recipient(trimmed) {
            Ok((key, comment)) => {
                if let Some(first) = parsed.members.iter().find(|m| m.key == key) {
                    if !lenient {
                        return Err(UserError::new(format!(
                            "{shown}:{line}: the key of line {} is listed again",
                            first.line
                        ))
                        .hint("remove one of the two lines"));
                    }
                    parsed
                        .skipped
                        .push((line, "the same key is listed twice".into()));
                } else {
                    parsed.members.push(Member {
                        key,
                        label: label.take().or(comment),
                        line,
                    });
                    parsed.replaces.push(replaces.take());
                }
            }
            Err(Unusable::Unsupported(kind)) if lenient => parsed.skipped.push((
                line,
                format!(
                    "'{}' keys are not supported by age; that key gets no access",
                    printable(&kind)
                ),
            )),
            Err(Unusable::Unsupported(kind)) => {
                return Err(UserError::new(format!(
                    "{shown}:{line}: '{}' keys are not supported by age",
                    printable(&kind)
                ))
                .hint(UNSUPPORTED_HINT));
            }
            Err(Unusable::Invalid(reason)) => {
                return Err(UserError::new(format!("{shown}:{line}: {reason}")).hint(
                    "each line is an age1... key, an ssh-ed25519 or ssh-rsa public key, or a # comment",
                ));
            }
        }
        label = None;
        replaces = None;
    }
    Ok(parsed)
}

enum Unusable {
    /// An SSH key type age has no recipient for.
    Unsupported(String),
    Invalid(String),
}

/// Checks one recipient line and returns the key as age reads it, and an SSH key's own comment. The first
/// word that names a key type decides: options may come before it (`authorized_keys`), a comment after.
fn recipient(line: &str) -> Result<(String, Option<String>), Unusable> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let kind = words.iter().position(|w| {
        *w == "ssh-ed25519"
            || *w == "ssh-rsa"
            || *w == "ssh-dss"
            || w.starts_with("ecdsa-")
            || w.starts_with("sk-")
    });
    if let Some(position) = kind {
        let kind = words[position];
        if kind != "ssh-ed25519" && kind != "ssh-rsa" {
            return Err(Unusable::Unsupported(kind.to_owned()));
        }
        let Some(body) = words.get(position + 1) else {
            return Err(Unusable::Invalid(format!("'{kind}' has no key after it")));
        };
        let key = format!("{kind} {body}");
        age::ssh::Recipient::from_str(&key).map_err(|e| {
            Unusable::Invalid(format!("not a usable SSH public key ({})", ssh_error(&e)))
        })?;
        let comment = words[position + 2..].join(" ");
        return Ok((key, (!comment.is_empty()).then_some(comment)));
    }
    let key = words.first().copied().unwrap_or_default();
    if words.len() == 1 && key.starts_with("age1") {
        let valid = if key.starts_with("age1pq1") {
            super::pq::Recipient::from_str(key).is_ok()
        } else if key.starts_with("age1tag1") {
            age::tag::Recipient::from_str(key).is_ok()
        } else if key.starts_with("age1tagpq1") {
            age::tagpq::Recipient::from_str(key).is_ok()
        } else {
            age::x25519::Recipient::from_str(key).is_ok()
                || age::plugin::Recipient::from_str(key).is_ok()
        };
        if valid {
            return Ok((key.to_owned(), None));
        }
        return Err(Unusable::Invalid(format!(
            "'{}' is not a valid age recipient",
            printable(&short(key))
        )));
    }
    Err(Unusable::Invalid(format!(
        "'{}' is not a recipient",
        printable(&short(line))
    )))
}

/// Why age refused an SSH public key, in words (its error type has no `Display`; its `Debug` text such as
/// `Invalid("invalid SSH recipient")` is not for people).
fn ssh_error(e: &age::ssh::ParseRecipientKeyError) -> String {
    use age::ssh::ParseRecipientKeyError as E;
    match e {
        E::Ignore => "a key type age ignores".to_owned(),
        E::Invalid(why) => (*why).to_owned(),
        E::RsaModulusTooLarge => "the RSA key is larger than age supports".to_owned(),
        E::RsaModulusTooSmall => "the RSA key is shorter than 2048 bits".to_owned(),
        E::Unsupported(kind) => format!("'{}' keys are not supported by age", printable(kind)),
        _ => "not a key age can use".to_owned(),
    }
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
                        UserError::new(format!(
                            "bad SSH recipient on line {}: {}",
                            m.line,
                            ssh_error(&e)
                        ))
                    });
            }
            let bad = |e: &dyn std::fmt::Debug| {
                UserError::new(format!("bad recipient on line {}: {e:?}", m.line))
            };
            match m.kind() {
                Kind::Pq => {
                    return super::pq::Recipient::from_str(&m.key)
                        .map(|r| Box::new(r) as _)
                        .map_err(|e| bad(&e));
                }
                Kind::Tag => {
                    return age::tag::Recipient::from_str(&m.key)
                        .map(|r| Box::new(r) as _)
                        .map_err(|e| bad(&e));
                }
                Kind::TagPq => {
                    return age::tagpq::Recipient::from_str(&m.key)
                        .map(|r| Box::new(r) as _)
                        .map_err(|e| bad(&e));
                }
                _ => {}
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

/// Why a file is never encrypted to post-quantum and classic keys at once.
pub const MIX_REASON: &str = "a post-quantum key carries age's 'postquantum' label: one classic key beside \
it would let whoever records the file today open it with a quantum computer later (harvest now, decrypt \
later), so age refuses the mix";

/// What to do instead of mixing: the migration.
pub const MIGRATION_HINT: &str = "move the team in one step: each member registers a post-quantum key \
(teamotp keygen --pq) with 'teamotp members add --next KEY --replaces THEIR-CURRENT-KEY', then 'teamotp \
rekey --post-quantum' switches when everyone is ready (docs/team-sharing.md)";

/// Refuses a list of recipients that mixes post-quantum and classic keys, naming both sides.
pub fn check_mix(members: &[Member], shown: &str) -> Result<(), UserError> {
    let pq: Vec<&Member> = members
        .iter()
        .filter(|m| m.kind().post_quantum() == Some(true))
        .collect();
    let classic: Vec<&Member> = members
        .iter()
        .filter(|m| m.kind().post_quantum() == Some(false))
        .collect();
    if pq.is_empty() || classic.is_empty() {
        return Ok(());
    }
    let list = |list: &[&Member]| {
        list.iter()
            .map(|m| format!("{} [{}]", m.describe(), m.kind().name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(UserError::new(format!(
        "{shown} would mix post-quantum and classic recipients; nothing was written\n    \
         post-quantum: {}\n    classic: {}",
        list(&pq),
        list(&classic)
    ))
    .hint(MIX_REASON)
    .hint(MIGRATION_HINT))
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

/// Keys longer than this are shown by their ends and a fingerprint in reviews.
const LONG_KEY: usize = 100;

/// A key as a review shows it: whole, or (longer than 100 characters, e.g. a post-quantum key) its first
/// and last 20 characters and the SHA-256 of the whole key, so that no two keys can look the same.
pub fn shown(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= LONG_KEY {
        return key.to_owned();
    }
    let head: String = chars[..20].iter().collect();
    let tail: String = chars[chars.len() - 20..].iter().collect();
    let digest = super::load::hash(key.as_bytes());
    format!(
        "{head}…{tail} SHA-256:{}",
        data_encoding::HEXLOWER.encode(&digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "age145mg5au25vesljhndzr95j6k550cuysmfa8rgcykue72ksh8vpkqvmhqff";
    const BOB: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN";

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
    fn unsupported_ssh_types_duplicates_and_garbage_are_errors_naming_the_line() {
        for (text, message) in [
            (
                format!("{ALICE}\necdsa-sha2-nistp256 AAAAE2VjZHNh carol\n"),
                "r:2: 'ecdsa-sha2-nistp256' keys are not supported by age",
            ),
            (
                "no-pty sk-ssh-ed25519@openssh.com AAAA dave\n".to_owned(),
                "r:1: 'sk-ssh-ed25519@openssh.com' keys are not supported by age",
            ),
            (
                "ssh-dss AAAAB3NzaC1kc3M erin\n".to_owned(),
                "r:1: 'ssh-dss' keys are not supported by age",
            ),
            (
                format!("# one\n{ALICE}\n\n# two\n{ALICE}\n"),
                "r:5: the key of line 2 is listed again",
            ),
        ] {
            let err = parse(&text, "r").unwrap_err();
            assert_eq!(err.message, message, "{text}");
            assert_eq!(err.hints.len(), 1);
        }
        let lenient = parse_lenient(
            &format!("ecdsa-sha2-nistp256 AAAAE2VjZHNh carol\n{ALICE}\n{ALICE}\n"),
            "r",
        )
        .unwrap();
        assert_eq!(lenient.members.len(), 1);
        assert_eq!(lenient.skipped.len(), 2);
        assert_eq!(
            lenient.skipped[1],
            (3, "the same key is listed twice".into())
        );
        assert!(parse_lenient("hello world\n", "r").is_err());
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
    fn the_first_key_type_on_a_line_decides() {
        // An SSH key's comment may name another key type; a leading unsupported key may not hide behind a
        // supported one later on the line.
        let ok = format!("{BOB} has no ecdsa-sha2-nistp256 key\n");
        assert_eq!(parse(&ok, "r").unwrap().members[0].key, BOB);
        let hidden = format!("ecdsa-sha2-nistp256 AAAA {BOB}\n");
        assert!(parse(&hidden, "r").is_err());
    }

    #[test]
    fn reviews_show_keys_whole_up_to_100_characters_and_long_keys_by_ends_and_hash() {
        assert_eq!(shown(ALICE), ALICE);
        let long = format!("age1pq1{}", "q".repeat(1950));
        let shown = shown(&long);
        let hex = data_encoding::HEXLOWER.encode(&crate::vault::load::hash(long.as_bytes()));
        assert_eq!(
            shown,
            format!("age1pq1qqqqqqqqqqqqq…qqqqqqqqqqqqqqqqqqqq SHA-256:{hex}")
        );
        let member = Member {
            key: ALICE.into(),
            label: Some("Al\u{7}ice".into()),
            line: 1,
        };
        assert_eq!(
            member.entry(),
            format!("{ALICE}  # {}", printable("Al\u{7}ice"))
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

    const TAG: &str = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";

    fn pq_key() -> String {
        crate::vault::pq::Identity::generate()
            .to_public()
            .to_string()
    }

    #[test]
    fn kinds_of_every_recipient_type() {
        let pq = pq_key();
        let text = format!(
            "{ALICE}\n{pq}\n{BOB}\n{TAG}\nage1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t\n"
        );
        let parsed = parse(&text, "r").unwrap();
        let kinds: Vec<String> = parsed.members.iter().map(|m| m.kind().name()).collect();
        assert_eq!(
            kinds,
            ["x25519", "pq", "ssh-ed25519", "tag", "plugin:yubikey"]
        );
        assert_eq!(Kind::of("ssh-rsa AAAA").name(), "ssh-rsa");
        assert_eq!(Kind::TagPq.post_quantum(), Some(true));
        assert_eq!(Kind::Tag.post_quantum(), Some(false));
        assert_eq!(Kind::Plugin("x".into()).post_quantum(), None);
        // A damaged PQ key is refused, not taken for a plugin named 'pq'.
        let damaged = format!("{}q", &pq[..pq.len() - 1]);
        assert!(parse(&damaged, "r").is_err());
    }

    #[test]
    fn mixing_post_quantum_and_classic_is_refused_with_why_and_what_to_do() {
        let pq = pq_key();
        let mixed = parse(&format!("# Alice\n{ALICE}\n# Pat\n{pq}\n"), "r").unwrap();
        let err = check_mix(&mixed.members, "this write").unwrap_err();
        assert!(
            err.message
                .starts_with("this write would mix post-quantum and classic recipients")
        );
        assert!(err.message.contains("classic: Alice"), "{}", err.message);
        assert_eq!(err.hints, [MIX_REASON, MIGRATION_HINT]);
        assert!(to_age(&mixed.members).is_ok());
        let pq_only = parse(&format!("{pq}\n"), "r").unwrap();
        assert!(check_mix(&pq_only.members, "w").is_ok());
        let classic = parse(&format!("{ALICE}\n{TAG}\n{BOB}\n"), "r").unwrap();
        assert!(check_mix(&classic.members, "w").is_ok());
    }

    #[test]
    fn replaces_comments_link_a_key_and_are_not_labels() {
        let pq = pq_key();
        let text = format!("# Alice\n# replaces: {ALICE}\n{pq}\n\n{ALICE}\n");
        let parsed = parse(&text, "r").unwrap();
        assert_eq!(parsed.members[0].label.as_deref(), Some("Alice"));
        assert_eq!(parsed.replaces, [Some(ALICE.to_owned()), None]);
    }

    #[test]
    fn render_round_trips() {
        let parsed = parse(&format!("# Alice\n{ALICE}\n"), "r").unwrap();
        let again = parse(&render(&parsed.members), "r").unwrap();
        assert_eq!(again.members[0].key, ALICE);
        assert_eq!(again.members[0].label.as_deref(), Some("Alice"));
    }
}
