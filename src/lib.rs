//! teamotp: shared TOTP codes for teams.
//!
//! A pure core (secret decoding, parsing, codes, output) and a thin imperative shell (`run` and its one
//! dispatch, the commands in `commands/`, the vault loader, the TUI loop). Only [`time::now`] reads the
//! time; everything else takes it as a parameter. docs/architecture.md maps the modules.

pub mod account;
pub mod age;
pub mod agent;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod env;
pub mod error;
pub mod files;
pub mod git;
pub mod hygiene;
pub mod import;
pub mod output;
pub mod secret;
pub mod text;
pub mod time;
pub mod totp;
pub mod trust;
pub mod tty;
pub mod tui;
pub mod vault;

use std::io::{IsTerminal, Write};

use anyhow::Result;

use cli::{Cli, Color, Command, MembersAction};
use commands::{access, open};
use config::Config;
use dispatch::Shell;
use env::Env;
use error::UserError;
use vault::Source;
use vault::select::{self, Chosen};
use vault::transaction::Context;

/// Runs one invocation and returns its exit code (0 success, 1 nothing found). Errors are reported by
/// the caller with [`error::report`] (exit 2).
pub fn run(cli: Cli, env: &Env) -> Result<u8> {
    hygiene::harden();
    crate::age::plugin::configure(env);
    let now = cli.at.unwrap_or_else(|| time::now().as_secs());
    #[cfg(unix)]
    suggest_unlock(&cli, env);
    // Every message goes through one sink that escapes what a terminal would act on (names, labels and
    // lines from files others write are quoted in them); only the line breaks stay.
    let mut out = std::io::stdout().lock();
    let mut err = text::TerminalText::new(std::io::stderr().lock());
    let config = match needs_vault(&cli) && !cli.demo {
        true => config::load(env)?,
        false => None,
    };
    let (vault_name, query) = vault_in_query(&cli, config.as_ref());
    if let Some(code) = across_vaults(&cli, config.as_ref(), env, now, &mut out, &mut err)? {
        return Ok(code);
    }
    let chosen = choose(&cli, vault_name.as_deref(), config.as_ref(), env, &mut err)?;
    let identities: Vec<std::path::PathBuf> = cli
        .identity
        .iter()
        .chain(&chosen[0].identity)
        .cloned()
        .collect();
    let ctx = Context {
        source: chosen[0].source.clone(),
        identities: &identities,
        recipients_file: cli.recipients_file.as_deref(),
        env,
        now,
    };
    if cli.command.is_none() && std::io::stdout().is_terminal() {
        let vaults = open::tui_vaults(&chosen, &cli.identity, env, &mut err)?;
        drop((out, err));
        let options = tui::Options {
            hide: cli.hide || config.as_ref().is_some_and(|c| c.hide),
            color: use_color(cli.color, env),
            at: cli.at,
        };
        return tui::run(vaults, env, options);
    }
    let shell = Shell {
        chosen: &chosen,
        identity: &cli.identity,
        ctx: &ctx,
        config: config.as_ref(),
        at: cli.at,
    };
    dispatch::dispatch(cli.command, query, &shell, &mut out, &mut err)
}

/// A passphrase typed with no agent running is followed by one line suggesting `teamotp unlock`.
#[cfg(unix)]
fn suggest_unlock(cli: &Cli, env: &Env) {
    let agent_command = matches!(
        cli.command,
        Some(Command::Unlock { .. } | Command::Agent { .. } | Command::Lock)
    );
    if !agent::disabled(env) && !agent_command {
        tty::suggest_unlock_with(agent::socket_path(env));
    }
}

/// False for the commands that name their files themselves (git runs the drivers in a work tree that
/// may hold several vaults) or need none: no config, no discovery.
fn needs_vault(cli: &Cli) -> bool {
    !matches!(
        cli.command,
        Some(
            Command::Completions { .. }
                | Command::Man { .. }
                | Command::Textconv { .. }
                | Command::MergeDriver { .. }
                | Command::MergeRecipients { .. }
        )
    )
}

/// The vault named by `--vault`, and the query of `list`/`code`. `code infra/aws`: a query whose first
/// part is a configured vault's name picks that vault (unless `-f` or `--vault` chose one).
fn vault_in_query(cli: &Cli, config: Option<&Config>) -> (Option<String>, Option<String>) {
    let query = match &cli.command {
        Some(Command::List { query, .. }) => query.clone(),
        Some(Command::Code { query, .. }) => Some(query.clone()),
        _ => None,
    };
    if cli.file.is_none()
        && cli.vault.is_none()
        && let Some((vault, rest)) = query.as_deref().and_then(|q| q.split_once('/'))
        && config.is_some_and(|c| c.vault(vault).is_some())
        && !rest.is_empty()
    {
        return (Some(vault.to_owned()), Some(rest.to_owned()));
    }
    (cli.vault.clone(), query)
}

/// The commands over every configured vault (and this folder's), which choose no vault: `access`, and
/// `members rm --all`. None for every other command.
fn across_vaults(
    cli: &Cli,
    config: Option<&Config>,
    env: &Env,
    now: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Option<u8>> {
    Ok(match &cli.command {
        Some(Command::Access { who }) => {
            let places = open::every_vault(config, cli.file.as_deref(), env, err)?;
            Some(access::access(&places, who, env, out, err)?)
        }
        Some(Command::Members {
            action: Some(MembersAction::Rm { who, yes, force }),
        }) if cli.all => {
            let places = open::configured(config);
            let (yes, force) = (*yes, *force);
            Some(access::members_rm_all(
                &places,
                who,
                yes,
                force,
                &cli.identity,
                env,
                now,
                out,
                err,
            )?)
        }
        _ => None,
    })
}

/// The vault (or vaults) the command uses: see [`select::choose`]. The commands that need none get the
/// file they were given (or the demo vault).
fn choose(
    cli: &Cli,
    vault_name: Option<&str>,
    config: Option<&Config>,
    env: &Env,
    err: &mut dyn Write,
) -> Result<Vec<Chosen>, UserError> {
    if !needs_vault(cli) {
        return Ok(vec![Chosen {
            name: String::new(),
            source: Source::resolve(cli.file.as_deref(), cli.demo, env)?,
            identity: Vec::new(),
            how: select::How::File,
        }]);
    }
    let read = matches!(
        cli.command,
        None | Some(
            Command::List { .. }
                | Command::Code { .. }
                | Command::Check { .. }
                | Command::Audit { .. }
        )
    );
    let request = select::Request {
        file: cli.file.as_deref(),
        vault: vault_name,
        all: cli.all,
        demo: cli.demo,
        read,
    };
    let chosen = select::choose(request, config, env, err)?;
    if chosen.len() > 1 && cli.recipients_file.is_some() {
        return Err(UserError::new(
            "--recipients-file names the recipients of one vault, and several are shown",
        )
        .hint("choose the vault with --vault NAME or -f/--file PATH"));
    }
    Ok(chosen)
}

/// Colours unless `--color never`, or `--color auto` with `NO_COLOR` set or a dumb terminal.
pub fn use_color(choice: Color, env: &Env) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !env.is_set("NO_COLOR") && env.var("TERM").is_none_or(|t| t != "dumb"),
    }
}
