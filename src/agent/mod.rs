//! The teamotp agent: holds unlocked identities and vault passphrases for a session, so a passphrase is
//! typed once (like ssh-agent). Unix only: the socket, its directory and the peer's uid are what keep
//! other users out. See docs/agent.md for the threat model.
//!
//! - [`protocol`]: what crosses the socket (pure);
//! - [`server`]: the agent process (`teamotp agent`);
//! - [`client`]: asking the agent (the age identity and recipient every vault read and write uses).
//!
//! The commands that drive it (`unlock`, `lock`, `agent status`) are in `commands/unlock.rs`.

pub mod protocol;

#[cfg(unix)]
pub mod client;
#[cfg(unix)]
pub mod server;

#[cfg(unix)]
use std::path::PathBuf;
use std::time::Duration;

use crate::env::Env;
use crate::error::UserError;

/// How long `teamotp unlock` keeps things unlocked unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The error of every agent command where there is no agent support yet.
pub fn unsupported() -> UserError {
    UserError::new("the teamotp agent is not available on Windows yet")
        .hint("teamotp asks for passphrases on each command instead")
}

/// `TEAMOTP_NO_AGENT=1` turns the agent off for one command.
pub fn disabled(env: &Env) -> bool {
    env.var("TEAMOTP_NO_AGENT")
        .is_some_and(|v| !v.is_empty() && v != "0")
}

/// Parses `90s`, `15m`, `8h`, `1d` or plain seconds (`600`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let bad = || format!("'{text}' is not a duration: give e.g. 90s, 15m or 8h");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let unit = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let secs = n
        .checked_mul(unit)
        .filter(|s| *s > 0 && *s <= 366 * 86_400)
        .ok_or_else(|| format!("'{text}' must be between 1 second and 366 days"))?;
    Ok(Duration::from_secs(secs))
}

/// `14m 58s`-style text for a number of seconds.
pub fn describe_secs(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, s / 60 % 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// Where the agent's socket is.
#[cfg(unix)]
#[derive(Debug, PartialEq, Eq)]
pub enum Place {
    /// A path known from the environment: `$TEAMOTP_AGENT_SOCK`, else
    /// `$XDG_RUNTIME_DIR/teamotp/agent.sock` (a directory only the user can reach).
    Fixed(PathBuf),
    /// No runtime directory: the agent makes a directory with an unpredictable name in `$TMPDIR` (else
    /// `/tmp`), `teamotp-` and 12 random characters (as ssh-agent does), and clients find it through
    /// this file in the state directory (`$XDG_STATE_HOME/teamotp/agent-socket`). A fixed name in a
    /// shared `/tmp` could be made first by another user, who would then keep the agent from starting.
    /// `None`: no state directory either (no `HOME`).
    Private(Option<PathBuf>),
}

/// The name of the file that points to a private socket, in the state directory's `teamotp/`.
#[cfg(unix)]
pub const POINTER: &str = "agent-socket";

/// Where the socket is looked for and made (see [`Place`]).
#[cfg(unix)]
pub fn place(env: &Env) -> Place {
    if let Some(path) = env.var("TEAMOTP_AGENT_SOCK").filter(|p| !p.is_empty()) {
        return Place::Fixed(PathBuf::from(path));
    }
    if let Some(dir) = env
        .var("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Place::Fixed(dir.join("teamotp").join("agent.sock"));
    }
    Place::Private(env.state_dir().map(|dir| dir.join("teamotp").join(POINTER)))
}

/// The socket of a running agent, if one can be known: the fixed path, or the path the pointer file
/// holds (one absolute path and a line break; anything else is no agent).
#[cfg(unix)]
pub fn socket_path(env: &Env) -> Option<PathBuf> {
    match place(env) {
        Place::Fixed(path) => Some(path),
        Place::Private(pointer) => {
            let bytes = crate::files::read_no_follow(&pointer?).ok()?;
            let text = std::str::from_utf8(&bytes).ok()?;
            let path = PathBuf::from(text.strip_suffix('\n')?);
            (path.is_absolute() && !text.trim_end().contains('\n')).then_some(path)
        }
    }
}

/// The socket for a new agent: the fixed path (its directory made private), or a new private directory
/// with an unpredictable name, recorded in the pointer file for clients.
#[cfg(unix)]
pub fn new_socket(env: &Env) -> Result<PathBuf, UserError> {
    let pointer = match place(env) {
        Place::Fixed(path) => {
            check_dir(&path, true)?;
            return Ok(path);
        }
        Place::Private(Some(pointer)) => pointer,
        Place::Private(None) => {
            return Err(UserError::new(
                "there is no place for the agent's socket: no XDG_RUNTIME_DIR and no home directory",
            )
            .hint("set XDG_RUNTIME_DIR, or TEAMOTP_AGENT_SOCK to a socket in a private directory"));
        }
    };
    let tmp = env
        .var("TMPDIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let dir = private_dir(&tmp)?;
    let socket = dir.join("agent.sock");
    let shown = pointer.display().to_string();
    if let Some(parent) = pointer.parent() {
        crate::files::create_private_dir(parent)
            .map_err(|e| UserError::new(format!("cannot create '{}': {e}", parent.display())))?;
    }
    let mut text = socket.as_os_str().as_encoded_bytes().to_vec();
    text.push(b'\n');
    crate::files::replace_no_follow(&pointer, &text, 0o600)
        .map_err(|e| UserError::new(format!("cannot write '{shown}': {e}")))?;
    Ok(socket)
}

/// Makes `TMP/teamotp-XXXXXXXXXXXX` (12 random base32 characters, 60 bits), mode 0700, created
/// exclusively: a name someone else made first is never used, another is drawn.
#[cfg(unix)]
fn private_dir(tmp: &std::path::Path) -> Result<PathBuf, UserError> {
    use rand_core::RngCore;
    use std::os::unix::fs::DirBuilderExt;
    let mut last = None;
    for _ in 0..16 {
        let mut bytes = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut bytes);
        let name = data_encoding::BASE32_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase();
        let dir = tmp.join(format!("teamotp-{}", &name[..12]));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                check_dir(&dir.join("agent.sock"), false)?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(UserError::new(format!(
                    "cannot create the agent's directory in '{}': {e}",
                    tmp.display()
                )));
            }
        }
    }
    Err(UserError::new(format!(
        "cannot create the agent's directory in '{}': {}",
        tmp.display(),
        last.map_or_else(String::new, |e| e.to_string())
    )))
}

