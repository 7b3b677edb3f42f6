//! Fuzzing regressions, run by plain `cargo test`.
//!
//! The checks are the fuzz targets' own (`fuzz/src/lib.rs`, included below): every committed seed
//! (`fuzz/seeds/TARGET/`) and every saved crash (`tests/fixtures/fuzz/TARGET/`) is replayed through the
//! same function the target calls, so a fixed crash stays fixed without cargo-fuzz or nightly. See
//! `fuzz/README.md` for running the fuzzers themselves.

#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::path::{Path, PathBuf};

/// Every file in `fuzz/seeds/TARGET` and `tests/fixtures/fuzz/TARGET` (the latter may not exist).
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        root.join("fuzz").join("seeds").join(target),
        root.join("tests")
            .join("fixtures")
            .join("fuzz")
            .join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs `check` on every input of `target`, naming the input that panicked.
fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no seeds for {target}");
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target} panicked on: {failed:#?}");
}

#[test]
fn age_header_seeds() {
    replay("age_header", checks::age_header);
}

#[test]
fn vault_parse_seeds() {
    replay("vault_parse", checks::vault_parse);
}

#[test]
fn agent_request_seeds() {
    replay("agent_request", checks::agent_request);
}

#[test]
fn base32_seeds() {
    replay("base32", checks::base32);
}

#[test]
fn otpauth_seeds() {
    replay("otpauth", checks::otpauth);
}

#[test]
fn importers_seeds() {
    replay("importers", checks::importers);
}

#[test]
fn bytes_to_accounts_seeds() {
    replay("bytes_to_accounts", checks::bytes_to_accounts);
}

#[test]
fn import_qr_seeds() {
    replay("import_qr", checks::import_qr);
}

/// The cheap passphrase seed really decrypts, so `bytes_to_accounts` reaches the parser through scrypt.
#[test]
fn scrypt_seed_decrypts_to_the_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["scrypt-wf10.csv.age", "scrypt-wf10.csv.age.asc"] {
        let raw = std::fs::read(root.join("fuzz/seeds/bytes_to_accounts").join(name)).unwrap();
        let plain = teamotp::vault::load::open(
            &raw,
            name.to_owned(),
            || panic!("a passphrase file needs no identity"),
            || {
                Ok(age::secrecy::SecretString::from(
                    "fixture-vault-pass".to_owned(),
                ))
            },
            &teamotp::env::Env::default(),
        )
        .unwrap();
        assert_eq!(
            &plain.bytes[..],
            std::fs::read(root.join("tests/fixtures/age/plain.csv")).unwrap()
        );
    }
}
