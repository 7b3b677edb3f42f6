//! teamotp: shared TOTP codes for teams.
//!
//! A pure core (secret decoding, parsing, codes, output) and a thin imperative shell (`run` and its one
//! dispatch, the commands in `commands/`, the vault loader, the TUI loop). Only [`time::now`] reads the time; everything else takes it as a parameter.

pub mod account;
pub mod age;
pub mod agent;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
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
use clap::CommandFactory;

use cli::{Cli, Color, Command, MembersAction};
use commands::{
    access, accounts, agent as agent_cmd, clip, create, exchange, git as git_cmd, help, keys,
    members, merge, read, vaults,
};
use env::Env;
use error::UserError;
use output::Format;
use vault::transaction::Context;
use vault::{Source, select};

/// Runs one invocation and returns its exit code (0 success, 1 nothing found). Errors are reported by
/// the caller with [`error::report`] (exit 2).
pub fn run(cli: Cli, env: &Env) -> Result<u8> {
    hygiene::harden();
    crate::age::plugin::configure(env);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // Every message goes through one sink that escapes what a terminal would act on (names, labels and
    // lines from files others write are quoted in them); only the line breaks stay.
    let (mut out_lock, mut err_lock) = (stdout.lock(), text::TerminalText::new(stderr.lock()));

    let now = cli.at.unwrap_or_else(|| time::now().as_secs());
    // A passphrase typed with no agent running is followed by one line suggesting `teamotp unlock`.
    #[cfg(unix)]
    if !agent::disabled(env)
        && !matches!(
            cli.command,
            Some(Command::Unlock { .. } | Command::Agent { .. } | Command::Lock)
        )
    {
        tty::suggest_unlock_with(agent::socket_path(env));
    }
    // These name their files themselves (git runs the drivers in a work tree that may hold several
    // vaults) or need none: no config, no discovery.
    let needs_vault = !matches!(
        cli.command,
        Some(
            Command::Completions { .. }
                | Command::Man { .. }
                | Command::Textconv { .. }
                | Command::MergeDriver { .. }
                | Command::MergeRecipients { .. }
        )
    );
    let config = match needs_vault && !cli.demo {
        true => config::load(env)?,
        false => None,
    };
    // `code infra/aws`: a query whose first part is a configured vault's name picks that vault.
    let mut query = match &cli.command {
        Some(Command::List { query, .. }) => query.clone(),
        Some(Command::Code { query, .. }) => Some(query.clone()),
        _ => None,
    };
    let mut vault_name = cli.vault.clone();
    if cli.file.is_none()
        && vault_name.is_none()
        && let Some((vault, rest)) = query.as_deref().and_then(|q| q.split_once('/'))
        && config.as_ref().is_some_and(|c| c.vault(vault).is_some())
        && !rest.is_empty()
    {
        vault_name = Some(vault.to_owned());
        query = Some(rest.to_owned());
    }
    // Commands over every configured vault (and this folder's): no selection.
    match &cli.command {
        Some(Command::Access { who }) => {
            let places = every_vault(config.as_ref(), cli.file.as_deref(), env, &mut err_lock)?;
            return Ok(access::access(
                &places,
                who,
                env,
                &mut out_lock,
                &mut err_lock,
            )?);
        }
        Some(Command::Members {
            action: Some(MembersAction::Rm { who, yes, force }),
        }) if cli.all => {
            let places = configured(config.as_ref());
            return Ok(access::members_rm_all(
                &places,
                who,
                *yes,
                *force,
                &cli.identity,
                env,
                now,
                &mut out_lock,
                &mut err_lock,
            )?);
        }
        _ => {}
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
    let chosen = if !needs_vault {
        vec![select::Chosen {
            name: String::new(),
            source: Source::resolve(cli.file.as_deref(), cli.demo, env)?,
            identity: Vec::new(),
            how: select::How::File,
        }]
    } else {
        select::choose(
            select::Request {
                file: cli.file.as_deref(),
                vault: vault_name.as_deref(),
                all: cli.all,
                demo: cli.demo,
                read,
            },
            config.as_ref(),
            env,
            &mut err_lock,
        )?
    };
    if chosen.len() > 1 && cli.recipients_file.is_some() {
        return Err(UserError::new(
            "--recipients-file names the recipients of one vault, and several are shown",
        )
        .hint("choose the vault with --vault NAME or -f/--file PATH")
        .into());
    }
    let first = &chosen[0];
    let identities: Vec<std::path::PathBuf> = cli
        .identity
        .iter()
        .chain(&first.identity)
        .cloned()
        .collect();
    let ctx = Context {
        source: first.source.clone(),
        identities: &identities,
        recipients_file: cli.recipients_file.as_deref(),
        env,
        now,
    };
    let (out, err) = (&mut out_lock, &mut err_lock);

    match cli.command {
        None if std::io::stdout().is_terminal() => {
            let vaults = tui_vaults(&chosen, &cli.identity, env, err)?;
            drop((out_lock, err_lock));
            let options = tui::Options {
                hide: cli.hide || config.as_ref().is_some_and(|c| c.hide),
                color: use_color(cli.color, env),
                at: cli.at,
            };
            tui::run(vaults, env, options)
        }
        None => read::list(
            &shown_unparsed(&chosen, &cli.identity, env, err)?,
            None,
            Format::Table,
            now,
            out,
            err,
        ),
        Some(Command::List { format, .. }) => read::list(
            &shown_unparsed(&chosen, &cli.identity, env, err)?,
            query.as_deref(),
            format,
            now,
            out,
            err,
        ),
        Some(Command::Code {
            min_remaining,
            clip,
            ..
        }) => {
            let query = query.as_deref().unwrap_or_default();
            // Only the rows that could match are parsed: one account of thousands is needed.
            let shown = shown_for(&chosen, &cli.identity, env, Some(query), err)?;
            let options = read::CodeOptions {
                min_remaining,
                may_wait: cli.at.is_none(),
                clip: clip.then_some(env),
            };
            read::code(&shown, query, &options, now, out, err)
        }
        Some(Command::ClipHelper { until, tmux }) => {
            Ok(clip::helper(until, tmux.as_deref().map(|p| p.as_os_str()))?)
        }
        Some(Command::Check { strict }) => {
            read::check(&shown(&chosen, &cli.identity, env, err)?, strict, out, err)
        }
        Some(Command::Init(args)) => {
            create::init(&ctx, &new_vault(&args), err)?;
            done(vaults::found(
                &ctx,
                config.as_ref(),
                args.register.as_deref(),
                err,
            ))
        }
        Some(Command::Encrypt { plaintext, new }) => {
            create::encrypt(&ctx, &plaintext, &new_vault(&new), err)?;
            done(vaults::found(
                &ctx,
                config.as_ref(),
                new.register.as_deref(),
                err,
            ))
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
        Some(Command::Rotate { name }) => done(accounts::edit(
            &ctx,
            &name,
            &vault::document::Changes::default(),
            true,
            err,
        )),
        Some(Command::Members { action }) => done(match action {
            None | Some(MembersAction::List) => members::members(&ctx, out, err),
            Some(MembersAction::Add {
                recipient,
                name,
                next: true,
                replaces,
                ..
            }) => members::members_add_next(
                &ctx,
                &recipient,
                name.as_deref(),
                replaces.as_deref(),
                err,
            ),
            Some(MembersAction::Add {
                recipient,
                name,
                force,
                ..
            }) => members::members_add(&ctx, &recipient, name.as_deref(), force, err),
            Some(MembersAction::Rm { who, yes, force }) => {
                members::members_rm(&ctx, &who, yes, force, err)
            }
            Some(MembersAction::Ack {
                yes,
                expect,
                next: true,
            }) => members::members_ack_next(&ctx, yes, expect.as_deref(), err),
            Some(MembersAction::Ack { yes, expect, .. }) => {
                members::members_ack(&ctx, yes, expect.as_deref(), err)
            }
        }),
        Some(Command::Rekey {
            force,
            post_quantum: true,
        }) => done(members::rekey_post_quantum(&ctx, force, err)),
        Some(Command::Rekey { force, .. }) => done(members::rekey(&ctx, force, err)),
        Some(Command::Import {
            input,
            format,
            rename,
            replace,
            password_file,
            key_file,
        }) => {
            let duplicates = match (rename, replace) {
                (true, _) => exchange::Duplicates::Rename,
                (_, true) => exchange::Duplicates::Replace,
                _ => exchange::Duplicates::Skip,
            };
            let secrets = exchange::Secrets {
                password_file: password_file.as_deref(),
                key_file: key_file.as_deref(),
            };
            done(exchange::import(
                &ctx, &input, format, duplicates, secrets, err,
            ))
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
        Some(Command::GitSetup) => done(git_cmd::setup(&ctx, err)),
        Some(Command::MergeRecipients {
            base,
            ours,
            theirs,
            path,
        }) => Ok(merge::merge_recipients(
            &base,
            &ours,
            &theirs,
            path.as_deref(),
            err,
        )?),
        Some(Command::Textconv { input }) => done(git_cmd::textconv(&ctx, &input, out, err)),
        Some(Command::MergeDriver {
            base,
            ours,
            theirs,
            path,
        }) => Ok(merge::merge_driver(
            &ctx,
            &base,
            &ours,
            &theirs,
            path.as_deref(),
            err,
        )?),
        Some(Command::Unlock { timeout }) => Ok(agent_cmd::unlock(
            &ctx.source,
            ctx.identities,
            env,
            timeout,
            err,
        )?),
        Some(Command::Lock) => Ok(agent_cmd::lock(env, err)?),
        Some(Command::Agent {
            action: Some(cli::AgentAction::Status),
            ..
        }) => Ok(agent_cmd::status(env, out, err)?),
        Some(Command::Agent { background, .. }) => Ok(agent_cmd::serve(env, background, err)?),
        Some(Command::CompleteNames) => Ok(agent_cmd::complete_names(
            &ctx.source,
            ctx.identities,
            env,
            out,
        )),
        Some(Command::Keygen { pq, output }) => {
            done(keys::keygen(&ctx, pq, output.as_deref(), out, err))
        }
        Some(Command::Whoami) => done(keys::whoami(&ctx, out, err)),
        Some(Command::Access { .. }) => unreachable!("handled before the vault is chosen"),
        Some(Command::Audit { since, format }) => {
            let places: Vec<access::Place> = chosen
                .iter()
                .filter_map(|c| match &c.source {
                    Source::File(path) => Some(access::Place {
                        name: c.name.clone(),
                        path: path.clone(),
                        identities: cli.identity.iter().chain(&c.identity).cloned().collect(),
                    }),
                    Source::Demo => None,
                })
                .collect();
            Ok(access::audit(&places, since, format, env, out, err)?)
        }
        Some(Command::Register { name }) => {
            done(vaults::register(&ctx, config.as_ref(), &name, err))
        }
        Some(Command::Completions { shell }) => done(help::completions(shell, Cli::command(), out)),
        Some(Command::Man { out_dir }) => done(help::man(Cli::command(), out_dir.as_deref(), out)),
    }
}

/// Opens the vaults a read command shows. One vault that cannot be opened is the command's error; with
/// several, each failure is reported on `err` and the others are still shown.
fn shown(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    env: &Env,
    err: &mut dyn Write,
) -> Result<read::Shown, UserError> {
    shown_for(chosen, identity, env, None, err)
}

/// [`shown`], parsing only the rows that could match `query` when one is given (`code`).
fn shown_for(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    env: &Env,
    query: Option<&str>,
    err: &mut dyn Write,
) -> Result<read::Shown, UserError> {
    open_each(chosen, identity, err, |source, paths, err| match query {
        Some(query) => vault::load::load_candidates(source, paths, env, err, query),
        None => vault::load::load(source, paths, env, err),
    })
}

/// [`shown`] for `list`: decrypted and checked, the rows parsed as they are written.
fn shown_unparsed(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    env: &Env,
    err: &mut dyn Write,
) -> Result<read::Shown<vault::load::Unparsed>, UserError> {
    open_each(chosen, identity, err, |source, paths, err| {
        vault::load::load_unparsed(source, paths, env, err)
    })
}

/// Opens each chosen vault with `open` (given its source, its identities and the warning stream).
fn open_each<V>(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    err: &mut dyn Write,
    open: impl Fn(&Source, &[std::path::PathBuf], &mut dyn Write) -> Result<V, UserError>,
) -> Result<read::Shown<V>, UserError> {
    let mut shown = read::Shown {
        vaults: Vec::new(),
        failed: Vec::new(),
    };
    for vault in chosen {
        let paths: Vec<_> = identity.iter().chain(&vault.identity).cloned().collect();
        match open(&vault.source, &paths, err) {
            Ok(opened) => shown.vaults.push((vault.name.clone(), opened)),
            Err(e) if chosen.len() == 1 => return Err(e),
            Err(e) => {
                report_vault(&vault.name, &e, err);
                shown.failed.push(vault.name.clone());
            }
        }
    }
    Ok(shown)
}

/// The TUI's vaults, opened with the keys kept for reloading them.
fn tui_vaults(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    env: &Env,
    err: &mut dyn Write,
) -> Result<Vec<tui::Vault>, UserError> {
    let mut vaults = Vec::new();
    for vault in chosen {
        let paths: Vec<_> = identity.iter().chain(&vault.identity).cloned().collect();
        let path = match &vault.source {
            Source::File(path) => Some(path.clone()),
            Source::Demo => None,
        };
        let opened = match vault::load::load_keeping(&vault.source, &paths, env, err) {
            Ok((loaded, keys)) => Ok((loaded, keys)),
            Err(e) if chosen.len() == 1 => return Err(e),
            Err(e) => Err(e.message),
        };
        vaults.push(tui::Vault {
            name: vault.name.clone(),
            path,
            opened,
        });
    }
    Ok(vaults)
}

/// Every configured vault, as places for `members rm --all`.
fn configured(config: Option<&config::Config>) -> Vec<access::Place> {
    config
        .map(|c| c.vaults.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|v| access::Place {
            name: v.name.clone(),
            path: v.file.clone(),
            identities: v.identity.clone(),
        })
        .collect()
}

/// Every configured vault, and the vault of this folder (or `-f`), once each: what `access` looks at.
fn every_vault(
    config: Option<&config::Config>,
    file: Option<&std::path::Path>,
    env: &Env,
    err: &mut dyn Write,
) -> Result<Vec<access::Place>, UserError> {
    let mut places = configured(config);
    let here = match file {
        Some(path) => Some(path.to_owned()),
        None => match env.cwd() {
            Some(dir) => select::discover(dir, err)?,
            None => None,
        },
    };
    if let Some(path) = here {
        let same = |p: &std::path::Path| {
            std::fs::canonicalize(p).ok() == std::fs::canonicalize(&path).ok()
        };
        if !places.iter().any(|p| same(&p.path)) {
            places.push(access::Place {
                name: select::file_name(&path),
                path,
                identities: Vec::new(),
            });
        }
    }
    if places.is_empty() {
        return Err(UserError::new(
            "no vault to look at: none is configured and none is in this folder",
        )
        .hint("name your vaults in the config (docs/config.md), or run it in a vault's folder"));
    }
    Ok(places)
}

/// `teamotp: error: NAME: message` and its hints, for a vault that could not be opened among several.
fn report_vault(name: &str, error: &UserError, err: &mut dyn Write) {
    let _ = writeln!(err, "teamotp: error: {name}: {}", error.message);
    for hint in &error.hints {
        let _ = writeln!(err, "teamotp: hint: {hint}");
    }
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
        name: args.name.as_deref(),
    }
}
