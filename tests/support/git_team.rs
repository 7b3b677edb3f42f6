//! A team working through git, for the team workflow tests (`tests/team_git.rs`, `tests/team_access.rs`):
//! members with their own home, key and clone of one bare repository, the real `git` and teamotp's real
//! drivers (the binary under test is on their PATH).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::{AT, BIN, Out, TIMEOUT, need_program, xdg_env};

pub const VAULT: &str = "vault.csv.age";

/// Public test secrets, one per account a member adds.
pub const SECRETS: [&str; 6] = [
    "JBSWY3DPEHPK3PXP",
    "GEZDGNBVGY3TQOJQ",
    "KRUGS4ZANFZSAYJA",
    "MFRGGZDFMZTWQ2LK",
    "ONSWG4TFOQQGC3TE",
    "NBSWY3DPEB3W64TM",
];

/// The team: a bare repository and the people around it.
pub struct Team {
    root: tempfile::TempDir,
}

/// One person: a home of their own (their key at the default place), a clone, and a public key.
pub struct Member {
    pub name: &'static str,
    pub home: PathBuf,
    pub public: String,
}

impl Team {
    pub fn new() -> Team {
        let team = Team {
            root: tempfile::Builder::new()
                .prefix("teamotp-team-git-")
                .tempdir()
                .unwrap(),
        };
        std::fs::create_dir(team.bin()).unwrap();
        std::os::unix::fs::symlink(BIN, team.bin().join("teamotp")).unwrap();
        let bare = team.root.path().join("origin.git");
        let out = team.run_in(
            team.root.path(),
            team.root.path(),
            Path::new("git"),
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
            "",
        );
        assert_eq!(out.code, 0, "{out:?}");
        team
    }

    pub fn bin(&self) -> PathBuf {
        self.root.path().join("bin")
    }

    pub fn bare(&self) -> PathBuf {
        self.root.path().join("origin.git")
    }

    /// A new person with a key (never a clone yet).
    pub fn person(&self, name: &'static str) -> Member {
        let home = self.root.path().join(name);
        std::fs::create_dir_all(&home).unwrap();
        let member = Member {
            name,
            home,
            public: String::new(),
        };
        let out = self.teamotp(&member, &["keygen"], "");
        assert_eq!(out.code, 0, "keygen for {name}: {out:?}");
        Member {
            public: out.stdout.trim().to_owned(),
            ..member
        }
    }

