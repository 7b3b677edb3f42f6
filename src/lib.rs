//! teamotp: shared TOTP codes for teams.
//!
//! A pure core (secret decoding, parsing, codes, output) and a thin imperative shell (`run` and its one
//! dispatch, the commands in `commands/`, the vault loader, the TUI loop). Only [`time::now`] reads the time; everything else takes it as a parameter.

pub mod account;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod env;
pub mod error;
pub mod files;
pub mod hygiene;
pub mod import;
pub mod output;
pub mod secret;
pub mod time;
pub mod totp;
pub mod tty;
pub mod tui;
pub mod vault;

use std::io::{IsTerminal, Write};

use anyhow::Result;
use clap::CommandFactory;

use cli::{Cli, Color, Command, MembersAction};
use commands::write::Context;
use commands::{accounts, create, exchange, git, help, members, read};
use env::Env;
use error::UserError;
use output::Format;
use vault::{Loaded, Source};

/// Runs one invocation and returns its exit code (0 success, 1 nothing found). Errors are reported by
/// the caller with [`error::report`] (exit 2).
pub fn run(cli: Cli, env: &Env) -> Result<u8> {
    hygiene::harden();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // Every message goes through one sink that escapes what a terminal would act on (names, labels and
    // lines from files others write are quoted in them); only the line breaks stay.
    let (mut out_lock, mut err_lock) = (stdout.lock(), output::TerminalText::new(stderr.lock()));

    let source = Source::resolve(cli.file.as_deref(), cli.demo, env)?;
    let now = cli.at.unwrap_or_else(|| time::now().as_secs());
    let ctx = Context {
        source,
        identities: &cli.identity,
        recipients_file: cli.recipients_file.as_deref(),
        env,
        now,
    };
    let (out, err) = (&mut out_lock, &mut err_lock);

    match cli.command {
        None if std::io::stdout().is_terminal() => {
            let vault = load(&ctx, err)?;
            drop((out_lock, err_lock));
            let options = tui::Options {
                hide: cli.hide,
                color: use_color(cli.color, env),
                at: cli.at,
            };
            tui::run(&vault, env, options)
        }
        None => read::list(&load(&ctx, err)?, None, Format::Table, now, out, err),
        Some(Command::List { query, format }) => {
            read::list(&load(&ctx, err)?, query.as_deref(), format, now, out, err)
        }
        Some(Command::Code {
            query,
            min_remaining,
        }) => {
            let vault = load(&ctx, err)?;
            read::code(&vault, &query, min_remaining, now, cli.at.is_none(), out)
        }
        Some(Command::Check) => read::check(&load(&ctx, err)?, out, err),
        Some(Command::Init(args)) => done(create::init(&ctx, &new_vault(&args), err)),
        Some(Command::Encrypt { plaintext, new }) => {
            done(create::encrypt(&ctx, &plaintext, &new_vault(&new), err))
        }
        Some(Command::Add { name, uri, params }) => done(accounts::add(
            &ctx,
            name.as_deref(),
            uri,
            &(&params).into(),
            err,
        )),
        Some(Command::Rm { name, yes }) => done(accounts::rm(&ctx, &name, yes, err)),
        Some(Command::Rename { old, new }) => done(accounts::rename(&ctx, &old, &new, err)),
        Some(Command::Edit {
            name,
            params,
            secret,
        }) => done(accounts::edit(&ctx, &name, &(&params).into(), secret, err)),
        Some(Command::Members { action }) => done(match action {
            None | Some(MembersAction::List) => members::members(&ctx, out, err),
            Some(MembersAction::Add {
                recipient,
                name,
                force,
            }) => members::members_add(&ctx, &recipient, name.as_deref(), force, err),
            Some(MembersAction::Rm { who, yes, force }) => {
                members::members_rm(&ctx, &who, yes, force, err)
            }
            Some(MembersAction::Ack { yes, expect }) => {
                members::members_ack(&ctx, yes, expect.as_deref(), err)
            }
        }),
        Some(Command::Rekey { force }) => done(members::rekey(&ctx, force, err)),
        Some(Command::Import {
            input,
            format,
            rename,
            replace,
        }) => {
            let duplicates = match (rename, replace) {
                (true, _) => exchange::Duplicates::Rename,
                (_, true) => exchange::Duplicates::Replace,
                _ => exchange::Duplicates::Skip,
            };
            done(exchange::import(&ctx, &input, format, duplicates, err))
        }
        Some(Command::Export {
            query,
            format,
            plaintext,
            yes,
        }) => done(exchange::export(
            &ctx,
            format,
            query.as_deref(),
            plaintext,
            yes,
            out,
            err,
        )),
        Some(Command::Qr { query }) => done(exchange::qr(&ctx, &query, err)),
        Some(Command::GitSetup) => done(git::setup(&ctx, err)),
        Some(Command::Textconv { input }) => done(git::textconv(&ctx, &input, out, err)),
        Some(Command::MergeDriver {
            base,
            ours,
            theirs,
            path,
        }) => Ok(git::merge_driver(
            &ctx,
            &base,
            &ours,
            &theirs,
            path.as_deref(),
            err,
        )?),
        Some(Command::Completions { shell }) => done(help::completions(shell, Cli::command(), out)),
        Some(Command::Man) => done(help::man(Cli::command(), out)),
    }
}

/// The vault a read command reads.
fn load(ctx: &Context, err: &mut dyn Write) -> Result<Loaded, UserError> {
    vault::load::load(&ctx.source, ctx.identities, ctx.env, err)
}

/// Exit 0 for a command that succeeded with nothing to report in its exit code.
fn done(result: Result<(), UserError>) -> Result<u8> {
    result?;
    Ok(0)
}

/// Colours unless `--color never`, or `--color auto` with `NO_COLOR` set or a dumb terminal.
pub fn use_color(choice: Color, env: &Env) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => !env.is_set("NO_COLOR") && env.var("TERM").is_none_or(|t| t != "dumb"),
    }
}

fn new_vault(args: &cli::NewVaultArgs) -> create::NewVault<'_> {
    create::NewVault {
        recipients: &args.recipients,
        recipient_files: &args.recipient_files,
        passphrase: args.passphrase,
        force: args.force,
        yes: args.yes,
    }
}
