//! Asking the agent: a connection checked to be served by our own uid, the age [`Identity`](age::Identity)
//! every vault read tries first, and the age [`Recipient`](age::Recipient) that re-encrypts a passphrase
//! vault with the passphrase the agent holds.

use std::cell::Cell;
use std::collections::HashSet;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use super::protocol::{self, Request, Response};
use crate::age::decrypt::{self, Failure};
use crate::age::identity::Identities;
use crate::env::Env;
use crate::error::UserError;

/// How long a client waits for an answer (an answer may wait for one scrypt run of another client).
const ANSWER: Duration = Duration::from_secs(60);

/// Stands in for a passphrase vault's passphrase when the agent opened it: it cannot be typed (it holds
/// line breaks, which the terminal prompt ends at) and is followed by the hex SHA-256 of the header the
/// agent opened, so a write asks the agent to wrap the new file key with the passphrase that opened it,
/// then a line break and the agent's socket (the write and check paths have no environment at hand).
pub const MARKER: &str = "\nteamotp-agent\n";

thread_local! {
    /// The header the agent answered last on this thread (see [`MARKER`]).
    static OPENED: Cell<Option<[u8; 32]>> = const { Cell::new(None) };
}

/// A connection to a running agent.
pub struct Agent {
    stream: Mutex<UnixStream>,
    path: PathBuf,
}

impl Agent {
    /// Connects to the agent. `Ok(None)`: none is running (no socket, or a stale one). An error: the
    /// socket's directory is unsafe, or the socket is served by another user.
    pub fn connect(env: &Env) -> Result<Option<Agent>, UserError> {
        let private = matches!(super::place(env), super::Place::Private(_));
        match super::socket_path(env) {
            // The pointer names a directory of a past agent; its name could be seen in /tmp and taken by
            // someone else once that agent removed it: a socket there that fails the checks (nothing was
            // sent) is no agent, and the next `unlock` makes a new directory.
            Some(path) if private => Ok(Agent::connect_at(&path).ok().flatten()),
            Some(path) => Agent::connect_at(&path),
            None => Ok(None),
        }
    }

    /// The socket this connection is on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`Agent::connect`] to the socket at `path`.
    pub fn connect_at(path: &Path) -> Result<Option<Agent>, UserError> {
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(None);
        }
        super::check_dir(path, false)?;
        let Ok(stream) = UnixStream::connect(path) else {
            return Ok(None);
        };
        // Before anything is sent: the server must run as us.
        let me = rustix::process::getuid().as_raw();
        match super::peer_uid(&stream) {
            Ok(uid) if uid == me => {}
            Ok(uid) => {
                return Err(UserError::new(format!(
                    "the agent socket '{}' is served by uid {uid}, not by you (uid {me}); nothing was sent",
                    path.display()
                ))
                .hint("set TEAMOTP_AGENT_SOCK to a socket in a directory of yours"));
            }
            Err(e) => {
                return Err(UserError::new(format!(
                    "cannot check who serves '{}': {e}",
                    path.display()
                )));
            }
        }
        let _ = stream.set_read_timeout(Some(ANSWER));
        let _ = stream.set_write_timeout(Some(ANSWER));
        Ok(Some(Agent {
            stream: Mutex::new(stream),
            path: path.to_owned(),
        }))
    }

    /// A connection when the agent may be used for this command (not `TEAMOTP_NO_AGENT`), reachable
    /// and safe; anything else is `None`, and the command carries on as without an agent.
    pub fn reachable(env: &Env) -> Option<Agent> {
        if super::disabled(env) {
            return None;
        }
        Agent::connect(env).ok().flatten()
    }

    /// Sends one request and reads its answer. The agent closes idle connections (after a confirmation
    /// question, a write may come minutes after the read): a closed connection is opened again, once,
    /// with the same checks.
    pub fn ask(&self, request: &Request) -> std::io::Result<Response> {
        let body = request.encode();
        let mut stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        match exchange(&mut stream, &body) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                let fresh = Agent::connect_at(&self.path)
                    .ok()
                    .flatten()
                    .ok_or(e)?
                    .stream
                    .into_inner()
                    .unwrap_or_else(|p| p.into_inner());
                *stream = fresh;
                exchange(&mut stream, &body)
            }
            other => other,
        }
    }
}

fn exchange(stream: &mut UnixStream, body: &[u8]) -> std::io::Result<Response> {
    super::write_frame(stream, body)?;
    let answer = super::read_frame(stream)?.ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the agent closed")
    })?;
    Response::decode(&answer).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The agent as an age identity: all of a header's stanzas go in one request; the file key comes back.
pub struct AgentIdentity(pub Agent);

