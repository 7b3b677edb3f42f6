//! Shared helpers for the binary-level tests (interop.rs, pty_passphrase.rs): private copies of the age
//! fixtures and a clean environment for every run. Not every test file uses every helper.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// The fixed time every test computes codes at.
pub const AT: &str = "1700000000";

/// The teamotp binary built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_teamotp");

/// `tests/fixtures/age/` in the source tree.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/age")
}

/// `src/demo/` in the source tree.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo")
}

/// A temporary directory holding a copy of every age fixture (mode 0600, as git does not keep it) and an
/// empty home directory.
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox { dir };
        std::fs::create_dir(sandbox.home()).unwrap();
        std::fs::create_dir(sandbox.fixtures()).unwrap();
        for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                let to = sandbox.fixtures().join(entry.file_name());
                std::fs::copy(entry.path(), &to).unwrap();
                private(&to);
            }
        }
        sandbox
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `$HOME` for the runs: an empty directory.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Where the fixture copies are.
    pub fn fixtures(&self) -> PathBuf {
        self.dir.path().join("fixtures")
    }

    /// The private copy of fixture `name`.
    pub fn fixture(&self, name: &str) -> PathBuf {
        self.fixtures().join(name)
    }

    /// Copies `from` to `to` (creating parent directories) with mode 0600.
    pub fn install(&self, from: &Path, to: &Path) {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
        private(to);
    }
}

/// chmod 600.
pub fn private(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A `std::process::Command` for the binary with an empty environment except `HOME` (and `extra`).
pub fn std_command(home: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(BIN);
    command.env_clear().env("HOME", home);
    command
}

/// The CSV `list` output for a plaintext vault at [`AT`] (no terminal involved).
pub fn plaintext_csv(sandbox: &Sandbox, vault: &Path) -> String {
    let output = std_command(&sandbox.home())
        .args(["--at", AT, "-f"])
        .arg(vault)
        .args(["list", "--format", "csv"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}
