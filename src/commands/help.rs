//! `completions` and `man`: the command line described for shells and for man(1). The clap command is
//! passed in, so this module needs nothing from `cli`.

use std::io::Write;

use crate::error::{self, UserError};

/// `teamotp completions SHELL`: the completion script on `out`.
pub fn completions(
    shell: clap_complete::Shell,
    mut command: clap::Command,
    out: &mut dyn Write,
) -> Result<(), UserError> {
    // Generated into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "teamotp", &mut script);
    // Account names for code, rm, rename, edit, qr and list, through the agent (never a prompt).
    crate::agent::complete::extend(shell, &mut script);
    error::write_data(out, &script)
}

/// `teamotp man`: the manual page (roff) on `out`.
pub fn man(command: clap::Command, out: &mut dyn Write) -> Result<(), UserError> {
    let mut page = Vec::new();
    match clap_mangen::Man::new(command).render(&mut page) {
        Ok(()) => error::write_data(out, &page),
        Err(e) => Err(UserError::new(format!("cannot render the manual: {e}"))),
    }
}
