//! The agent process: `teamotp agent [--background]`.
//!
//! It holds x25519 keys, decrypted ssh-ed25519 keys and vault passphrases in zeroizing memory (locked out
//! of swap where the platform allows), answers "which file key opens this header" over a Unix socket to
//! processes of its own uid only, and forgets everything on `lock`, at the timeout, and on SIGTERM,
//! SIGINT or SIGHUP. Nothing it holds ever leaves it: a request gets a 16-byte file key or "no match".

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use age::secrecy::{ExposeSecret, SecretString};
use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use super::protocol::{self, FILE_KEY, Item, Kind, Request, Response, Status};
use crate::env::Env;
use crate::error::UserError;

/// The highest scrypt work factor the agent runs (as teamotp's reader): higher costs are refused.
const MAX_WORK_FACTOR: u8 = crate::age::identity::MAX_WORK_FACTOR;
/// Most file keys kept; beyond it new headers are answered but not remembered.
const MAX_CACHE: usize = 4096;
/// A connection that sends nothing for this long is closed.
const IDLE: Duration = Duration::from_secs(10);

enum Secret {
    X25519(Box<age::x25519::Identity>),
    Ssh(Box<age::ssh::Identity>),
    Passphrase(SecretString),
}

struct Held {
    secret: Secret,
    /// `SOURCE: PUBLIC KEY` (or `SOURCE: vault passphrase`), never the secret.
    shown: String,
}

struct Cached {
    key: Box<Zeroizing<[u8; FILE_KEY]>>,
    /// The held secret that opened it (a passphrase here can wrap a new file key for the same vault).
    opener: usize,
}

#[derive(Default)]
struct State {
    held: Vec<Held>,
    cache: HashMap<[u8; 32], Cached>,
    /// Pages kept out of swap; unlocked when everything is forgotten.
    locked: Vec<region::LockGuard>,
    /// When it locks, on [`crate::time::boottime`].
    deadline: Option<Duration>,
}

impl State {
    /// Forgets every secret (each one's memory is wiped as it is dropped).
    fn forget(&mut self) {
        self.cache.clear();
        self.held.clear();
        self.locked.clear();
        self.deadline = None;
    }

    fn keep_out_of_swap<T: ?Sized>(&mut self, value: &T) {
        let size = std::mem::size_of_val(value);
        if size > 0
            && let Ok(guard) = region::lock(value as *const T as *const u8, size)
        {
            self.locked.push(guard);
        }
    }

    fn remember(&mut self, hash: [u8; 32], key: &[u8; FILE_KEY], opener: usize) {
        if self.cache.len() >= MAX_CACHE && !self.cache.contains_key(&hash) {
            return;
        }
        let key = Box::new(Zeroizing::new(*key));
        self.keep_out_of_swap(&**key);
        self.cache.insert(hash, Cached { key, opener });
    }

