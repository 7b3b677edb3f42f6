//! The recipients a version of the vault was encrypted to, recorded in the version itself, and the one
//! three-way rule for membership that both merge drivers apply.
//!
//! Every version teamotp encrypts to recipients carries one extra stanza in its age header:
//!
//! ```text
//! -> teamotp-recipients v1 COUNT SHA256
//! BASE64(KEY1 LF KEY2 LF ... KEYn LF)
//! ```
//!
//! the sorted, distinct keys (as `.age-recipients` holds them, without labels) and the SHA-256 of that
//! text, so that a label change is never a mismatch. It is readable without decrypting, and it is
//! covered by the header's MAC like every stanza: changing it breaks the file. age implementations skip
//! a stanza type they do not know (the format requires it: grease stanzas rely on it), so the Go `age`
//! CLI, typage and rage read these files as before. The stanza carries the same labels as the others
//! (age refuses a mix of label sets such as `postquantum` with none). Passphrase vaults carry no record:
//! age requires the scrypt stanza to be alone.
//!
//! The record says what the writer meant; the header's other stanzas say what it did. What can be
//! checked without a key is checked ([`Record::stanzas_agree`]): as many X25519, mlkem768x25519, tag and
//! SSH stanzas as the record has keys of those kinds, and each SSH stanza's key tag matching a recorded
//! SSH key. An X25519 stanza does not say whose it is (age's design), so a writer who swapped one
//! recorded X25519 key for another of the same count is not caught here: a writer is a member, who can
//! read every secret anyway.

use std::collections::{BTreeSet, HashSet};

use age_core::format::{FileKey, Stanza};
use data_encoding::{BASE64_NOPAD, HEXLOWER};

use crate::age::header;
use crate::age::recipients::{Kind, Member};

/// The stanza type of the record.
pub const STANZA: &str = "teamotp-recipients";
const VERSION: &str = "v1";

/// The recorded recipients of one version: sorted, distinct keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub keys: Vec<String>,
}

/// What a version's header says about its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A record, well formed and agreeing with the header's other stanzas.
    Keys(Record),
    /// No record: written by another tool (plain `age`), or by teamotp before records existed.
    None,
    /// A passphrase (scrypt) vault: it never has recipients.
    Passphrase,
    /// A record that is malformed, appears twice, or disagrees with the header's stanzas.
    Broken(&'static str),
    /// Not a v1 age file (or not one whose header can be read).
    NotAge,
}

impl Record {
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Record {
        let set: BTreeSet<&str> = keys.into_iter().collect();
        Record {
            keys: set.into_iter().map(str::to_owned).collect(),
        }
    }

    pub fn of(members: &[Member]) -> Record {
        Record::new(members.iter().map(|m| m.key.as_str()))
    }

    /// The recorded text: each key followed by a line feed.
    fn text(&self) -> String {
        self.keys.iter().map(|k| format!("{k}\n")).collect()
    }

    /// SHA-256 of the recorded keys, in hex (what `check` and messages show).
    pub fn digest(&self) -> String {
        HEXLOWER.encode(&crate::age::sha256(self.text().as_bytes()))
    }

    /// The stanza that carries the record.
    pub fn stanza(&self) -> Stanza {
        let text = self.text();
        Stanza {
            tag: STANZA.to_owned(),
            args: vec![
                VERSION.to_owned(),
                self.keys.len().to_string(),
                BASE64_NOPAD.encode(&crate::age::sha256(text.as_bytes())),
            ],
            body: text.into_bytes(),
        }
    }

