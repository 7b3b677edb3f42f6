//! Bounded waits for age plugins (`age-plugin-NAME` programs: hardware keys, cloud keys). age runs a
//! plugin as a child process and waits for its answers without a limit, so a plugin that hangs would hang
//! teamotp for good. Every plugin recipient and identity is wrapped here: while age waits for a plugin
//! a watchdog runs, and a plugin silent for longer than the timeout (`TEAMOTP_PLUGIN_TIMEOUT` seconds,
//! default [`DEFAULT_TIMEOUT`]) is killed and teamotp ends with an error, before anything is written
//! (a write stages and renames the vault only after every recipient wrapped the file key). Time the plugin
//! spends asking the user (a PIN, a confirmation, through [`Paused`] callbacks) does not count.
//!
//! A plugin that dies or answers something that is not the protocol is age's error, reported with the
//! plugin's name by the caller.

use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};

/// How long a plugin may take to answer when nothing says otherwise: long enough for a hardware key that
/// waits for a touch (age-plugin-yubikey waits 15 s), short enough that a hung plugin is noticed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The watchdog's state: what is being waited for, and until when (None: the user is being asked).
struct Watch {
    depth: usize,
    plugin: String,
    deadline: Option<Instant>,
    timeout: Duration,
}

static WATCH: Mutex<Watch> = Mutex::new(Watch {
    depth: 0,
    plugin: String::new(),
    deadline: None,
    timeout: DEFAULT_TIMEOUT,
});
static WATCHDOG: Once = Once::new();

fn watch() -> MutexGuard<'static, Watch> {
    WATCH.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the timeout from `TEAMOTP_PLUGIN_TIMEOUT` (whole seconds, at least 1); once, at start.
pub fn configure(env: &crate::env::Env) {
    if let Some(secs) = env
        .var("TEAMOTP_PLUGIN_TIMEOUT")
        .and_then(|v| v.to_str()?.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
    {
        watch().timeout = Duration::from_secs(secs);
    }
}

/// Held while age talks to a plugin: the watchdog runs until it is dropped.
struct Waiting;

impl Waiting {
    fn start(plugin: &str) -> Waiting {
        let mut watch = watch();
        if watch.depth == 0 {
            watch.plugin = plugin.to_owned();
            watch.deadline = Some(Instant::now() + watch.timeout);
        }
        watch.depth += 1;
        drop(watch);
        WATCHDOG.call_once(|| {
            std::thread::spawn(watchdog);
        });
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut watch = watch();
        watch.depth = watch.depth.saturating_sub(1);
        if watch.depth == 0 {
            watch.deadline = None;
        }
    }
}

fn watchdog() {
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let watch = watch();
        if watch.deadline.is_some_and(|d| Instant::now() >= d) {
            // The lock stays held: the waiting thread cannot go on to write anything while this ends.
            kill_children();
            let error = crate::error::UserError::new(format!(
                "age-plugin-{} did not answer within {} s; it was stopped and nothing was written",
                watch.plugin,
                watch.timeout.as_secs()
            ))
            .hint(
                "check the plugin (a hardware key waiting for a touch, a device unplugged); a plugin \
                 that needs longer can be given TEAMOTP_PLUGIN_TIMEOUT=SECONDS",
            );
            // Not through std's stderr: the main thread holds its lock for the whole command.
            let mut text = Vec::new();
            let code = crate::error::report(&error.into(), &mut text);
            #[cfg(unix)]
            {
                let mut rest = text.as_slice();
                while let Ok(n) = rustix::io::write(rustix::stdio::stderr(), rest) {
                    rest = &rest[n..];
                    if n == 0 || rest.is_empty() {
                        break;
                    }
                }
            }
            std::process::exit(code.into());
        }
    }
}

/// Kills this process's plugin children (`age-plugin-...`, the one age waits for). Linux reads them from
/// /proc; elsewhere the plugin is left to notice its closed pipes.
fn kill_children() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let me = std::process::id().to_string();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `PID (COMM) STATE PPID ...`: COMM may hold spaces and parentheses, so split after the last ')'.
            // Only plugins (COMM is the program name cut to 15 bytes): `unlock` may have an agent child.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let plugin = head
                .split_once('(')
                .is_some_and(|(_, comm)| comm.starts_with("age-plugin-"));
            let parent = rest.split_whitespace().nth(1);
            if plugin
                && parent == Some(me.as_str())
                && let Some(pid) = rustix::process::Pid::from_raw(pid)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

/// age callbacks that stop the watchdog's clock while the plugin asks the user something.
#[derive(Clone)]
pub struct Paused<C: age::Callbacks>(pub C);

