//! Post-quantum age (mlkem768x25519) interop with typage, FiloSottile's TypeScript age: the files in
//! tests/fixtures/pq/ were made by typage (tests/fixtures/pq/README.md), and teamotp's loader must open
//! every one of them to the same plaintext. The other direction (teamotp encrypts, typage decrypts) runs
//! when node and tests/interop-pq/node_modules exist, and is skipped with the reason printed otherwise.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::SecretString;
use teamotp::age::decrypt::Failure;
use teamotp::age::identity::{self, Identities};
use teamotp::age::pq;
use teamotp::env::Env;
use teamotp::vault::load;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pq")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn no_passphrase() -> Result<SecretString, Failure> {
    panic!("no passphrase expected")
}

/// The vault through teamotp's loader with identities parsed from `identity_file`.
fn open(vault: &str, identities: impl FnOnce() -> Vec<Box<dyn age::Identity>>) -> Vec<u8> {
    let plain = load::open(
        &fixture(vault),
        vault.to_owned(),
        || {
            Ok(Identities {
                list: identities(),
                paths: vec![],
            })
        },
        no_passphrase,
        &Env::default(),
    )
    .unwrap_or_else(|e| panic!("{vault}: {}", e.message));
    assert!(plain.encrypted, "{vault}: opened as plaintext");
    plain.bytes.to_vec()
}

fn plain_identity() -> Vec<Box<dyn age::Identity>> {
    identity::parse(&fixture("identity.txt"), "identity.txt").unwrap()
}

#[test]
fn typage_pq_files_open_to_the_plaintext() {
    let expected = fixture("plaintext.csv");
    for vault in ["pq.age", "pq-armored.age", "pq-several.age"] {
        assert_eq!(open(vault, plain_identity), expected, "{vault}");
    }
}

#[test]
fn typage_identity_gives_typage_recipient() {
    let text = String::from_utf8(fixture("identity.txt")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-PQ-1"))
        .unwrap();
    let identity: pq::Identity = line.parse().unwrap();
    let recipient = String::from_utf8(fixture("recipient.txt")).unwrap();
    assert_eq!(identity.to_public().to_string(), recipient.trim());
}

#[test]
fn pq_identity_inside_a_passphrase_encrypted_identity_file() {
    let passphrase = String::from_utf8(fixture("identity-passphrase.txt")).unwrap();
    let bytes = fixture("identity-encrypted.age");
    let expected = fixture("plaintext.csv");
    let opened = open("pq.age", || {
        identity::encrypted(
            &bytes,
            "identity-encrypted.age",
            Box::new(move |_| Some(SecretString::from(passphrase.trim().to_owned()))),
        )
        .unwrap()
    });
    assert_eq!(opened, expected);
}

#[test]
fn wrong_pq_identity_is_no_match() {
    let other = format!(
        "{}\n",
        age::secrecy::ExposeSecret::expose_secret(&pq::Identity::generate().to_secret_string())
    );
    let result = load::open(
        &fixture("pq.age"),
        "pq.age".to_owned(),
        || {
            Ok(Identities {
                list: identity::parse(other.as_bytes(), "other").unwrap(),
                paths: vec![],
            })
        },
        no_passphrase,
        &Env::default(),
    );
    let error = result.err().expect("a wrong key must not open the file");
    assert!(
        error.message.contains("none of the identities can open it"),
        "{}",
        error.message
    );
}

#[test]
fn pq_lines_mixed_with_x25519_lines() {
    let x25519 = age::x25519::Identity::generate();
    let mixed = format!(
        "# classic\n{}\n\n# post-quantum\n{}",
        age::secrecy::ExposeSecret::expose_secret(&x25519.to_string()),
        String::from_utf8(fixture("identity.txt")).unwrap()
    );
    let list = identity::parse(mixed.as_bytes(), "mixed").unwrap();
    assert_eq!(list.len(), 2);
    let bad = "AGE-SECRET-KEY-PQ-1QQQQ\n";
    let error = identity::parse(bad.as_bytes(), "bad").err().unwrap();
    assert!(error.message.contains("line 1"), "{}", error.message);
    assert!(!error.message.contains("QQQQ"), "the key is never shown");
}

/// teamotp encrypts to PQ recipients (the typage one among them); typage decrypts.
#[test]
fn typage_decrypts_what_teamotp_writes() {
    let Some(dir) = support::typage_dir() else {
        return;
    };
    let typage: pq::Recipient = String::from_utf8(fixture("recipient.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let other = pq::Identity::generate().to_public();
    let plaintext = b"name,secret\nGitHub,JBSWY3DPEHPK3PXP\n";
    let tmp = tempfile::tempdir().unwrap();
    for armored in [false, true] {
        let mut out = Vec::new();
        let armor = age::armor::ArmoredWriter::wrap_output(
            &mut out,
            if armored {
                age::armor::Format::AsciiArmor
            } else {
                age::armor::Format::Binary
            },
        )
        .unwrap();
        let recipients: Vec<&dyn age::Recipient> = vec![&other, &typage];
        let encryptor = age::Encryptor::with_recipients(recipients.into_iter()).unwrap();
        let mut writer = encryptor.wrap_output(armor).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap().finish().unwrap();
        let path = tmp.path().join("vault.age");
        std::fs::write(&path, &out).unwrap();
        assert_eq!(typage_decrypt(&dir, &path), plaintext, "armored: {armored}");
    }
}

/// What teamotp writes to post-quantum members carries its record of the recipients (a stanza with the
/// same `postquantum` label as the others): typage still decrypts it, and the record names exactly the
/// keys (issue 19).
#[test]
fn typage_decrypts_a_teamotp_vault_with_its_recipients_record() {
    let Some(dir) = support::typage_dir() else {
        return;
    };
    let typage = String::from_utf8(fixture("recipient.txt"))
        .unwrap()
        .trim()
        .to_owned();
    let other = pq::Identity::generate().to_public().to_string();
    let members: Vec<teamotp::age::recipients::Member> = [&typage, &other]
        .iter()
        .enumerate()
        .map(|(i, key)| teamotp::age::recipients::Member {
            key: (*key).clone(),
            label: None,
            line: i + 1,
        })
        .collect();
    let plaintext = b"name,secret\nGitHub,JBSWY3DPEHPK3PXP\n";
    let tmp = tempfile::tempdir().unwrap();
    for armored in [false, true] {
        let out = teamotp::vault::store::encrypt(
            plaintext,
            &teamotp::vault::store::Protection::Recipients(&members),
            armored,
        )
        .unwrap();
        let mut expected = vec![typage.clone(), other.clone()];
        expected.sort();
        assert_eq!(
            teamotp::trust::membership::recorded(&out),
            teamotp::trust::membership::Recorded::Keys(teamotp::trust::membership::Record {
                keys: expected
            })
        );
        let path = tmp.path().join("vault.age");
        std::fs::write(&path, &out).unwrap();
        assert_eq!(typage_decrypt(&dir, &path), plaintext, "armored: {armored}");
    }
}

/// typage's decryption of `path` with the fixture identity: its plaintext (a failure fails the test).
fn typage_decrypt(dir: &Path, path: &Path) -> Vec<u8> {
    let output = Command::new("node")
        .current_dir(dir)
        .arg("decrypt.mjs")
        .arg(fixtures().join("identity.txt"))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "typage failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}
