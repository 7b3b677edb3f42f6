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
//! std's portable file lock. Its four files are one platform layer split by concern: each takes this
//! file's helpers and imports whole (`use super::*`), which differ between Unix and Windows.
//!
//! On Windows (no `openat`, no modes, no directory fsync; std only, since `unsafe` is forbidden) the same
//! steps go by path: the staging directory is created exclusively and checked not to be a reparse point,
//! the file in it is created new without following a reparse point (`FILE_FLAG_OPEN_REPARSE_POINT`), written,
//! flushed and read back through its handle, then renamed over the target (`MoveFileEx` with
//! `MOVEFILE_REPLACE_EXISTING`, which keeps the old file until the new one is in place). A rename that a
//! virus scanner or an editor blocks for a moment (sharing violation, access denied) is retried a few times
//! ([`staged::retry_blocked`]). Write targets that are links are refused there (their owner is not checked), and
//! the lock file stays beside the vault after use (removing a file others hold open is not reliable).

mod lock;
mod read;
mod staged;
mod target;

use lock::is_current;

pub use lock::{Holder, Lock, LockError};
pub use read::{open, read, read_limited, read_no_follow, read_open, read_to_string};
pub use staged::{Staged, create_new, create_private_dir, replace, replace_no_follow};
pub use target::{Target, refuse_committed_links};

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
