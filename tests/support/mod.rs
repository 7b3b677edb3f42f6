//! Shared test support (as ripgrep's `tests/util.rs`): a sandbox directory with its own `HOME` and private
//! key copies, a command builder for the real binary with a cleared environment, and the user-visible
//! result of a run. A test reads as: make a sandbox, run a command, assert on stdout, stderr and exit code.
//!
//! Every test binary that says `mod support;` compiles this file; not every binary uses every helper.
//! Where a file's sandbox really behaves differently (its own vault layout, environment or way to run),
//! the file keeps a thin wrapper `struct Sandbox(support::Sandbox)` ([`sandbox_wrapper!`]) with only
//! that difference. Helpers of one family of test files live in a submodule:
//! - [`team`]: the team-vault tests (`team_*.rs`): messages, keys, `setsid -w teamotp --at AT` runs,
//!   checks with the `age` crate and the Go `age` CLI;
//! - [`hygiene`]: the secret-hygiene tests (`hygiene_*.rs`): canaries, the leak check, runs, keys;
//! - [`pty`]: a program on a pseudo-terminal with its screen parsed (exchange, hygiene, tui_pty, and
//!   the echo-off wait of the passphrase tests);
//! - [`tui`]: the in-process TUI tests (a fixed time, a clipboard that holds nothing, key presses).
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

/// `Deref` (and `DerefMut`) to the shared [`Sandbox`] for a test file's thin wrapper `struct NAME(Sandbox)`,
/// so the wrapper adds only what differs.
macro_rules! sandbox_wrapper {
    ($name:ident) => {
        impl std::ops::Deref for $name {
            type Target = $crate::support::Sandbox;

            fn deref(&self) -> &$crate::support::Sandbox {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $crate::support::Sandbox {
                &mut self.0
            }
        }
    };
}
pub(crate) use sandbox_wrapper;

pub mod git_team;
pub mod hygiene;
pub mod pty;
pub mod team;
pub mod tui;

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

/// Lower case, in groups of four separated by spaces: how people paste secrets.
pub fn spaced_lower(canonical: &str) -> String {
    canonical
        .to_ascii_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shorthand for [`Out::new`], for expected values.
pub fn out(code: i32, stdout: &str, stderr: &str) -> Out {
    Out::new(code, stdout, stderr)
}

/// Runs an `assert_cmd` command (its own timeout, stdin and environment set by the caller).
pub fn run(cmd: &mut Command) -> Out {
    let output = cmd.output().expect("the command runs");
    Out {
        // A process killed by the timeout has no exit code.
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
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

/// `tests/interop-pq` when typage (npm `age-encryption`) and node can run there; `None`, with the
/// reason printed, otherwise (CI installs both: `npm ci` in `.ci/run`).
pub fn typage_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop-pq");
    if !dir.join("node_modules/age-encryption").exists() {
        eprintln!(
            "skipped: tests/interop-pq/node_modules is missing (cd tests/interop-pq && npm ci)"
        );
        return None;
    }
    if StdCommand::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: node is not on PATH");
        return None;
    }
    Some(dir)
}

/// `HOME` and every `XDG_*` directory teamotp might read, all inside `home`.
pub fn xdg_env(home: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("XDG_CONFIG_HOME", home.join(".config")),
        ("XDG_STATE_HOME", home.join(".local/state")),
        ("XDG_DATA_HOME", home.join(".local/share")),
        ("XDG_CACHE_HOME", home.join(".cache")),
        ("HOME", home.to_owned()),
    ]
}

/// A program on the test's own PATH that the test cannot do without.
pub fn need_program(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| panic!("{name} is needed on PATH for these tests"))
}

/// `setsid` from util-linux: runs teamotp with no controlling terminal.
pub fn setsid() -> PathBuf {
    find_program("setsid")
        .expect("setsid (util-linux) is needed to run teamotp without a controlling terminal")
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Owned copies of `items`.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// `src/demo/` in the source tree.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo")
}

/// A `std::process::Command` for the binary with an empty environment except `HOME`.
pub fn std_command(home: &Path) -> StdCommand {
    let mut command = StdCommand::new(BIN);
    command.env_clear().env("HOME", home);
    command
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
    pub env: Vec<(String, OsString)>,
}

impl Sandbox {
    /// A sandbox with private copies of the [`KEYS`] under `keys/`.
    pub fn new(prefix: &str) -> Sandbox {
        let sandbox = Sandbox::empty(prefix);
        for name in KEYS {
            sandbox.copy_fixture(name, &format!("keys/{name}"));
        }
        sandbox
    }

    /// A sandbox with only an empty `home/`.
    pub fn empty(prefix: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("a temporary directory");
        let sandbox = Sandbox {
            dir,
            env: Vec::new(),
        };
        fs::create_dir(sandbox.home()).unwrap();
        sandbox
    }

    /// Builder: a private (0600) copy of every file of `tests/fixtures/age` under `fixtures/` (see
    /// [`Sandbox::fixture`]).
    pub fn with_fixtures(self) -> Sandbox {
        fs::create_dir(self.path("fixtures")).unwrap();
        for entry in fs::read_dir(AGE_FIXTURES).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                let name = entry.file_name();
                self.copy_fixture(
                    &name.to_string_lossy(),
                    &format!("fixtures/{}", name.to_string_lossy()),
                );
            }
        }
        self
    }

    /// Builder: `NAME=VALUE` in the environment of every run.
    pub fn with_env(mut self, name: &str, value: impl Into<OsString>) -> Sandbox {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The private copy of age fixture `name` made by [`Sandbox::with_fixtures`].
    pub fn fixture(&self, name: &str) -> PathBuf {
        self.path("fixtures").join(name)
    }

    /// Copies `from` to `to` (parents created) with mode 0600.
    pub fn install(&self, from: &Path, to: &Path) {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
        set_mode(to, 0o600);
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

    pub fn bytes(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Names in a directory of the sandbox, sorted (temporary files would show here).
    pub fn names(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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

/// The stdout of `teamotp ARGS list --format csv` with `HOME` at `home` (no terminal involved), which
/// must succeed.
pub fn list_csv<I, S>(home: &Path, args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = std_command(home)
        .args(args)
        .args(["list", "--format", "csv"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

/// The CSV `list` output for a plaintext vault at [`AT`] (no terminal involved).
pub fn plaintext_csv(sandbox: &Sandbox, vault: &Path) -> String {
    let args: [&OsStr; 4] = [
        "--at".as_ref(),
        AT.as_ref(),
        "-f".as_ref(),
        vault.as_os_str(),
    ];
    String::from_utf8(list_csv(&sandbox.home(), args)).unwrap()
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
        sandbox.env.push((name.into(), value.into()));
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