impl<C: age::Callbacks> Paused<C> {
    fn paused<T>(&self, ask: impl FnOnce(&C) -> T) -> T {
        let before = watch().deadline.take();
        let answer = ask(&self.0);
        let mut watch = watch();
        if before.is_some() && watch.depth > 0 {
            watch.deadline = Some(Instant::now() + watch.timeout);
        }
        answer
    }
}

impl<C: age::Callbacks> age::Callbacks for Paused<C> {
    fn display_message(&self, message: &str) {
        self.0.display_message(message);
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        self.paused(|c| c.confirm(message, yes_string, no_string))
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.paused(|c| c.request_public_string(description))
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        self.paused(|c| c.request_passphrase(description))
    }
}

/// A plugin recipient whose wrapping is watched.
pub struct Recipient<R> {
    pub inner: R,
    pub plugin: String,
}

impl<R: age::Recipient> age::Recipient for Recipient<R> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, std::collections::HashSet<String>), age::EncryptError> {
        let _waiting = Waiting::start(&self.plugin);
        self.inner.wrap_file_key(file_key).map_err(|e| match e {
            age::EncryptError::Io(e) => age::EncryptError::Io(std::io::Error::other(format!(
                "{}; nothing was written",
                failed(&self.plugin, &e)
            ))),
            other => other,
        })
    }
}

/// An identity (from a file that names a plugin) whose unwrapping is watched.
pub struct Identity {
    pub inner: Box<dyn age::Identity + Send + Sync>,
    pub plugin: String,
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        let _waiting = Waiting::start(&self.plugin);
        self.inner
            .unwrap_stanza(stanza)
            .map(|r| r.map_err(|e| self.plugin_error(e)))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        let _waiting = Waiting::start(&self.plugin);
        self.inner
            .unwrap_stanzas(stanzas)
            .map(|r| r.map_err(|e| self.plugin_error(e)))
    }
}

impl Identity {
    /// age reports a plugin that died or broke the protocol as an I/O error, which would read like a
    /// damaged file: it is marked as the plugin's failure ([`failure`]), and says so.
    fn plugin_error(&self, e: age::DecryptError) -> age::DecryptError {
        match e {
            age::DecryptError::Io(e) => {
                age::DecryptError::Io(std::io::Error::other(Failed(failed(&self.plugin, &e))))
            }
            other => other,
        }
    }
}

/// A plugin's failure, carried inside age's I/O error.
#[derive(Debug)]
struct Failed(String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// The words for a plugin's failure, when `e` is one.
pub fn failure(e: &std::io::Error) -> Option<String> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Failed>())
        .map(|f| f.0.clone())
}

/// What went wrong with a plugin, in words: it ended in the middle of the exchange, or answered
/// something that is not the age plugin protocol.
fn failed(plugin: &str, e: &std::io::Error) -> String {
    let text = e.to_string().replace(['\u{2068}', '\u{2069}'], "");
    if text.contains("unexpectedly died") {
        format!(
            "age-plugin-{plugin} ended in the middle of the exchange (it crashed or was killed)"
        )
    } else {
        let first = text.lines().next().unwrap_or_default();
        format!(
            "age-plugin-{plugin} answered something that is not the age plugin protocol ({first})"
        )
    }
}

/// The plugin names of an identity file's `AGE-PLUGIN-NAME-1...` lines (lower case).
pub fn names(identity_file: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(identity_file)
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("AGE-PLUGIN-")?;
            let (name, _) = rest.rsplit_once("-1")?;
            Some(name.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_plugin_lines() {
        let file = b"# created\nAGE-PLUGIN-YUBIKEY-1QQQ\nAGE-SECRET-KEY-1ABC\nAGE-PLUGIN-SE-1XYZ\n";
        assert_eq!(names(file), ["yubikey", "se"]);
        assert!(names(b"AGE-SECRET-KEY-1ABC\n").is_empty());
    }

    #[test]
    fn asking_the_user_stops_the_clock_and_restarts_it() {
        #[derive(Clone)]
        struct Slow;
        impl age::Callbacks for Slow {
            fn display_message(&self, _: &str) {}
            fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
                assert!(
                    watch().deadline.is_none(),
                    "the clock runs while the user is asked"
                );
                Some(true)
            }
            fn request_public_string(&self, _: &str) -> Option<String> {
                None
            }
            fn request_passphrase(&self, _: &str) -> Option<SecretString> {
                None
            }
        }
        let waiting = Waiting::start("test");
        let before = watch().deadline.unwrap();
        assert_eq!(
            age::Callbacks::confirm(&Paused(Slow), "?", "yes", None),
            Some(true)
        );
        assert!(watch().deadline.unwrap() >= before);
        drop(waiting);
        assert!(watch().deadline.is_none());
    }
}
