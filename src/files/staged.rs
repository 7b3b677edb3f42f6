//! Replacing a file: a new file staged in a private directory beside the target, written and checked
//! through one descriptor, renamed over the target (retried while Windows reports it blocked).

use super::*;

/// How many times a replace blocked by another program is tried, and the longest pause between tries
/// (pauses double from 10 ms: about 1.3 s in all).
pub(super) const REPLACE_ATTEMPTS: u32 = 10;
pub(super) const REPLACE_PAUSE_MAX: Duration = Duration::from_millis(200);

/// True for the errors Windows gives while another program (a virus scanner, an indexer, an editor) has
/// the file open for a moment: `ERROR_ACCESS_DENIED` (5), `ERROR_SHARING_VIOLATION` (32),
/// `ERROR_LOCK_VIOLATION` (33).
pub(super) fn is_blocked(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// Runs `attempt` (a rename over the target) until it succeeds, fails for another reason, or has been
/// blocked [`REPLACE_ATTEMPTS`] times, pausing with `sleep` in between. A failed rename leaves the old file
/// in place, so the vault is never missing, only not yet replaced.
#[cfg_attr(unix, allow(dead_code))]
pub(super) fn retry_blocked(
    attempt: &mut dyn FnMut() -> io::Result<()>,
    sleep: &mut dyn FnMut(Duration),
) -> io::Result<()> {
    let mut pause = Duration::from_millis(10);
    for _ in 1..REPLACE_ATTEMPTS {
        match attempt() {
            Err(e) if is_blocked(&e) => {
                sleep(pause);
                pause = (pause * 2).min(REPLACE_PAUSE_MAX);
            }
            other => return other,
        }
    }
    attempt()
}

/// A name nobody can predict, for the private staging directory beside `target`.
pub(super) fn stage_name(target: &OsStr, attempt: u32) -> OsString {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u32(attempt);
    let mut name = OsString::from(".");
    name.push(target);
    name.push(format!(".{:016x}.tmp", hasher.finish()));
    name
}

/// The file's name inside its staging directory.
pub(super) const STAGED: &str = "new";

/// A new file beside its target, written and checked through one descriptor, renamed into place by
/// [`Staged::commit`], and removed if dropped before that.
///
/// The file lives in a private (0700) directory of its own, made exclusively beside the target: nobody
/// else can rename, replace or link anything inside it, so the rename by name moves exactly the file that
/// was written, even in a folder the whole team can write to.
pub struct Staged {
    dir: Dir,
    stage: Dir,
    stage_name: OsString,
    file: File,
    target: Target,
    committed: bool,
}

impl Staged {
    /// Creates the file with exactly `mode`.
    pub fn create(target: &Target, mode: u32) -> io::Result<Staged> {
        let dir = target.open_dir()?;
        for attempt in 0..100 {
            let stage_name = stage_name(&target.name, attempt);
            match create_stage(&dir, &stage_name) {
                Ok(stage) => {
                    return match create_new_in(&stage, OsStr::new(STAGED), mode) {
                        Ok(file) => Ok(Staged {
                            dir,
                            stage,
                            stage_name,
                            file,
                            target: target.clone(),
                            committed: false,
                        }),
                        Err(e) => {
                            remove_stage(&dir, &stage, &stage_name);
                            Err(e)
                        }
                    };
                }
                // Taken (or a planted link, which mkdir never follows): another name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name",
        ))
    }

    /// Writes all of `bytes` and makes them durable.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.file.sync_all()
    }

    /// Reads back what is on disk, through the same descriptor.
    pub fn read_back(&mut self) -> io::Result<Vec<u8>> {
        self.file.seek(io::SeekFrom::Start(0))?;
        let mut bytes = Vec::new();
        (&self.file).take(READ_LIMIT + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Renames the file over the target and makes the rename durable.
    pub fn commit(mut self) -> io::Result<()> {
        #[cfg(unix)]
        rustix::fs::renameat(&self.stage, STAGED, &self.dir, &self.target.name)?;
        #[cfg(not(unix))]
        {
            let (from, to) = (self.stage.join(STAGED), self.dir.join(&self.target.name));
            retry_blocked(&mut || std::fs::rename(&from, &to), &mut std::thread::sleep)?;
        }
        self.finish()
    }

    /// Moves the file into place only if the target does not exist (`AlreadyExists` otherwise).
    pub fn commit_new(mut self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        rustix::fs::renameat_with(
            &self.stage,
            STAGED,
            &self.dir,
            &self.target.name,
            rustix::fs::RenameFlags::NOREPLACE,
        )?;
        #[cfg(all(unix, not(target_os = "linux")))]
        {
            rustix::fs::linkat(
                &self.stage,
                STAGED,
                &self.dir,
                &self.target.name,
                rustix::fs::AtFlags::empty(),
            )?;
            let _ = rustix::fs::unlinkat(&self.stage, STAGED, rustix::fs::AtFlags::empty());
        }
        #[cfg(not(unix))]
        {
            let from = self.stage.join(STAGED);
            std::fs::hard_link(&from, self.dir.join(&self.target.name))?;
            let _ = std::fs::remove_file(from);
        }
        self.finish()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.committed = true;
        remove_stage(&self.dir, &self.stage, &self.stage_name);
        // The rename is in the directory: sync it too (best effort: some file systems refuse; Windows has
        // no directory fsync).
        #[cfg(unix)]
        let _ = self.dir.sync_all();
        // Only a process of the same user (or root) could have replaced it since: say so rather than
        // claim success.
        if !is_current(&self.dir, &self.target.name, &self.file) {
            return Err(io::Error::other(
                "another process replaced the file right after teamotp wrote it; look at it before \
                 going on",
            ));
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            remove_stage(&self.dir, &self.stage, &self.stage_name);
        }
    }
}

/// Makes the private staging directory and opens it, checking that the directory opened is the one made
/// (ours, 0700: nobody else can make such a directory).
pub(super) fn create_stage(dir: &Dir, name: &OsStr) -> io::Result<Dir> {
    #[cfg(unix)]
    {
        use rustix::fs::{Mode, OFlags};
        rustix::fs::mkdirat(dir, name, raw_mode(0o700))?;
        let replaced = || {
            io::Error::other(
                "another process replaced teamotp's temporary directory; nothing was changed",
            )
        };
        let stage = File::from(
            rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|_| replaced())?,
        );
        let stat = rustix::fs::fstat(&stage)?;
        if stat.st_uid != rustix::process::geteuid().as_raw() || stat.st_mode & 0o077 != 0 {
            return Err(replaced());
        }
        Ok(stage)
    }
    #[cfg(not(unix))]
    {
        // create_dir fails on anything already there, a planted link or junction included; the check
        // after it catches a swap in between.
        let stage = dir.join(name);
        std::fs::create_dir(&stage)?;
        let metadata = std::fs::symlink_metadata(&stage)?;
        if !metadata.is_dir() || metadata.file_type().is_symlink() {
            return Err(io::Error::other(
                "another process replaced teamotp's temporary directory; nothing was changed",
            ));
        }
        Ok(stage)
    }
}

/// Removes the staging directory's file (if still there) and the directory (if it is still ours).
pub(super) fn remove_stage(dir: &Dir, stage: &Dir, name: &OsStr) {
    #[cfg(unix)]
    {
        let _ = rustix::fs::unlinkat(stage, STAGED, rustix::fs::AtFlags::empty());
        let _ = rustix::fs::unlinkat(dir, name, rustix::fs::AtFlags::REMOVEDIR);
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, name);
        let _ = std::fs::remove_file(stage.join(STAGED));
        let _ = std::fs::remove_dir(stage);
    }
}

