//! Attacks: symbolic links that came with a repository (see tests/adversary.rs). `git clone` creates
//! committed links owned by whoever clones, so "links are followed only when you own them" protected
//! nothing in a clone: a teammate committed `.age-recipients -> ../../.ssh/authorized_keys`, and the
//! victim's `members ack --yes` reviewed their own key read from authorized_keys, and `members add KEY`
//! wrote the teammate's key into it (mode 0644). A committed vault link made a write replace any file of
//! the victim's.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use crate::support::*;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new(need_program("git"))
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Mallory")
        .env("GIT_AUTHOR_EMAIL", "m@example.com")
        .env("GIT_COMMITTER_NAME", "Mallory")
        .env("GIT_COMMITTER_EMAIL", "m@example.com")
        .args(args)
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn me<'a>(vault: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-f", vault, "-i", "keys/x25519.key"];
    all.extend_from_slice(args);
    all
}

/// A repository whose `.age-recipients` is a committed link to the victim's `outside/authorized_keys`
/// (which lists the victim's own key), cloned by the victim to `clone/`.
fn cloned_with_recipients_link() -> Sandbox {
    let sb = Sandbox::new("teamotp-adv-links-");
    sb.ok(&me("repo/v.age", &["init"]), "");
    let mine = fs::read_to_string(sb.path("repo/.age-recipients")).unwrap();
    sb.write("outside/authorized_keys", &mine);
    set_mode(&sb.path("outside/authorized_keys"), 0o600);
    fs::remove_file(sb.path("repo/.age-recipients")).unwrap();
    symlink(
        "../outside/authorized_keys",
        sb.path("repo/.age-recipients"),
    )
    .unwrap();
    git(&sb.path("repo"), &["init", "-q", "-b", "main"]);
    git(&sb.path("repo"), &["add", "-A"]);
    git(&sb.path("repo"), &["commit", "-q", "-m", "planted"]);
    git(sb.root(), &["clone", "-q", "repo", "clone"]);
    sb
}

// Before the fix: `members ack --yes` exited 0 (reviewing the victim's own key), and `members add`
// appended the teammate's key to outside/authorized_keys and made it 0644.
#[test]
fn a_committed_recipients_link_is_never_trusted_or_written_through() {
    let sb = cloned_with_recipients_link();
    let keys_before = sb.read("outside/authorized_keys");
    let vault_before = sb.bytes("clone/v.age");
    for args in [
        &["members", "ack", "--yes"][..],
        &["members"][..],
        &["members", "add", &age_public("other.key")][..],
        &["rekey"][..],
        &["add", "X"][..],
    ] {
        let out = sb.run(&me("clone/v.age", args), "JBSWY3DPEHPK3PXP\n");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains("is a symbolic link committed in a git repository"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(sb.read("outside/authorized_keys"), keys_before);
    assert_eq!(mode(&sb.path("outside/authorized_keys")), 0o600);
    assert_eq!(sb.bytes("clone/v.age"), vault_before, "nothing was written");
}

// Before the fix: `add` replaced outside/precious.age (any file of the victim's) with the new vault.
#[test]
fn a_committed_vault_link_is_never_written_through() {
    let sb = Sandbox::new("teamotp-adv-links-");
    sb.ok(&me("repo/v.age", &["init"]), "");
    // The victim's own vault elsewhere, which the link points at.
    sb.ok(&me("outside/precious.age", &["init"]), "");
    let precious = sb.bytes("outside/precious.age");
    fs::remove_file(sb.path("repo/v.age")).unwrap();
    symlink("../outside/precious.age", sb.path("repo/v.age")).unwrap();
    git(&sb.path("repo"), &["init", "-q", "-b", "main"]);
    git(&sb.path("repo"), &["add", "-A"]);
    git(&sb.path("repo"), &["commit", "-q", "-m", "planted"]);
    git(sb.root(), &["clone", "-q", "repo", "clone"]);
    sb.ok(&me("clone/v.age", &["members", "ack", "--yes"]), "");
    let out = sb.run(&me("clone/v.age", &["add", "X"]), "JBSWY3DPEHPK3PXP\n");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("is a symbolic link committed in a git repository"),
        "{}",
        out.stderr
    );
    assert_eq!(sb.bytes("outside/precious.age"), precious);
}

/// A link you made yourself, not tracked by any repository (your config folder pointing at a team
/// repository's vault), keeps working, even inside a dotfiles repository.
#[test]
fn your_own_untracked_link_to_a_vault_keeps_working() {
    let sb = Sandbox::new("teamotp-adv-links-");
    sb.ok(&me("team/v.age", &["init"]), "");
    fs::create_dir_all(sb.path("dotfiles")).unwrap();
    git(&sb.path("dotfiles"), &["init", "-q", "-b", "main"]);
    sb.write("dotfiles/README", "mine\n");
    git(&sb.path("dotfiles"), &["add", "README"]);
    git(&sb.path("dotfiles"), &["commit", "-q", "-m", "dotfiles"]);
    symlink("../team/v.age", sb.path("dotfiles/team.age")).unwrap();
    sb.ok(
        &me("dotfiles/team.age", &["add", "X"]),
        "JBSWY3DPEHPK3PXP\n",
    );
    let listed = sb.ok(&me("team/v.age", &["list", "--format", "csv"]), "");
    assert!(listed.stdout.contains("\nX,"), "{listed:?}");
    assert!(
        fs::symlink_metadata(sb.path("dotfiles/team.age"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

// Before the fix: every read in such a clone read /dev/zero without end (the note about missing git
// drivers looks at `.gitattributes`), and the test's time limit ended `list`.
#[test]
fn a_committed_gitattributes_link_to_an_endless_file_does_not_stall_a_read() {
    let sb = Sandbox::new("teamotp-adv-links-");
    sb.ok(&me("repo/v.age", &["init"]), "");
    sb.ok(&me("repo/v.age", &["add", "X"]), "JBSWY3DPEHPK3PXP\n");
    symlink("/dev/zero", sb.path("repo/.gitattributes")).unwrap();
    git(&sb.path("repo"), &["init", "-q", "-b", "main"]);
    git(&sb.path("repo"), &["add", "-A"]);
    git(&sb.path("repo"), &["commit", "-q", "-m", "planted"]);
    git(sb.root(), &["clone", "-q", "repo", "clone"]);
    let out = sb.run(&me("clone/v.age", &["list", "--format", "csv"]), "");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\nX,"), "{out:?}");
}