    fn add(&mut self, item: Item) -> Result<(), String> {
        let source = crate::text::printable(&item.source);
        let (secret, shown) = match item.kind {
            Kind::X25519 => {
                let text = std::str::from_utf8(&item.secret).map_err(|_| "invalid key")?;
                let identity: age::x25519::Identity = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("{source}: not an age key"))?;
                let shown = format!("{source}: {}", identity.to_public());
                (Secret::X25519(Box::new(identity)), shown)
            }
            Kind::SshEd25519 => {
                let parsed = age::ssh::Identity::from_buffer(
                    std::io::Cursor::new(&item.secret[..]),
                    Some(item.source.clone()),
                )
                .map_err(|_| format!("{source}: not an OpenSSH key"))?;
                // ssh-rsa stays with the client (RUSTSEC-2023-0071: a timing oracle here would be open
                // to every process of the user).
                let public = super::ssh_public_key(&item.secret)
                    .filter(|p| p.starts_with("ssh-ed25519 "))
                    .ok_or_else(|| {
                        format!("{source}: only ssh-ed25519 keys are held by the agent")
                    })?;
                let unencrypted = match parsed {
                    age::ssh::Identity::Encrypted(key) => {
                        let passphrase = std::str::from_utf8(&item.passphrase)
                            .map_err(|_| "invalid passphrase")?;
                        age::ssh::Identity::from(
                            key.decrypt(SecretString::from(passphrase.to_owned()))
                                .map_err(|_| format!("{source}: wrong passphrase"))?,
                        )
                    }
                    age::ssh::Identity::Unsupported(_) => {
                        return Err(format!("{source}: unsupported SSH key"));
                    }
                    unencrypted => unencrypted,
                };
                (
                    Secret::Ssh(Box::new(unencrypted)),
                    format!("{source}: {public}"),
                )
            }
            Kind::VaultPassphrase => {
                let text = std::str::from_utf8(&item.secret).map_err(|_| "invalid passphrase")?;
                (
                    Secret::Passphrase(SecretString::from(text.to_owned())),
                    format!("{source}: vault passphrase"),
                )
            }
        };
        match &secret {
            Secret::X25519(identity) => self.keep_out_of_swap(&**identity),
            Secret::Passphrase(p) => self.keep_out_of_swap(p.expose_secret().as_bytes()),
            Secret::Ssh(_) => {}
        }
        let index = match self.held.iter().position(|h| h.shown == shown) {
            Some(i) => {
                self.held[i].secret = secret;
                i
            }
            None => {
                self.held.push(Held { secret, shown });
                self.held.len() - 1
            }
        };
        if let Some((hash, key)) = item.primed {
            self.remember(hash, &key, index);
        }
        Ok(())
    }

    fn unwrap(&mut self, stanzas: &[Stanza]) -> Response {
        let hash = protocol::stanzas_hash(stanzas);
        if let Some(cached) = self.cache.get(&hash) {
            return Response::FileKey(Zeroizing::new(**cached.key));
        }
        let scrypt = stanzas.iter().any(|s| s.tag == "scrypt");
        let mut found = None;
        for (index, held) in self.held.iter().enumerate() {
            let result = match &held.secret {
                // age's rule: a scrypt stanza is the only one in its header.
                Secret::Passphrase(p) if scrypt && stanzas.len() == 1 => {
                    let mut identity = age::scrypt::Identity::new(p.clone());
                    identity.set_max_work_factor(MAX_WORK_FACTOR);
                    age::Identity::unwrap_stanzas(&identity, stanzas)
                }
                Secret::X25519(identity) if !scrypt => {
                    age::Identity::unwrap_stanzas(&**identity, stanzas)
                }
                Secret::Ssh(identity) if !scrypt => {
                    age::Identity::unwrap_stanzas(&**identity, stanzas)
                }
                _ => None,
            };
            if let Some(Ok(key)) = result {
                found = Some((index, key));
                break;
            }
        }
        match found {
            Some((index, key)) => {
                let bytes = Zeroizing::new(*key.expose_secret());
                self.remember(hash, &bytes, index);
                Response::FileKey(bytes)
            }
            None => Response::NoMatch,
        }
    }

    fn wrap(&mut self, opened: &[u8; 32], file_key: &[u8; FILE_KEY]) -> Response {
        let Some(opener) = self.cache.get(opened).map(|c| c.opener) else {
            return Response::NoMatch;
        };
        let Some(Held {
            secret: Secret::Passphrase(passphrase),
            ..
        }) = self.held.get(opener)
        else {
            return Response::NoMatch;
        };
        let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
        recipient.set_work_factor(crate::age::encrypt::WORK_FACTOR);
        let key = FileKey::init_with_mut(|k| k.copy_from_slice(file_key));
        match age::Recipient::wrap_file_key(&recipient, &key) {
            Ok((stanzas, _labels)) => {
                self.remember(protocol::stanzas_hash(&stanzas), file_key, opener);
                Response::Stanzas(stanzas)
            }
            Err(e) => Response::Error(format!("cannot wrap the file key: {e}")),
        }
    }

    fn status(&self, now: Duration) -> Status {
        Status {
            pid: std::process::id(),
            locks_in: self.deadline.map(|d| d.saturating_sub(now).as_secs()),
            holds: self.held.iter().map(|h| h.shown.clone()).collect(),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    socket: PathBuf,
    /// The background agent exits at the timeout; the foreground one forgets and keeps running.
    background: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic in one connection's thread must not leave the secrets unreachable for forgetting.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets everything, removes the socket (and a private directory of its own, `teamotp-...`, with
    /// its lock file) and ends the process.
    fn exit(&self) -> ! {
        self.state().forget();
        let _ = std::fs::remove_file(&self.socket);
        if let Some(dir) = self.socket.parent()
            && dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("teamotp-"))
        {
            let mut lock = self.socket.clone().into_os_string();
            lock.push(".lock");
            let _ = std::fs::remove_file(lock);
            let _ = std::fs::remove_dir(dir);
        }
        std::process::exit(0)
    }
}

