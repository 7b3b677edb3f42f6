//! Attacks: history (see tests/adversary.rs). What a teammate can plant in the repository: a plaintext
//! vault on a branch (the merge driver), and `.gitattributes` / `.gitignore` symlinks (`git-setup`).

use std::fs;

use crate::support::*;

/// Must never be re-encrypted as if it were a team secret, nor accepted from a branch.
const PLANTED: &str = "K5UW4ZDPO4QGK6DBNVYGYZJA";
const SECRET: &str = "JBSWY3DPEHPK3PXP";
const VAULT: &str = "repo/vault.csv.age";

/// A repository with git-setup done and an encrypted vault holding `Base`, all committed on main.
fn repo(prefix: &str) -> Sandbox {
    let sandbox = git_sandbox(prefix);
    sandbox.ok(&["-f", VAULT, "init"], "");
    sandbox.ok(&["-f", VAULT, "git-setup"], "");
    sandbox.ok(&["-f", VAULT, "add", "Base"], &format!("{SECRET}\n"));
    sandbox.git_ok(&["add", ".gitattributes", ".age-recipients", "vault.csv.age"]);
    sandbox.git_ok(&["commit", "-q", "-m", "base"]);
    sandbox
}

fn is_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

// Before the fix, `git merge evil` exited 0: the planted plaintext account was merged and re-encrypted
// into the team vault without a word.
#[test]
fn a_plaintext_vault_on_a_branch_is_refused_by_the_merge_driver() {
    for planted in [
        format!("name,secret\nPlanted,{PLANTED}\n"),
        format!("Planted:{PLANTED}\n"),
    ] {
        let sandbox = repo("history-merge");
        sandbox.git_ok(&["checkout", "-q", "-b", "evil"]);
        sandbox.write(VAULT, &planted);
        sandbox.git_ok(&["commit", "-q", "-a", "-m", "plant a plaintext vault"]);
        sandbox.git_ok(&["checkout", "-q", "main"]);
        sandbox.ok(&["-f", VAULT, "add", "Ours"], &format!("{SECRET}\n"));
        sandbox.git_ok(&["commit", "-q", "-a", "-m", "ours"]);
        let ours = fs::read(sandbox.path(VAULT)).unwrap();

        let merge = sandbox.git(&["merge", "--no-edit", "evil"]);
        assert_ne!(merge.code, 0, "the merge must not succeed: {merge:?}");
        let text = format!("{}{}", merge.stdout, merge.stderr);
        assert!(
            text.contains("their version") && text.contains("not encrypted"),
            "the message names theirs and why: {merge:?}"
        );
        assert!(
            text.contains("CONFLICT"),
            "git records a conflict: {merge:?}"
        );
        assert!(!text.contains(PLANTED), "{merge:?}");
        // The work tree keeps ours, byte for byte, still encrypted.
        let after = fs::read(sandbox.path(VAULT)).unwrap();
        assert!(is_age(&after));
        assert_eq!(after, ours, "ours is left untouched");
        let list = sandbox.ok(&["--at", AT, "-f", VAULT, "list", "--format", "csv"], "");
        assert!(!list.stdout.contains("Planted"), "{list:?}");
    }
}

