//! teamotp living in git: `git-setup`, `textconv` (what `git diff` and `git log -p` show), and the merge
//! driver, exercised through real `git` commands.
//!
//! Rules every test follows:
//! - every run has `env_clear()`, `HOME` and `XDG_*` inside a fresh temporary directory, and `--at
//!   1700000000` wherever teamotp runs directly;
//! - git gets `GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`, a fixed author and committer, and a
//!   `PATH` whose first directory holds a `teamotp` symlink to the binary under test (git's diff and merge
//!   drivers run `teamotp` from PATH), then the test's own PATH (for git itself);
//! - every run goes through `setsid -w`, so nothing can wait on the developer's terminal;
//! - each test makes its own vault with `teamotp -f DIR/vault.csv.age init`.

use std::path::{Path, PathBuf};

mod support;

use support::{AT, BIN, Out};

/// What `git-setup` writes to `.gitattributes`.
const ATTRIBUTES: &str = "*.age diff=teamotp merge=teamotp";
const RECIPIENTS_ATTRIBUTES: &str =
    ".age-recipients merge=teamotp-recipients\n.age-recipients.next merge=teamotp-recipients\n";

/// Public test secrets. The canary must never appear in anything git shows.
const SECRET: &str = "JBSWY3DPEHPK3PXP";
const CANARY: &str = "K5UW4ZDPO4QGK6DBNVYGYZJA";
const OTHER: &str = "GEZDGNBVGY3TQOJQ";

/// A git repository holding a team vault, with a private home.
struct Repo {
    sandbox: support::Sandbox,
    /// The vault's path in the work tree.
    file: &'static str,
}

impl Repo {
    /// `git init` (branch main) and `teamotp init` of `vault.csv.age` at the top of the work tree.
    fn new() -> Self {
        Repo::new_at("vault.csv.age")
    }

    /// `git init` (branch main) and `teamotp init` of `file` in the work tree.
    fn new_at(file: &'static str) -> Self {
        let repo = Repo {
            sandbox: support::Sandbox::empty("teamotp-git-"),
            file,
        };
        std::fs::create_dir(repo.bin()).unwrap();
        std::os::unix::fs::symlink(BIN, repo.bin().join("teamotp")).unwrap();
        std::fs::create_dir(repo.work()).unwrap();
        repo.git_ok(&["init", "-q", "-b", "main"]);
        repo.teamotp_ok(&["init"]);
        repo
    }

    /// A repository set up with `git-setup`, its vault holding `Base` (and `.gitattributes`, the
    /// recipients file and the vault committed).
    fn with_setup() -> Self {
        Repo::with_setup_at("vault.csv.age")
    }

    fn with_setup_at(file: &'static str) -> Self {
        let repo = Repo::new_at(file);
        repo.teamotp_ok(&["git-setup"]);
        repo.add("Base", SECRET);
        let recipients = Path::new(file).with_file_name(".age-recipients");
        repo.git_ok(&["add", ".gitattributes", recipients.to_str().unwrap(), file]);
        repo.git_ok(&["commit", "-q", "-m", "base"]);
        repo
    }

    fn home(&self) -> PathBuf {
        self.sandbox.home()
    }

    fn bin(&self) -> PathBuf {
        self.sandbox.path("bin")
    }

    fn work(&self) -> PathBuf {
        self.sandbox.path("repo")
    }

    fn vault(&self) -> PathBuf {
        self.work().join(self.file)
    }

    fn command(&self, program: &Path) -> assert_cmd::Command {
        let mut command = support::git_team::git_command(&self.home(), &self.bin(), program);
        command.current_dir(self.work());
        command
    }

