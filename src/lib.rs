//! teamotp: shared TOTP codes for teams.
//!
//! A pure core (secret decoding, parsing, codes, output) and a thin imperative shell (`run`, the vault
//! loader, the TUI loop). Only [`clock::now`] reads the time; everything else takes it as a parameter.

pub mod account;
pub mod agent;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod demo;
pub mod env;
pub mod error;
pub mod exchange;
pub mod files;
pub mod git;
pub mod hygiene;
pub mod import;
pub mod output;
pub mod secret;
pub mod team;
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
    // Every message goes through one sink that escapes what a terminal would act on (names, labels and
    // lines from files others write are quoted in them); only the line breaks stay.
    let (mut out, mut err) = (stdout.lock(), output::TerminalText::new(stderr.lock()));

    let source = Source::resolve(cli.file.as_deref(), cli.demo, env)?;
    let now = cli.at.unwrap_or_else(|| clock::now().as_secs());
    let ctx = team::Context {
        source: source.clone(),
        identities: &cli.identity,
        recipients_file: cli.recipients_file.as_deref(),
        env,
        now,
    };
    if let Some(code) = run_agent(&cli, &source, env, &mut out, &mut err) {
        return Ok(code?);
    }
    if let Some(Command::MergeDriver {
        base,
        ours,
        theirs,
        path,
    }) = &cli.command
    {
        return Ok(git::merge_driver(
            &ctx,
            base,
            ours,
            theirs,
            path.as_deref(),
            &mut err,
        )?);
    }
    if let Some(result) = run_team(&ctx, cli.command.as_ref(), &mut out, &mut err) {
        result?;
        return Ok(0);
    }
    let vault = vault::load::load(&source, &cli.identity, env, &mut err)?;

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
            let (wait, mut code) = commands::code_plan(account, now, min_remaining)?;
            if wait > 0 && cli.at.is_none() {
                std::thread::sleep(std::time::Duration::from_secs(wait));
                // Read the clock again after sleeping: the code is for the moment it is printed.
                let (_, fresh) = commands::code_plan(account, clock::now().as_secs(), None)?;
                code = fresh;
            }
            writeln!(out, "{code}")?;
            out.flush()?;
            Ok(0)
        }
        Some(Command::Check) => commands::check(&vault, &mut out, &mut err),
        Some(_) => unreachable!("team commands are handled by run_team"),
    }
}

/// Runs a team-vault command, or returns None for the read-only commands.
fn run_team(
    ctx: &team::Context,
    command: Option<&Command>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Option<Result<(), error::UserError>> {
    let flags = |p: &cli::ParamArgs| vault::document::Changes {
        issuer: p.issuer.clone(),
        digits: p.digits,
        period: p.period,
        algorithm: p.algorithm,
        kind: p.kind,
    };
    Some(match command? {
        Command::Init(args) => team::init(ctx, &new_vault(args), err),
        Command::Encrypt { plaintext, new } => team::encrypt(ctx, plaintext, &new_vault(new), err),
        Command::Add { name, uri, params } => {
            team::add(ctx, name.as_deref(), *uri, &flags(params), err)
        }
        Command::Rm { name, yes } => team::rm(ctx, name, *yes, err),
        Command::Rename { old, new } => team::rename(ctx, old, new, err),
        Command::Edit {
            name,
            params,
            secret,
        } => team::edit(ctx, name, &flags(params), *secret, err),
        Command::Members { action } => match action {
            None | Some(cli::MembersAction::List) => team::members(ctx, out, err),
            Some(cli::MembersAction::Add {
                recipient,
                name,
                force,
            }) => team::members_add(ctx, recipient, name.as_deref(), *force, err),
            Some(cli::MembersAction::Rm { who, yes, force }) => {
                team::members_rm(ctx, who, *yes, *force, err)
            }
            Some(cli::MembersAction::Ack { yes, expect }) => {
                team::members_ack(ctx, *yes, expect.as_deref(), err)
            }
        },
        Command::Rekey { force } => team::rekey(ctx, *force, err),
        Command::Import {
            input,
            format,
            rename,
            replace,
        } => {
            let duplicates = match (rename, replace) {
                (true, _) => exchange::Duplicates::Rename,
                (_, true) => exchange::Duplicates::Replace,
                _ => exchange::Duplicates::Skip,
            };
            exchange::import(ctx, input, *format, duplicates, err)
        }
        Command::Export {
            query,
            format,
            plaintext,
            yes,
        } => exchange::export(ctx, *format, query.as_deref(), *plaintext, *yes, out, err),
        Command::Qr { query } => exchange::qr(ctx, query, err),
        Command::GitSetup => git::setup(ctx, err),
        Command::Textconv { input } => git::textconv(ctx, input, out, err),
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics when its writer fails (a closed pipe).
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "teamotp", &mut script);
            agent::complete::extend(*shell, &mut script);
            error::write_data(out, &script)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            match clap_mangen::Man::new(command).render(&mut page) {
                Ok(()) => error::write_data(out, &page),
                Err(e) => Err(error::UserError::new(format!(
                    "cannot render the manual: {e}"
                ))),
            }
        }
        Command::Unlock { .. }
        | Command::Lock
        | Command::Agent { .. }
        | Command::CompleteNames
        | Command::MergeDriver { .. }
        | Command::List { .. }
        | Command::Code { .. }
        | Command::Check => return None,
    })
}

/// Runs an agent command (`unlock`, `lock`, `agent`, the completion helper), or returns None.
fn run_agent(
    cli: &Cli,
    source: &Source,
    env: &Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Option<Result<u8, error::UserError>> {
    #[cfg(unix)]
    return Some(match cli.command.as_ref()? {
        Command::Unlock { timeout } => {
            agent::unlock::unlock(source, &cli.identity, env, *timeout, err)
        }
        Command::Lock => agent::unlock::lock(env, err),
        Command::Agent {
            action: Some(cli::AgentAction::Status),
            ..
        } => agent::unlock::status(env, out, err),
        Command::Agent { background, .. } => agent::server::run(env, *background, err),
        Command::CompleteNames => Ok(agent::unlock::complete_names(
            source,
            &cli.identity,
            env,
            out,
        )),
        _ => return None,
    });
    #[cfg(not(unix))]
    match cli.command.as_ref()? {
        Command::Unlock { .. } | Command::Lock | Command::Agent { .. } => {
            Some(Err(agent::unsupported()))
        }
        Command::CompleteNames => Some(Ok(1)),
        _ => None,
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

fn new_vault(args: &cli::NewVaultArgs) -> team::NewVault<'_> {
    team::NewVault {
        recipients: &args.recipients,
        recipient_files: &args.recipient_files,
        passphrase: args.passphrase,
        force: args.force,
        yes: args.yes,
    }
}