    /// Reads the record from its stanza's arguments and body.
    fn from_stanza(args: &[String], body: &[u8]) -> Result<Record, &'static str> {
        let [version, count, digest] = args else {
            return Err("its record of recipients is malformed");
        };
        if version != VERSION {
            return Err("its record of recipients has a version this teamotp does not know");
        }
        let text = std::str::from_utf8(body).map_err(|_| "its record of recipients is not text")?;
        let keys: Vec<&str> = text.lines().collect();
        let record = Record::new(keys.iter().copied());
        let canonical =
            record.text() == text && !keys.iter().any(|k| k.trim() != *k || k.is_empty());
        if !canonical
            || count.parse::<usize>().ok() != Some(record.keys.len())
            || BASE64_NOPAD.decode(digest.as_bytes()).ok().as_deref()
                != Some(&crate::age::sha256(body)[..])
        {
            return Err("its record of recipients is malformed");
        }
        Ok(record)
    }

    /// The header's other stanzas agree with the record, as far as a header shows without a key.
    fn stanzas_agree(&self, stanzas: &[header::RawStanza]) -> bool {
        let kinds: Vec<Kind> = self.keys.iter().map(|k| Kind::of(k)).collect();
        if kinds.iter().any(|k| matches!(k, Kind::Plugin(_))) {
            // A plugin's stanzas are its own: nothing to count.
            return true;
        }
        let count_keys = |pred: &dyn Fn(&Kind) -> bool| kinds.iter().filter(|k| pred(k)).count();
        let count_stanzas = |tag: &str| stanzas.iter().filter(|s| s.tag == tag).count();
        let counts = [
            (count_keys(&|k| *k == Kind::X25519), "X25519"),
            (count_keys(&|k| *k == Kind::Pq), crate::age::pq::STANZA_TAG),
            (count_keys(&|k| *k == Kind::Tag), "p256tag"),
            (count_keys(&|k| *k == Kind::TagPq), "mlkem768p256tag"),
            (
                count_keys(&|k| matches!(k, Kind::SshEd25519 | Kind::SshRsa)),
                "ssh-ed25519",
            ),
        ];
        let ssh_stanzas = count_stanzas("ssh-ed25519") + count_stanzas("ssh-rsa");
        for (keys, tag) in counts {
            let found = if tag == "ssh-ed25519" {
                ssh_stanzas
            } else {
                count_stanzas(tag)
            };
            if keys != found {
                return false;
            }
        }
        // Each SSH stanza names its key by a tag: the first 4 bytes of SHA-256 of the key's wire form.
        let tags: HashSet<String> = self.keys.iter().filter_map(|k| ssh_tag(k)).collect();
        stanzas
            .iter()
            .filter(|s| s.tag == "ssh-ed25519" || s.tag == "ssh-rsa")
            .all(|s| s.args.first().is_some_and(|t| tags.contains(t)))
    }
}

/// age's tag for an SSH key (`ssh-ed25519 AAAA...`): base64 of the first 4 bytes of SHA-256 of its wire
/// bytes.
fn ssh_tag(key: &str) -> Option<String> {
    let mut words = key.split_whitespace();
    let kind = words.next()?;
    if !kind.starts_with("ssh-") {
        return None;
    }
    let wire = data_encoding::BASE64
        .decode(words.next()?.as_bytes())
        .ok()?;
    Some(BASE64_NOPAD.encode(&crate::age::sha256(&wire)[..4]))
}

/// What the header of `file` (binary or armoured) records about its recipients.
pub fn recorded(file: &[u8]) -> Recorded {
    let Some(stanzas) = header::stanzas(file) else {
        return Recorded::NotAge;
    };
    if stanzas.iter().any(|s| s.tag == "scrypt") {
        return Recorded::Passphrase;
    }
    let mut records = stanzas.iter().filter(|s| s.tag == STANZA);
    let Some(stanza) = records.next() else {
        return Recorded::None;
    };
    if records.next().is_some() {
        return Recorded::Broken("it has two records of recipients");
    }
    match Record::from_stanza(&stanza.args, &stanza.body) {
        Ok(record) if record.stanzas_agree(&stanzas) => Recorded::Keys(record),
        Ok(_) => Recorded::Broken("its record of recipients disagrees with the header's stanzas"),
        Err(why) => Recorded::Broken(why),
    }
}

/// How a version's recorded recipients differ from a recipients file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// In the recipients file, not recorded: they cannot open this version.
    pub locked_out: Vec<String>,
    /// Recorded, not in the recipients file: they can open this version although they are not members.
    pub extra: Vec<String>,
}

/// Compares a version's record with the members of the recipients file; None when they agree.
pub fn compare(record: &Record, members: &[Member]) -> Option<Mismatch> {
    let file = Record::of(members);
    if file == *record {
        return None;
    }
    let locked_out = file
        .keys
        .iter()
        .filter(|k| !record.keys.contains(k))
        .cloned()
        .collect();
    let extra = record
        .keys
        .iter()
        .filter(|k| !file.keys.contains(k))
        .cloned()
        .collect();
    Some(Mismatch { locked_out, extra })
}

/// The one three-way rule for membership: a key added on either side is in, a key removed on either
/// side is out, everything else as it was. The result is sorted.
pub fn merge3(base: &[String], ours: &[String], theirs: &[String]) -> Vec<String> {
    let has = |list: &[String], key: &String| list.contains(key);
    let mut all: BTreeSet<&String> = BTreeSet::new();
    all.extend(base);
    all.extend(ours);
    all.extend(theirs);
    all.into_iter()
        .filter(|key| {
            let (b, o, t) = (has(base, key), has(ours, key), has(theirs, key));
            if b { o && t } else { o || t }
        })
        .cloned()
        .collect()
}

/// An age recipient that wraps the file key for all the members and adds the record: the file is
/// encrypted to exactly the recorded keys, with the record covered by the header's MAC.
pub struct Recording<'a> {
    pub inner: Vec<&'a dyn age::Recipient>,
    pub record: Record,
}

