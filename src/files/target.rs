//! The real file behind a path, and which links are followed: only the caller's own, never one
//! committed in a git repository.

use super::*;

/// The real file behind a path, as its directory and its name in it.
#[derive(Debug, Clone)]
pub struct Target {
    pub(super) dir: PathBuf,
    pub(super) name: OsString,
}

/// How many symbolic links are followed before giving up (as the kernel does).
pub(super) const MAX_LINKS: usize = 40;

impl Target {
    /// Follows symbolic links in the last component of `path` that the caller owns, to the real file
    /// (which need not exist yet). Refuses a link owned by someone else and anything that exists but is not
    /// a regular file.
    pub fn resolve(path: &Path) -> io::Result<Target> {
        refuse_committed_links(path)?;
        let mut current = path.to_path_buf();
        for _ in 0..MAX_LINKS {
            let metadata = match std::fs::symlink_metadata(&current) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Target::split(&current),
                other => other?,
            };
            if metadata.file_type().is_symlink() {
                if is_committed_link(&current) {
                    return Err(committed(&current));
                }
                check_link_owner(&current, &metadata)?;
                let link = std::fs::read_link(&current)?;
                current = match link.is_absolute() {
                    true => link,
                    false => parent(&current).join(link),
                };
                continue;
            }
            if !metadata.is_file() {
                return Err(refused(format!(
                    "it is {}, not a regular file",
                    kind_of(&metadata.file_type())
                )));
            }
            return Target::split(&current);
        }
        Err(refused("too many levels of symbolic links".into()))
    }

    pub(super) fn split(path: &Path) -> io::Result<Target> {
        let name = path
            .file_name()
            .ok_or_else(|| refused("it does not name a file".into()))?;
        Ok(Target {
            dir: parent(path),
            name: name.to_owned(),
        })
    }

    /// The real path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// A file beside this one: `NAME` + `suffix` in the same directory (`.bak`, `.lock`).
    pub fn sibling(&self, suffix: &str) -> Target {
        let mut name = self.name.clone();
        name.push(suffix);
        Target {
            dir: self.dir.clone(),
            name,
        }
    }

    /// The permission bits of the existing file, or `default` when it does not exist.
    pub fn mode_or(&self, default: u32) -> u32 {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::symlink_metadata(self.path())
                .ok()
                .filter(|m| m.is_file())
                .map_or(default, |m| m.permissions().mode() & 0o777)
        }
        #[cfg(not(unix))]
        default
    }

    /// The directory, opened once: every later operation is relative to it.
    pub(super) fn open_dir(&self) -> io::Result<Dir> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let fd = rustix::fs::open(
                &self.dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(File::from(fd))
        }
        #[cfg(not(unix))]
        {
            if !std::fs::metadata(&self.dir)?.is_dir() {
                return Err(refused(format!(
                    "'{}' is not a directory",
                    self.dir.display()
                )));
            }
            Ok(self.dir.clone())
        }
    }
}

pub(super) fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Refuses `path` when it, or a folder on the way to it, is a symbolic link committed in a git
/// repository. `git clone` creates committed links owned by whoever clones, so ownership says nothing
/// about where such a link came from: a teammate's `.age-recipients -> ~/.ssh/authorized_keys` would
/// make a write (or a review) go through it. Links that are not tracked (one you made in your config
/// folder to a vault in a repository) are left to the ownership rule.
pub fn refuse_committed_links(path: &Path) -> io::Result<()> {
    let absolute = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir()?.join(path),
    };
    for candidate in absolute.ancestors() {
        let is_link =
            std::fs::symlink_metadata(candidate).is_ok_and(|m| m.file_type().is_symlink());
        if is_link && is_committed_link(candidate) {
            return Err(committed(candidate));
        }
    }
    Ok(())
}

pub(super) fn committed(link: &Path) -> io::Error {
    refused(format!(
        "'{}' is a symbolic link committed in a git repository; teamotp never writes through (or trusts \
         a recipients file read through) a committed link, whoever owns it: replace it with the real \
         file (git rm it, then commit the file itself)",
        link.display()
    ))
}

/// True when `link` (a symbolic link) is tracked by the git repository around it. git is asked only when
/// a `.git` sits in a folder above the link, so a link outside any work tree (such as macOS's `/tmp`)
/// costs no process.
pub(super) fn is_committed_link(link: &Path) -> bool {
    let (Some(dir), Some(name)) = (link.parent(), link.file_name()) else {
        return false;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(real_dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    if !real_dir.ancestors().any(|d| d.join(".git").exists()) {
        return false;
    }
    let Some(name) = name.to_str() else {
        return false;
    };
    crate::git::output(&real_dir, &["ls-files", "--error-unmatch", "--", name]).is_ok()
}

/// A link is followed only when it belongs to the caller (or to root): a teammate's link in a shared
/// folder could otherwise point the write at any file the caller can write.
#[cfg(unix)]
pub(super) fn check_link_owner(path: &Path, metadata: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if metadata.uid() == me || metadata.uid() == 0 {
        return Ok(());
    }
    Err(refused(format!(
        "'{}' is a symbolic link owned by another user (uid {}); teamotp does not write through it",
        path.display(),
        metadata.uid()
    )))
}

/// Windows: a link's owner is not checked (that needs the security API), so no write goes through one.
#[cfg(not(unix))]
pub(super) fn check_link_owner(path: &Path, _: &std::fs::Metadata) -> io::Result<()> {
    Err(refused(format!(
        "'{}' is a symbolic link or junction; on Windows teamotp does not write through links (name \
         the real file instead)",
        path.display()
    )))
}
