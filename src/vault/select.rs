//! Which vault (or vaults) a command uses, first match wins: `-f` / `TEAMOTP_FILE`; `--vault NAME`; the
//! vault of the current directory or of the enclosing git work tree (one `*.age` file with
//! `.age-recipients` beside it, or one passphrase vault, recognised by its age header's scrypt stanza); the config's `default`; for read commands with several configured
//! vaults and none chosen (or `--all`), all of them; else the default path. A discovered vault is read
//! like any other, and written under the same pinning rules (finding it is not trusting it).

use std::path::{Path, PathBuf};

use super::Source;
use crate::age::recipients;
use crate::config::Config;
use crate::env::Env;
use crate::error::UserError;

/// One vault to use: its name (the config's name, else the file name), where it is, and the identity
/// files the config gives it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub name: String,
    pub source: Source,
    pub identity: Vec<PathBuf>,
    /// How it was found (for `init`'s closing line and messages).
    pub how: How,
}

/// How a vault was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Demo,
    File,
    Named,
    Discovered,
    Default,
    All,
    Fallback,
}

/// What the command line asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    pub file: Option<&'a Path>,
    pub vault: Option<&'a str>,
    pub all: bool,
    pub demo: bool,
    /// A command that only reads (it may show several vaults).
    pub read: bool,
}

/// Chooses the vaults. A read command may get several; a write command gets exactly one or an error. A
/// read command whose vault teamotp found by itself (the config's default or only vault, or the default
/// path) and is not there gets the missing-vault error with [`discovery_hint`].
pub fn choose(
    request: Request,
    config: Option<&Config>,
    env: &Env,
    err: &mut dyn std::io::Write,
) -> Result<Vec<Chosen>, UserError> {
    let chosen = choose_from(request, config, env, err)?;
    if let [one] = chosen.as_slice()
        && request.read
        && let Source::File(path) = &one.source
        && let Some(hint) = discovery_hint(one, config, env)
        && std::fs::symlink_metadata(path).is_err()
    {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        return Err(super::load::read_error(path, missing, env).hint(hint));
    }
    Ok(chosen)
}

fn choose_from(
    request: Request,
    config: Option<&Config>,
    env: &Env,
    err: &mut dyn std::io::Write,
) -> Result<Vec<Chosen>, UserError> {
    let one = |name: String, path: PathBuf, identity: Vec<PathBuf>, how| {
        Ok(vec![Chosen {
            name,
            source: Source::File(path),
            identity,
            how,
        }])
    };
    if request.demo {
        return Ok(vec![Chosen {
            name: "demo".into(),
            source: Source::Demo,
            identity: Vec::new(),
            how: How::Demo,
        }]);
    }
    if request.file.is_some() && (request.vault.is_some() || request.all) {
        return Err(UserError::new(
            "-f/--file names one vault; it cannot be used with --vault or --all",
        )
        .hint("give either the vault's path or its config name"));
    }
    if request.vault.is_some() && request.all {
        return Err(UserError::new("--vault and --all cannot be used together"));
    }
    if request.all && !request.read {
        return Err(
            UserError::new("--all is for reading: a write goes to one vault")
                .hint("choose it with --vault NAME"),
        );
    }
    let configured = |path: PathBuf, how| {
        // A path the config names keeps its config name and identities.
        let found = config.and_then(|c| c.vaults.iter().find(|v| same_file(&v.file, &path)));
        match found {
            Some(v) => one(v.name.clone(), path, v.identity.clone(), how),
            None => one(file_name(&path), path, Vec::new(), how),
        }
    };
    if let Some(path) = request.file {
        return configured(path.to_owned(), How::File);
    }
    if let Some(name) = request.vault {
        let Some(vault) = config.and_then(|c| c.vault(name)) else {
            let error = UserError::new(format!("no vault is named '{name}' in the config"));
            return Err(match config {
                Some(c) if !c.vaults.is_empty() => {
                    error.hint(format!("the configured vaults are {}", c.names()))
                }
                _ => error.hint(format!(
                    "name vaults in {} (see docs/config.md)",
                    crate::config::path(env)
                        .map_or("config.toml".into(), |p| p.display().to_string())
                )),
            });
        };
        return one(
            vault.name.clone(),
            vault.file.clone(),
            vault.identity.clone(),
            How::Named,
        );
    }
    if let Some(path) = env.var("TEAMOTP_FILE").filter(|p| !p.is_empty()) {
        return configured(PathBuf::from(path), How::File);
    }
    if !request.all
        && let Some(dir) = env.cwd()
        && let Some(path) = discover(dir, err)?
    {
        return configured(path, How::Discovered);
    }
    let vaults = config.map_or(&[][..], |c| c.vaults.as_slice());
    if !request.all
        && let Some(name) = config.and_then(|c| c.default.as_deref())
        && let Some(vault) = vaults.iter().find(|v| v.name == name)
    {
        return one(
            vault.name.clone(),
            vault.file.clone(),
            vault.identity.clone(),
            How::Default,
        );
    }
    match vaults {
        [vault] => one(
            vault.name.clone(),
            vault.file.clone(),
            vault.identity.clone(),
            How::Default,
        ),
        [] if request.all => Err(UserError::new(
            "--all shows the configured vaults, and there are none",
        )
        .hint("name vaults in the config: see docs/config.md")),
        [] => {
            let path = env
                .config_dir()
                .map(|dir| dir.join("teamotp").join("secrets.csv.age"))
                .ok_or_else(|| {
                    UserError::new("no vault given and no home directory to look in")
                        .hint("pass a vault with -f/--file PATH or set TEAMOTP_FILE")
                })?;
            one(file_name(&path), path, Vec::new(), How::Fallback)
        }
        several if request.read => Ok(several
            .iter()
            .map(|v| Chosen {
                name: v.name.clone(),
                source: Source::File(v.file.clone()),
                identity: v.identity.clone(),
                how: How::All,
            })
            .collect()),
        _ => {
            let names = config.map(Config::names).unwrap_or_default();
            Err(UserError::new(format!(
                "several vaults are configured ({names}) and none is chosen: a write goes to one vault"
            ))
            .hint("choose it with --vault NAME, or set default = \"NAME\" in the config"))
        }
    }
}

