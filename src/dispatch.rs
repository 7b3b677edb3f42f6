//! The command table: from a parsed command line to its function in `commands/`, by family. `lib::run`
//! chooses the vault and builds the [`Context`] first; nothing here chooses or opens anything itself.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{self, Cli, Command, MembersAction};
use crate::commands::{
    accounts, agent as agent_cmd, audit, clip, create, exchange, git as git_cmd, help, keys,
    members, merge, open, read, switch, vaults,
};
use crate::config::Config;
use crate::error::UserError;
use crate::output::Format;
use crate::vault::document::Changes;
use crate::vault::select::Chosen;
use crate::vault::transaction::Context;

/// What the commands of one invocation share once the vault is chosen.
pub struct Shell<'a> {
    pub chosen: &'a [Chosen],
    /// `-i/--identity` as given (each chosen vault adds its own from the config).
    pub identity: &'a [std::path::PathBuf],
    pub ctx: &'a Context<'a>,
    pub config: Option<&'a Config>,
    pub at: Option<u64>,
}

/// The command table: each family of commands to its function (each a short table of its own, below),
/// and from there to `commands/`.
pub fn dispatch(
    command: Option<Command>,
    query: Option<String>,
    shell: &Shell,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    use Command as C;
    let (ctx, env) = (shell.ctx, shell.ctx.env);
    match command {
        None => read_command(shell, None, query, out, err),
        Some(c @ (C::List { .. } | C::Code { .. } | C::Check { .. } | C::ClipHelper { .. })) => {
            read_command(shell, Some(c), query, out, err)
        }
        Some(c @ (C::Init(_) | C::Encrypt { .. } | C::Register { .. })) => {
            create_command(shell, c, err)
        }
        Some(
            c @ (C::Add { .. }
            | C::Rm { .. }
            | C::Rename { .. }
            | C::Edit { .. }
            | C::Rotate { .. }),
        ) => done(accounts_command(ctx, c, err)),
        Some(C::Members { action }) => done(members_command(ctx, action, out, err)),
        Some(C::Rekey {
            force,
            post_quantum: true,
        }) => done(switch::rekey_post_quantum(ctx, force, err)),
        Some(C::Rekey { force, .. }) => done(members::rekey(ctx, force, err)),
        Some(c @ (C::Import { .. } | C::Export { .. } | C::Qr { .. })) => {
            done(exchange_command(ctx, c, out, err))
        }
        Some(
            c @ (C::GitSetup
            | C::Textconv { .. }
            | C::MergeDriver { .. }
            | C::MergeRecipients { .. }),
        ) => git_command(ctx, c, out, err),
        Some(c @ (C::Unlock { .. } | C::Lock | C::Agent { .. } | C::CompleteNames)) => {
            agent_command(ctx, c, out, err)
        }
        Some(C::Keygen { pq, output }) => done(keys::keygen(ctx, pq, output.as_deref(), out, err)),
        Some(C::Whoami) => done(keys::whoami(ctx, out, err)),
        Some(C::Access { .. }) => unreachable!("run across every vault, before one is chosen"),
        Some(C::Audit { since, format }) => Ok(audit::audit(
            &open::audited(shell.chosen, shell.identity),
            since,
            format,
            env,
            out,
            err,
        )?),
        Some(C::Completions { shell }) => done(help::completions(shell, Cli::command(), out)),
        Some(C::Man { out_dir }) => done(help::man(Cli::command(), out_dir.as_deref(), out)),
    }
}

/// The read commands: the table of every account (no command), `list`, `code`, `check`, and the helper
/// `code --clip` leaves behind to clear the clipboard.
fn read_command(
    shell: &Shell,
    command: Option<Command>,
    query: Option<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let (env, now, chosen, ids) = (shell.ctx.env, shell.ctx.now, shell.chosen, shell.identity);
    match command {
        Some(Command::List { format, .. }) => read::list(
            &open::shown_unparsed(chosen, ids, env, err)?,
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
        }) => code(
            shell,
            &query.unwrap_or_default(),
            min_remaining,
            clip,
            out,
            err,
        ),
        Some(Command::Check { strict }) => {
            read::check(&open::shown(chosen, ids, env, err)?, strict, out, err)
        }
        Some(Command::ClipHelper { until, tmux }) => {
            Ok(clip::helper(until, tmux.as_deref().map(|p| p.as_os_str()))?)
        }
        None => read::list(
            &open::shown_unparsed(chosen, ids, env, err)?,
            None,
            Format::Table,
            now,
            out,
            err,
        ),
        Some(_) => unreachable!("dispatched by family"),
    }
}

/// `init`, `encrypt` and `register`.
fn create_command(shell: &Shell, command: Command, err: &mut dyn Write) -> Result<u8> {
    match command {
        Command::Init(args) => created(shell, &args, create::init, err),
        Command::Encrypt { plaintext, new } => created(
            shell,
            &new,
            |ctx, new, err| create::encrypt(ctx, &plaintext, new, err),
            err,
        ),
        Command::Register { name } => done(vaults::register(shell.ctx, shell.config, &name, err)),
        _ => unreachable!("dispatched by family"),
    }
}

/// The account commands: `add`, `rm`, `rename`, `edit`, `rotate`.
fn accounts_command(ctx: &Context, command: Command, err: &mut dyn Write) -> Result<(), UserError> {
    match command {
        Command::Add { name, uri, params } => {
            accounts::add(ctx, name.as_deref(), uri, &(&params).into(), err)
        }
        Command::Rm { name, yes } => accounts::rm(ctx, &name, yes, err),
        Command::Rename { old, new } => accounts::rename(ctx, &old, &new, err),
        Command::Edit {
            name,
            params,
            secret,
        } => accounts::edit(ctx, &name, &(&params).into(), secret, err),
        Command::Rotate { name } => accounts::edit(ctx, &name, &Changes::default(), true, err),
        _ => unreachable!("dispatched by family"),
    }
}