/// Checks (and with `create`, makes) the socket's directory: a real directory (not a symlink), owned by
/// us, with no access for group or others. Anything else is refused: another user could replace the
/// socket with their own and collect what `unlock` sends.
#[cfg(unix)]
pub fn check_dir(socket: &std::path::Path, create: bool) -> Result<PathBuf, UserError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .to_owned();
    let shown = dir.display().to_string();
    if create && std::fs::symlink_metadata(&dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| {
                UserError::new(format!(
                    "cannot create the agent's directory '{shown}': {e}"
                ))
            })?;
    }
    let metadata = std::fs::symlink_metadata(&dir)
        .map_err(|e| UserError::new(format!("cannot use the agent's directory '{shown}': {e}")))?;
    let uid = rustix::process::getuid().as_raw();
    if !metadata.is_dir() {
        return Err(UserError::new(format!(
            "the agent's directory '{shown}' is not a directory (or is a symbolic link)"
        ))
        .hint("remove it, or set TEAMOTP_AGENT_SOCK to a socket in a private directory"));
    }
    if metadata.uid() != uid {
        return Err(UserError::new(format!(
            "the agent's directory '{shown}' belongs to uid {}, not to you (uid {uid})",
            metadata.uid()
        ))
        .hint("someone else made it: set TEAMOTP_AGENT_SOCK to a socket in a directory of yours"));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(UserError::new(format!(
            "the agent's directory '{shown}' is accessible by group or others (mode {mode:04o})"
        ))
        .hint(format!("make it private: chmod 700 '{shown}'")));
    }
    Ok(dir)
}

/// The uid of the process at the other end of a Unix socket.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn peer_uid(stream: &std::os::unix::net::UnixStream) -> std::io::Result<u32> {
    Ok(rustix::net::sockopt::socket_peercred(stream)?.uid.as_raw())
}

/// The uid of the process at the other end of a Unix socket.
#[cfg(target_os = "macos")]
pub fn peer_uid(stream: &std::os::unix::net::UnixStream) -> std::io::Result<u32> {
    let (uid, _gid) = nix::unistd::getpeereid(stream).map_err(std::io::Error::from)?;
    Ok(uid.as_raw())
}

/// Other Unix systems: no peer check this version knows, so no agent.
#[cfg(all(
    unix,
    not(any(target_os = "linux", target_os = "android", target_os = "macos"))
))]
pub fn peer_uid(_stream: &std::os::unix::net::UnixStream) -> std::io::Result<u32> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "peer credentials are not supported on this system",
    ))
}

/// The identity for a passphrase file: scrypt with the passphrase (work factor capped at `max_work`), or,
/// when the "passphrase" is the agent's marker (the vault was opened through the agent), the agent.
pub fn passphrase_identity(
    passphrase: age::secrecy::SecretString,
    max_work: u8,
) -> Box<dyn age::Identity> {
    #[cfg(unix)]
    {
        use age::secrecy::ExposeSecret;
        if let Some(agent) = client::identity_for(passphrase.expose_secret()) {
            return Box::new(agent);
        }
    }
    crate::age::decrypt::scrypt(passphrase, max_work)
}

