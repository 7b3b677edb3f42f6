//! The one place where teamotp reads and replaces files, so every file gets the same protection against a
//! hostile teammate who can write to the shared folder (docs/security.md, "A hostile teammate"):
//!
//! - [`read`]: regular files only (a FIFO, a device or a directory is refused without blocking), at most
//!   [`READ_LIMIT`] bytes, into a zeroizing buffer.
//! - [`Target::resolve`]: the real file behind a path. A symlink is followed only when the caller owns it
//!   (a `~/.config/teamotp/secrets.csv.age` link into the team repository keeps working and stays a link);
//!   a link planted by someone else, or anything but a regular file, is refused.
//! - [`Staged`]: a new file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`) inside a private 0700
//!   directory made exclusively beside the target, so nobody else can swap it. Every write, the fsync and the
//!   read-back check go through that one descriptor; nothing is reopened by name. [`Staged::commit`] renames
//!   it over the target relative to the directory descriptors and fsyncs the directory.
//! - [`Lock`]: an advisory lock file beside the target (`NAME.lock`), opened with the same no-follow rules,
//!   held across a whole read-modify-write; it names its holder for whoever waits.
//!
//! Only this module knows the platform: on Unix it uses `rustix` (`openat`, `renameat`, `fstat`); the lock is
//! std's portable file lock.
//!
//! On Windows (no `openat`, no modes, no directory fsync; std only, since `unsafe` is forbidden) the same
//! steps go by path: the staging directory is created exclusively and checked not to be a reparse point,
//! the file in it is created new without following a reparse point (`FILE_FLAG_OPEN_REPARSE_POINT`), written,
//! flushed and read back through its handle, then renamed over the target (`MoveFileEx` with
//! `MOVEFILE_REPLACE_EXISTING`, which keeps the old file until the new one is in place). A rename that a
//! virus scanner or an editor blocks for a moment (sharing violation, access denied) is retried a few times
//! ([`retry_blocked`]). Write targets that are links are refused there (their owner is not checked), and
//! the lock file stays beside the vault after use (removing a file others hold open is not reliable).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// The largest file teamotp reads: vaults, identities, recipients files and import files (64 MiB, about
/// 600,000 accounts). `-f /dev/zero` or a runaway file stops here instead of filling memory.
pub const READ_LIMIT: u64 = 64 * 1024 * 1024;

/// A directory every later operation is relative to: its descriptor on Unix, its path elsewhere.
#[cfg(unix)]
type Dir = File;
#[cfg(not(unix))]
type Dir = PathBuf;

/// `CreateFile` flag: open a reparse point (symbolic link, junction) itself instead of its target.
#[cfg(windows)]
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// Options that never follow a reparse point in the last component, on Windows.
#[cfg(not(unix))]
fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(options, FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// What a non-regular file is, for messages.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading without blocking on a FIFO, and checks that it is a regular file; with
/// `follow` false, a symbolic link is refused too.
fn open_regular(path: &Path, follow: bool) -> io::Result<File> {
    #[cfg(unix)]
    let file = {
        use rustix::fs::{Mode, OFlags};
        let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        match rustix::fs::open(path, flags, Mode::empty()) {
            Err(rustix::io::Errno::LOOP) if !follow => {
                return Err(refused("it is a symbolic link".into()));
            }
            other => File::from(other?),
        }
    };
    #[cfg(not(unix))]
    let file = {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        if !follow {
            no_follow(&mut options);
        }
        match options.open(path) {
            // Windows opens no directory as a file: say what it is.
            Err(e) if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) => {
                let _ = e;
                return Err(refused("it is a directory, not a regular file".into()));
            }
            other => other?,
        }
    };
    let metadata = file.metadata()?;
    if metadata.file_type().is_symlink() && !follow {
        return Err(refused("it is a symbolic link".into()));
    }
    if !metadata.is_file() {
        return Err(refused(format!(
            "it is {}, not a regular file",
            kind_of(&metadata.file_type())
        )));
    }
    Ok(file)
}

/// Reads a whole regular file of at most [`READ_LIMIT`] bytes. Errors keep their kind (`NotFound` stays
/// `NotFound`); a refused file is `InvalidInput` with a message that says why.
pub fn read(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    read_regular(open_regular(path, true)?)
}

/// Opens a regular file for reading as [`read`] does (same refusals), with its length, for a caller that
/// reads it in pieces (then [`read_open`] reads the rest of it or all of it).
pub fn open(path: &Path) -> io::Result<(File, u64)> {
    let file = open_regular(path, true)?;
    let len = file.metadata()?.len();
    if len > READ_LIMIT {
        return Err(refused(format!(
            "it is larger than {} MiB, the most teamotp reads",
            READ_LIMIT / (1024 * 1024)
        )));
    }
    Ok((file, len))
}

/// The whole of a file opened by [`open`], from its start, as [`read`] reads it.
pub fn read_open(mut file: File) -> io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Seek as _;
    file.rewind()?;
    read_regular(file)
}

/// [`read`], refusing a symbolic link as well (files inside a repository someone else committed).
pub fn read_no_follow(path: &Path) -> io::Result<Zeroizing<Vec<u8>>> {
    read_regular(open_regular(path, false)?)
}

/// A regular file's bytes, into a buffer of the file's size (one allocation, no copy to a bigger one
/// unless the file grows while it is read).
fn read_regular(file: File) -> io::Result<Zeroizing<Vec<u8>>> {
    // One byte more than the file: the read that finds its end needs room.
    let size = file.metadata()?.len().min(READ_LIMIT) + 1;
    read_limited_sized(file, READ_LIMIT, usize::try_from(size).unwrap_or(0))
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<Zeroizing<String>> {
    let mut bytes = read(path)?;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            // Wipe the rejected bytes too.
            drop(Zeroizing::new(e.into_bytes()));
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "it is not UTF-8 text",
            ))
        }
    }
}

