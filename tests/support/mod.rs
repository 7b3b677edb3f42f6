//! Shared test support (as ripgrep's `tests/util.rs`): a sandbox directory with its own `HOME` and private
//! key copies, a command builder for the real binary with a cleared environment, and the user-visible
//! result of a run. A test reads as: make a sandbox, run a command, assert on stdout, stderr and exit code.
//!
//! Every test binary that says `mod support;` compiles this file; not every binary uses every helper.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_teamotp");
/// Go-age-made fixtures and keys (see `tests/fixtures/age/make.sh`).
pub const AGE_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/age");
/// Every listing is computed at this fixed time.
pub const AT: &str = "1700000000";
/// A hang (a prompt nobody answers) fails the test instead of blocking it.
pub const TIMEOUT: Duration = Duration::from_secs(120);
/// The age key fixtures every sandbox gets a private (0600) copy of, under `keys/`.
pub const KEYS: [&str; 6] = [
    "x25519.key",
    "other.key",
    "id_ed25519",
    "id_ed25519.pub",
    "id_rsa",
    "id_rsa.pub",
];

/// What a user sees: exit code, stdout and stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn new(code: i32, stdout: &str, stderr: &str) -> Out {
        Out {
            code,
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        }
    }

    /// Panics with the whole output unless the run exited with `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32, what: &str) -> Out {
        assert_eq!(
            self.code, code,
            "{what}: exit {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs a command to completion with `stdin`, under [`TIMEOUT`].
pub fn execute(command: StdCommand, stdin: &[u8]) -> Out {
    let output = Command::from_std(command)
        .timeout(TIMEOUT)
        .write_stdin(stdin.to_vec())
        .output()
        .expect("the command runs");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A program on the test's own PATH (the runs themselves get no PATH).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `setsid` from util-linux: runs teamotp with no controlling terminal.
pub fn setsid() -> PathBuf {
    find_program("setsid")
        .expect("setsid (util-linux) is needed to run teamotp without a controlling terminal")
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The public key of an age identity fixture (from its `# public key:` line).
pub fn age_public(file: &str) -> String {
    let text = fs::read_to_string(Path::new(AGE_FIXTURES).join(file)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("a public key line")
        .to_owned()
}

/// `TYPE BODY` of an SSH public key fixture (without its comment), and its comment.
pub fn ssh_public(file: &str) -> (String, String) {
    let text = fs::read_to_string(Path::new(AGE_FIXTURES).join(file)).unwrap();
    let words: Vec<&str> = text.split_whitespace().collect();
    (format!("{} {}", words[0], words[1]), words[2..].join(" "))
}

/// A temporary directory that is the working directory of every run: `home/` is `HOME` (so pins live in
/// `home/.local/state`), `keys/` holds private copies of the key fixtures.
pub struct Sandbox {
    dir: TempDir,
    /// Extra environment for every run.
    pub env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new(prefix: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("a temporary directory");
        let sandbox = Sandbox {
            dir,
            env: Vec::new(),
        };
        fs::create_dir(sandbox.home()).unwrap();
        for name in KEYS {
            sandbox.copy_fixture(name, &format!("keys/{name}"));
        }
        sandbox
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Copies `tests/fixtures/age/NAME` to `rel` (parents created), mode 0600.
    pub fn copy_fixture(&self, name: &str, rel: &str) -> PathBuf {
        let to = self.path(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(Path::new(AGE_FIXTURES).join(name), &to)
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
        set_mode(&to, 0o600);
        to
    }

    /// Writes `rel` (parents created).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// `teamotp ARGS...` in the sandbox: cleared environment (no PATH), `HOME`, the sandbox's extra
    /// environment, the sandbox as working directory.
    pub fn command<I, S>(&self, args: I) -> StdCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = StdCommand::new(BIN);
        cmd.env_clear()
            .env("HOME", self.home())
            .current_dir(self.root())
            .args(args);
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        cmd
    }

    /// The same command, run with no controlling terminal (`setsid`) so nothing can prompt.
    pub fn detached<I, S>(&self, args: I) -> StdCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let inner = self.command(args);
        let mut cmd = StdCommand::new(setsid());
        cmd.env_clear()
            .current_dir(self.root())
            .arg(inner.get_program())
            .args(inner.get_args());
        for (name, value) in inner.get_envs() {
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
        cmd
    }

    /// Runs `teamotp ARGS...` with no terminal and `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Out {
        execute(self.detached(args), stdin.as_bytes())
    }

    /// Runs a command that must succeed; returns its output.
    #[track_caller]
    pub fn ok(&self, args: &[&str], stdin: &str) -> Out {
        let out = self.run(args, stdin);
        assert_eq!(
            out.code, 0,
            "teamotp {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        out
    }
}

// -------------------------------------------------------------------------------------------------------
// git (issue 9, tests/adversary/history.rs): a sandbox whose runs can use git and git's teamotp drivers.
// -------------------------------------------------------------------------------------------------------

/// A sandbox with a git repository at `repo/` (branch main). Every run (teamotp and git) gets a `PATH`
/// whose first directory, `bin/`, holds a `teamotp` link to the binary under test (git's diff and merge
/// drivers run `teamotp` from PATH), then the test's own PATH (for git); git's global and system
/// configuration are off and the author and committer are fixed.
pub fn git_sandbox(prefix: &str) -> Sandbox {
    let mut sandbox = Sandbox::new(prefix);
    let bin = sandbox.path("bin");
    fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("teamotp")).unwrap();
    let mut path = vec![bin];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).unwrap();
    for (name, value) in [
        ("PATH", path.to_str().expect("a UTF-8 PATH")),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_AUTHOR_NAME", "Test Author"),
        ("GIT_AUTHOR_EMAIL", "author@example.com"),
        ("GIT_COMMITTER_NAME", "Test Committer"),
        ("GIT_COMMITTER_EMAIL", "committer@example.com"),
    ] {
        sandbox.env.push((name.to_owned(), value.to_owned()));
    }
    fs::create_dir(sandbox.path("repo")).unwrap();
    sandbox.git_ok(&["init", "-q", "-b", "main"]);
    sandbox
}

impl Sandbox {
    /// `git -C repo ARGS...` with the sandbox's environment and no terminal.
    pub fn git(&self, args: &[&str]) -> Out {
        let mut cmd = StdCommand::new(setsid());
        cmd.env_clear()
            .env("HOME", self.home())
            .current_dir(self.root())
            .args(["-w", "git", "-C", "repo"])
            .args(args);
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        execute(cmd, b"")
    }

    #[track_caller]
    pub fn git_ok(&self, args: &[&str]) -> Out {
        let out = self.git(args);
        assert_eq!(out.code, 0, "git {args:?}: {out:?}");
        out
    }
}
