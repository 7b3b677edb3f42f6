//! Opening the chosen vaults: for the read commands (each vault that cannot be opened is reported and the
//! others still shown), for the TUI (with the keys kept for reloading), and the places `access`,
//! `audit` and `members rm --all` look at.

use std::io::Write;

use super::read;
use crate::env::Env;
use crate::error::UserError;
use crate::vault::{self, Source, readers, select};
use crate::{config, tui};

/// Opens the vaults a read command shows. One vault that cannot be opened is the command's error; with
/// several, each failure is reported on `err` and the others are still shown.
pub fn shown(
    chosen: &[select::Chosen],
    identity: &[std::path::PathBuf],
    env: &Env,
    err: &mut dyn Write,
) -> Result<read::Shown, UserError> {
    shown_for(chosen, identity, env, None, err)
}

/// [`shown`], parsing only the rows that could match `query` when one is given (`code`).
pub fn shown_for(
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
pub fn shown_unparsed(
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
pub fn tui_vaults(
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

/// The chosen vaults that are files, as places for `audit` (the demo vault has no history).
pub fn audited(chosen: &[select::Chosen], identity: &[std::path::PathBuf]) -> Vec<readers::Place> {
    chosen
        .iter()
        .filter_map(|c| match &c.source {
            Source::File(path) => Some(readers::Place {
                name: c.name.clone(),
                path: path.clone(),
                identities: identity.iter().chain(&c.identity).cloned().collect(),
            }),
            Source::Demo => None,
        })
        .collect()
}

/// Every configured vault, as places for `members rm --all`.
pub fn configured(config: Option<&config::Config>) -> Vec<readers::Place> {
    config
        .map(|c| c.vaults.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|v| readers::Place {
            name: v.name.clone(),
            path: v.file.clone(),
            identities: v.identity.clone(),
        })
        .collect()
}

/// Every configured vault, and the vault of this folder (or `-f`), once each: what `access` looks at.
pub fn every_vault(
    config: Option<&config::Config>,
    file: Option<&std::path::Path>,
    env: &Env,
    err: &mut dyn Write,
) -> Result<Vec<readers::Place>, UserError> {
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
            places.push(readers::Place {
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
