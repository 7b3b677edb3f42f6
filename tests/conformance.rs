//! The C2SP/CCTV age test vectors (tests/testkit/README.md) through teamotp's own vault loading path,
//! `vault::load::open`: the function every command uses on a vault file's bytes (age detection, armour,
//! identities or passphrase, decryption, nothing released unless the whole file authenticated).
//!
//! Every `success` vector must open, as an encrypted file, to exactly the payload; every failure vector
//! must be refused as a decryption failure (`cannot decrypt 'LABEL': ...`), releasing no bytes, with a
//! message that gives away neither the plaintext nor a key. Vectors whose outcome legitimately differs
//! are listed with a reason in tests/testkit/allowlist.txt; an allow-listed vector that behaves correctly
//! fails the test, so the list cannot go stale.
//!
//! Every failure vector, and any vector teamotp gets wrong, is also decrypted with the age crate alone
//! (same scrypt work-factor cap): to know what a failing file would have released (so the error can be
//! searched for it), to check that whatever teamotp decrypts is exactly what age itself releases, and to
//! report where teamotp does worse than the crate it wraps. The correct success vectors skip it: the
//! three 16 MB STREAM vectors take seconds each in an unoptimised build.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use sha2::{Digest, Sha256};

use teamotp::age::decrypt::Failure;
use teamotp::age::identity::{self, Identities, MAX_WORK_FACTOR};
use teamotp::env::Env;
use teamotp::error::UserError;
use teamotp::vault::load;

/// How many vectors cctv-age 0.2.0 holds (tests/testkit/extract.py asserts the same).
const EXPECTED_VECTORS: usize = 143;

const ALLOWLIST: &str = include_str!("testkit/allowlist.txt");

/// Runs of plaintext this long are searched for in error messages (shorter ones, such as the three-byte
/// payload "age" of many vectors, would match ordinary words).
const LEAK_WINDOW: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Success,
    NoMatch,
    HmacFailure,
    HeaderFailure,
    ArmorFailure,
    PayloadFailure,
}

impl Expect {
    fn parse(value: &str) -> Expect {
        match value {
            "success" => Expect::Success,
            "no match" => Expect::NoMatch,
            "HMAC failure" => Expect::HmacFailure,
            "header failure" => Expect::HeaderFailure,
            "armor failure" => Expect::ArmorFailure,
            "payload failure" => Expect::PayloadFailure,
            other => panic!("unknown expect value {other:?}"),
        }
    }
}

/// One test vector: its header fields and the age file.
struct Vector {
    name: String,
    expect: Expect,
    payload: Option<String>,
    file_key: String,
    identities: Vec<String>,
    passphrases: Vec<String>,
    armored: bool,
    age_file: Vec<u8>,
}

impl Vector {
    fn parse(name: &str, bytes: &[u8]) -> Vector {
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or_else(|| panic!("{name}: no blank line after the header"));
        let header = std::str::from_utf8(&bytes[..split])
            .unwrap_or_else(|_| panic!("{name}: header is not UTF-8"));
        let mut vector = Vector {
            name: name.to_owned(),
            expect: Expect::Success,
            payload: None,
            file_key: String::new(),
            identities: Vec::new(),
            passphrases: Vec::new(),
            armored: false,
            age_file: bytes[split + 2..].to_vec(),
        };
        let mut compressed = false;
        let mut expect = None;
        for line in header.lines() {
            let (key, value) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: header line {line:?} is not 'key: value'"));
            match key {
                "expect" => expect = Some(Expect::parse(value)),
                "payload" => vector.payload = Some(value.to_owned()),
                "file key" => vector.file_key = value.to_owned(),
                "identity" => vector.identities.push(value.to_owned()),
                "passphrase" => vector.passphrases.push(value.to_owned()),
                "armored" => vector.armored = value == "yes",
                "comment" => {}
                "compressed" if value == "zlib" => compressed = true,
                other => panic!("{name}: unknown header key {other:?}"),
            }
        }
        vector.expect = expect.unwrap_or_else(|| panic!("{name}: no expect line"));
        if compressed {
            let mut body = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::ZlibDecoder::new(&vector.age_file[..]),
                &mut body,
            )
            .unwrap_or_else(|e| panic!("{name}: bad zlib body: {e}"));
            vector.age_file = body;
        }
        vector
    }

    fn label(&self) -> String {
        format!("vector/{}", self.name)
    }

    /// The identity lines as an identity file's text.
    fn identity_file(&self) -> String {
        let mut text = self.identities.join("\n");
        text.push('\n');
        text
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testkit/vectors")
}

