//! `teamotp unlock`, `lock`, `agent status` and the completion helper: the client side of the agent's
//! commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use age::secrecy::{ExposeSecret, SecretString};
use age_core::format::{FileKey, Stanza};
use zeroize::Zeroizing;

use crate::age::decrypt::{self, Failure};
use crate::age::identity::{self, MAX_WORK_FACTOR};
use crate::agent::client::Agent;
use crate::agent::protocol::{self, Item, Kind, Request, Response};
use crate::env::Env;
use crate::error::UserError;
use crate::vault::load::Source;

/// How long `unlock` waits for a new agent's socket.
const START: Duration = Duration::from_secs(5);

/// `teamotp unlock`: asks each passphrase once, hands the secrets to the agent (started when none runs),
/// and says what it holds and when it locks.
pub fn unlock(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    timeout: Duration,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let mut items = Vec::new();
    for path in identity::paths(identity_paths, env) {
        items.extend(identity_items(&path, err)?);
    }
    if let Source::File(path) = source
        && let Some(item) = vault_item(path, env)?
    {
        items.push(item);
    }
    if items.is_empty() {
        return Err(
            UserError::new("nothing to unlock: no identity the agent can hold")
                .hint("pass your key with -i/--identity PATH or set TEAMOTP_IDENTITY")
                .hint(
                    "the agent holds age keys, ssh-ed25519 keys and passphrase vaults' passphrases",
                ),
        );
    }
    let agent = start(env)?;
    let request = Request::Add {
        timeout_secs: timeout.as_secs(),
        items,
    };
    match agent.ask(&request) {
        Ok(Response::Ok) => {}
        Ok(Response::Error(e)) => {
            return Err(UserError::new(format!("the agent refused: {e}")));
        }
        Ok(_) => return Err(UserError::new("the agent gave an unexpected answer")),
        Err(e) => return Err(UserError::new(format!("cannot talk to the agent: {e}"))),
    }
    if let Ok(Response::Status(status)) = agent.ask(&Request::Status) {
        let _ = writeln!(err, "teamotp: the agent (pid {}) holds:", status.pid);
        for line in &status.holds {
            let _ = writeln!(err, "teamotp:   {line}");
        }
        if let Some(secs) = status.locks_in {
            let _ = writeln!(
                err,
                "teamotp: it locks in {} ('teamotp lock' locks it now)",
                crate::agent::describe_secs(secs)
            );
        }
    }
    Ok(0)
}

/// `teamotp lock`: the agent forgets everything and exits (exit 0 also when none runs).
pub fn lock(env: &Env, err: &mut dyn Write) -> Result<u8, UserError> {
    let Some(agent) = Agent::connect(env)? else {
        let _ = writeln!(err, "teamotp: no agent is running");
        return Ok(0);
    };
    match agent.ask(&Request::Lock) {
        Ok(Response::Ok) => {
            let _ = writeln!(err, "teamotp: the agent forgot everything and stopped");
            Ok(0)
        }
        Ok(_) => Err(UserError::new("the agent gave an unexpected answer")),
        Err(e) => Err(UserError::new(format!("cannot talk to the agent: {e}"))),
    }
}

