//! `unlock`, `lock`, `agent [status]` and the shell-completion helper: thin shells over `crate::agent`.
//! The agent is Unix-only for now; elsewhere these say so (exit 2) and every other command prompts as
//! before.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::env::Env;
use crate::error::UserError;
use crate::vault::Source;

/// `teamotp unlock [--timeout DURATION]`.
pub fn unlock(
    source: &Source,
    identities: &[PathBuf],
    env: &Env,
    timeout: Duration,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    #[cfg(unix)]
    return crate::commands::unlock::unlock(source, identities, env, timeout, err);
    #[cfg(not(unix))]
    {
        let _ = (source, identities, env, timeout, err);
        Err(crate::agent::unsupported())
    }
}

/// `teamotp lock`.
pub fn lock(env: &Env, err: &mut dyn Write) -> Result<u8, UserError> {
    #[cfg(unix)]
    return crate::commands::unlock::lock(env, err);
    #[cfg(not(unix))]
    {
        let _ = (env, err);
        Err(crate::agent::unsupported())
    }
}

/// `teamotp agent status`.
pub fn status(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, UserError> {
    #[cfg(unix)]
    return crate::commands::unlock::status(env, out, err);
    #[cfg(not(unix))]
    {
        let _ = (env, out, err);
        Err(crate::agent::unsupported())
    }
}

/// `teamotp agent [--background]`: the agent itself.
pub fn serve(env: &Env, background: bool, err: &mut dyn Write) -> Result<u8, UserError> {
    #[cfg(unix)]
    return crate::agent::server::run(env, background, err);
    #[cfg(not(unix))]
    {
        let _ = (env, background, err);
        Err(crate::agent::unsupported())
    }
}

/// The hidden completion helper: account names for the shell, never a prompt, nothing on failure.
pub fn complete_names(
    source: &Source,
    identities: &[PathBuf],
    env: &Env,
    out: &mut dyn Write,
) -> u8 {
    #[cfg(unix)]
    return crate::commands::unlock::complete_names(source, identities, env, out);
    #[cfg(not(unix))]
    {
        let _ = (source, identities, env, out);
        1
    }
}
