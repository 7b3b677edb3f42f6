//! Recipients-file pinning: teamotp remembers (in `$XDG_STATE_HOME/teamotp/pins/`) the recipients it last
//! encrypted a vault to. When the recipients file has changed since (a `git pull` brought a new member, or
//! someone slipped in their own key), writes stop until the user looks at the change and accepts it with
//! `teamotp members ack`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::load::hash;
use super::recipients::Member;
use crate::env::Env;

/// The added and removed recipients between the pin and the recipients file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub added: Vec<Member>,
    pub removed: Vec<String>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// One line per change: `+ label (key)` / `- key`.
    pub fn lines(&self) -> Vec<String> {
        self.added
            .iter()
            .map(|m| format!("+ {}", m.describe()))
            .chain(
                self.removed
                    .iter()
                    .map(|k| format!("- {}", super::recipients::short(k))),
            )
            .collect()
    }
}

/// Where the pin of `vault` lives (one file per vault, named by a hash of its absolute path).
pub fn path(env: &Env, vault: &Path) -> Option<PathBuf> {
    let absolute = fs::canonicalize(vault).or_else(|_| {
        let parent = vault.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = fs::canonicalize(parent.unwrap_or(Path::new(".")))?;
        Ok::<_, std::io::Error>(dir.join(vault.file_name().unwrap_or_default()))
    });
    let absolute = absolute.ok()?;
    let digest = hash(absolute.as_os_str().as_encoded_bytes());
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Some(env.state_dir()?.join("teamotp").join("pins").join(name))
}

/// The pinned keys, or None when this vault was never written from this machine.
pub fn read(pin: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(pin).ok()?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect(),
    )
}

/// What changed from the pinned keys to `current`.
pub fn change(pinned: &[String], current: &[Member]) -> Change {
    Change {
        added: current
            .iter()
            .filter(|m| !pinned.contains(&m.key))
            .cloned()
            .collect(),
        removed: pinned
            .iter()
            .filter(|k| !current.iter().any(|m| &m.key == *k))
            .cloned()
            .collect(),
    }
}

/// Records `members` as the recipients this vault is now encrypted to.
pub fn write(pin: &Path, vault: &Path, members: &[Member]) -> std::io::Result<()> {
    if let Some(dir) = pin.parent() {
        use std::os::unix::fs::DirBuilderExt;
        // Private: another local user who could edit the pin could silence the recipients check.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
    keys.sort_unstable();
    let mut text = format!(
        "# teamotp: the recipients {} was last encrypted to from this machine\n",
        vault.display()
    );
    for key in keys {
        text.push_str(key);
        text.push('\n');
    }
    let temp = pin.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(temp, pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(key: &str) -> Member {
        Member {
            key: key.into(),
            label: Some(format!("owner of {key}")),
            line: 1,
        }
    }

    #[test]
    fn change_lists_added_and_removed_keys() {
        let pinned = vec!["a".to_string(), "b".to_string()];
        let change = change(&pinned, &[member("b"), member("c")]);
        assert_eq!(change.added, vec![member("c")]);
        assert_eq!(change.removed, vec!["a".to_string()]);
        assert_eq!(change.lines(), ["+ owner of c (c)", "- a"]);
        assert!(super::change(&pinned, &[member("b"), member("a")]).is_empty());
    }

    #[test]
    fn written_pin_reads_back_and_is_per_vault() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("XDG_STATE_HOME", dir.path().to_str().unwrap())]);
        let one = path(&env, &dir.path().join("one.age")).unwrap();
        let two = path(&env, &dir.path().join("two.age")).unwrap();
        assert_ne!(one, two);
        assert!(one.starts_with(dir.path().join("teamotp").join("pins")));
        assert_eq!(read(&one), None);
        write(&one, Path::new("one.age"), &[member("k2"), member("k1")]).unwrap();
        assert_eq!(read(&one), Some(vec!["k1".to_string(), "k2".to_string()]));
    }
}
