//! teamotp: shared TOTP codes for teams.
//!
//! A pure core (secret decoding, parsing, codes, output) and a thin imperative shell (`run`, the vault
//! loader, the TUI loop). Only [`clock::now`] reads the time; everything else takes it as a parameter.

pub mod account;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod demo;
pub mod env;
pub mod error;
pub mod hygiene;
pub mod output;
pub mod secret;
pub mod time;
pub mod totp;
pub mod tty;
pub mod tui;
pub mod vault;

use std::io::{IsTerminal, Write};

use anyhow::Result;

use cli::{Cli, Color, Command, Format};
use env::Env;
use vault::Source;

/// Runs one invocation and returns its exit code (0 success, 1 nothing found). Errors are reported by
/// the caller with [`error::report`] (exit 2).
pub fn run(cli: Cli, env: &Env) -> Result<u8> {
    hygiene::harden();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut out, mut err) = (stdout.lock(), stderr.lock());

    let source = Source::resolve(cli.file.as_deref(), cli.demo, env)?;
    let vault = vault::load::load(&source, &cli.identity, env, &mut err)?;
    let now = cli.at.unwrap_or_else(|| clock::now().as_secs());

    match cli.command {
        None if std::io::stdout().is_terminal() => {
            drop((out, err));
            let options = tui::Options {
                hide: cli.hide,
                color: use_color(cli.color, env),
                at: cli.at,
            };
            tui::run(&vault, env, options)
        }
        None => commands::list(&vault, None, Format::Table, now, &mut out, &mut err),
        Some(Command::List { query, format }) => {
            commands::list(&vault, query.as_deref(), format, now, &mut out, &mut err)
        }
        Some(Command::Code {
            query,
            min_remaining,
        }) => {
            let account = commands::find(&vault, &query)?;
            let (wait, mut code) = commands::code_plan(account, now, min_remaining);
            if wait > 0 && cli.at.is_none() {
                std::thread::sleep(std::time::Duration::from_secs(wait));
                // Read the clock again after sleeping: the code is for the moment it is printed.
                let (_, fresh) = commands::code_plan(account, clock::now().as_secs(), None);
                code = fresh;
            }
            writeln!(out, "{code}")?;
            out.flush()?;
            Ok(0)
        }
        Some(Command::Check) => commands::check(&vault, &mut out, &mut err),
    }
}

/// Colours unless `--color never`, or `--color auto` with `NO_COLOR` set or a dumb terminal.
pub fn use_color(choice: Color, env: &Env) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !env.is_set("NO_COLOR") && env.var("TERM").is_none_or(|t| t != "dumb"),
    }
}