impl age::Recipient for Recording<'_> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let mut labels: Option<HashSet<String>> = None;
        let mut stanzas = Vec::new();
        for recipient in &self.inner {
            let (mut wrapped, these) = recipient.wrap_file_key(file_key)?;
            match &labels {
                Some(first) if *first != these => {
                    return Err(age::EncryptError::IncompatibleRecipients {
                        l_labels: first.clone(),
                        r_labels: these,
                    });
                }
                Some(_) => {}
                None => labels = Some(these),
            }
            stanzas.append(&mut wrapped);
        }
        stanzas.push(self.record.stanza());
        Ok((stanzas, labels.unwrap_or_default()))
    }
}

/// The keys of `members` that a merge or a record names, described for a message: the label from the
/// recipients file where it has one.
pub fn describe_keys(keys: &[String], known: &[Member]) -> String {
    keys.iter()
        .map(|key| match known.iter().find(|m| &m.key == key) {
            Some(member) => member.describe(),
            None => crate::age::recipients::shown(key),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Members for keys (labels from `known` where it has them), in the order of `keys`.
pub fn members_of(keys: &[String], known: &[Member]) -> Vec<Member> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| Member {
            key: key.clone(),
            label: known
                .iter()
                .find(|m| &m.key == key)
                .and_then(|m| m.label.clone()),
            line: i + 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn merge3_keeps_additions_and_removals_of_either_side() {
        let base = keys(&["a", "b", "c"]);
        // One side removed c, the other added d: both hold.
        assert_eq!(
            merge3(&base, &keys(&["a", "b"]), &keys(&["a", "b", "c", "d"])),
            keys(&["a", "b", "d"])
        );
        // Removed on theirs, untouched on ours: out.
        assert_eq!(merge3(&base, &base, &keys(&["a", "b"])), keys(&["a", "b"]));
        // Added on ours only: in.
        assert_eq!(
            merge3(&base, &keys(&["a", "b", "c", "e"]), &base),
            keys(&["a", "b", "c", "e"])
        );
        // Added on both: once.
        assert_eq!(
            merge3(&[], &keys(&["x"]), &keys(&["x", "y"])),
            keys(&["x", "y"])
        );
    }

    fn encrypt(members: &[age::x25519::Recipient], record: Record) -> Vec<u8> {
        let inner: Vec<&dyn age::Recipient> =
            members.iter().map(|r| r as &dyn age::Recipient).collect();
        let recording = Recording { inner, record };
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recording as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(b"name,secret\n").unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn a_record_is_read_back_and_the_file_still_opens() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let publics = [a.to_public(), b.to_public()];
        let record = Record::new(
            publics
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let file = encrypt(&publics, record.clone());
        assert_eq!(recorded(&file), Recorded::Keys(record.clone()));
        let decryptor = age::Decryptor::new(&file[..]).unwrap();
        let mut reader = decryptor
            .decrypt(std::iter::once(&b as &dyn age::Identity))
            .unwrap();
        let mut plain = String::new();
        std::io::Read::read_to_string(&mut reader, &mut plain).unwrap();
        assert_eq!(plain, "name,secret\n");
        assert_eq!(record.digest().len(), 64);
    }

    #[test]
    fn a_record_that_claims_fewer_keys_than_stanzas_is_broken() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let publics = [a.to_public(), b.to_public()];
        let only_a = a.to_public().to_string();
        let file = encrypt(&publics, Record::new([only_a.as_str()]));
        assert!(matches!(recorded(&file), Recorded::Broken(_)));
    }

    #[test]
    fn a_file_without_a_record_says_so() {
        let a = age::x25519::Identity::generate();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&a.to_public() as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(b"x").unwrap();
        writer.finish().unwrap();
        assert_eq!(recorded(&out), Recorded::None);
        assert_eq!(recorded(b"name,secret\n"), Recorded::NotAge);
    }

    #[test]
    fn compare_names_both_directions() {
        let member = |key: &str| Member {
            key: key.to_owned(),
            label: Some("x".into()),
            line: 1,
        };
        let record = Record::new(["a", "b"]);
        assert_eq!(compare(&record, &[member("b"), member("a")]), None);
        assert_eq!(
            compare(&record, &[member("a"), member("c")]),
            Some(Mismatch {
                locked_out: keys(&["c"]),
                extra: keys(&["b"]),
            })
        );
    }

    #[test]
    fn ssh_tag_is_the_tag_age_writes() {
        use std::str::FromStr;
        // The stanza the age crate writes for this key names it by the tag `stanzas_agree` checks.
        let key = include_str!("../../tests/fixtures/age/id_ed25519.pub");
        let key: String = key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let recipient = age::ssh::Recipient::from_str(&key).unwrap();
        let file_key = age_core::format::FileKey::new(Box::new([7; 16]));
        let (stanzas, _) = age::Recipient::wrap_file_key(&recipient, &file_key).unwrap();
        assert_eq!(stanzas[0].tag, "ssh-ed25519");
        assert_eq!(Some(stanzas[0].args[0].clone()), ssh_tag(&key));
        assert_eq!(ssh_tag("age1xyz"), None);
    }
}