/// `import`, `export` and `qr`.
fn exchange_command(
    ctx: &Context,
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    match command {
        Command::Import {
            input,
            format,
            rename,
            replace,
            password_file,
            key_file,
        } => {
            let secrets = exchange::Secrets {
                password_file: password_file.as_deref(),
                key_file: key_file.as_deref(),
            };
            exchange::import(
                ctx,
                &input,
                format,
                duplicates(rename, replace),
                secrets,
                err,
            )
        }
        Command::Export {
            query,
            format,
            plaintext,
            yes,
        } => exchange::export(ctx, format, query.as_deref(), plaintext, yes, out, err),
        Command::Qr { query } => exchange::qr(ctx, &query, err),
        _ => unreachable!("dispatched by family"),
    }
}

/// `git-setup` and what git runs: the diff text converter and the two merge drivers.
fn git_command(
    ctx: &Context,
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    match command {
        Command::GitSetup => done(git_cmd::setup(ctx, err)),
        Command::Textconv { input } => done(git_cmd::textconv(ctx, &input, out, err)),
        Command::MergeDriver {
            base,
            ours,
            theirs,
            path,
        } => Ok(merge::merge_driver(
            ctx,
            &base,
            &ours,
            &theirs,
            path.as_deref(),
            err,
        )?),
        Command::MergeRecipients {
            base,
            ours,
            theirs,
            path,
        } => Ok(merge::merge_recipients(
            &base,
            &ours,
            &theirs,
            path.as_deref(),
            err,
        )?),
        _ => unreachable!("dispatched by family"),
    }
}

/// The agent: `unlock`, `lock`, `agent [status]`, and the account names for shell completion.
fn agent_command(
    ctx: &Context,
    command: Command,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let env = ctx.env;
    Ok(match command {
        Command::Unlock { timeout } => {
            agent_cmd::unlock(&ctx.source, ctx.identities, env, timeout, err)?
        }
        Command::Lock => agent_cmd::lock(env, err)?,
        Command::Agent {
            action: Some(cli::AgentAction::Status),
            ..
        } => agent_cmd::status(env, out, err)?,
        Command::Agent { background, .. } => agent_cmd::serve(env, background, err)?,
        Command::CompleteNames => agent_cmd::complete_names(&ctx.source, ctx.identities, env, out),
        _ => unreachable!("dispatched by family"),
    })
}

/// `code QUERY`: only the rows that could match are parsed (one account of thousands is needed).
fn code(
    shell: &Shell,
    query: &str,
    min_remaining: Option<u64>,
    clip: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let env = shell.ctx.env;
    let shown = open::shown_for(shell.chosen, shell.identity, env, Some(query), err)?;
    let options = read::CodeOptions {
        min_remaining,
        may_wait: shell.at.is_none(),
        clip: clip.then_some(env),
    };
    read::code(&shown, query, &options, shell.ctx.now, out, err)
}

/// `init` and `encrypt`: `create` makes the vault, then the note on how teamotp finds it again.
fn created(
    shell: &Shell,
    args: &cli::NewVaultArgs,
    create: impl FnOnce(&Context, &create::NewVault, &mut dyn Write) -> Result<(), UserError>,
    err: &mut dyn Write,
) -> Result<u8> {
    let new = create::NewVault {
        recipients: &args.recipients,
        recipient_files: &args.recipient_files,
        passphrase: args.passphrase,
        force: args.force,
        yes: args.yes,
        name: args.name.as_deref(),
    };
    create(shell.ctx, &new, err)?;
    done(vaults::found(
        shell.ctx,
        shell.config,
        args.register.as_deref(),
        err,
    ))
}

/// `members` and its actions.
fn members_command(
    ctx: &Context,
    action: Option<MembersAction>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    match action {
        None | Some(MembersAction::List) => members::members(ctx, out, err),
        Some(MembersAction::Add {
            recipient,
            name,
            next: true,
            replaces,
            ..
        }) => switch::members_add_next(ctx, &recipient, name.as_deref(), replaces.as_deref(), err),
        Some(MembersAction::Add {
            recipient,
            name,
            force,
            ..
        }) => members::members_add(ctx, &recipient, name.as_deref(), force, err),
        Some(MembersAction::Rm { who, yes, force }) => {
            members::members_rm(ctx, &who, yes, force, err)
        }
        Some(MembersAction::Ack {
            yes,
            expect,
            next: true,
        }) => switch::members_ack_next(ctx, yes, expect.as_deref(), err),
        Some(MembersAction::Ack { yes, expect, .. }) => {
            members::members_ack(ctx, yes, expect.as_deref(), err)
        }
    }
}

/// What `import` does with a name the vault already has (`--rename`, `--replace`, or skip it).
fn duplicates(rename: bool, replace: bool) -> exchange::Duplicates {
    match (rename, replace) {
        (true, _) => exchange::Duplicates::Rename,
        (_, true) => exchange::Duplicates::Replace,
        _ => exchange::Duplicates::Skip,
    }
}

/// Exit 0 for a command that succeeded with nothing to report in its exit code.
fn done(result: Result<(), UserError>) -> Result<u8> {
    result?;
    Ok(0)
}
