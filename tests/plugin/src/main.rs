//! `age-plugin-teamotptest`: a plugin for tests only. It speaks the real age plugin protocol (through the
//! `age-plugin` crate, as age-plugin-yubikey does) but its "encryption" is the file key XORed with the
//! recipient's 32 bytes, which the identity holds too: it tests the plumbing, it protects nothing.
//!
//! - `age-plugin-teamotptest` (no arguments): prints a new identity and its recipient, as real plugins do.
//! - `TEAMOTPTEST_LOG=FILE`: each run appends `recipient-v1` or `identity-v1`, its pid and its parent's.
//! - `TEAMOTPTEST_MODE`: `hang`, `die` (exit in the middle of the protocol), `garbage` (answers something
//!   that is not the protocol) in every run; `hang-wrap`, `die-wrap`, `garbage-wrap` only when encrypting.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};

use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use age_core::secrecy::ExposeSecret;
use age_plugin::{
    identity::{self, IdentityPluginV1},
    print_new_identity,
    recipient::{self, RecipientPluginV1},
    run_state_machine, Callbacks, PluginHandler,
};

const NAME: &str = "teamotptest";
const TAG: &str = "teamotptest";

fn mode() -> String {
    std::env::var("TEAMOTPTEST_MODE").unwrap_or_default()
}

/// Misbehaves as `TEAMOTPTEST_MODE` says, at `phase` (`wrap` or `unwrap`), after the protocol started.
fn misbehave(phase: &str) {
    let mode = mode();
    let (what, only) = mode.split_once('-').unwrap_or((&mode, ""));
    if !only.is_empty() && only != phase {
        return;
    }
    match what {
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "die" => std::process::exit(3),
        _ => {}
    }
}

/// The id in a stanza: which recipient it was made for (the first 4 bytes, in hex).
fn id(key: &[u8]) -> String {
    key[..4].iter().map(|b| format!("{b:02x}")).collect()
}

fn xor(file_key: &[u8], key: &[u8]) -> Vec<u8> {
    file_key.iter().zip(key).map(|(a, b)| a ^ b).collect()
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Recipients;
    type IdentityV1 = Identities;

    fn recipient_v1(self) -> io::Result<Recipients> {
        Ok(Recipients(Vec::new()))
    }

    fn identity_v1(self) -> io::Result<Identities> {
        Ok(Identities(Vec::new()))
    }
}

struct Recipients(Vec<Vec<u8>>);

impl RecipientPluginV1 for Recipients {
    fn add_recipient(
        &mut self,
        index: usize,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        if name != NAME || bytes.len() != 32 {
            return Err(recipient::Error::Recipient {
                index,
                message: "not a teamotptest recipient".into(),
            });
        }
        self.0.push(bytes.to_vec());
        Ok(())
    }

    fn add_identity(&mut self, index: usize, _: &str, _: &[u8]) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "identities are not recipients here".into(),
        })
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        misbehave("wrap");
        Ok(Ok(file_keys
            .iter()
            .map(|file_key| {
                self.0
                    .iter()
                    .map(|key| Stanza {
                        tag: TAG.into(),
                        args: vec![id(key)],
                        body: xor(file_key.expose_secret(), key),
                    })
                    .collect()
            })
            .collect()))
    }
}

struct Identities(Vec<Vec<u8>>);

impl IdentityPluginV1 for Identities {
    fn add_identity(
        &mut self,
        index: usize,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        if name != NAME || bytes.len() != 32 {
            return Err(identity::Error::Identity {
                index,
                message: "not a teamotptest identity".into(),
            });
        }
        self.0.push(bytes.to_vec());
        Ok(())
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        _: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        misbehave("unwrap");
        let mut keys = HashMap::new();
        for (index, stanzas) in files.iter().enumerate() {
            let found = stanzas.iter().find_map(|stanza| {
                let key = self.0.iter().find(|k| {
                    stanza.tag == TAG
                        && stanza.args == [id(k)]
                        && stanza.body.len() == FILE_KEY_BYTES
                })?;
                Some(FileKey::init_with_mut(|file_key| {
                    file_key.copy_from_slice(&xor(&stanza.body, key))
                }))
            });
            if let Some(file_key) = found {
                keys.insert(index, Ok(file_key));
            }
        }
        Ok(keys)
    }
}

fn log(what: &str) {
    if let Ok(path) = std::env::var("TEAMOTPTEST_LOG") {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let parent = std::os::unix::process::parent_id();
            let _ = writeln!(file, "{what} {} {parent}", std::process::id());
        }
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let machine = args
        .iter()
        .find_map(|a| a.strip_prefix("--age-plugin="))
        .map(str::to_owned);
    let Some(machine) = machine else {
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        print_new_identity(NAME, &key, &key);
        return Ok(());
    };
    log(&machine);
    let mode = mode();
    let garbage = mode == "garbage" || (mode == "garbage-wrap" && machine == "recipient-v1");
    if garbage {
        let mut out = io::stdout();
        out.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>\x1b[2J</html>\n")?;
        out.flush()?;
        return Ok(());
    }
    run_state_machine(&machine, Handler)
}
