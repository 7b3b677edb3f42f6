//! The `git` on PATH, run as a child process: git-setup, the merge drivers' finishing step, the check for
//! committed links before a write, history reads for `access` and `audit` (whose `cat-file --batch`
//! streams, in `vault::history`). Never on the read path of a vault.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::UserError;

/// `git -C DIR ARGS...`: its stdout, or an error with git's own message.
pub fn output(dir: &Path, args: &[&str]) -> Result<Vec<u8>, UserError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| UserError::new(format!("cannot run git: {e}")).hint("install git"))?;
    if !output.status.success() {
        return Err(UserError::new(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

/// [`output`] as text (lossy UTF-8).
pub fn text(dir: &Path, args: &[&str]) -> Result<String, UserError> {
    output(dir, args).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}