/// Runs the agent until `lock`, a signal, or (background) the timeout.
pub fn run(env: &Env, background: bool, err: &mut dyn Write) -> Result<u8, UserError> {
    if background {
        // A session of its own: the terminal closing (SIGHUP to the old session) does not end it. Done
        // here rather than in the parent (`pre_exec` is unsafe, and unsafe code is forbidden).
        let _ = rustix::process::setsid();
        let _ = std::env::set_current_dir("/");
    }
    crate::hygiene::harden();
    if matches!(super::place(env), super::Place::Private(_))
        && let Some(agent) = super::client::Agent::connect(env)?
    {
        // The private directory is new each time: another agent is found through the pointer file.
        if background {
            return Ok(0);
        }
        return Err(UserError::new(format!(
            "an agent already serves '{}'",
            agent.path().display()
        ))
        .hint("stop it with 'teamotp lock'"));
    }
    let socket = super::new_socket(env)?;
    let dir = super::check_dir(&socket, false)?;
    let shown = socket.display().to_string();
    let _lock = match take_lock(&dir, &socket)? {
        Some(lock) => lock,
        // Another agent is starting or running: it serves this socket (two `unlock`s at the same
        // moment end with one agent).
        None if background => return Ok(0),
        None => {
            return Err(UserError::new(format!("an agent already serves '{shown}'"))
                .hint("stop it with 'teamotp lock'"));
        }
    };
    if std::fs::symlink_metadata(&socket).is_ok() {
        if UnixStream::connect(&socket).is_ok() {
            return Err(UserError::new(format!("an agent already serves '{shown}'")));
        }
        // A stale socket of an agent that was killed.
        std::fs::remove_file(&socket).map_err(|e| {
            UserError::new(format!("cannot remove the stale socket '{shown}': {e}"))
        })?;
    }
    let listener = UnixListener::bind(&socket)
        .map_err(|e| UserError::new(format!("cannot listen on '{shown}': {e}")))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| UserError::new(format!("cannot make '{shown}' private: {e}")))?;
    if !background {
        let _ = writeln!(
            err,
            "teamotp: agent {} listening on '{shown}'",
            std::process::id()
        );
    }

    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        socket,
        background,
    });
    watch_signals(&shared)?;
    watch_timeout(&shared);
    let me = rustix::process::getuid().as_raw();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || serve(stream, &shared, me));
    }
    Ok(0)
}

/// The exclusive lock `SOCKET.lock` beside the socket, held for the agent's life; `None` when another
/// process holds it.
fn take_lock(dir: &Path, socket: &Path) -> Result<Option<File>, UserError> {
    let name = socket
        .file_name()
        .map(|n| format!("{}.lock", n.to_string_lossy()))
        .unwrap_or_else(|| "agent.lock".to_owned());
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(|e| UserError::new(format!("cannot open '{}': {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(UserError::new(format!(
            "cannot lock '{}': {e}",
            path.display()
        ))),
    }
}

fn watch_signals(shared: &Arc<Shared>) -> Result<(), UserError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| UserError::new(format!("cannot watch signals: {e}")))?;
    let shared = Arc::clone(shared);
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            shared.exit();
        }
    });
    Ok(())
}

fn watch_timeout(shared: &Arc<Shared>) {
    let shared = Arc::clone(shared);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let mut state = shared.state();
            let expired = state.deadline.is_some_and(|d| crate::time::boottime() >= d);
            if expired {
                state.forget();
                drop(state);
                if shared.background {
                    shared.exit();
                }
            }
        }
    });
}

