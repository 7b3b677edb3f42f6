//! The config file, `$XDG_CONFIG_HOME/teamotp/config.toml`: named vaults, a default one, and the TUI's
//! start-up settings. [`parse`] is pure (text in, `Config` out); [`load`] reads the file. Every key is
//! documented in docs/config.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::Env;
use crate::error::UserError;

/// The file name under `$XDG_CONFIG_HOME/teamotp/`.
pub const FILE_NAME: &str = "config.toml";

/// `$XDG_CONFIG_HOME/teamotp/config.toml` (or `~/.config/teamotp/config.toml`).
pub fn path(env: &Env) -> Option<PathBuf> {
    Some(env.config_dir()?.join("teamotp").join(FILE_NAME))
}

/// The parsed config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// The vault used when none is chosen.
    pub default: Option<String>,
    /// The TUI starts with codes hidden.
    pub hide: bool,
    /// The named vaults, by name (sorted).
    pub vaults: Vec<Vault>,
}

/// One `[vaults.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    pub name: String,
    /// The vault file, `~` expanded.
    pub file: PathBuf,
    /// Identity files for this vault, `~` expanded (used with any `-i`).
    pub identity: Vec<PathBuf>,
}

impl Config {
    /// The vault named `name` (exact).
    pub fn vault(&self, name: &str) -> Option<&Vault> {
        self.vaults.iter().find(|v| v.name == name)
    }

