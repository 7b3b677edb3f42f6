use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = teamotp::cli::Cli::parse();
    let env = teamotp::env::Env::from_process();
    match teamotp::run(cli, &env) {
        Ok(code) => ExitCode::from(code),
        Err(e) if teamotp::error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(teamotp::error::report(&e, &mut std::io::stderr())),
    }
}
