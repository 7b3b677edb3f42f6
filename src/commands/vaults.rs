//! How a new vault will be found: the closing line of `init` and `encrypt`, and `--register NAME`, which
//! adds the vault to the config (appended as a new section, so the user's comments and layout stay).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::error::UserError;
use crate::vault::select::{self, How, Request};
use crate::vault::transaction::Context;

/// After a vault was created: registers it when asked, then says how later commands find it.
pub fn found(
    ctx: &Context,
    config: Option<&Config>,
    register: Option<&str>,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = absolute(ctx.vault_path()?);
    if let Some(name) = register {
        let path = register_vault(ctx, config, name, &vault)?;
        let _ = writeln!(
            err,
            "teamotp: registered the vault as '{name}' in {}; use it anywhere with --vault {name}",
            path.display()
        );
        return Ok(());
    }
    let found = select::choose(
        Request {
            read: true,
            ..Request::default()
        },
        config,
        ctx.env,
        &mut std::io::sink(),
    );
    let same = |c: &select::Chosen| match &c.source {
        crate::vault::Source::File(p) => absolute(p) == vault,
        crate::vault::Source::Demo => false,
    };
    let how = match found.as_deref() {
        Ok([one]) if same(one) => Some(one.how),
        _ => None,
    };
    match how {
        Some(How::Discovered) => {
            let _ = writeln!(
                err,
                "teamotp: commands run in this directory (or below it in its git work tree) find it without -f"
            );
        }
        Some(_) => {
            let _ = writeln!(err, "teamotp: teamotp finds it without -f from anywhere");
        }
        None => {
            let config_path = crate::config::path(ctx.env)
                .map_or("config.toml".into(), |p| p.display().to_string());
            let name = suggested_name(&vault);
            let _ = writeln!(
                err,
                "teamotp: hint: other commands find it with -f '{}', or name it in {config_path}:{}",
                vault.display(),
                config::section(&name, &vault)
                    .trim_end()
                    .replace('\n', "\n    ")
            );
            let _ = writeln!(
                err,
                "teamotp: hint: or let teamotp add that: teamotp -f '{}' register {name} (see docs/config.md)",
                vault.display()
            );
        }
    }
    Ok(())
}

/// `teamotp register NAME`: adds an existing vault (`-f PATH`, or the one found from here) to the config.
pub fn register(
    ctx: &Context,
    config: Option<&Config>,
    name: &str,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?;
    if !vault.is_file() {
        return Err(
            UserError::new(format!("there is no vault at '{}'", vault.display())).hint(
                "name an existing vault with -f/--file PATH, or create one with 'teamotp init'",
            ),
        );
    }
    let vault = absolute(vault);
    let path = register_vault(ctx, config, name, &vault).map_err(|mut e| {
        e.hints.retain(|h| !h.contains("was created"));
        e
    })?;
    let _ = writeln!(
        err,
        "teamotp: registered '{}' as '{name}' in {}; use it anywhere with --vault {name}",
        vault.display(),
        path.display()
    );
    Ok(())
}

/// Appends `[vaults.NAME]` to the config (creating it), after checking the result parses.
fn register_vault(
    ctx: &Context,
    config: Option<&Config>,
    name: &str,
    vault: &Path,
) -> Result<PathBuf, UserError> {
    let path = crate::config::path(ctx.env).ok_or_else(|| {
        UserError::new("there is no home directory to keep the config in")
            .hint("set XDG_CONFIG_HOME or HOME")
    })?;
    if config.is_some_and(|c| c.vault(name).is_some()) {
        return Err(UserError::new(format!(
            "the config '{}' already has a vault named '{name}'; the vault was not registered",
            path.display()
        ))
        .hint("choose another name with --register, or edit the config (docs/config.md)"));
    }
    let old = match crate::files::read_to_string(&path) {
        Ok(text) => Some(text.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(UserError::new(format!(
                "cannot read the config '{}': {e}",
                path.display()
            )));
        }
    };
    let mut text = old.clone().unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let section = config::section(name, vault);
    text.push_str(if text.is_empty() {
        section.trim_start()
    } else {
        &section
    });
    config::parse(&text, &path, ctx.env.home().as_deref())
        .map_err(|e| e.hint("the new vault was created but not registered"))?;
    let written = match old {
        Some(_) => crate::files::replace(&path, text.as_bytes(), 0o600),
        None => {
            if let Some(dir) = path.parent() {
                crate::files::create_private_dir(dir).map_err(|e| {
                    UserError::new(format!("cannot create '{}': {e}", dir.display()))
                })?;
            }
            crate::files::create_new(&path, text.as_bytes(), 0o600)
        }
    };
    written.map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))?;
    Ok(path)
}

/// A name for the vault: its directory's name (the team repository), else its file's stem.
fn suggested_name(vault: &Path) -> String {
    let pick = |s: Option<&std::ffi::OsStr>| {
        s.map(|s| s.to_string_lossy().replace(['/', ' ', '.'], "-"))
            .filter(|s| !s.is_empty())
    };
    pick(vault.parent().and_then(Path::file_name))
        .or_else(|| pick(vault.file_stem()))
        .unwrap_or_else(|| "team".into())
}

fn absolute(path: &Path) -> PathBuf {
    let path = std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned());
    plain(path)
}

/// Windows' canonical paths are verbatim (`\\?\C:\x`, `\\?\UNC\server\share`): shown to people and
/// written into the config, they are the ordinary forms (`C:\x`, `\\server\share`).
fn plain(path: PathBuf) -> PathBuf {
    let Some(text) = path.to_str() else {
        return path;
    };
    if let Some(rest) = text.strip_prefix(r"\\?\UNC\") {
        return PathBuf::from(format!(r"\\{rest}"));
    }
    match text.strip_prefix(r"\\?\") {
        Some(rest) => PathBuf::from(rest),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_windows_paths_are_shown_plain() {
        assert_eq!(
            plain(PathBuf::from(r"\\?\C:\v\team.age")),
            PathBuf::from(r"C:\v\team.age")
        );
        assert_eq!(
            plain(PathBuf::from(r"\\?\UNC\srv\share\v.age")),
            PathBuf::from(r"\\srv\share\v.age")
        );
        assert_eq!(
            plain(PathBuf::from("/home/u/v.age")),
            PathBuf::from("/home/u/v.age")
        );
    }
}