/// One connection: the peer's uid is checked before anything is read; then requests until the client
/// closes, stays idle, or sends something malformed.
fn serve(mut stream: UnixStream, shared: &Shared, me: u32) {
    match super::peer_uid(&stream) {
        Ok(uid) if uid == me => {}
        // Another user (even through a loosened socket mode): closed with nothing answered.
        _ => return,
    }
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    loop {
        let body = match super::read_frame(&mut stream) {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    let answer = Response::Error(format!("malformed request: {e}"));
                    let _ = super::write_frame(&mut stream, &answer.encode());
                }
                return;
            }
        };
        let request = match Request::decode(&body) {
            Ok(request) => request,
            Err(e) => {
                let answer = Response::Error(format!("malformed request: {e}"));
                let _ = super::write_frame(&mut stream, &answer.encode());
                return;
            }
        };
        drop(body);
        let lock = matches!(request, Request::Lock);
        let (answer, expired) = answer(shared, request, crate::time::boottime());
        let _ = super::write_frame(&mut stream, &answer.encode());
        if lock || (expired && shared.background) {
            shared.exit();
        }
    }
}

/// Answers one request at `now` (on [`crate::time::boottime`]); true when the deadline had passed (then
/// everything was forgotten first, and a background agent ends after this answer).
fn answer(shared: &Shared, request: Request, now: Duration) -> (Response, bool) {
    shared.state().answer(request, now)
}

/// The longest `--timeout` the agent honours (as `teamotp unlock --timeout` accepts).
const MAX_TIMEOUT: Duration = Duration::from_secs(366 * 86_400);

impl State {
    /// Forgets everything when the deadline has passed at `now`; true when it did.
    fn expire(&mut self, now: Duration) -> bool {
        let expired = self.deadline.is_some_and(|d| now >= d);
        if expired {
            self.forget();
        }
        expired
    }