/// `teamotp agent status`: exit 0 when an agent runs and holds something, 1 otherwise.
pub fn status(env: &Env, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, UserError> {
    let Some(agent) = Agent::connect(env)? else {
        let _ = writeln!(err, "teamotp: no agent is running");
        return Ok(1);
    };
    let status = match agent.ask(&Request::Status) {
        Ok(Response::Status(status)) => status,
        Ok(_) => return Err(UserError::new("the agent gave an unexpected answer")),
        Err(e) => return Err(UserError::new(format!("cannot talk to the agent: {e}"))),
    };
    let mut text = format!("pid {}\nsocket {}\n", status.pid, agent.path().display());
    for line in &status.holds {
        text.push_str(&format!("holds {line}\n"));
    }
    match (status.holds.is_empty(), status.locks_in) {
        (true, _) => text.push_str("holds nothing (locked)\n"),
        (false, Some(secs)) => {
            text.push_str(&format!("locks in {}\n", crate::agent::describe_secs(secs)))
        }
        (false, None) => {}
    }
    crate::error::write_data(out, crate::text::printable_text(&text).as_bytes())?;
    Ok(if status.holds.is_empty() { 1 } else { 0 })
}

/// The running agent, or a new one: `teamotp agent --background`, stdio closed (it calls setsid itself).
/// Two `unlock`s at the same moment may both start one; the agents' lock file lets one of them serve,
/// and both clients connect to it.
fn start(env: &Env) -> Result<Agent, UserError> {
    if let Some(agent) = Agent::connect(env)? {
        return Ok(agent);
    }
    let socket = crate::agent::new_socket(env)?;
    let exe = std::env::current_exe().map_err(|e| {
        UserError::new(format!(
            "cannot find the teamotp program to start the agent: {e}"
        ))
    })?;
    Command::new(exe)
        .args(["agent", "--background"])
        .env("TEAMOTP_AGENT_SOCK", &socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| UserError::new(format!("cannot start the agent: {e}")))?;
    let started = std::time::Instant::now();
    while started.elapsed() < START {
        std::thread::sleep(Duration::from_millis(20));
        if let Some(agent) = Agent::connect_at(&socket)? {
            return Ok(agent);
        }
    }
    Err(UserError::new(format!(
        "the agent did not start (no socket at '{}' after {} s)",
        socket.display(),
        START.as_secs()
    ))
    .hint("run 'teamotp agent' in another terminal to see why"))
}

/// What the agent can hold of one identity file; the rest (ssh-rsa keys, plugin identities) stays with
/// the client, as it is today, and is named on `err`.
fn identity_items(path: &Path, err: &mut dyn Write) -> Result<Vec<Item>, UserError> {
    // The same checks (and messages) as every command: private mode, a known kind.
    identity::read(path)?;
    let shown = path.display().to_string();
    let bytes = crate::files::read(path)
        .map_err(|e| UserError::new(format!("cannot read identity file '{shown}': {e}")))?;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(128)]);
    let head = head.trim_start();
    let stays = |err: &mut dyn Write, what: &str| {
        let _ = writeln!(
            err,
            "teamotp: '{shown}' {what}: it stays with teamotp, which asks for it as before"
        );
    };
    if head.starts_with("age-encryption.org/")
        || head.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    {
        let plain = with_tries(
            &format!("Passphrase for identity file '{shown}': "),
            &shown,
            |passphrase| match decrypt::decrypt(&bytes, &[], || Ok(passphrase)) {
                Ok(plain) => Ok(plain),
                Err(Failure::WrongPassphrase) => Err(None),
                Err(e) => Err(Some(UserError::new(format!(
                    "cannot decrypt identity file '{shown}': {e}"
                )))),
            },
        )?;
        return Ok(age_lines(&plain, &shown, err));
    }
    if head.contains("-----BEGIN") && head.contains("PRIVATE KEY-----") {
        let public = crate::agent::ssh_public_key(&bytes).unwrap_or_default();
        if !public.starts_with("ssh-ed25519 ") {
            stays(
                err,
                "is an ssh-rsa key (the agent holds ssh-ed25519 keys only)",
            );
            return Ok(Vec::new());
        }
        let parsed = age::ssh::Identity::from_buffer(std::io::Cursor::new(&bytes[..]), None)
            .map_err(|_| UserError::new(format!("'{shown}' is not a valid OpenSSH private key")))?;
        let mut passphrase = Zeroizing::new(Vec::new());
        if let age::ssh::Identity::Encrypted(key) = parsed {
            let asked = with_tries(
                &format!("Passphrase for SSH key '{shown}': "),
                &shown,
                |asked| match key.decrypt(asked.clone()) {
                    Ok(_) => Ok(asked),
                    Err(_) => Err(None),
                },
            )?;
            passphrase = Zeroizing::new(asked.expose_secret().as_bytes().to_vec());
        }
        return Ok(vec![Item {
            kind: Kind::SshEd25519,
            source: shown,
            secret: Zeroizing::new(bytes.to_vec()),
            passphrase,
            primed: None,
        }]);
    }
    Ok(age_lines(&bytes, &shown, err))
}