fn read_vectors() -> Vec<Vector> {
    let mut vectors: Vec<Vector> = std::fs::read_dir(vectors_dir())
        .expect("tests/testkit/vectors: run tests/testkit/extract.py")
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            Vector::parse(&name, &std::fs::read(&path).unwrap())
        })
        .collect();
    vectors.sort_by(|a, b| a.name.cmp(&b.name));
    vectors
}

/// `NAME<TAB>reason` lines; blank lines and `#` comments are skipped.
fn allowlist() -> BTreeMap<&'static str, &'static str> {
    let mut list = BTreeMap::new();
    for line in ALLOWLIST.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("allowlist line {line:?} is not NAME<TAB>reason"));
        assert!(!reason.trim().is_empty(), "allowlist: {name} has no reason");
        assert!(
            list.insert(name, reason).is_none(),
            "allowlist: {name} twice"
        );
    }
    list
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What teamotp's loader returned: what it released, or the error it reported.
enum Outcome {
    Opened {
        encrypted: bool,
        armored: bool,
        len: usize,
        hash: String,
    },
    Refused(UserError),
}

/// The vector through teamotp's loader, with an empty environment: identities from the vector's identity
/// lines (none when it has none, as when no identity file exists), its first passphrase when asked.
fn teamotp_open(vector: &Vector) -> Outcome {
    let identities = || {
        if vector.identities.is_empty() {
            return Ok(Identities::empty());
        }
        Ok(Identities {
            list: identity::parse(vector.identity_file().as_bytes(), "vector")?,
            paths: vec![],
        })
    };
    let passphrase = || match vector.passphrases.first() {
        Some(p) => Ok(SecretString::from(p.clone())),
        None => Err(Failure::NoTerminal),
    };
    match load::open(
        &vector.age_file,
        vector.label(),
        identities,
        passphrase,
        &Env::default(),
    ) {
        Ok(plain) => Outcome::Opened {
            encrypted: plain.encrypted,
            armored: plain.armored,
            len: plain.bytes.len(),
            hash: sha256_hex(&plain.bytes),
        },
        Err(error) => Outcome::Refused(error),
    }
}

/// The vector through the age crate alone: the bytes its reader released before EOF or the first error,
/// and whether it reached EOF without error. Unparseable identity lines (post-quantum ones) count as no
/// identities.
fn age_alone(vector: &Vector) -> (Vec<u8>, bool) {
    let decryptor =
        match age::Decryptor::new_buffered(age::armor::ArmoredReader::new(&vector.age_file[..])) {
            Ok(d) => d,
            Err(_) => return (Vec::new(), false),
        };
    let reader = if decryptor.is_scrypt() {
        let Some(passphrase) = vector.passphrases.first() else {
            return (Vec::new(), false);
        };
        let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.clone()));
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
    } else {
        let identities = age::IdentityFile::from_buffer(vector.identity_file().as_bytes())
            .ok()
            .and_then(|f| f.into_identities().ok())
            .unwrap_or_default();
        decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
    };
    let Ok(mut reader) = reader else {
        return (Vec::new(), false);
    };
    let mut released = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (released, true),
            Ok(n) => released.extend_from_slice(&buf[..n]),
            Err(_) => return (released, false),
        }
    }
}

/// Whether the age crate alone meets the vector's expectation (for the report).
fn age_conforms(vector: &Vector, released: &[u8], complete: bool) -> bool {
    let hash_ok = vector
        .payload
        .as_ref()
        .is_none_or(|p| *p == sha256_hex(released));
    match vector.expect {
        Expect::Success => complete && hash_ok,
        Expect::PayloadFailure => !complete && hash_ok,
        _ => !complete && released.is_empty(),
    }
}

/// The failure class a teamotp decryption error names, when it can be told from the reason after
/// `cannot decrypt 'LABEL': `. Only reported: age's messages do not map one to one onto the classes.
fn class_of(reason: &str) -> Option<Expect> {
    let has = |s: &str| reason.contains(s);
    if has("none of the identities can open it")
        || has("the passphrase is wrong")
        || has("no identity was found")
    {
        Some(Expect::NoMatch)
    } else if has("Header MAC is invalid") {
        Some(Expect::HmacFailure)
    } else if has("invalid armor") || has("DecodeError") || has("UTF-8") || has("line contains CR")
    {
        Some(Expect::ArmorFailure)
    } else if has("Header is invalid")
        || has("Incomplete header")
        || has("age format this version does not know")
        || has("scrypt work factor")
        || has("failed to fill whole buffer")
    {
        Some(Expect::HeaderFailure)
    } else if has("decryption error")
        || has("truncated)")
        || has("last chunk has been processed")
        || has("Last STREAM chunk")
    {
        Some(Expect::PayloadFailure)
    } else {
        None
    }
}

