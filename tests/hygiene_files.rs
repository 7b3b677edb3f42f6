//! Secret hygiene, part 5: identity files that group or others can read are refused; the files
//! teamotp creates are 0600 even under `umask 000`, and stay 0600 when the vault is rewritten.
//!
//! What the tests share (canaries, the leak check, the sandbox, keys and vaults) is in
//! tests/support/hygiene.rs, with the rules every run follows.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use support::hygiene::*;
use support::strings;

// ---------------------------------------------------------------------------------------------------------
// 5. Identity files and the files teamotp creates
// ---------------------------------------------------------------------------------------------------------

#[test]
fn identity_files_readable_by_group_or_others_are_refused() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let text = identity_text(&team.me);
    for mode in [0o640, 0o604, 0o644, 0o660, 0o606, 0o666, 0o670, 0o607] {
        let name = format!("key-{mode:o}");
        let path = sandbox.write(&name, &text, mode);
        let shown = format!("mode {mode:04o}");
        // Named with -i, with TEAMOTP_IDENTITY, and found at the default path.
        let runs = [
            sandbox.run(
                &strings(&["--at", AT, "-f", "mixed.age", "-i", &name, "list"]),
                b"",
            ),
            sandbox.run_with(
                &strings(&["--at", AT, "-f", "mixed.age", "list"]),
                b"",
                &[("TEAMOTP_IDENTITY", path.to_str().unwrap())],
                false,
            ),
            {
                sandbox.write("config/teamotp/identity.txt", &text, mode);
                let run = sandbox.run(&strings(&["--at", AT, "-f", "mixed.age", "list"]), b"");
                fs::remove_file(sandbox.path("config/teamotp/identity.txt")).unwrap();
                run
            },
        ];
        for run in runs {
            assert_eq!(run.code, Some(2), "{run}");
            assert_eq!(run.stdout, "", "{run}");
            assert!(
                run.stderr.contains("accessible by group or others"),
                "{run}"
            );
            assert!(run.stderr.contains(&shown), "{run}");
            assert!(
                run.stderr
                    .contains("teamotp: hint: make it private: chmod 600 '"),
                "{run}"
            );
            assert_eq!(leaks(&run.stderr, &[]), Vec::<String>::new(), "{run}");
        }
        // A writing command refuses it too, and changes nothing.
        let before = fs::read(sandbox.path("mixed.age")).unwrap();
        let run = sandbox.run(
            &strings(&["--at", AT, "-f", "mixed.age", "-i", &name, "add", "x"]),
            secret("add-delta").as_bytes(),
        );
        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stderr.contains("chmod 600"), "{run}");
        assert_eq!(fs::read(sandbox.path("mixed.age")).unwrap(), before);
    }
    // Private modes are accepted.
    for mode in [0o600, 0o400] {
        let name = format!("key-{mode:o}");
        sandbox.write(&name, &text, mode);
        let run = sandbox.run(
            &strings(&["--at", AT, "-f", "mixed.age", "-i", &name, "list"]),
            b"",
        );
        assert_eq!(run.code, Some(0), "{run}");
    }
}

/// Every regular file under `dir`, with its mode.
fn files_with_modes(dir: &Path, out: &mut Vec<(PathBuf, u32)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let metadata = fs::symlink_metadata(entry.path()).unwrap();
        if metadata.is_dir() {
            files_with_modes(&entry.path(), out);
        } else if metadata.is_file() {
            out.push((entry.path(), metadata.mode() & 0o7777));
        }
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o7777
}

#[test]
fn files_teamotp_creates_are_private_even_under_umask_000() {
    let sandbox = Sandbox::new();
    let run = |args: &[&str], stdin: &str| {
        let mut full = strings(&["--at", AT]);
        full.extend(strings(args));
        let run = sandbox.run_with(&full, stdin.as_bytes(), &[], true);
        assert_eq!(run.code, Some(0), "{run}");
        run
    };
    run(&["init"], "");
    let config = sandbox.path("config/teamotp");
    let identity = config.join("identity.txt");
    let vault = config.join("secrets.csv.age");
    // umask 000 really reaches teamotp: the shell's probe file (made just before exec) comes out 0666.
    assert_eq!(
        mode_of(&sandbox.path("umask-probe")),
        0o666,
        "umask 000 not in effect"
    );
    // Public keys, but nobody else may change who the vault is encrypted to.
    assert_eq!(mode_of(&config.join(".age-recipients")), 0o644);
    assert_eq!(mode_of(&identity), 0o600, "the identity init created");
    assert_eq!(mode_of(&vault), 0o600, "the vault init created");
    assert_eq!(mode_of(&config), 0o700, "the directory init created");
    let pins = sandbox.path("state/teamotp/pins");
    let mut pin_files = Vec::new();
    files_with_modes(&pins, &mut pin_files);
    assert_eq!(pin_files.len(), 1, "{pin_files:?}");
    assert_eq!(pin_files[0].1, 0o600, "the pin file {:?}", pin_files[0].0);

    // Rewrites keep 0600, and so does the backup; so does a new vault from encrypt.
    run(&["add", "delta"], &secret("add-delta"));
    run(&["edit", "delta", "--issuer", "Delta Co"], "");
    run(&["rekey"], "");
    let (_, other) = new_key();
    run(&["members", "add", &other, "--name", "Other"], "");
    run(&["members", "rm", "Other", "-y"], "");
    sandbox.write("plain/valid.csv", valid_team_csv(), 0o600);
    run(
        &[
            "-f",
            "plain/new.age",
            "-i",
            identity.to_str().unwrap(),
            "encrypt",
            "plain/valid.csv",
        ],
        "",
    );
    assert_eq!(mode_of(&vault), 0o600, "the vault after rewrites");
    assert_eq!(
        mode_of(&config.join("secrets.csv.age.bak")),
        0o600,
        "the backup"
    );
    assert_eq!(
        mode_of(&sandbox.path("plain/new.age")),
        0o600,
        "the vault encrypt created"
    );

    // Every file teamotp wrote is 0600 except the recipients files (public keys).
    let mut files = Vec::new();
    files_with_modes(&sandbox.path("config"), &mut files);
    files_with_modes(&sandbox.path("state"), &mut files);
    files_with_modes(&sandbox.path("plain"), &mut files);
    let loose: Vec<String> = files
        .iter()
        .filter(|(path, mode)| {
            *mode != 0o600
                && path.file_name().is_some_and(|n| n != ".age-recipients")
                && path != &sandbox.path("plain/valid.csv")
        })
        .map(|(path, mode)| format!("{} {mode:04o}", path.display()))
        .collect();
    assert!(
        loose.is_empty(),
        "files that are not 0600:\n{}",
        loose.join("\n")
    );
    assert!(files.len() >= 6, "{files:?}");
}
