use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match teamotp::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version, and a bare command group: clap's own output, as it is.
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => return ExitCode::from(teamotp::error::usage(&e, &mut std::io::stderr())),
    };
    let env = teamotp::env::Env::from_process();
    match teamotp::run(cli, &env) {
        Ok(code) => ExitCode::from(code),
        Err(e) if teamotp::error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(teamotp::error::report(&e, &mut std::io::stderr())),
    }
}