/// What teamotp did with one vector.
struct Verdict {
    /// None when the outcome is the expected one, else what went wrong.
    wrong: Option<String>,
    /// For a refused failure vector: whether the message names the expected class.
    class_matches: Option<bool>,
}

fn judge(vector: &Vector, outcome: &Outcome) -> Verdict {
    let wrong = |text: String| Verdict {
        wrong: Some(text),
        class_matches: None,
    };
    match (vector.expect, outcome) {
        (
            Expect::Success,
            Outcome::Opened {
                encrypted,
                armored,
                hash,
                ..
            },
        ) => {
            if !encrypted {
                wrong("opened as a plaintext vault".to_owned())
            } else if *armored != vector.armored {
                wrong(format!("armored reported as {armored}"))
            } else if vector.payload.as_ref() != Some(hash) {
                wrong(format!("payload hash {hash}"))
            } else {
                Verdict {
                    wrong: None,
                    class_matches: None,
                }
            }
        }
        (Expect::Success, Outcome::Refused(e)) => wrong(format!("refused: {}", e.message)),
        (_, Outcome::Opened { encrypted, len, .. }) => {
            wrong(format!("released {len} bytes (encrypted: {encrypted})"))
        }
        (expect, Outcome::Refused(e)) => {
            let prefix = format!("cannot decrypt '{}': ", vector.label());
            if let Some(reason) = e.message.strip_prefix(&prefix) {
                Verdict {
                    wrong: None,
                    class_matches: Some(class_of(reason) == Some(expect)),
                }
            } else {
                wrong(format!(
                    "refused, not as a decryption failure: {}",
                    e.message
                ))
            }
        }
    }
}

/// Secrets an error must never show: the file key, the identities, the payload hash, and any
/// `LEAK_WINDOW` bytes of the plaintext the age crate alone released before failing.
fn leaks(vector: &Vector, error: &UserError, age_released: &[u8]) -> Vec<String> {
    let text = std::iter::once(&error.message)
        .chain(&error.hints)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    let keys = std::iter::once(&vector.file_key).chain(&vector.identities);
    for key in keys.filter(|k| !k.is_empty()) {
        if lower.contains(&key.to_lowercase()) {
            found.push(format!("shows a key ({key})"));
        }
    }
    if let Some(payload) = &vector.payload
        && lower.contains(payload.as_str())
    {
        found.push("shows the payload hash".to_owned());
    }
    let windows: HashSet<&[u8]> = text.as_bytes().windows(LEAK_WINDOW).collect();
    if age_released
        .windows(LEAK_WINDOW)
        .any(|w| windows.contains(w))
    {
        found.push("shows plaintext".to_owned());
    }
    found
}

#[test]
fn testkit_is_complete() {
    let vectors = read_vectors();
    assert_eq!(vectors.len(), EXPECTED_VECTORS, "vector count");
    let names: BTreeSet<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    for name in allowlist().keys() {
        assert!(names.contains(name), "allowlist: no vector named {name}");
    }
    for vector in &vectors {
        assert!(
            vector.payload.is_some() || vector.expect != Expect::Success,
            "{}: success without a payload hash",
            vector.name
        );
    }
}

/// One vector's results: teamotp's outcome and verdict, and the age crate's alone when it was run.
struct Run {
    outcome: Outcome,
    verdict: Verdict,
    age: Option<(Vec<u8>, bool)>,
}

fn run(vector: &Vector) -> Run {
    let outcome = teamotp_open(vector);
    let verdict = judge(vector, &outcome);
    let age =
        (vector.expect != Expect::Success || verdict.wrong.is_some()).then(|| age_alone(vector));
    Run {
        outcome,
        verdict,
        age,
    }
}