    pub fn run_in(
        &self,
        home: &Path,
        dir: &Path,
        program: &Path,
        args: &[&str],
        stdin: &str,
    ) -> Out {
        let mut command = git_command(home, &self.bin(), program);
        command
            .current_dir(dir)
            .args(args)
            .write_stdin(stdin.to_owned());
        let output = command.output().unwrap();
        Out {
            code: output.status.code().expect("ended by a signal"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn git(&self, who: &Member, args: &[&str]) -> Out {
        self.run_in(&who.home, &who.work(), Path::new("git"), args, "")
    }

    pub fn git_ok(&self, who: &Member, args: &[&str]) -> Out {
        let out = self.git(who, args);
        assert_eq!(out.code, 0, "{}: git {args:?}: {out:?}", who.name);
        out
    }

    pub fn teamotp(&self, who: &Member, args: &[&str], stdin: &str) -> Out {
        let dir = if who.work().is_dir() {
            who.work()
        } else {
            who.home.clone()
        };
        let mut all = vec!["--at", AT];
        if who.work().is_dir() {
            all.extend(["-f", VAULT]);
        }
        all.extend_from_slice(args);
        self.run_in(&who.home, &dir, Path::new(BIN), &all, stdin)
    }

    pub fn teamotp_ok(&self, who: &Member, args: &[&str], stdin: &str) -> Out {
        let out = self.teamotp(who, args, stdin);
        assert_eq!(out.code, 0, "{}: teamotp {args:?}: {out:?}", who.name);
        out
    }

    /// Alice makes the vault and the repository; Bob and Carol clone it and are added.
    pub fn founded(&self) -> (Member, Member, Member) {
        let alice = self.person("alice");
        let bob = self.person("bob");
        let carol = self.person("carol");
        self.clone_for(&alice);
        self.teamotp_ok(&alice, &["init"], "");
        self.teamotp_ok(&alice, &["git-setup"], "");
        self.add(&alice, "Base", SECRETS[0]);
        self.teamotp_ok(
            &alice,
            &["members", "add", &bob.public, "--name", "bob"],
            "",
        );
        self.teamotp_ok(
            &alice,
            &["members", "add", &carol.public, "--name", "carol"],
            "",
        );
        self.git_ok(&alice, &["add", "-A"]);
        self.git_ok(&alice, &["commit", "-q", "-m", "the team"]);
        self.git_ok(&alice, &["push", "-q", "origin", "main"]);
        for member in [&bob, &carol] {
            self.join(member);
        }
        (alice, bob, carol)
    }

    pub fn clone_for(&self, who: &Member) {
        let out = self.run_in(
            &who.home,
            &who.home,
            Path::new("git"),
            &["clone", "-q", self.bare().to_str().unwrap(), "work"],
            "",
        );
        assert_eq!(out.code, 0, "{out:?}");
        // An empty repository has no branch yet.
        self.git(who, &["checkout", "-q", "-B", "main"]);
    }

    /// A member's first steps in the repository: clone, set up the drivers, accept the members.
    pub fn join(&self, who: &Member) {
        self.clone_for(who);
        self.teamotp_ok(who, &["git-setup"], "");
        self.teamotp_ok(who, &["members", "ack", "--yes"], "");
    }

    pub fn add(&self, who: &Member, name: &str, secret: &str) {
        self.teamotp_ok(who, &["add", name], &format!("{secret}\n"));
    }

    /// `by` adds `who` to the members (labelled with their name) and commits.
    pub fn add_member(&self, by: &Member, who: &Member) {
        self.teamotp_ok(by, &["members", "add", &who.public, "--name", who.name], "");
        self.commit(by, &format!("{} joined", who.name));
    }

    /// `by` removes `who` from the members and commits.
    pub fn remove_member(&self, by: &Member, who: &Member) {
        self.teamotp_ok(by, &["members", "rm", &who.public, "--yes"], "");
        self.commit(by, &format!("{} left", who.name));
    }

    pub fn commit(&self, who: &Member, message: &str) {
        self.git_ok(who, &["add", "-A"]);
        self.git_ok(who, &["commit", "-q", "-m", message]);
    }

    /// The account names of the member's work tree, sorted.
    pub fn names(&self, who: &Member) -> Vec<String> {
        let out = self.teamotp_ok(who, &["list", "--format", "csv"], "");
        let mut names: Vec<String> = out
            .stdout
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// The vault as committed at `rev` in the member's clone.
    pub fn committed(&self, who: &Member, rev: &str) -> Vec<u8> {
        let mut command = std::process::Command::new("git");
        command
            .current_dir(who.work())
            .args(["show", &format!("{rev}:{VAULT}")]);
        let output = command.output().unwrap();
        assert!(output.status.success(), "git show {rev}:{VAULT}");
        output.stdout
    }
}

impl Member {
    pub fn work(&self) -> PathBuf {
        self.home.join("work")
    }

    pub fn key(&self) -> PathBuf {
        self.home.join(".config/teamotp/identity.txt")
    }

    /// Opens `vault` with this member's key through the age crate (not teamotp).
    pub fn opens(&self, vault: &[u8]) -> bool {
        let text = std::fs::read_to_string(self.key()).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .unwrap();
        let identity = age::x25519::Identity::from_str(line).unwrap();
        age::decrypt(&identity, vault).is_ok()
    }
}

/// The recipients file's keys as the work tree holds it, sorted.
pub fn recipients(who: &Member) -> Vec<String> {
    let text = std::fs::read_to_string(who.work().join(".age-recipients")).unwrap();
    let mut keys: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

/// `setsid -w PROGRAM` with a cleared environment: `home` as HOME and every XDG directory, `bin` first on
/// PATH (where the teamotp the git drivers call lives), a fixed git author and committer, no global or
/// system git config. Shared by the git tests (`tests/git.rs`) and the team harness above.
pub fn git_command(home: &Path, bin: &Path, program: &Path) -> assert_cmd::Command {
    let mut path = vec![bin.to_owned()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut command = assert_cmd::Command::new(need_program("setsid"));
    command
        .env_clear()
        .envs(xdg_env(home))
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_EDITOR", "true")
        .arg("-w")
        .arg(program)
        .timeout(TIMEOUT);
    command
}
