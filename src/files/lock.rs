//! The advisory lock a writer holds across a whole read-modify-write, naming its holder for whoever
//! waits.

use super::*;

/// An advisory lock on a target, held by a `NAME.lock` file beside it until dropped (the file exists only
/// while someone writes). While held, the file names its holder (`user@host pid N since UNIX`); the lock
/// itself is the operating system's, so a holder that dies releases it at once, and the file it leaves
/// behind blocks nobody.
pub struct Lock {
    // Only Unix removes the lock file on release (see the module comment).
    #[cfg_attr(not(unix), allow(dead_code))]
    dir: Dir,
    #[cfg_attr(not(unix), allow(dead_code))]
    name: OsString,
    file: File,
}

/// Who holds a lock, written into the lock file for whoever waits.
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub since: u64,
}

impl Holder {
    fn line(&self) -> String {
        format!(
            "{}@{} pid {} since {}\n",
            self.user, self.host, self.pid, self.since
        )
    }
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Someone else held it for the whole timeout; what the lock file says about them (may be empty).
    Busy(String),
    Io(io::Error),
}

impl From<io::Error> for LockError {
    fn from(e: io::Error) -> Self {
        LockError::Io(e)
    }
}

impl Lock {
    /// Takes the lock on `target`, waiting up to `timeout`. `waiting` is called once with the holder's
    /// description when the lock is busy at first.
    pub fn acquire(
        target: &Target,
        holder: &Holder,
        timeout: Duration,
        waiting: &mut dyn FnMut(&str),
    ) -> Result<Lock, LockError> {
        let name = target.sibling(".lock").name;
        let dir = target.open_dir()?;
        let mode = target.mode_or(0o600);
        let start = Instant::now();
        let mut told = false;
        loop {
            let mut file = open_lock_file(&dir, &name, mode)?;
            match file.try_lock() {
                // The holder removes the file before releasing it: a lock on a file that is no longer
                // the one in the directory locks nothing, so open it again.
                Ok(()) if is_current(&dir, &name, &file) => {
                    // Best effort: a lock file we may not write (someone else's, read-only) still locks.
                    let _ = file
                        .set_len(0)
                        .and_then(|()| file.write_all(holder.line().as_bytes()));
                    return Ok(Lock { dir, name, file });
                }
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let who = read_holder(&mut file);
                    if start.elapsed() >= timeout {
                        return Err(LockError::Busy(who));
                    }
                    if !told {
                        waiting(&who);
                        told = true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so the next writer never locks a file that is about to vanish.
        #[cfg(unix)]
        let _ = rustix::fs::unlinkat(&self.dir, &self.name, rustix::fs::AtFlags::empty());
        let _ = self.file.unlock();
    }
}

/// True when `file` is still the file called `name` in `dir`.
pub(super) fn is_current(dir: &Dir, name: &OsStr, file: &File) -> bool {
    #[cfg(unix)]
    {
        let (Ok(open), Ok(named)) = (
            rustix::fs::fstat(file),
            rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW),
        ) else {
            return false;
        };
        open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }
    // Windows: the same creation time, last write and size (std gives no stable file index).
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt;
        let (Ok(open), Ok(named)) = (file.metadata(), std::fs::symlink_metadata(dir.join(name)))
        else {
            return false;
        };
        named.is_file()
            && open.creation_time() == named.creation_time()
            && open.last_write_time() == named.last_write_time()
            && open.file_size() == named.file_size()
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (dir, name, file);
        true
    }
}

/// Opens (creating if needed) the lock file without following a link and without blocking on a FIFO;
/// read-write when allowed, else read-only (a lock needs no write access).
pub(super) fn open_lock_file(dir: &Dir, name: &OsStr, mode: u32) -> io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags | OFlags::RDWR, raw_mode(mode)) {
            Err(rustix::io::Errno::ACCESS) => {
                rustix::fs::openat(dir, name, flags | OFlags::RDONLY, Mode::empty())?
            }
            Err(rustix::io::Errno::LOOP) => {
                return Err(refused(
                    "its lock file is a symbolic link; remove it".into(),
                ));
            }
            other => other?,
        };
        let file = File::from(fd);
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(refused(format!(
                "its lock file is {}; remove it",
                kind_of(&metadata.file_type())
            )));
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        let path = dir.join(name);
        let file = match no_follow(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true),
        )
        .open(&path)
        {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                no_follow(std::fs::OpenOptions::new().read(true)).open(&path)?
            }
            other => other?,
        };
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(refused(format!(
                "its lock file is {}; remove it",
                kind_of(&metadata.file_type())
            )));
        }
        Ok(file)
    }
}

/// What the lock file says about its holder: `user@host pid N since UNIX`, or "" if unreadable.
pub(super) fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .seek(io::SeekFrom::Start(0))
        .and_then(|_| file.take(4096).read_to_string(&mut text));
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_then_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::resolve(&dir.path().join("v.age")).unwrap();
        let holder = Holder {
            user: "alice".into(),
            host: "box".into(),
            pid: 42,
            since: 1_700_000_000,
        };
        let first = Lock::acquire(&target, &holder, Duration::ZERO, &mut |_| {}).unwrap();
        let mut told = Vec::new();
        let busy = Lock::acquire(&target, &holder, Duration::from_millis(120), &mut |who| {
            told.push(who.to_owned())
        });
        match busy {
            Err(LockError::Busy(who)) => assert_eq!(who, "alice@box pid 42 since 1700000000"),
            _ => panic!("the second lock must be refused"),
        }
        assert_eq!(told, ["alice@box pid 42 since 1700000000"]);
        drop(first);
        #[cfg(unix)]
        assert!(
            !dir.path().join("v.age.lock").exists(),
            "removed on release"
        );
        let again = Lock::acquire(&target, &holder, Duration::ZERO, &mut |_| {});
        assert!(again.is_ok(), "released on drop");
    }
}