/// Replaces `path` (the real file behind the caller's links) with `bytes`, atomically, with `mode`.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let target = Target::resolve(path)?;
    let mut staged = Staged::create(&target, mode)?;
    staged.write(bytes)?;
    staged.commit()
}

/// Replaces `path` itself, never through a link: what is there must be a regular file (or nothing). For
/// files inside a repository, where a committed link must not send the write elsewhere.
pub fn replace_no_follow(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.is_file() => {
            return Err(refused(format!(
                "it is {}, not a regular file",
                kind_of(&metadata.file_type())
            )));
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let target = Target::split(path)?;
    let mut staged = Staged::create(&target, target.mode_or(mode))?;
    staged.write(bytes)?;
    staged.commit()
}

/// Creates `path` with `bytes` and `mode`, atomically, never replacing an existing file or link.
pub fn create_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let target = Target::split(path)?;
    let mut staged = Staged::create(&target, mode)?;
    staged.write(bytes)?;
    staged.commit_new()
}

/// Creates a private directory (0700) and its parents.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn replace_writes_through_our_link_to_the_real_file_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        let link = dir.path().join("link");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink("real", &link).unwrap();
        replace(&link, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["link", "real"], "no temporary file left");
    }

    #[cfg(unix)]
    #[test]
    fn staged_file_is_exclusive_and_removed_when_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = Target::resolve(&dir.path().join("t")).unwrap();
        let mut staged = Staged::create(&target, 0o640).unwrap();
        staged.write(b"x").unwrap();
        assert_eq!(staged.read_back().unwrap(), b"x");
        let stage = dir.path().join(&staged.stage_name);
        let temp = stage.join(STAGED);
        assert_eq!(
            std::fs::metadata(&temp).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::metadata(&stage).unwrap().permissions().mode() & 0o777,
            0o700
        );
        drop(staged);
        assert!(!stage.exists());
        assert!(!dir.path().join("t").exists());
    }

    /// A fake rename: blocked (`code`) `blocked` times, then `last`.
    fn fake(blocked: u32, code: i32, last: io::Result<()>) -> impl FnMut() -> io::Result<()> {
        let mut calls = 0;
        let mut last = Some(last);
        move || {
            calls += 1;
            if calls <= blocked {
                Err(io::Error::from_raw_os_error(code))
            } else {
                last.take().expect("no call after the last")
            }
        }
    }

    #[test]
    fn a_replace_blocked_for_a_moment_is_retried_with_growing_pauses() {
        let mut pauses = Vec::new();
        let mut attempt = fake(3, 32, Ok(()));
        retry_blocked(&mut attempt, &mut |d| pauses.push(d.as_millis())).unwrap();
        assert_eq!(pauses, [10, 20, 40]);
    }

    #[test]
    fn a_replace_blocked_for_good_fails_after_the_last_attempt() {
        let mut pauses = Vec::new();
        let mut attempt = fake(u32::MAX, 5, Ok(()));
        let e = retry_blocked(&mut attempt, &mut |d| pauses.push(d)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(5));
        assert_eq!(pauses.len() as u32, REPLACE_ATTEMPTS - 1);
        assert!(pauses.iter().sum::<Duration>() < Duration::from_secs(2));
        assert!(pauses.iter().all(|&p| p <= REPLACE_PAUSE_MAX));
    }

    #[test]
    fn other_replace_errors_are_not_retried() {
        let mut pauses = 0;
        let mut attempt = fake(1, 33, Err(io::Error::from(io::ErrorKind::NotFound)));
        let e = retry_blocked(&mut attempt, &mut |_| pauses += 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(pauses, 1, "one pause for the lock violation, none after");
    }
}