/// The identity that opens a passphrase file again with the passphrase kept from reading it (typed, or the
/// agent's marker when the agent opened it): what a re-read, the check of a file just written and the
/// merge driver hand to `age::decrypt::decrypt_with`. `NoTerminal` when no passphrase was kept.
pub fn reopening(
    kept: Option<&str>,
) -> Result<Box<dyn age::Identity>, crate::age::decrypt::Failure> {
    let passphrase = kept.ok_or(crate::age::decrypt::Failure::NoTerminal)?;
    Ok(passphrase_identity(
        age::secrecy::SecretString::from(passphrase.to_owned()),
        crate::age::identity::MAX_WORK_FACTOR,
    ))
}

/// The recipient for a passphrase vault: scrypt at `work_factor`, or, when the passphrase is the agent's
/// marker, the agent (which wraps the file key with the passphrase it holds).
pub fn passphrase_recipient(
    passphrase: &str,
    work_factor: u8,
) -> Result<Box<dyn age::Recipient>, UserError> {
    #[cfg(unix)]
    if let Some(agent) = client::recipient_for(passphrase) {
        return Ok(Box::new(agent?));
    }
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.to_owned()));
    recipient.set_work_factor(work_factor);
    Ok(Box::new(recipient))
}

/// The public key of an OpenSSH private key file, as `TYPE BASE64` (see
/// [`crate::age::identity::ssh_public_key`]): tells an ssh-ed25519 key (which the agent may hold) from an
/// ssh-rsa key (which stays with the client), and is what `unlock` and `agent status` show.
pub fn ssh_public_key(pem: &[u8]) -> Option<String> {
    crate::age::identity::ssh_public_key(pem)
}

/// Reads one frame's body; `Ok(None)` at a clean end of the stream. An oversized length is refused before
/// anything is allocated.
pub fn read_frame(
    reader: &mut impl std::io::Read,
) -> std::io::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let mut prefix = [0u8; 4];
    match reader.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = protocol::frame_len(prefix)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut body = zeroize::Zeroizing::new(vec![0u8; len]);
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

/// Writes one frame.
pub fn write_frame(writer: &mut impl std::io::Write, body: &[u8]) -> std::io::Result<()> {
    let framed = zeroize::Zeroizing::new(protocol::frame(body));
    writer.write_all(&framed)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("8h"), Ok(Duration::from_secs(28_800)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        for bad in ["", "m", "15x", "0s", "-1m", "99999999999999999999h", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn socket_path_order() {
        let env = Env::from_pairs([
            ("TEAMOTP_AGENT_SOCK", "/a/s"),
            ("XDG_RUNTIME_DIR", "/run/u"),
        ]);
        assert_eq!(socket_path(&env), Some(PathBuf::from("/a/s")));
        let env = Env::from_pairs([("XDG_RUNTIME_DIR", "/run/u")]);
        assert_eq!(
            socket_path(&env),
            Some(PathBuf::from("/run/u/teamotp/agent.sock"))
        );
        let env = Env::from_pairs([("XDG_RUNTIME_DIR", "relative"), ("HOME", "/h")]);
        assert_eq!(
            place(&env),
            Place::Private(Some(PathBuf::from("/h/.local/state/teamotp/agent-socket")))
        );
        assert_eq!(place(&Env::default()), Place::Private(None));
    }

    /// Regression (issue 20, finding 6): without a runtime directory the socket was always
    /// `/tmp/teamotp-UID/agent.sock`, a name another user could take first.
    #[test]
    fn without_a_runtime_directory_the_socket_is_in_a_new_private_directory_named_by_a_pointer() {
        use std::os::unix::fs::MetadataExt;
        let home = tempfile::tempdir().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let pairs = [
            ("HOME", home.path().to_str().unwrap()),
            ("TMPDIR", tmp.path().to_str().unwrap()),
        ];
        let env = Env::from_pairs(pairs);
        assert_eq!(socket_path(&env), None);
        let first = new_socket(&env).unwrap();
        assert_eq!(socket_path(&env).as_ref(), Some(&first));
        let dir = first.parent().unwrap();
        assert_eq!(dir.parent(), Some(tmp.path()));
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("teamotp-") && name.len() == 20, "{name}");
        assert_eq!(std::fs::metadata(dir).unwrap().mode() & 0o777, 0o700);
        let pointer = home.path().join(".local/state/teamotp/agent-socket");
        assert_eq!(std::fs::metadata(&pointer).unwrap().mode() & 0o777, 0o600);
        let second = new_socket(&env).unwrap();
        assert_ne!(first, second);
        assert_eq!(socket_path(&env), Some(second));
        for bad in ["relative/agent.sock\n", "/a\n/b\n", "/no-newline"] {
            std::fs::write(&pointer, bad).unwrap();
            assert_eq!(socket_path(&env), None, "{bad:?}");
        }
    }

    #[test]
    fn no_agent_switch() {
        assert!(disabled(&Env::from_pairs([("TEAMOTP_NO_AGENT", "1")])));
        assert!(!disabled(&Env::from_pairs([("TEAMOTP_NO_AGENT", "0")])));
        assert!(!disabled(&Env::default()));
    }
}