    /// The deadline is checked before every request, against a clock that runs during suspend, so no
    /// request is answered after it (the watcher thread only forgets early when nothing asks). An `Add`
    /// sets it only when it brings something to hold: an empty one (any process of the user can send
    /// it) cannot extend a lock the user set.
    fn answer(&mut self, request: Request, now: Duration) -> (Response, bool) {
        let expired = self.expire(now);
        let response = match request {
            Request::Unwrap(stanzas) => self.unwrap(&stanzas),
            Request::Wrap { opened, file_key } => self.wrap(&opened, &file_key),
            Request::Add {
                timeout_secs,
                items,
            } => {
                let mut errors = Vec::new();
                let mut added = false;
                for item in items {
                    match self.add(item) {
                        Ok(()) => added = true,
                        Err(e) => errors.push(e),
                    }
                }
                if added {
                    self.deadline = Some(now + Duration::from_secs(timeout_secs).min(MAX_TIMEOUT));
                }
                if errors.is_empty() {
                    Response::Ok
                } else {
                    Response::Error(errors.join("; "))
                }
            }
            Request::Status => Response::Status(self.status(now)),
            Request::Lock => {
                self.forget();
                Response::Ok
            }
        };
        (response, expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x25519_item(identity: &age::x25519::Identity) -> Item {
        Item {
            kind: Kind::X25519,
            source: "test".into(),
            secret: Zeroizing::new(identity.to_string().expose_secret().as_bytes().to_vec()),
            passphrase: Zeroizing::new(Vec::new()),
            primed: None,
        }
    }

    fn header(recipient: &dyn age::Recipient) -> (Vec<Stanza>, [u8; 16]) {
        let key = FileKey::init_with_mut(|k| k.copy_from_slice(&[5; 16]));
        (recipient.wrap_file_key(&key).unwrap().0, [5; 16])
    }

    #[test]
    fn unwraps_with_a_held_key_and_caches_it() {
        let identity = age::x25519::Identity::generate();
        let mut state = State::default();
        state.add(x25519_item(&identity)).unwrap();
        assert!(
            state.held[0]
                .shown
                .contains(&identity.to_public().to_string())
        );
        let (stanzas, key) = header(&identity.to_public());
        assert_eq!(
            state.unwrap(&stanzas),
            Response::FileKey(Zeroizing::new(key))
        );
        assert_eq!(state.cache.len(), 1);
        let other = header(&age::x25519::Identity::generate().to_public()).0;
        assert_eq!(state.unwrap(&other), Response::NoMatch);
        state.forget();
        assert_eq!(state.unwrap(&stanzas), Response::NoMatch);
        assert!(state.held.is_empty() && state.cache.is_empty());
    }

    #[test]
    fn a_scrypt_stanza_mixed_with_others_is_no_match() {
        let identity = age::x25519::Identity::generate();
        let mut state = State::default();
        state.add(x25519_item(&identity)).unwrap();
        let (mut stanzas, _) = header(&identity.to_public());
        stanzas.push(Stanza {
            tag: "scrypt".into(),
            args: vec!["AAAAAAAAAAAAAAAAAAAAAA".into(), "10".into()],
            body: vec![0; 32],
        });
        assert_eq!(state.unwrap(&stanzas), Response::NoMatch);
    }

    #[test]
    fn rsa_keys_are_refused() {
        let mut state = State::default();
        let item = Item {
            kind: Kind::SshEd25519,
            source: "x".into(),
            secret: Zeroizing::new(b"not a key".to_vec()),
            passphrase: Zeroizing::new(Vec::new()),
            primed: None,
        };
        assert!(state.add(item).is_err());
        assert!(state.held.is_empty());
    }

    fn header_again(stanzas: &[Stanza]) -> Vec<Stanza> {
        stanzas
            .iter()
            .map(|s| Stanza {
                tag: s.tag.clone(),
                args: s.args.clone(),
                body: s.body.clone(),
            })
            .collect()
    }

    fn add(items: Vec<Item>, timeout_secs: u64) -> Request {
        Request::Add {
            timeout_secs,
            items,
        }
    }

    /// Regression (issue 20, finding 6): a request that came after the deadline (a laptop resumed from
    /// suspend before the watcher thread woke) was answered with a held key.
    #[test]
    fn no_request_is_answered_after_the_deadline() {
        let identity = age::x25519::Identity::generate();
        let (stanzas, key) = header(&identity.to_public());
        let mut state = State::default();
        let t = Duration::from_secs(1000);
        let (answer, expired) = state.answer(add(vec![x25519_item(&identity)], 60), t);
        assert_eq!((answer, expired), (Response::Ok, false));
        let before = t + Duration::from_secs(59);
        assert_eq!(
            state.answer(Request::Unwrap(header_again(&stanzas)), before),
            (Response::FileKey(Zeroizing::new(key)), false)
        );
        let after = t + Duration::from_secs(60);
        assert_eq!(
            state.answer(Request::Unwrap(stanzas), after),
            (Response::NoMatch, true)
        );
        assert!(state.held.is_empty() && state.cache.is_empty() && state.deadline.is_none());
    }

    /// Regression (issue 20, finding 6): any process of the user could send an `Add` with no keys and
    /// push the lock to 366 days.
    #[test]
    fn an_add_without_keys_leaves_the_deadline_alone() {
        let identity = age::x25519::Identity::generate();
        let mut state = State::default();
        let t = Duration::from_secs(1000);
        state.answer(add(vec![x25519_item(&identity)], 60), t);
        assert_eq!(state.deadline, Some(t + Duration::from_secs(60)));
        state.answer(add(Vec::new(), 366 * 86_400), t + Duration::from_secs(1));
        assert_eq!(state.deadline, Some(t + Duration::from_secs(60)));
        let broken = Item {
            kind: Kind::X25519,
            source: "x".into(),
            secret: Zeroizing::new(b"not a key".to_vec()),
            passphrase: Zeroizing::new(Vec::new()),
            primed: None,
        };
        let (answer, _) = state.answer(add(vec![broken], 366 * 86_400), t + Duration::from_secs(2));
        assert!(matches!(answer, Response::Error(_)));
        assert_eq!(state.deadline, Some(t + Duration::from_secs(60)));
        // A real key extends it, never past 366 days.
        state.answer(
            add(vec![x25519_item(&identity)], u64::MAX),
            t + Duration::from_secs(3),
        );
        assert_eq!(
            state.deadline,
            Some(t + Duration::from_secs(3) + MAX_TIMEOUT)
        );
        let (status, _) = state.answer(Request::Status, t + Duration::from_secs(3));
        let Response::Status(status) = status else {
            panic!("{status:?}")
        };
        assert_eq!(status.locks_in, Some(366 * 86_400));
    }
}