#[test]
fn cctv_age_vectors_through_the_vault_loader() {
    let mut vectors = read_vectors();
    assert_eq!(vectors.len(), EXPECTED_VECTORS, "vector count");
    let allowed = allowlist();

    // One thread per vector, largest first: the three 16 MB STREAM vectors take most of the time.
    vectors.sort_by_key(|v| std::cmp::Reverse(v.age_file.len()));
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = vectors
            .iter()
            .map(|vector| scope.spawn(move || run(vector)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut results: Vec<(&Vector, Run)> = vectors.iter().zip(runs).collect();
    results.sort_by(|a, b| a.0.name.cmp(&b.0.name));

    let mut problems = Vec::new();
    let (mut success_passed, mut failures_passed) = (0, 0);
    let (mut classified, mut class_matched) = (0, 0);
    let mut allowlisted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut worse_than_age = Vec::new();
    let mut class_mismatches = Vec::new();
    let mut withheld_prefixes = 0;

    for (vector, run) in &results {
        let name = vector.name.as_str();
        let age_released = run.age.as_ref().map_or(&[][..], |(r, _)| r.as_slice());

        // Never allow-listable: a decrypted release must be exactly what age itself releases in full, and
        // an error must not show a secret.
        if let (
            Outcome::Opened {
                encrypted: true,
                hash,
                ..
            },
            Some((released, complete)),
        ) = (&run.outcome, &run.age)
            && !(*complete && *hash == sha256_hex(released))
        {
            problems.push(format!(
                "{name}: teamotp decrypted bytes that age alone does not release"
            ));
        }
        if let Outcome::Refused(error) = &run.outcome {
            for leak in leaks(vector, error, age_released) {
                problems.push(format!("{name}: the error {leak}: {}", error.message));
            }
        }

        // Payload failures where age alone hands out the authenticated prefix (and its hash is the vector's
        // payload) while teamotp releases nothing.
        if let (Expect::PayloadFailure, Outcome::Refused(_), Some((released, false))) =
            (vector.expect, &run.outcome, &run.age)
            && !released.is_empty()
            && vector.payload.as_deref() == Some(sha256_hex(released).as_str())
        {
            withheld_prefixes += 1;
        }

        // Worse than age alone: bytes released that age refuses, or a success vector refused that age opens.
        if let Some((released, complete)) = &run.age {
            let age_right = age_conforms(vector, released, *complete);
            let released_more = match &run.outcome {
                Outcome::Opened { hash, .. } => !(*complete && *hash == sha256_hex(released)),
                Outcome::Refused(_) => false,
            };
            let refused_more = vector.expect == Expect::Success && age_right;
            if run.verdict.wrong.is_some() && (released_more || refused_more) {
                worse_than_age.push(name);
            }
        }

        match (&run.verdict.wrong, allowed.get(name)) {
            (None, None) if vector.expect == Expect::Success => success_passed += 1,
            (None, None) => failures_passed += 1,
            (None, Some(_)) => problems.push(format!(
                "{name}: allow-listed but now behaves correctly; remove it from tests/testkit/allowlist.txt"
            )),
            (Some(wrong), None) => {
                problems.push(format!("{name}: expected {:?}, {wrong}", vector.expect));
            }
            (Some(_), Some(reason)) => allowlisted.entry(reason).or_default().push(name),
        }
        if let Some(matches) = run.verdict.class_matches {
            classified += 1;
            if matches {
                class_matched += 1;
            } else if let Outcome::Refused(e) = &run.outcome {
                class_mismatches.push(format!("{name} ({:?}): {}", vector.expect, e.message));
            }
        }
    }

    eprintln!("cctv-age vectors: {} total", results.len());
    eprintln!("  success passed: {success_passed}");
    eprintln!(
        "  failures passed (refused as a decryption failure, nothing released): {failures_passed}"
    );
    eprintln!(
        "  allow-listed: {}",
        allowlisted.values().map(Vec::len).sum::<usize>()
    );
    for (reason, names) in &allowlisted {
        eprintln!("    {} ({}): {reason}", names.len(), names.join(", "));
    }
    eprintln!(
        "  payload failures where age alone releases a verified prefix and teamotp nothing: {withheld_prefixes}"
    );
    eprintln!("  refusals whose message names the expected class: {class_matched} of {classified}");
    for mismatch in &class_mismatches {
        eprintln!("    {mismatch}");
    }
    eprintln!(
        "  teamotp worse than the age crate alone: {}",
        if worse_than_age.is_empty() {
            "none".to_owned()
        } else {
            worse_than_age.join(", ")
        }
    );

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