// The driver itself, for each of the three versions: any plaintext version of an encrypted vault is
// refused with exit 1 (a conflict), names that version, and leaves OURS as it was.
#[test]
fn the_merge_driver_names_the_plaintext_version() {
    let sandbox = repo("history-driver");
    let encrypted = fs::read(sandbox.path(VAULT)).unwrap();
    let plain = format!("name,secret\nBase,{SECRET}\nPlanted,{PLANTED}\n");
    for (which, word) in [(0, "base"), (1, "our"), (2, "their")] {
        let files = ["m/base", "m/ours", "m/theirs"];
        for (i, file) in files.iter().enumerate() {
            if i == which {
                sandbox.write(file, &plain);
            } else {
                sandbox.write(file, &encrypted);
            }
        }
        let before = fs::read(sandbox.path("m/ours")).unwrap();
        let out = sandbox.run(
            &[
                "merge-driver",
                "m/base",
                "m/ours",
                "m/theirs",
                "repo/vault.csv.age",
            ],
            "",
        );
        assert_eq!(out.code, 1, "{word}: {out:?}");
        assert!(
            out.stderr.contains(&format!("{word} version"))
                && out.stderr.contains("'m/")
                && out.stderr.contains("not encrypted"),
            "{word}: {out:?}"
        );
        assert!(!out.stderr.contains(PLANTED), "{out:?}");
        assert_eq!(fs::read(sandbox.path("m/ours")).unwrap(), before, "{word}");
    }
    // An empty base (the vault was added on both sides) is not a plaintext vault: the merge goes on.
    sandbox.write("m/base", "");
    sandbox.write("m/ours", &encrypted);
    sandbox.write("m/theirs", &encrypted);
    let out = sandbox.run(
        &[
            "merge-driver",
            "m/base",
            "m/ours",
            "m/theirs",
            "repo/vault.csv.age",
        ],
        "",
    );
    assert_eq!(out.code, 0, "{out:?}");
}

// Before the fix, git-setup appended its attributes line through the link: the file outside the
// repository was changed (exit 0).
#[test]
fn git_setup_refuses_a_symlinked_gitattributes_or_gitignore() {
    for name in [".gitattributes", ".gitignore"] {
        let sandbox = git_sandbox("history-setup");
        sandbox.ok(&["-f", VAULT, "init"], "");
        let outside = sandbox.write("outside/profile", "# not the repository's\n");
        std::os::unix::fs::symlink(&outside, sandbox.path(&format!("repo/{name}"))).unwrap();
        let out = sandbox.run(&["-f", VAULT, "git-setup"], "");
        assert_eq!(out.code, 2, "{name}: {out:?}");
        assert!(
            out.stderr.starts_with("teamotp: error: ")
                && out.stderr.contains(&format!("{name}'"))
                && out.stderr.contains("symbolic link")
                && out.stderr.contains("teamotp: hint: "),
            "{name}: {out:?}"
        );
        assert_eq!(sandbox.read("outside/profile"), "# not the repository's\n");
        assert!(
            fs::symlink_metadata(sandbox.path(&format!("repo/{name}")))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

// Even a link that stays inside the repository, a directory or a FIFO is refused: git-setup writes
// only regular files.
#[test]
fn git_setup_writes_only_regular_files() {
    let sandbox = git_sandbox("history-regular");
    sandbox.ok(&["-f", VAULT, "init"], "");
    sandbox.write("repo/attributes.txt", "*.txt text\n");
    std::os::unix::fs::symlink("attributes.txt", sandbox.path("repo/.gitattributes")).unwrap();
    let out = sandbox.run(&["-f", VAULT, "git-setup"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(sandbox.read("repo/attributes.txt"), "*.txt text\n");
    fs::remove_file(sandbox.path("repo/.gitattributes")).unwrap();

    fs::create_dir(sandbox.path("repo/.gitignore")).unwrap();
    let out = sandbox.run(&["-f", VAULT, "git-setup"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(".gitignore'") && out.stderr.contains("not a regular file"),
        "{out:?}"
    );
    fs::remove_dir(sandbox.path("repo/.gitignore")).unwrap();

    // With both files regular (or absent), git-setup works and ignores the backup and the lock file.
    let out = sandbox.ok(&["-f", VAULT, "git-setup"], "");
    let ignored = sandbox.read("repo/.gitignore");
    assert!(ignored.lines().any(|l| l == "*.age.bak"), "{ignored:?}");
    assert!(
        ignored.lines().any(|l| l == "*.age.lock"),
        "{ignored:?} {out:?}"
    );
    // Twice is the same as once.
    sandbox.ok(&["-f", VAULT, "git-setup"], "");
    assert_eq!(sandbox.read("repo/.gitignore"), ignored);
}
