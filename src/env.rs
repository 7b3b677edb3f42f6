//! The environment as a value, so tests (and the library) never read the real home directory by accident.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// A snapshot of the environment variables teamotp reads.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, OsString>,
    /// The current directory, where a vault is discovered (`None`: no discovery).
    cwd: Option<PathBuf>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
            cwd: std::env::current_dir().ok(),
        }
    }

    /// An environment made of the given pairs (for tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), OsString::from(v)))
                .collect(),
            cwd: None,
        }
    }

    /// The same environment, with `dir` as the current directory (for tests of discovery).
    pub fn with_cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The current directory, if known.
    pub fn cwd(&self) -> Option<&std::path::Path> {
        self.cwd.as_deref()
    }

    /// `$XDG_CONFIG_HOME/teamotp/config.toml` (or `~/.config/teamotp/config.toml`).
    pub fn config_file(&self) -> Option<PathBuf> {
        Some(
            self.config_dir()?
                .join("teamotp")
                .join(crate::config::FILE_NAME),
        )
    }

    pub fn var(&self, name: &str) -> Option<OsString> {
        self.vars.get(name).cloned()
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.vars.get(name).is_some_and(|v| !v.is_empty())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.var("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }

    /// `$XDG_CONFIG_HOME` when absolute, else `~/.config`.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.absolute("XDG_CONFIG_HOME")
            .or_else(|| Some(self.home()?.join(".config")))
    }

    /// `$XDG_STATE_HOME` when absolute, else `~/.local/state`.
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.absolute("XDG_STATE_HOME")
            .or_else(|| Some(self.home()?.join(".local").join("state")))
    }

    fn absolute(&self, name: &str) -> Option<PathBuf> {
        self.var(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    }
}