    /// The configured names, quoted, for messages.
    pub fn names(&self) -> String {
        self.vaults
            .iter()
            .map(|v| format!("'{}'", v.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    default: Option<String>,
    hide: Option<bool>,
    #[serde(default)]
    vaults: BTreeMap<String, RawVault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVault {
    file: String,
    #[serde(default)]
    identity: Vec<String>,
}

/// Reads the config file named by `env` (`None` when there is none).
pub fn load(env: &Env) -> Result<Option<Config>, UserError> {
    let Some(path) = path(env) else {
        return Ok(None);
    };
    let text = match crate::files::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(UserError::new(format!(
                "cannot read the config '{}': {e}",
                path.display()
            )));
        }
    };
    parse(&text, &path, env.home().as_deref()).map(Some)
}

/// Parses the config's text. Errors name the file, the line and the key, with a hint.
pub fn parse(text: &str, path: &Path, home: Option<&Path>) -> Result<Config, UserError> {
    let shown = path.display().to_string();
    let at = |span: Option<std::ops::Range<usize>>| {
        let line = span.map_or(1, |s| line_of(text, s.start));
        format!("{shown}:{line}")
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        UserError::new(format!("{}: {}", at(e.span()), e.message().trim()))
            .hint("every key is described in docs/config.md (default, hide, [vaults.NAME] file, identity)")
    })?;
    let key_line = |needle: &str| text.find(needle).map_or(1, |offset| line_of(text, offset));
    let expand = |value: &str, key: &str, line: usize| -> Result<PathBuf, UserError> {
        expand_home(value, home).ok_or_else(|| {
            UserError::new(format!(
                "{shown}:{line}: '{key}': '{value}' starts with ~ but there is no home directory"
            ))
            .hint("write the path in full")
        })
    };
    let mut vaults = Vec::new();
    for (name, vault) in raw.vaults {
        let line = key_line(&format!("vaults.{name}"));
        if name.is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
            return Err(UserError::new(format!(
                "{shown}:{line}: [vaults.{name}]: '{name}' is not a usable vault name"
            ))
            .hint("a vault name is a word without '/' or spaces, such as infra or finance"));
        }
        if vault.file.trim().is_empty() {
            return Err(UserError::new(format!(
                "{shown}:{line}: 'file' of [vaults.{name}] is empty"
            ))
            .hint("give the vault's path, such as file = \"~/src/infra/vault.csv.age\""));
        }
        let file = expand(&vault.file, "file", line)?;
        let identity = vault
            .identity
            .iter()
            .map(|i| expand(i, "identity", line))
            .collect::<Result<_, _>>()?;
        vaults.push(Vault {
            name,
            file,
            identity,
        });
    }
    if let Some(default) = &raw.default
        && !vaults.iter().any(|v| &v.name == default)
    {
        let line = key_line("default");
        let names: Vec<String> = vaults.iter().map(|v| format!("'{}'", v.name)).collect();
        return Err(UserError::new(format!(
            "{shown}:{line}: 'default': there is no [vaults.{default}]"
        ))
        .hint(if names.is_empty() {
            "add a [vaults.NAME] table with its file, or remove the default line".to_owned()
        } else {
            format!("the configured vaults are {}", names.join(", "))
        }));
    }
    Ok(Config {
        path: path.to_owned(),
        default: raw.default,
        hide: raw.hide.unwrap_or(false),
        vaults,
    })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// `~` and `~/...` with `home`; anything else as written. `None` for `~` without a home.
pub fn expand_home(value: &str, home: Option<&Path>) -> Option<PathBuf> {
    if value == "~" {
        return home.map(Path::to_owned);
    }
    match value.strip_prefix("~/") {
        Some(rest) => home.map(|h| h.join(rest)),
        None => Some(PathBuf::from(value)),
    }
}

/// A `[vaults.NAME]` section to append to a config, as `init --register` writes it (TOML basic strings,
/// so a path with quotes or backslashes stays one string).
pub fn section(name: &str, file: &Path) -> String {
    let quoted = toml_string(&file.display().to_string());
    format!("\n[vaults.{name}]\nfile = {quoted}\n")
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<Config, String> {
        parse(
            text,
            Path::new("/c/config.toml"),
            Some(Path::new("/home/u")),
        )
        .map_err(|e| {
            let mut s = e.message;
            for h in e.hints {
                s.push_str("\nhint: ");
                s.push_str(&h);
            }
            s
        })
    }

    #[test]
    fn every_key() {
        let c = config(
            "# mine\ndefault = \"infra\"\nhide = true\n\n[vaults.infra]\nfile = \"~/src/infra/vault.csv.age\"\n\
             [vaults.finance]\nfile = \"/srv/otp.csv.age\"\nidentity = [\"~/.ssh/id_ed25519\", \"/k.txt\"]\n",
        )
        .unwrap();
        assert_eq!(c.default.as_deref(), Some("infra"));
        assert!(c.hide);
        assert_eq!(c.vaults.len(), 2);
        let infra = c.vault("infra").unwrap();
        assert_eq!(infra.file, Path::new("/home/u/src/infra/vault.csv.age"));
        assert!(infra.identity.is_empty());
        let finance = c.vault("finance").unwrap();
        assert_eq!(finance.file, Path::new("/srv/otp.csv.age"));
        assert_eq!(
            finance.identity,
            vec![
                PathBuf::from("/home/u/.ssh/id_ed25519"),
                PathBuf::from("/k.txt")
            ]
        );
    }

    #[test]
    fn an_empty_config_is_the_defaults() {
        let c = config("").unwrap();
        assert_eq!(c.default, None);
        assert!(!c.hide);
        assert!(c.vaults.is_empty());
    }

    #[test]
    fn unknown_top_level_key_names_line_and_key() {
        let e = config("hide = false\ncolour = \"red\"\n").unwrap_err();
        assert!(
            e.starts_with("/c/config.toml:2: unknown field `colour`"),
            "{e}"
        );
        assert!(
            e.contains("hint: every key is described in docs/config.md"),
            "{e}"
        );
    }

    #[test]
    fn unknown_vault_key_names_line_and_key() {
        let e = config("[vaults.infra]\nfile = \"/v.age\"\nidentities = []\n").unwrap_err();
        assert!(
            e.starts_with("/c/config.toml:3: unknown field `identities`"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_line_and_key() {
        let e = config("\nhide = \"yes\"\n").unwrap_err();
        assert!(e.starts_with("/c/config.toml:2: "), "{e}");
        assert!(e.contains("bool"), "{e}");
        let e = config("default = 3\n").unwrap_err();
        assert!(e.starts_with("/c/config.toml:1: "), "{e}");
        let e = config("[vaults.infra]\nfile = 5\n").unwrap_err();
        assert!(e.starts_with("/c/config.toml:2: "), "{e}");
        let e = config("[vaults.infra]\nfile = \"/v\"\nidentity = \"/k\"\n").unwrap_err();
        assert!(e.starts_with("/c/config.toml:3: "), "{e}");
    }

    #[test]
    fn missing_file_is_an_error_with_its_line() {
        let e = config("\n\n[vaults.infra]\nidentity = []\n").unwrap_err();
        assert!(
            e.starts_with("/c/config.toml:3: missing field `file`"),
            "{e}"
        );
        let e = config("[vaults.infra]\nfile = \"\"\n").unwrap_err();
        assert!(
            e.starts_with("/c/config.toml:1: 'file' of [vaults.infra] is empty"),
            "{e}"
        );
    }

    #[test]
    fn default_must_name_a_vault() {
        let e = config("\ndefault = \"infra\"\n[vaults.finance]\nfile = \"/f\"\n").unwrap_err();
        assert_eq!(
            e,
            "/c/config.toml:2: 'default': there is no [vaults.infra]\nhint: the configured vaults are 'finance'"
        );
    }

    #[test]
    fn vault_names_without_slash() {
        let e = config("[vaults.\"a/b\"]\nfile = \"/f\"\n").unwrap_err();
        assert!(e.contains("'a/b' is not a usable vault name"), "{e}");
    }

    #[test]
    fn broken_toml_names_its_line() {
        let e = config("hide = false\n[vaults.infra\n").unwrap_err();
        assert!(e.starts_with("/c/config.toml:2: "), "{e}");
    }

    #[test]
    fn a_registered_section_reads_back() {
        let text = format!(
            "default = \"a\"\n[vaults.a]\nfile = \"/a\"\n{}",
            section("b", Path::new("/x/\"q\"\\.age"))
        );
        let c = config(&text).unwrap();
        assert_eq!(c.vault("b").unwrap().file, Path::new("/x/\"q\"\\.age"));
    }
}
