//! Reading: regular files only (a FIFO, a device or a directory is refused without blocking), at most
//! [`READ_LIMIT`] bytes, into a zeroizing buffer.

use super::*;

/// Opens `path` for reading without blocking on a FIFO, and checks that it is a regular file; with
/// `follow` false, a symbolic link is refused too.
pub(super) fn open_regular(path: &Path, follow: bool) -> io::Result<File> {
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
pub(super) fn read_regular(file: File) -> io::Result<Zeroizing<Vec<u8>>> {
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
pub(super) fn read_limited_sized(
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
}