impl age::Identity for AgentIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let copy = stanzas
            .iter()
            .map(|s| Stanza {
                tag: s.tag.clone(),
                args: s.args.clone(),
                body: s.body.clone(),
            })
            .collect();
        match self.0.ask(&Request::Unwrap(copy)) {
            Ok(Response::FileKey(key)) => {
                OPENED.with(|o| o.set(Some(protocol::stanzas_hash(stanzas))));
                Some(Ok(FileKey::init_with_mut(|k| k.copy_from_slice(&key[..]))))
            }
            _ => None,
        }
    }
}

/// The passphrase the agent holds for a vault, as an age recipient: the agent wraps the new file key in a
/// scrypt stanza (and remembers the new header).
pub struct AgentPassphrase {
    agent: Agent,
    opened: [u8; 32],
}

impl age::Recipient for AgentPassphrase {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let request = Request::Wrap {
            opened: self.opened,
            file_key: Zeroizing::new(*file_key.expose_secret()),
        };
        match self.agent.ask(&request) {
            Ok(Response::Stanzas(stanzas)) => {
                // age's rule for scrypt: alone in its header. A label unique to this header says so.
                let label = data_encoding::HEXLOWER.encode(&protocol::stanzas_hash(&stanzas));
                Ok((stanzas, HashSet::from([label])))
            }
            Ok(_) => Err(age::EncryptError::Io(std::io::Error::other(
                "the teamotp agent no longer holds this vault's passphrase (run 'teamotp unlock')",
            ))),
            Err(e) => Err(age::EncryptError::Io(e)),
        }
    }
}

/// A vault the agent opened.
pub struct Opened {
    pub bytes: Zeroizing<Vec<u8>>,
    /// The agent, to check a rewritten file with.
    pub identities: Identities,
    /// A passphrase vault's [`MARKER`].
    pub passphrase: Option<Zeroizing<String>>,
}

/// The vault-read hook: an age file opened through a reachable agent, with what a later write needs
/// (the agent as identity to check it; for a passphrase vault the [`MARKER`]). `None` when no agent can
/// help: the caller goes on as without one.
pub fn open(raw: &[u8], env: &Env) -> Option<Opened> {
    let agent = Agent::reachable(env)?;
    let socket = agent.path.display().to_string();
    let identities = Identities {
        list: vec![Box::new(AgentIdentity(agent))],
        paths: Vec::new(),
    };
    if decrypt::is_scrypt(raw).ok()? {
        OPENED.with(|o| o.set(None));
        let bytes = decrypt::decrypt_with(raw, &[], || {
            identity_for(&format!("{MARKER}\n{socket}"))
                .map(|agent| Box::new(agent) as Box<dyn age::Identity>)
                .ok_or(Failure::NoTerminal)
        })
        .ok()?;
        let opened = OPENED.with(Cell::take)?;
        let marker = format!(
            "{MARKER}{}\n{socket}",
            data_encoding::HEXLOWER.encode(&opened)
        );
        Some(Opened {
            bytes,
            identities,
            passphrase: Some(Zeroizing::new(marker)),
        })
    } else {
        let bytes = decrypt::decrypt(raw, &identities.list, || Err(Failure::NoTerminal)).ok()?;
        Some(Opened {
            bytes,
            identities,
            passphrase: None,
        })
    }
}

/// The decryption hook for passphrase files: the [`MARKER`] in place of a passphrase means "ask the
/// agent" (used to check a file just written and by the merge driver for the other versions).
pub fn identity_for(passphrase: &str) -> Option<AgentIdentity> {
    let (_, socket) = parse_marker(passphrase)?;
    Some(AgentIdentity(
        Agent::connect_at(Path::new(socket)).ok().flatten()?,
    ))
}

/// The header hash and socket of a [`MARKER`] (the bare marker has neither).
fn parse_marker(passphrase: &str) -> Option<(Option<[u8; 32]>, &str)> {
    let rest = passphrase.strip_prefix(MARKER)?;
    let (hex, socket) = rest.split_once('\n')?;
    let opened = data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok());
    Some((opened, socket))
}

/// The write hook: the [`MARKER`] of a vault the agent opened becomes a recipient that asks the agent.
pub fn recipient_for(passphrase: &str) -> Option<Result<AgentPassphrase, UserError>> {
    let gone = || {
        UserError::new("the teamotp agent that opened the vault is gone; nothing was written")
            .hint("run 'teamotp unlock' again, or 'TEAMOTP_NO_AGENT=1 teamotp ...' to type the passphrase")
    };
    if !passphrase.starts_with(MARKER) {
        return None;
    }
    let Some((Some(opened), socket)) = parse_marker(passphrase) else {
        return Some(Err(gone()));
    };
    Some(match Agent::connect_at(Path::new(socket)) {
        Ok(Some(agent)) => Ok(AgentPassphrase { agent, opened }),
        Ok(None) => Err(gone()),
        Err(e) => Err(e),
    })
}
