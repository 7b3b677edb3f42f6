//! The teamotp agent: holds unlocked identities and vault passphrases for a session, so a passphrase is
//! typed once (like ssh-agent). Unix only: the socket, its directory and the peer's uid are what keep
//! other users out. See docs/agent.md for the threat model.
//!
//! - [`protocol`]: what crosses the socket (pure);
//! - [`server`]: the agent process (`teamotp agent`);
//! - [`client`]: asking the agent (the age identity and recipient every vault read and write uses);
//! - [`unlock`]: `teamotp unlock`, `lock`, `agent status` and the completion helper;
//! - [`complete`]: the account-name part of the shell completion scripts.

pub mod complete;
pub mod protocol;

#[cfg(unix)]
pub mod client;
#[cfg(unix)]
pub mod server;
#[cfg(unix)]
pub mod unlock;

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

/// The socket: `$TEAMOTP_AGENT_SOCK`, else `$XDG_RUNTIME_DIR/teamotp/agent.sock`, else
/// `/tmp/teamotp-UID/agent.sock`.
#[cfg(unix)]
pub fn socket_path(env: &Env) -> PathBuf {
    if let Some(path) = env.var("TEAMOTP_AGENT_SOCK").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if let Some(dir) = env
        .var("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return dir.join("teamotp").join("agent.sock");
    }
    let uid = rustix::process::getuid().as_raw();
    PathBuf::from(format!("/tmp/teamotp-{uid}")).join("agent.sock")
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
    let mut identity = age::scrypt::Identity::new(passphrase);
    identity.set_max_work_factor(max_work);
    Box::new(identity)
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
/// [`crate::vault::identity::ssh_public_key`]): tells an ssh-ed25519 key (which the agent may hold) from an
/// ssh-rsa key (which stays with the client), and is what `unlock` and `agent status` show.
pub fn ssh_public_key(pem: &[u8]) -> Option<String> {
    crate::vault::identity::ssh_public_key(pem)
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
        assert_eq!(socket_path(&env), PathBuf::from("/a/s"));
        let env = Env::from_pairs([("XDG_RUNTIME_DIR", "/run/u")]);
        assert_eq!(
            socket_path(&env),
            PathBuf::from("/run/u/teamotp/agent.sock")
        );
        let env = Env::from_pairs([("XDG_RUNTIME_DIR", "relative")]);
        assert!(socket_path(&env).starts_with("/tmp"));
    }

    #[test]
    fn no_agent_switch() {
        assert!(disabled(&Env::from_pairs([("TEAMOTP_NO_AGENT", "1")])));
        assert!(!disabled(&Env::from_pairs([("TEAMOTP_NO_AGENT", "0")])));
        assert!(!disabled(&Env::default()));
    }
}
