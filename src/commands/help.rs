//! `completions` and `man`: the command line described for shells and for man(1). The clap command is
//! passed in, so this module needs nothing from `cli`.

use std::io::Write;
use std::path::Path;

use crate::error::{self, UserError};

/// `teamotp completions SHELL`: the completion script on `out`.
pub fn completions(
    shell: clap_complete::Shell,
    mut command: clap::Command,
    out: &mut dyn Write,
) -> Result<(), UserError> {
    // Generated into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    command.build();
    let mut command = without_hidden(&command);
    clap_complete::generate(shell, &mut command, "teamotp", &mut script);
    // Account names for code, rm, rename, edit, qr and list, through the agent (never a prompt).
    crate::commands::complete::extend(shell, &mut script);
    error::write_data(out, &script)
}

/// A copy of the (built) command without its hidden commands (`clip-helper`, `__complete-names`):
/// clap_complete offers hidden commands, and a shell must never complete to an internal command.
fn without_hidden(command: &clap::Command) -> clap::Command {
    let mut copy = clap::Command::new(command.get_name().to_owned())
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args(command.get_arguments().cloned())
        .subcommands(
            command
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(without_hidden),
        );
    if let Some(about) = command.get_about() {
        copy = copy.about(about.clone());
    }
    if let Some(version) = command.get_version() {
        copy = copy.version(version.to_owned());
    }
    copy
}

/// Where the Debian package installs docs/*.md: the man pages name the documents there, since a page
/// cannot point into a source tree the reader does not have.
pub const DOC_DIR: &str = "/usr/share/doc/teamotp/";

/// `teamotp man [--out-dir DIR]`: the manual page (roff) on `out`; with `DIR`, `teamotp.1` and one page
/// for every command that is not hidden (`teamotp-code.1`, `teamotp-members-add.1`, ...) written there,
/// their paths on `out`.
pub fn man(
    command: clap::Command,
    out_dir: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), UserError> {
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let Some(dir) = out_dir else {
        return error::write_data(out, &page(command)?);
    };
    let mut written = String::new();
    for (name, page) in pages(command)? {
        let path = dir.join(&name);
        std::fs::write(&path, &page)
            .map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))?;
        written.push_str(&format!("{}\n", path.display()));
    }
    error::write_data(out, written.as_bytes())
}

/// The page of `command` and of each of its commands, depth first, with their file names.
fn pages(command: clap::Command) -> Result<Vec<(String, Vec<u8>)>, UserError> {
    let mut all = Vec::new();
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        all.extend(pages(sub.clone())?);
    }
    let name = format!(
        "{}.1",
        command.get_display_name().unwrap_or(command.get_name())
    );
    all.push((name, page(command)?));
    Ok(all)
}

/// One rendered page, its references to docs/NAME.md pointing where the package installs them.
fn page(command: clap::Command) -> Result<Vec<u8>, UserError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| UserError::new(format!("cannot render the manual: {e}")))?;
    let text = String::from_utf8_lossy(&page).replace("docs/", DOC_DIR);
    Ok(text.into_bytes())
}
