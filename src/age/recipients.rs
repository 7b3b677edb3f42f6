//! The recipients file (`.age-recipients` beside the vault, the passage convention): one recipient per line,
//! `#` comments naming the people. Every write encrypts to exactly this list.

use std::str::FromStr;

use crate::error::UserError;
use crate::text::printable;

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

    /// `label (key)` or just the key, for messages: the key as [`shown`] (never shortened to ends another
    /// key could share), the label made printable.
    pub fn describe(&self) -> String {
        let key = shown(&self.key);
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
        if raw.is_empty() {
            label = None;
            replaces = None;
            continue;
        }
        if let Some(comment) = raw.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(key) = comment.strip_prefix(REPLACES) {
                replaces = Some(key.trim().to_owned());
                continue;
            }
            label = (!comment.is_empty()).then(|| comment.to_owned());
            continue;
        }
        match recipient(raw) {
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

/// The separators of an `authorized_keys` line (OpenSSH and Go's parser split on these two only).
fn is_separator(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Checks one recipient line and returns the key in its canonical form, and an SSH key's own comment.
/// The first word that names a key type decides: options may come before it (`authorized_keys`), a
/// comment after. Every line the age command refuses is refused (the one exception: `authorized_keys`
/// options, which age skips and teamotp reads), and more: an SSH key whose base64 is not canonical (bytes
/// after the key, wrong padding, stray trailing bits) or whose type word differs from the key it holds,
/// and an age1... key that is not in its one lower-case form. So a key has exactly one spelling, and what
/// a review shows is the key that gets access.
fn recipient(line: &str) -> Result<(String, Option<String>), Unusable> {
    if line.starts_with(char::is_whitespace) {
        return Err(Unusable::Invalid(
            "the line starts with a space (age refuses it): a key or a '#' comment starts at the \
             beginning of the line"
                .to_owned(),
        ));
    }
    let words: Vec<&str> = line.split(is_separator).filter(|w| !w.is_empty()).collect();
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
        let key = ssh_key(kind, body).map_err(Unusable::Invalid)?;
        let comment = words[position + 2..].join(" ");
        return Ok((key, (!comment.is_empty()).then_some(comment)));
    }
    let key = words.first().copied().unwrap_or_default();
    if key.starts_with("age1") {
        if words.len() > 1 || line != key {
            return Err(Unusable::Invalid(format!(
                "'{}' is followed by more text (age refuses the line): an age1... key stands alone \
                 on its line, its name goes in a '#' comment above it",
                printable(&short(key))
            )));
        }
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
        if valid && canonical_bech32(key) {
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

/// True when `key` is exactly how its bytes encode: lower case, and no stray padding bits (which Bech32
/// ignores, so two spellings would open to the same key).
fn canonical_bech32(key: &str) -> bool {
    age_core::primitives::bech32_decode(
        key,
        |_| (),
        |_| Ok(()),
        |hrp, bytes| {
            let bytes: Vec<u8> = bytes.collect();
            Ok(age_core::primitives::bech32_encode(hrp, &bytes))
        },
    )
    .is_ok_and(|again| again == key)
}

/// Splits an SSH wire-format `string` (a 32-bit big-endian length, then the bytes) off `blob`.
fn ssh_string(blob: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = blob.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The decoded binary form of a canonical SSH key `TYPE BASE64`.
fn ssh_blob(key: &str) -> Option<Vec<u8>> {
    let (_, body) = key.split_once(' ')?;
    data_encoding::BASE64.decode(body.as_bytes()).ok()
}

/// Checks an SSH public key (`kind`, then its base64 `body`) strictly and returns it as `KIND BASE64`.
/// age reads only the start of the base64 (bytes glued after an ed25519 key are ignored) and Go's
/// parser accepts stray trailing bits: both would let one key be written many ways, or a key be shown
/// with bytes that are not part of it. Here the base64 must be canonical (padding, trailing bits), the
/// key it holds must be of the type its line names, and nothing may follow the key in it.
fn ssh_key(kind: &str, body: &str) -> Result<String, String> {
    let blob = data_encoding::BASE64.decode(body.as_bytes()).map_err(|e| {
        let why = match e.kind {
            data_encoding::DecodeKind::Length => "its length is not a whole base64 text",
            data_encoding::DecodeKind::Symbol => "it holds a character base64 does not use",
            data_encoding::DecodeKind::Trailing => {
                "its last character has stray bits set (not the canonical form)"
            }
            data_encoding::DecodeKind::Padding => "its '=' padding is wrong",
        };
        format!("the '{kind}' key is not valid base64: {why}")
    })?;
    let damaged = || format!("the '{kind}' key is damaged (its binary form is cut short)");
    let (inner, mut rest) = ssh_string(&blob).ok_or_else(damaged)?;
    if inner != kind.as_bytes() {
        return Err(format!(
            "the line says '{kind}' but the key is a '{}' key",
            printable(&String::from_utf8_lossy(inner))
        ));
    }
    let fields = if kind == "ssh-ed25519" { 1 } else { 2 };
    for _ in 0..fields {
        let (field, after) = ssh_string(rest).ok_or_else(damaged)?;
        if kind == "ssh-ed25519" && field.len() != 32 {
            return Err(format!(
                "an ssh-ed25519 key is 32 bytes, and this one is {}",
                field.len()
            ));
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(format!(
            "{} bytes follow the '{kind}' key inside its base64 (age would ignore them; they are \
             not part of the key)",
            rest.len()
        ));
    }
    let key = format!("{kind} {body}");
    age::ssh::Recipient::from_str(&key)
        .map_err(|e| format!("not a usable SSH public key ({})", ssh_error(&e)))?;
    Ok(key)
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
            age::plugin::RecipientPluginV1::new(
                &name,
                &[plugin],
                &[],
                super::plugin::Paused(crate::tty::TtyCallbacks),
            )
            // age's wait for the plugin is bounded (`crate::age::plugin`).
            .map(|inner| {
                Box::new(super::plugin::Recipient {
                    inner,
                    plugin: name.clone(),
                }) as _
            })
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

/// Text that did not parse as a key, shortened for an error message: `age1abc…xyz`. A parsed key is
/// always shown by [`shown`].
pub fn short(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 24 {
        return key.to_owned();
    }
    let head: String = chars[..16].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

/// Keys longer than this (post-quantum keys, long plugin keys) are shown by their fingerprint.
const LONG_KEY: usize = 100;

/// The SHA-256 fingerprint of a key, as `SHA256:` and the unpadded base64 of the digest. For an SSH key
/// it is taken over the key's binary form, exactly what `ssh-keygen -l` prints for it; for an `age1...`
/// key over its text (`printf %s KEY | openssl dgst -sha256 -binary | base64` gives it, less the `=`).
/// `teamotp members`, the recipients review and `teamotp whoami` show it, so it can be compared out of
/// band.
pub fn fingerprint(key: &str) -> String {
    let digest = match ssh_blob(key).filter(|_| key.starts_with("ssh-")) {
        Some(blob) => crate::age::sha256(&blob),
        None => crate::age::sha256(key.as_bytes()),
    };
    format!("SHA256:{}", data_encoding::BASE64_NOPAD.encode(&digest))
}

/// A key as `members`, a review and every message show it: something its owner could not have chosen to
/// look like another key. X25519, ssh-ed25519 and hardware tag keys whole (the canonical form a parsed key
/// always has); ssh-rsa keys as `ssh-rsa SHA256:...` (the `ssh-keygen -l` fingerprint) and post-quantum
/// and long plugin keys as `age1pq1 SHA256:...` (the prefix, then the [`fingerprint`]). Two different
/// keys are never shown alike: a whole key is itself, and a fingerprint is a SHA-256 of the whole key.
pub fn shown(key: &str) -> String {
    let fingerprinted = match Kind::of(key) {
        Kind::SshRsa | Kind::Pq | Kind::TagPq => true,
        Kind::X25519 | Kind::SshEd25519 | Kind::Tag => false,
        Kind::Plugin(_) => key.chars().count() > LONG_KEY,
    };
    if !fingerprinted {
        return printable(key).into_owned();
    }
    let prefix = match key.split_once(' ') {
        Some((kind, _)) => kind,
        None => key.get(..=key.rfind('1').unwrap_or(0)).unwrap_or(key),
    };
    format!("{} {}", printable(prefix), fingerprint(key))
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

    /// An ed25519 and a 2048-bit RSA key made with `ssh-keygen`, and what `ssh-keygen -l` prints for them.
    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDNwW0TczxsEzRxwnUhCsTLZaVPJ8mLDDOGz2rngMHay";
    const ED_FINGERPRINT: &str = "SHA256:qmfIKj0KZML4wSjuSY1xhjfThVPy4PwEHriUzOP2UNc";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCRwLsSHX9s0IsRRnY798apwbC80kV9V43wG0pniLVWlggOps2Butm6OOZUas6cGk4Qieq7EaBRO17ot8L3TsSjLXn7g/Jkj667atPKtBsEsSlznnQt5w/IIpyPIZfeOiy/X0t2OJlvxBaYRqXuGZj4teNkIDJIQQ4ysjrLlQ5rkN/gs6cbi1uiHHRncW+ONJmTrNK+Zfs8HeZLW9FMTHH+7q2ApcrVMpIV+GCCJiuuiUNKqsskv8SGMnzmmvq7/W3rUI8nHHwUTuEGwDx8TYZ1o38oi8ymgnbrqsEOmwitxuwGZZ/mpyYwgjhAvY/UiT69TdqgkQpAYjKBRA7UcR2n";
    const RSA_FINGERPRINT: &str = "SHA256:bN5su8zINeIbKBmjuS84u/KM3okDCBTLU8yRnq2ZSrM";

    #[test]
    fn fingerprints_are_what_ssh_keygen_prints() {
        assert_eq!(fingerprint(ED), ED_FINGERPRINT);
        assert_eq!(fingerprint(RSA), RSA_FINGERPRINT);
        assert_eq!(
            parse(&format!("{RSA} rsa\n"), "r").unwrap().members[0].key,
            RSA
        );
    }

    #[test]
    fn reviews_show_short_keys_whole_and_rsa_and_post_quantum_keys_by_fingerprint() {
        assert_eq!(shown(ALICE), ALICE);
        assert_eq!(shown(ED), ED);
        assert_eq!(shown(TAG), TAG);
        assert_eq!(shown(RSA), format!("ssh-rsa {RSA_FINGERPRINT}"));
        let pq = pq_key();
        let digest = crate::age::sha256(pq.as_bytes());
        assert_eq!(
            shown(&pq),
            format!(
                "age1pq1 SHA256:{}",
                data_encoding::BASE64_NOPAD.encode(&digest)
            )
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
        assert_eq!(
            member.describe(),
            format!("{} ({ALICE})", printable("Al\u{7}ice"))
        );
    }

    /// Regression (issue 20, finding 2): age ignores bytes glued after an ed25519 key's base64, so a line
    /// holding the attacker's key plus the ending of a colleague's key was accepted, and shown by its ends.
    /// Each line here is one the Go `age` CLI 1.1.1 refuses (checked with `age -R`), or one it accepts but
    /// that spells a key a second way (stray trailing bits, a type word that is not the key's type).
    #[test]
    fn non_canonical_keys_are_refused_naming_the_line() {
        let body = ED.split_once(' ').unwrap().1;
        // The key with one byte glued on, its base64 padded, and bits set after that byte's last bit.
        let mut glued = data_encoding::BASE64.decode(body.as_bytes()).unwrap();
        glued.push(0);
        let glued = data_encoding::BASE64.encode(&glued);
        assert!(glued.ends_with("AA=="));
        let stray = format!("{}AB==", &glued[..glued.len() - 4]);
        for (line, reason) in [
            (
                format!("ssh-ed25519 {body}AAAA"),
                "3 bytes follow the 'ssh-ed25519' key",
            ),
            (
                format!("ssh-ed25519 {body}xyz"),
                "its length is not a whole base64 text",
            ),
            (
                format!("ssh-ed25519 {}", &body[..body.len() - 1]),
                "its length",
            ),
            (format!("ssh-ed25519 {body}="), "its length"),
            (format!("ssh-ed25519 {stray}"), "stray bits"),
            (format!("ssh-ed25519 {glued}"), "1 bytes follow"),
            (
                format!("ssh-ed25519 {}", glued.trim_end_matches('=')),
                "its length",
            ),
            (
                format!("ssh-rsa {body}"),
                "the line says 'ssh-rsa' but the key is a 'ssh-ed25519' key",
            ),
            (
                format!("ssh-ed25519 {}", RSA.split_once(' ').unwrap().1),
                "the line says",
            ),
            (format!("{RSA}AAAA"), "bytes follow the 'ssh-rsa' key"),
            (format!("  {ED}"), "starts with a space"),
            (format!(" {ALICE}"), "starts with a space"),
            ("   ".to_owned(), "starts with a space"),
            ("  # Bob".to_owned(), "starts with a space"),
            (format!("{ALICE} "), "is followed by more text"),
            (format!("{ALICE} # Alice"), "is followed by more text"),
            (ALICE.to_uppercase(), "is not a recipient"),
            (format!("{ALICE}x"), "is not a valid age recipient"),
            (format!("ssh-ed25519\u{a0}{body}"), "is not a recipient"),
        ] {
            let text = format!("# Alice\n{ALICE}\n{line}\n");
            let err = parse(&text, "r").unwrap_err();
            assert!(err.message.starts_with("r:3: "), "{line}: {}", err.message);
            assert!(err.message.contains(reason), "{line}: {}", err.message);
            assert!(parse_lenient(&text, "r").is_err(), "{line}");
        }
        // An ed25519 key of the wrong length inside a well-formed blob.
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 31]);
        blob.extend_from_slice(&[7; 31]);
        let line = format!("ssh-ed25519 {}", data_encoding::BASE64.encode(&blob));
        let err = parse(&line, "r").unwrap_err();
        assert_eq!(
            err.message,
            "r:1: an ssh-ed25519 key is 32 bytes, and this one is 31"
        );
        // What age accepts stays accepted: two spaces or a tab, comments, trailing spaces after an SSH key,
        // CRLF line ends.
        for line in [
            format!("ssh-ed25519  {body}"),
            format!("ssh-ed25519\t{body}\tme"),
            format!("{ED} comment with spaces "),
            format!("no-pty {ED} with options"),
        ] {
            assert_eq!(parse(&line, "r").unwrap().members[0].key, ED, "{line}");
        }
        assert_eq!(
            parse(&format!("{ALICE}\r\n# c\r\n{ED}\r\n"), "r")
                .unwrap()
                .members
                .len(),
            2
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
        crate::age::pq::Identity::generate().to_public().to_string()
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