    fn output(mut command: assert_cmd::Command) -> Out {
        let output = command.output().unwrap();
        Out {
            code: output.status.code().expect("ended by a signal"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn git(&self, args: &[&str]) -> Out {
        let mut command = self.command(Path::new("git"));
        command.args(args);
        Self::output(command)
    }

    fn git_ok(&self, args: &[&str]) -> Out {
        let out = self.git(args);
        assert_eq!(out.code, 0, "git {args:?}: {out:?}");
        out
    }

    /// `teamotp --at AT -f VAULT ARGS` in the work tree, stdin from `stdin`.
    fn teamotp_with(&self, args: &[&str], stdin: &str) -> Out {
        let mut command = self.command(Path::new(BIN));
        command
            .args(["--at", AT, "-f", self.file])
            .args(args)
            .write_stdin(stdin.to_owned());
        Self::output(command)
    }

    fn teamotp(&self, args: &[&str]) -> Out {
        self.teamotp_with(args, "")
    }

    fn teamotp_ok(&self, args: &[&str]) -> Out {
        let out = self.teamotp(args);
        assert_eq!(out.code, 0, "teamotp {args:?}: {out:?}");
        out
    }

    fn add(&self, name: &str, secret: &str) {
        let out = self.teamotp_with(&["add", name], &format!("{secret}\n"));
        assert_eq!(out.code, 0, "add {name}: {out:?}");
    }

    /// `git commit -a` (the vault's `.bak` is not tracked and stays out).
    fn commit_all(&self, message: &str) {
        self.git_ok(&["commit", "-q", "-a", "-m", message]);
    }

    /// `textconv` of the work tree's vault, one entry per line.
    fn textconv(&self) -> Vec<String> {
        let out = self.teamotp_ok(&["textconv", self.file]);
        out.stdout.lines().map(str::to_owned).collect()
    }

    /// The account names in the work tree's vault, in order.
    fn names(&self) -> Vec<String> {
        let out = self.teamotp_ok(&["list", "--format", "csv"]);
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        reader.records().map(|r| r.unwrap()[0].to_owned()).collect()
    }

    fn textconv_line(&self, name: &str) -> String {
        self.textconv()
            .into_iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no textconv line for {name}"))
    }
}

/// The fingerprint at the end of a textconv line.
fn fingerprint(line: &str) -> String {
    line.rsplit_once("secret ")
        .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
        .1
        .trim()
        .to_owned()
}

/// The first piece (6+ characters) of `secret` found in `text`, case ignored.
fn leaked_piece(text: &str, secret: &str) -> Option<String> {
    let text = text.to_uppercase();
    let chars: Vec<char> = secret.to_uppercase().chars().collect();
    chars
        .windows(6)
        .map(|w| w.iter().collect::<String>())
        .find(|piece| text.contains(piece.as_str()))
}

/// The raw bytes of a base32 secret as lower-case hex.
fn secret_hex(secret: &str) -> String {
    data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// git-setup
// ---------------------------------------------------------------------------------------------------------

#[test]
fn git_setup_writes_the_attributes_and_the_local_config() {
    let repo = Repo::new();
    let out = repo.teamotp_ok(&["git-setup"]);
    assert_eq!(out.stdout, "");
    assert_eq!(
        std::fs::read_to_string(repo.work().join(".gitattributes")).unwrap(),
        format!("{ATTRIBUTES}\n{RECIPIENTS_ATTRIBUTES}")
    );
    let get = |key: &str| {
        repo.git_ok(&["config", "--local", "--get", key])
            .stdout
            .trim()
            .to_owned()
    };
    assert_eq!(
        get("merge.teamotp.driver"),
        "teamotp merge-driver %O %A %B %P"
    );
    assert_eq!(get("diff.teamotp.textconv"), "teamotp textconv");
    assert_eq!(
        get("merge.teamotp-recipients.driver"),
        "teamotp merge-recipients %O %A %B %P"
    );
    // git itself routes the vault and the recipients files to the drivers.
    let attrs = repo.git_ok(&["check-attr", "diff", "merge", "--", "vault.csv.age"]);
    assert_eq!(
        attrs.stdout,
        "vault.csv.age: diff: teamotp\nvault.csv.age: merge: teamotp\n"
    );
    let attrs = repo.git_ok(&[
        "check-attr",
        "merge",
        "--",
        ".age-recipients",
        ".age-recipients.next",
    ]);
    assert_eq!(
        attrs.stdout,
        ".age-recipients: merge: teamotp-recipients\n\
         .age-recipients.next: merge: teamotp-recipients\n"
    );
}

#[test]
fn git_setup_twice_leaves_one_attributes_line_and_keeps_other_lines() {
    let repo = Repo::new();
    let attributes = repo.work().join(".gitattributes");
    std::fs::write(&attributes, "*.png binary").unwrap();
    repo.teamotp_ok(&["git-setup"]);
    let second = repo.teamotp_ok(&["git-setup"]);
    assert!(second.stderr.contains("already"), "{}", second.stderr);
    let text = std::fs::read_to_string(&attributes).unwrap();
    assert_eq!(
        text,
        format!("*.png binary\n{ATTRIBUTES}\n{RECIPIENTS_ATTRIBUTES}")
    );
    assert_eq!(text.matches(ATTRIBUTES).count(), 1);
    let drivers = repo.git_ok(&["config", "--local", "--get-all", "merge.teamotp.driver"]);
    assert_eq!(drivers.stdout.lines().count(), 1, "{drivers:?}");
}

#[test]
fn git_setup_from_a_subdirectory_vault_writes_at_the_top() {
    let repo = Repo::new_at("team/vault.csv.age");
    repo.teamotp_ok(&["git-setup"]);
    assert!(repo.work().join(".gitattributes").is_file());
    assert!(!repo.work().join("team/.gitattributes").exists());
    let attrs = repo.git_ok(&["check-attr", "merge", "--", "team/vault.csv.age"]);
    assert_eq!(attrs.stdout, "team/vault.csv.age: merge: teamotp\n");
}

#[test]
fn git_setup_outside_a_repository_is_a_clear_error() {
    let repo = Repo::new();
    std::fs::remove_dir_all(repo.work().join(".git")).unwrap();
    let out = repo.teamotp(&["git-setup"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.starts_with("teamotp: error: ")
            && out.stderr.contains("not in a git repository"),
        "{}",
        out.stderr
    );
    assert!(!repo.work().join(".gitattributes").exists());
}

// ---------------------------------------------------------------------------------------------------------
// textconv
// ---------------------------------------------------------------------------------------------------------

#[test]
fn textconv_prints_one_line_per_account_and_never_a_secret() {
    let repo = Repo::new();
    repo.add("AWS", SECRET);
    let out = repo.teamotp_with(
        &[
            "add",
            "ACME ops",
            "--issuer",
            "ACME Co",
            "--digits",
            "8",
            "--period",
            "60",
            "--algorithm",
            "SHA256",
        ],
        &format!("{CANARY}\n"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = repo.teamotp_with(&["add", "Gamer", "--type", "steam"], &format!("{OTHER}\n"));
    assert_eq!(out.code, 0, "{out:?}");

    let out = repo.teamotp_ok(&["textconv", "vault.csv.age"]);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    let fields =
        |line: &str| -> Vec<String> { line.split(" | ").map(str::to_owned).collect::<Vec<_>>() };
    for (line, want) in lines.iter().zip([
        ["AWS", "-", "6 digits", "30 s", "SHA1"],
        ["ACME ops", "ACME Co", "8 digits", "60 s", "SHA256"],
        ["Gamer", "-", "5 digits", "30 s", "SHA1"],
    ]) {
        let f = fields(line);
        assert_eq!(f[0], want[0], "{line}");
        assert!(f[1].ends_with(want[1]), "issuer in {line}");
        for w in &want[2..] {
            assert!(f.iter().any(|x| x == w), "{w} in {line}");
        }
        let print = fingerprint(line);
        assert!(
            print.len() >= 8 && print.chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        );
    }
    assert!(lines[2].contains("steam"), "{}", lines[2]);
    for secret in [SECRET, CANARY, OTHER] {
        assert_eq!(leaked_piece(&out.stdout, secret), None, "{}", out.stdout);
        let hex = secret_hex(secret);
        for line in &lines {
            let print = fingerprint(line);
            assert!(
                !hex.contains(&print) && !print.contains(&hex[..6]),
                "the fingerprint {print} shows the secret's bytes"
            );
        }
    }
}

#[test]
fn textconv_fingerprint_changes_only_when_the_secret_changes() {
    let repo = Repo::new();
    repo.add("AWS", SECRET);
    repo.add("Other", SECRET);
    let before = repo.textconv();
    let aws = fingerprint(&before[0]);
    assert_eq!(
        aws,
        fingerprint(&before[1]),
        "same secret, same fingerprint"
    );

    // Re-encryption (a new ciphertext) and parameter edits leave the fingerprint alone.
    repo.teamotp_ok(&["rekey"]);
    assert_eq!(
        repo.textconv(),
        before,
        "rekey changes nothing textconv shows"
    );
    repo.teamotp_ok(&["edit", "AWS", "--digits", "8"]);
    assert_eq!(fingerprint(&repo.textconv_line("AWS")), aws);

    let out = repo.teamotp_with(&["edit", "AWS", "--secret"], &format!("{CANARY}\n"));
    assert_eq!(out.code, 0, "{out:?}");
    let after = repo.textconv_line("AWS");
    assert_ne!(fingerprint(&after), aws, "{after}");
    assert_eq!(leaked_piece(&after, CANARY), None, "{after}");
    assert_eq!(repo.textconv_line("Other"), before[1]);
}

// ---------------------------------------------------------------------------------------------------------
// Real git: diff, log, merge
// ---------------------------------------------------------------------------------------------------------

#[test]
fn git_log_p_shows_names_and_never_secrets() {
    let repo = Repo::with_setup();
    repo.add("Canary", CANARY);
    repo.commit_all("add Canary");
    let out = repo.teamotp_with(&["edit", "Canary", "--secret"], &format!("{OTHER}\n"));
    assert_eq!(out.code, 0, "{out:?}");
    let diff = repo.git_ok(&["diff"]);
    assert!(
        diff.stdout.contains("-Canary |") && diff.stdout.contains("+Canary |"),
        "{}",
        diff.stdout
    );
    repo.commit_all("re-enrol Canary");

    let log = repo.git_ok(&["log", "-p"]);
    assert!(log.stdout.contains("+Base | "), "{}", log.stdout);
    assert!(log.stdout.contains("+Canary | "), "{}", log.stdout);
    assert!(
        !log.stdout.contains("Binary files"),
        "the vault is shown through textconv:\n{}",
        log.stdout
    );
    for secret in [CANARY, SECRET, OTHER] {
        assert!(
            !log.stdout.to_uppercase().contains(secret),
            "{secret} in git log -p:\n{}",
            log.stdout
        );
        assert_eq!(leaked_piece(&log.stdout, secret), None, "{}", log.stdout);
    }
}

#[test]
fn merge_of_two_branches_keeps_both_additions_and_the_base() {
    let repo = Repo::with_setup();
    repo.add("Shared", OTHER);
    repo.commit_all("base 2");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    repo.add("FromTheirs", CANARY);
    repo.commit_all("theirs adds");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.add("FromOurs", SECRET);
    repo.commit_all("ours adds");

    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut names = repo.names();
    names.sort();
    assert_eq!(names, ["Base", "FromOurs", "FromTheirs", "Shared"]);
    let status = repo.git_ok(&["status", "--porcelain", "--untracked-files=no"]);
    assert_eq!(status.stdout, "", "merged and committed");
    // The merged vault is still encrypted (and to the recipients file: teamotp opens it).
    let bytes = std::fs::read(repo.vault()).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert_eq!(repo.teamotp(&["check"]).code, 0);
}

#[test]
fn an_account_removed_on_one_side_is_removed_after_merge() {
    // Removed by theirs (merged into ours), then removed by ours (theirs merged in).
    for remover in ["theirs", "main"] {
        let repo = Repo::with_setup();
        repo.add("Gone", OTHER);
        repo.add("Kept", CANARY);
        repo.commit_all("base 2");
        repo.git_ok(&["branch", "theirs"]);
        repo.git_ok(&["checkout", "-q", remover]);
        repo.teamotp_ok(&["rm", "-y", "Gone"]);
        repo.commit_all("rm Gone");
        // The other side changes something else (so the merge is a real three-way merge).
        let other = if remover == "main" { "theirs" } else { "main" };
        repo.git_ok(&["checkout", "-q", other]);
        repo.teamotp_ok(&["edit", "Kept", "--issuer", "Kept Co"]);
        repo.commit_all("edit Kept");

        repo.git_ok(&["checkout", "-q", "main"]);
        let out = repo.git(&["merge", "--no-edit", "theirs"]);
        assert_eq!(out.code, 0, "{remover}: {out:?}");
        assert_eq!(repo.names(), ["Base", "Kept"], "{remover}");
        assert!(
            repo.textconv_line("Kept").contains("Kept Co"),
            "{remover}: the other side's edit is kept"
        );
    }
}

#[test]
fn a_real_conflict_is_reported_and_ours_is_kept() {
    let repo = Repo::with_setup();
    repo.add("X", OTHER);
    repo.add("Y", CANARY);
    repo.commit_all("base 2");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    repo.teamotp_ok(&["edit", "X", "--digits", "7"]);
    repo.teamotp_ok(&["edit", "Y", "--issuer", "Their Co"]);
    repo.commit_all("theirs edits");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.teamotp_ok(&["edit", "X", "--digits", "8"]);
    repo.commit_all("ours edits");

    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.lines().any(|l| l.trim() == "X"),
        "the conflicting account is listed:\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.lines().any(|l| l.trim() == "Y"),
        "{}",
        out.stderr
    );
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("CONFLICT"),
        "{out:?}"
    );
    // Ours for X, and the non-conflicting change of theirs merged in.
    assert!(repo.textconv_line("X").contains(" 8 digits "));
    assert!(repo.textconv_line("Y").contains("Their Co"));
    assert_eq!(repo.names(), ["Base", "X", "Y"]);
    let status = repo.git_ok(&["status", "--porcelain", "--untracked-files=no"]);
    assert_eq!(status.stdout, "UU vault.csv.age\n");
    for secret in [OTHER, CANARY, SECRET] {
        assert_eq!(leaked_piece(&out.stderr, secret), None);
        assert_eq!(leaked_piece(&out.stdout, secret), None);
    }
}

#[test]
fn merge_of_a_vault_in_a_subdirectory() {
    let repo = Repo::with_setup_at("team/vault.csv.age");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    repo.add("FromTheirs", CANARY);
    repo.commit_all("theirs adds");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.add("FromOurs", OTHER);
    repo.commit_all("ours adds");
    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_eq!(out.code, 0, "{out:?}");
    let mut names = repo.names();
    names.sort();
    assert_eq!(names, ["Base", "FromOurs", "FromTheirs"]);
}

#[test]
fn a_rename_on_one_side_and_an_edit_on_the_other_merge_into_one_account_in_place() {
    // Regression (issue 14): the rename gave two accounts with the same secret, reported only as
    // "changed differently"; --digits on one side and --period on the other was a conflict.
    let repo = Repo::with_setup();
    repo.add("X", OTHER);
    repo.add("Y", CANARY);
    repo.commit_all("base 2");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    repo.teamotp_ok(&["edit", "Base", "--digits", "8"]);
    repo.teamotp_ok(&["edit", "X", "--period", "60"]);
    repo.commit_all("theirs edits");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.teamotp_ok(&["rename", "Base", "Renamed"]);
    repo.teamotp_ok(&["edit", "X", "--digits", "7"]);
    repo.commit_all("ours renames");

    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        repo.names(),
        ["Renamed", "X", "Y"],
        "the rename stays in place"
    );
    let renamed = repo.textconv_line("Renamed");
    assert!(renamed.contains(" 8 digits "), "{renamed}");
    let x = repo.textconv_line("X");
    assert!(x.contains(" 7 digits ") && x.contains(" 60 s "), "{x}");
}

#[test]
fn the_conflict_hint_gives_a_command_that_shows_their_version() {
    let repo = Repo::with_setup();
    repo.add("X", OTHER);
    repo.commit_all("base 2");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    repo.teamotp_ok(&["edit", "X", "--digits", "7"]);
    repo.commit_all("theirs edits");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.teamotp_ok(&["edit", "X", "--digits", "8"]);
    repo.commit_all("ours edits");
    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_ne!(out.code, 0, "{out:?}");
    let hint = "git show :3:vault.csv.age | teamotp textconv -";
    assert!(out.stderr.contains(hint), "{}", out.stderr);
    let mut shell = repo.command(Path::new("sh"));
    shell.args(["-c", hint]);
    let shown = Repo::output(shell);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(
        shown
            .stdout
            .lines()
            .any(|l| l.starts_with("X ") && l.contains(" 7 digits ")),
        "{shown:?}"
    );
    assert_eq!(leaked_piece(&shown.stdout, OTHER), None);
}

/// Regression (issue 14): git-setup in a clone whose .gitattributes is committed asked to commit it again.
#[test]
fn git_setup_with_committed_attributes_does_not_ask_to_commit_them() {
    let repo = Repo::with_setup();
    let first = repo.teamotp_ok(&["git-setup"]);
    assert!(
        !first.stderr.contains("commit .gitattributes"),
        "{}",
        first.stderr
    );
    // A fresh repository still gets the reminder.
    let fresh = Repo::new();
    let out = fresh.teamotp_ok(&["git-setup"]);
    assert!(
        out.stderr.contains("commit .gitattributes"),
        "{}",
        out.stderr
    );
}

#[test]
fn merge_keeps_a_reenrol_mark_made_on_one_side_and_an_edit_on_the_other() {
    // Issue 13: marks merge on their own, so they never turn an edit on the other side into a conflict.
    let repo = Repo::with_setup();
    repo.add("Kept", CANARY);
    repo.commit_all("base 2");
    repo.git_ok(&["checkout", "-q", "-b", "theirs"]);
    let other = support::age_public("other.key");
    repo.teamotp_ok(&["members", "add", &other, "--name", "Olga"]);
    repo.teamotp_ok(&["members", "rm", "Olga", "--yes"]);
    repo.commit_all("Olga leaves");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.teamotp_ok(&["edit", "Kept", "--issuer", "Kept Co"]);
    repo.commit_all("edit Kept");

    let out = repo.git(&["merge", "--no-edit", "theirs"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(repo.textconv_line("Kept").contains("Kept Co"));
    let check = repo.teamotp(&["check"]);
    assert_eq!(
        check.stdout,
        "re-enrol:\n  'Base': since 2023-11-14, removed: Olga\n  'Kept': since 2023-11-14, removed: Olga\n",
        "{check:?}"
    );
    // Re-enrolling on one branch clears the mark there, and the merge keeps it cleared.
    repo.git_ok(&["checkout", "-q", "-b", "rotated"]);
    repo.teamotp_with(&["rotate", "Kept"], &format!("{OTHER}\n"));
    repo.commit_all("rotate Kept");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.teamotp_ok(&["edit", "Base", "--issuer", "Base Co"]);
    repo.commit_all("edit Base");
    let out = repo.git(&["merge", "--no-edit", "rotated"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        repo.teamotp(&["check"]).stdout,
        "re-enrol:\n  'Base': since 2023-11-14, removed: Olga\n"
    );
}
