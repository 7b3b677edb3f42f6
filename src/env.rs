//! The environment as a value, so tests (and the library) never read the real home directory by accident.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// A snapshot of the environment variables teamotp reads, and which platform's conventions apply to them.
///
/// On Windows the home is `%USERPROFILE%` (then `HOME`), configuration lives in `%APPDATA%` and state
/// (pins) in `%LOCALAPPDATA%`, as the `dirs` and `etcetera` crates do; elsewhere `$HOME` and the XDG
/// directories.
#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<String, OsString>,
    /// The current directory, where a vault is discovered (`None`: no discovery).
    cwd: Option<PathBuf>,
    windows: bool,
}

// Not derived: `windows` is `true` by default on Windows.
#[allow(clippy::derivable_impls)]
impl Default for Env {
    fn default() -> Self {
        Env {
            vars: HashMap::new(),
            cwd: None,
            windows: cfg!(windows),
        }
    }
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
            cwd: std::env::current_dir().ok(),
            windows: cfg!(windows),
        }
    }

    /// The same variables read with Windows' conventions (`true`) or Unix's (for tests of either on any
    /// platform).
    pub fn with_windows(mut self, windows: bool) -> Self {
        self.windows = windows;
        self
    }

    /// An environment made of the given pairs (for tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), OsString::from(v)))
                .collect(),
            cwd: None,
            windows: cfg!(windows),
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

    pub fn var(&self, name: &str) -> Option<OsString> {
        self.vars.get(name).cloned()
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.vars.get(name).is_some_and(|v| !v.is_empty())
    }

    /// `$HOME`; on Windows `%USERPROFILE%`, else `HOME` (set by Git Bash and MSYS2).
    pub fn home(&self) -> Option<PathBuf> {
        if self.windows {
            return self
                .non_empty("USERPROFILE")
                .or_else(|| self.non_empty("HOME"));
        }
        self.non_empty("HOME")
    }

    /// `$XDG_CONFIG_HOME` when absolute, else `~/.config`; on Windows `%APPDATA%` (roaming).
    pub fn config_dir(&self) -> Option<PathBuf> {
        if self.windows {
            return self.non_empty("APPDATA");
        }
        self.absolute("XDG_CONFIG_HOME")
            .or_else(|| Some(self.home()?.join(".config")))
    }

    /// `$XDG_STATE_HOME` when absolute, else `~/.local/state`; on Windows `%LOCALAPPDATA%` (this machine
    /// only: pins record what this machine has accepted).
    pub fn state_dir(&self) -> Option<PathBuf> {
        if self.windows {
            return self.non_empty("LOCALAPPDATA");
        }
        self.absolute("XDG_STATE_HOME")
            .or_else(|| Some(self.home()?.join(".local").join("state")))
    }

    /// The name of the user, for lock files: `$USER` or `$LOGNAME`; on Windows `%USERNAME%`.
    pub fn user(&self) -> Option<String> {
        let names: &[&str] = if self.windows {
            &["USERNAME", "USER"]
        } else {
            &["USER", "LOGNAME"]
        };
        names
            .iter()
            .find_map(|name| self.non_empty(name))
            .map(|v| v.to_string_lossy().into_owned())
    }

    fn non_empty(&self, name: &str) -> Option<PathBuf> {
        self.var(name).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    fn absolute(&self, name: &str) -> Option<PathBuf> {
        self.var(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_uses_the_profile_appdata_and_localappdata() {
        let env = Env::from_pairs([
            ("USERPROFILE", r"C:\Users\ann"),
            ("APPDATA", r"C:\Users\ann\AppData\Roaming"),
            ("LOCALAPPDATA", r"C:\Users\ann\AppData\Local"),
            ("HOME", "/home/ann"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("USERNAME", "ann"),
        ])
        .with_windows(true);
        assert_eq!(env.home().unwrap(), PathBuf::from(r"C:\Users\ann"));
        assert_eq!(
            env.config_dir().unwrap(),
            PathBuf::from(r"C:\Users\ann\AppData\Roaming")
        );
        assert_eq!(
            env.state_dir().unwrap(),
            PathBuf::from(r"C:\Users\ann\AppData\Local")
        );
        assert_eq!(env.user().as_deref(), Some("ann"));
    }

    #[test]
    fn windows_falls_back_to_home_for_the_profile_only() {
        let env = Env::from_pairs([("HOME", "/c/Users/ann")]).with_windows(true);
        assert_eq!(env.home().unwrap(), PathBuf::from("/c/Users/ann"));
        assert_eq!(env.config_dir(), None, "no APPDATA: no guess");
    }

    #[test]
    fn unix_keeps_home_and_xdg() {
        let env = Env::from_pairs([("HOME", "/home/ann"), ("APPDATA", "/nope"), ("USER", "ann")])
            .with_windows(false);
        assert_eq!(
            env.config_dir().unwrap(),
            PathBuf::from("/home/ann/.config")
        );
        assert_eq!(
            env.state_dir().unwrap(),
            PathBuf::from("/home/ann/.local/state")
        );
        assert_eq!(env.user().as_deref(), Some("ann"));
    }
}