/// Reads at most `limit` bytes from `reader` (an error past that), into a buffer that never reallocates
/// while it holds data (a reallocation would leave an unwiped copy behind).
pub fn read_limited(reader: impl Read, limit: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    read_limited_sized(reader, limit, 0)
}

/// [`read_limited`] into a buffer of `expected` bytes to start with, read into directly (no copy through
/// a second buffer).
fn read_limited_sized(
    reader: impl Read,
    limit: u64,
    expected: usize,
) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(expected));
    let mut taken = reader.take(limit + 1);
    loop {
        if bytes.len() == bytes.capacity() {
            // A new buffer rather than a reallocation, which would leave an unwiped copy behind.
            let mut bigger = Zeroizing::new(Vec::with_capacity((bytes.len() * 2).max(64 * 1024)));
            bigger.extend_from_slice(&bytes);
            bytes = bigger;
        }
        let filled = bytes.len();
        let capacity = bytes.capacity();
        // The free space, zeroed (never reallocates: the length stays within the capacity).
        bytes.resize(capacity, 0);
        let result = taken.read(&mut bytes[filled..]);
        bytes.truncate(filled + result.as_ref().map_or(0, |n| *n));
        match result {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if bytes.len() as u64 > limit {
        return Err(refused(format!(
            "it is larger than {} MiB, the most teamotp reads",
            limit / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

/// The real file behind a path, as its directory and its name in it.
#[derive(Debug, Clone)]
pub struct Target {
    dir: PathBuf,
    name: OsString,
}

/// How many symbolic links are followed before giving up (as the kernel does).
const MAX_LINKS: usize = 40;

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

    fn split(path: &Path) -> io::Result<Target> {
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
    fn open_dir(&self) -> io::Result<Dir> {
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

fn parent(path: &Path) -> PathBuf {
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

fn committed(link: &Path) -> io::Error {
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
fn is_committed_link(link: &Path) -> bool {
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
fn check_link_owner(path: &Path, metadata: &std::fs::Metadata) -> io::Result<()> {
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
fn check_link_owner(path: &Path, _: &std::fs::Metadata) -> io::Result<()> {
    Err(refused(format!(
        "'{}' is a symbolic link or junction; on Windows teamotp does not write through links (name \
         the real file instead)",
        path.display()
    )))
}

/// A permission mode for rustix (`mode_t` is 16 bits on macOS, 32 on Linux).
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
fn raw_mode(mode: u32) -> rustix::fs::Mode {
    rustix::fs::Mode::from_raw_mode((mode & 0o7777) as rustix::fs::RawMode)
}

/// Creates `name` in `dir` exclusively, never following a link, for reading and writing.
fn create_new_in(dir: &Dir, name: &OsStr, mode: u32) -> io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        let fd = rustix::fs::openat(
            dir,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            raw_mode(mode),
        )?;
        let file = File::from(fd);
        // The mode above was reduced by the umask: set it exactly (a shared 0660 vault stays 0660).
        rustix::fs::fchmod(&file, raw_mode(mode))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        // No modes here: the file takes the directory's inherited ACL.
        let _ = mode;
        no_follow(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true),
        )
        .open(dir.join(name))
    }
}

/// How many times a replace blocked by another program is tried, and the longest pause between tries
/// (pauses double from 10 ms: about 1.3 s in all).
const REPLACE_ATTEMPTS: u32 = 10;
const REPLACE_PAUSE_MAX: Duration = Duration::from_millis(200);

/// True for the errors Windows gives while another program (a virus scanner, an indexer, an editor) has
/// the file open for a moment: `ERROR_ACCESS_DENIED` (5), `ERROR_SHARING_VIOLATION` (32),
/// `ERROR_LOCK_VIOLATION` (33).
fn is_blocked(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(5 | 32 | 33))
}

/// Runs `attempt` (a rename over the target) until it succeeds, fails for another reason, or has been
/// blocked [`REPLACE_ATTEMPTS`] times, pausing with `sleep` in between. A failed rename leaves the old file
/// in place, so the vault is never missing, only not yet replaced.
#[cfg_attr(unix, allow(dead_code))]
fn retry_blocked(
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
fn stage_name(target: &OsStr, attempt: u32) -> OsString {
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
const STAGED: &str = "new";

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
fn create_stage(dir: &Dir, name: &OsStr) -> io::Result<Dir> {
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
fn remove_stage(dir: &Dir, stage: &Dir, name: &OsStr) {
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
fn is_current(dir: &Dir, name: &OsStr, file: &File) -> bool {
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
fn open_lock_file(dir: &Dir, name: &OsStr, mode: u32) -> io::Result<File> {
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
fn read_holder(file: &mut File) -> String {
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
    fn reads_regular_files_and_refuses_others_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(&read(&path).unwrap()[..], b"abc");
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.to_string(), "it is a device, not a regular file");
        let e = read(dir.path()).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
        #[cfg(target_os = "linux")]
        {
            let fifo = dir.path().join("fifo");
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &fifo,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o600),
                0,
            )
            .unwrap();
            let e = read(&fifo).unwrap_err();
            assert_eq!(
                e.to_string(),
                "it is a FIFO (named pipe), not a regular file"
            );
        }
        assert_eq!(
            read(&dir.path().join("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn read_limit_is_enforced_on_the_bytes_read() {
        let e = read_limited(&[7u8; 11][..], 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(&read_limited(&[7u8; 10][..], 10).unwrap()[..], &[7u8; 10]);
        let big = vec![1u8; 300_000];
        assert_eq!(&read_limited(&big[..], 1 << 20).unwrap()[..], &big[..]);
    }

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