/// The `AGE-SECRET-KEY-1...` lines of an identity file; plugin identities stay with the client.
fn age_lines(text: &[u8], shown: &str, err: &mut dyn Write) -> Vec<Item> {
    let mut items = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.starts_with(b"AGE-SECRET-KEY-1") {
            items.push(Item {
                kind: Kind::X25519,
                source: shown.to_owned(),
                secret: Zeroizing::new(line.to_vec()),
                passphrase: Zeroizing::new(Vec::new()),
                primed: None,
            });
        } else if line.starts_with(b"AGE-PLUGIN-") {
            let _ = writeln!(
                err,
                "teamotp: '{shown}' holds a plugin identity: it stays with teamotp, which asks the plugin as before"
            );
        }
    }
    items
}

/// A passphrase vault's passphrase, checked by opening the vault here (so the agent also learns its file
/// key and answers it without running scrypt again). `None` for any other vault.
fn vault_item(path: &Path, env: &Env) -> Result<Option<Item>, UserError> {
    let Ok(raw) = crate::files::read(path) else {
        return Ok(None);
    };
    if !decrypt::is_age(&raw) || !decrypt::is_scrypt(&raw).unwrap_or(false) {
        return Ok(None);
    }
    let _ = env;
    let shown = path.display().to_string();
    let failure = |e: Failure| UserError::new(format!("cannot decrypt '{shown}': {e}"));
    let (passphrase, recorder) =
        with_tries(&format!("Passphrase for {shown}: "), &shown, |passphrase| {
            let recorder = Recording {
                passphrase: passphrase.clone(),
                seen: std::cell::RefCell::new(None),
            };
            let decryptor = crate::age::decrypt::decryptor(age::armor::ArmoredReader::new(
                raw.trim_ascii_start(),
            ))
            .map_err(|e| Some(failure(e.into())))?;
            let mut reader = decryptor
                .decrypt(std::iter::once(&recorder as &dyn age::Identity))
                .map_err(|e| match e {
                    age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => None,
                    other => Some(failure(other.into())),
                })?;
            // The whole file must authenticate before its key is handed on.
            let mut sink = Zeroizing::new(Vec::with_capacity(raw.len()));
            std::io::Read::read_to_end(&mut reader, &mut sink)
                .map_err(|e| Some(failure(Failure::Damaged(e.to_string()))))?;
            drop(reader);
            Ok((passphrase, recorder))
        })?;
    Ok(Some(Item {
        kind: Kind::VaultPassphrase,
        source: shown,
        secret: Zeroizing::new(passphrase.expose_secret().as_bytes().to_vec()),
        passphrase: Zeroizing::new(Vec::new()),
        primed: recorder.seen.into_inner(),
    }))
}

/// scrypt with a passphrase, keeping the header's hash and file key it unwrapped.
struct Recording {
    passphrase: SecretString,
    seen: std::cell::RefCell<Option<protocol::Primed>>,
}

impl age::Identity for Recording {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let mut identity = age::scrypt::Identity::new(self.passphrase.clone());
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        let result = age::Identity::unwrap_stanzas(&identity, stanzas)?;
        if let Ok(key) = &result {
            *self.seen.borrow_mut() = Some((
                protocol::stanzas_hash(stanzas),
                Zeroizing::new(*key.expose_secret()),
            ));
        }
        Some(result)
    }
}