/// The one hint for a vault that was not there when no `-f`, `TEAMOTP_FILE` or `--vault` chose it (the
/// config's default, its only vault, or the default path): how teamotp looks for a vault, with the
/// configured vaults by name, so running in the wrong directory explains itself.
pub fn discovery_hint(chosen: &Chosen, config: Option<&Config>, env: &Env) -> Option<String> {
    if !matches!(chosen.how, How::Default | How::Fallback) {
        return None;
    }
    let config_path = config
        .map(|c| c.path.clone())
        .or_else(|| crate::config::path(env))
        .map_or("config.toml".into(), |p| p.display().to_string());
    let configured = match config.map(|c| c.vaults.as_slice()) {
        Some(vaults) if !vaults.is_empty() => {
            let list: Vec<String> = vaults
                .iter()
                .map(|v| format!("'{}' ({})", v.name, v.file.display()))
                .collect();
            format!("the vaults {config_path} names: {}", list.join(", "))
        }
        _ => format!("the vaults {config_path} names (none)"),
    };
    Some(format!(
        "without -f teamotp looks in the directory it runs in and its git work tree (one *.age file \
         beside .age-recipients, or one passphrase vault), then at {configured}, then at the default \
         path; run it where the vault is, or name the vault once: teamotp -f PATH register NAME"
    ))
}

/// The vault of `dir` or of the git work tree around it: the one `*.age` file that has `.age-recipients`
/// beside it. Several are an error listing them.
pub fn discover(dir: &Path, err: &mut dyn std::io::Write) -> Result<Option<PathBuf>, UserError> {
    let found = match vault_in(dir)? {
        Some(found) => Some((found, dir.to_owned())),
        None => match work_tree(dir) {
            Some(top) if top != dir => vault_in(&top)?.map(|found| (found, top)),
            _ => None,
        },
    };
    let Some((vault, top)) = found else {
        return Ok(None);
    };
    // Like git's safe.directory rule (CVE-2022-24765): a vault that another user planted in a shared
    // folder above you (/tmp) is not yours to use because you happen to run teamotp below it.
    let recipients = vault.with_file_name(recipients::FILE_NAME);
    let folder = vault.parent().unwrap_or(&top).to_owned();
    if let Some((path, owner)) = [&top, &folder, &vault, &recipients]
        .into_iter()
        .find_map(|path| foreign_owner(path).map(|owner| (path.clone(), owner)))
    {
        let _ = writeln!(
            err,
            "teamotp: note: ignored the vault '{}' found here: '{}' belongs to another user (uid {owner}), \
             not to you or root; name it with -f/--file if you trust it",
            crate::text::printable(&vault.display().to_string()),
            crate::text::printable(&path.display().to_string())
        );
        return Ok(None);
    }
    Ok(Some(vault))
}

/// The owner of `path` when it is neither this process's user nor root (Unix; None elsewhere, or when
/// it cannot be read).
#[cfg(unix)]
fn foreign_owner(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(path).ok()?.uid();
    let me = rustix::process::geteuid().as_raw();
    (owner != me && owner != 0).then_some(owner)
}

#[cfg(not(unix))]
fn foreign_owner(_: &Path) -> Option<u32> {
    None
}

/// The one `*.age` file in `dir` when `.age-recipients` is there too; without a recipients file, the one
/// passphrase vault (its age header holds a scrypt stanza: it has no recipients to list).
fn vault_in(dir: &Path) -> Result<Option<PathBuf>, UserError> {
    let recipients = dir.join(recipients::FILE_NAME).is_file();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "age") && p.is_file())
        .filter(|p| recipients || is_passphrase_vault(p))
        .collect();
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => {
            let names: Vec<String> = found.iter().map(|p| format!("'{}'", p.display())).collect();
            Err(UserError::new(format!(
                "{} holds several vaults: {}",
                dir.display(),
                names.join(", ")
            ))
            .hint(
                "choose one with -f/--file PATH, or name them in the config and use --vault NAME",
            ))
        }
    }
}

/// The file starts with an age header whose stanza is scrypt (binary or armoured; only its first 4 KiB
/// are read).
fn is_passphrase_vault(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(4096);
    if file.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    crate::age::decrypt::is_age(&head) && crate::age::decrypt::is_scrypt(&head).unwrap_or(false)
}

/// The nearest directory at or above `dir` that holds `.git` (a directory, or a file for a worktree).
fn work_tree(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_owned)
}

/// The file name of a vault path, for showing it.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}