/// Asks the passphrase of `shown` with `prompt` and gives it to `attempt`, up to [`crate::tty::TRIES`]
/// times while `attempt` says it is wrong (`Err(None)`), as every command does; `Err(Some(error))` ends
/// it at once.
fn with_tries<T>(
    prompt: &str,
    shown: &str,
    mut attempt: impl FnMut(SecretString) -> Result<T, Option<UserError>>,
) -> Result<T, UserError> {
    if !crate::tty::available() {
        return Err(UserError::new(format!(
            "the passphrase of '{shown}' is needed and there is no terminal to ask for it"
        ))
        .hint("run 'teamotp unlock' in a terminal"));
    }
    for tries in 1..=crate::tty::TRIES {
        let passphrase = crate::tty::prompt_hidden(prompt)
            .map_err(|e| UserError::new(format!("cannot read the passphrase: {e}")))?;
        match attempt(passphrase) {
            Ok(value) => return Ok(value),
            Err(Some(error)) => return Err(error),
            Err(None) if tries < crate::tty::TRIES => {
                crate::tty::tell(&format!("wrong passphrase for '{shown}', try again"));
            }
            Err(None) => {}
        }
    }
    Err(UserError::new(format!(
        "the passphrase of '{shown}' is wrong ({} tries)",
        crate::tty::TRIES
    ))
    .hint("type the passphrase it was made with (ssh-keygen -p or age -p changes it)"))
}

/// The hidden completion helper: account names, one a line, read through the agent or a key that needs
/// no passphrase. It never prompts and prints nothing when it cannot read the vault; names holding
/// control characters are never offered (a hostile vault must not type into a command line).
pub fn complete_names(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    out: &mut dyn Write,
) -> u8 {
    let Some(bytes) = readable(source, identity_paths, env) else {
        return 1;
    };
    let Ok(parsed) = crate::vault::format::parse(&bytes) else {
        return 1;
    };
    let mut text = String::new();
    for account in parsed.accounts() {
        // A name the shell would have to escape (a control, bidi or invisible character) is not
        // offered: the candidate list is shown by the shell as it is.
        if account.name.is_empty() || account.name.chars().any(crate::text::is_unsafe) {
            continue;
        }
        text.push_str(&account.name);
        text.push('\n');
    }
    let _ = out.write_all(text.as_bytes());
    0
}

fn readable(source: &Source, identity_paths: &[PathBuf], env: &Env) -> Option<Zeroizing<Vec<u8>>> {
    let path = match source {
        Source::Demo => {
            let mut sink = std::io::sink();
            return crate::vault::load::read(source, &[], env, &mut sink)
                .ok()
                .map(|p| p.bytes);
        }
        Source::File(path) => path,
    };
    let raw = crate::files::read(path).ok()?;
    if !decrypt::is_age(&raw) {
        return Some(raw);
    }
    if let Some(opened) = crate::agent::client::open(&raw, env) {
        return Some(opened.bytes);
    }
    if decrypt::is_scrypt(&raw).ok()? {
        return None;
    }
    let mut list: Vec<Box<dyn age::Identity>> = Vec::new();
    for path in identity::paths(identity_paths, env) {
        let Ok(bytes) = crate::files::read(&path) else {
            continue;
        };
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(128)]).into_owned();
        if head.trim_start().starts_with("age-encryption.org/")
            || head.contains("AGE ENCRYPTED FILE")
        {
            continue; // needs a passphrase
        }
        if head.contains("PRIVATE KEY-----") {
            if let Ok(key @ age::ssh::Identity::Unencrypted(_)) =
                age::ssh::Identity::from_buffer(std::io::Cursor::new(&bytes[..]), None)
            {
                list.push(Box::new(key));
            }
            continue;
        }
        for line in bytes.split(|b| *b == b'\n') {
            let line = String::from_utf8_lossy(line.trim_ascii()).into_owned();
            if let Ok(key) = line.parse::<age::x25519::Identity>() {
                list.push(Box::new(key));
            }
        }
    }
    decrypt::decrypt(&raw, &list, || Err(Failure::NoTerminal)).ok()
}
