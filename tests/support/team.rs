//! Helpers the team-vault tests (tests/team_*.rs) share: the fixture keys, the messages many tests
//! expect, a sandbox whose runs go through `setsid -w teamotp --at AT`, and checks from outside teamotp
//! (the `age` crate, the Go `age` CLI when installed).

use std::fs;
use std::path::Path;
use std::str::FromStr;

use assert_cmd::Command;

pub use super::{AT, BIN, Out, TIMEOUT, age_public, find_program, out, run, setsid, ssh_public};

/// The caller's identity in most tests (a copy of tests/fixtures/age/x25519.key), relative to the sandbox.
pub const ME: &str = "keys/x25519.key";
pub const OTHER: &str = "keys/other.key";
pub const ED25519: &str = "keys/id_ed25519";
pub const RSA: &str = "keys/id_rsa";

/// The header of a vault teamotp creates.
pub const HEADER: &str = "name,issuer,secret,digits,period,algorithm,type\n";

/// `teamotp add AWS` with secret JBSWY3DPEHPK3PXP, as stored.
pub const AWS_ROW: &str = "AWS,,JBSWY3DPEHPK3PXP,,,,\n";
/// `list --format csv` of that account at 1700000000 (oathtool: prev 822542, curr 324550, next 367665).
pub const AWS_LIST: &str = "AWS,,822542,324550,367665,10\n";
pub const LIST_HEADER: &str = "name,issuer,prev,curr,next,remaining\n";
pub const ADDED_AWS: &str = "teamotp: added 'AWS' to v.age; its current code is 324 550 (10 s left): \
                         check that the service accepts it\n";

pub const CREATED_V_AGE: &str = "teamotp: wrote the recipients file ./.age-recipients (1 recipient)\n\
                             teamotp: this machine now trusts these recipients of v.age (pinned: a change \
                             to the recipients file is shown for 'teamotp members ack' before the next \
                             write)\n\
                             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n\
                             teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n";

/// What `init` of v.age says before its closing line.
pub const CREATED: &str = "teamotp: wrote the recipients file ./.age-recipients (1 recipient)\n\
                             teamotp: this machine now trusts these recipients of v.age (pinned: a change \
                             to the recipients file is shown for 'teamotp members ack' before the next \
                             write)\n\
                             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n";

/// `init`'s closing line for a vault found from the directory it was made in.
pub const FOUND_HERE: &str = "teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n";

/// `init`'s closing lines for a vault at `rel` in the sandbox, not found from the sandbox's directory.
pub fn elsewhere(sb: &Sandbox, rel: &str) -> String {
    let vault = fs::canonicalize(sb.path(rel)).unwrap();
    let name = vault
        .parent()
        .and_then(Path::file_name)
        .unwrap()
        .to_string_lossy()
        .replace(['/', ' ', '.'], "-");
    let config = sb.home().join(".config/teamotp/config.toml");
    format!(
        "teamotp: hint: other commands find it with -f '{v}', or name it in {c}:\n    [vaults.{name}]\n    \
         file = \"{v}\"\n\
         teamotp: hint: or let teamotp add that: teamotp -f '{v}' register {name} (see docs/config.md)\n",
        v = vault.display(),
        c = config.display()
    )
}

pub const RECIPIENTS_PREAMBLE: &str =
    "# teamotp recipients: every write encrypts the vault to exactly these keys.\n\n";

pub const CONFIRM_NEEDED: &str = "teamotp: error: confirmation needed and there is no terminal to ask on\n\
                              teamotp: hint: pass --yes to confirm\n";

pub const LOCKED_OUT: &str = "teamotp: error: your identity could not open the new version of 'v.age': \
                          you would lock yourself out; nothing was changed\n\
                          teamotp: hint: keep your own key among the recipients, or pass --force if \
                          that is really meant\n";

/// Every review says what it cannot vouch for.
pub const LABELS_HINT: &str = "teamotp: hint: only the keys are authenticated: labels are comments anyone \
                           with write access can change; compare the keys\n";

pub const PIN_HINTS: &str = "teamotp: hint: if you expected this change (a teammate joined or left), accept \
                         it: teamotp members ack\n\
                         teamotp: hint: if not, someone may have slipped in a key: check the file's \
                         history before going on\n";

pub const NOT_RETROACTIVE: &str = "teamotp: v.age.bak, the previous version, is re-encrypted to the remaining \
                               recipients too\n\
                               teamotp: warning: removal is not retroactive: they may keep old copies of \
                               the vault (git history, the shared drive, backups) and every secret in \
                               them\n";

pub fn x25519_pub() -> String {
    age_public("x25519.key")
}

pub fn other_pub() -> String {
    age_public("other.key")
}

pub fn ed25519_pub() -> String {
    ssh_public("id_ed25519.pub").0
}

pub fn rsa_pub() -> String {
    ssh_public("id_rsa.pub").0
}

/// How messages and reviews show a key (issue 20): whole, except an ssh-rsa key, shown by the fingerprint
/// `ssh-keygen -l` prints (`SHA256:` and the unpadded base64 of the SHA-256 of the key's binary form).
pub fn shown(key: &str) -> String {
    use sha2::Digest;
    match key.strip_prefix("ssh-rsa ") {
        Some(body) => {
            let blob = data_encoding::BASE64.decode(body.as_bytes()).unwrap();
            let digest = sha2::Sha256::digest(&blob);
            format!(
                "ssh-rsa SHA256:{}",
                data_encoding::BASE64_NOPAD.encode(&digest)
            )
        }
        None => key.to_owned(),
    }
}

/// The shared [`super::Sandbox`] (prefix `teamotp-team-`, private key copies in `keys/`) whose runs are
/// `setsid -w teamotp --at AT ARGS` (see [`Sandbox::command`]).
pub struct Sandbox(super::Sandbox);

super::sandbox_wrapper!(Sandbox);

impl Sandbox {
    pub fn new() -> Self {
        Sandbox(super::Sandbox::new("teamotp-team-"))
    }

    /// `setsid -w teamotp --at AT ARGS` with a cleared environment, `HOME` in the sandbox.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(setsid());
        cmd.env_clear()
            .env("HOME", self.home())
            .current_dir(self.root())
            .timeout(TIMEOUT)
            .arg("-w")
            .arg(BIN)
            .args(["--at", AT])
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run(&mut self.command(args))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        run(self.command(args).write_stdin(stdin))
    }

    /// `teamotp -i ME -f v.age ARGS`.
    pub fn me(&self, args: &[&str]) -> Out {
        self.run(&[&["-i", ME, "-f", "v.age"], args].concat())
    }

    pub fn me_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_stdin(&[&["-i", ME, "-f", "v.age"], args].concat(), stdin)
    }

    /// `init` of `v.age` encrypted to ME (the caller's own key: no `-r`).
    pub fn init(&self) {
        let got = self.me(&["init"]);
        // Where the sandbox holds another *.age file, init's closing line offers the config instead.
        if got.stderr.contains("other commands find it with -f") {
            assert_eq!(
                got,
                out(0, "", &format!("{CREATED}{}", elsewhere(self, "v.age")))
            );
        } else {
            assert_eq!(got, out(0, "", CREATED_V_AGE));
        }
        assert_eq!(
            self.read(".age-recipients"),
            format!("{RECIPIENTS_PREAMBLE}{}\n", x25519_pub())
        );
    }

    /// `init`, then `add AWS`.
    pub fn init_with_aws(&self) {
        self.init();
        assert_eq!(
            self.me_stdin(&["add", "AWS"], "JBSWY3DPEHPK3PXP\n"),
            out(0, "", ADDED_AWS)
        );
    }

    /// The files of the pin directory under `state`.
    pub fn pins(&self, state: &Path) -> Vec<String> {
        let dir = state.join("teamotp").join("pins");
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Decrypts `vault` with the identity file `key` using the `age` crate directly (not teamotp's loader).
pub fn decrypt(key: &Path, vault: &Path) -> Result<String, String> {
    let ciphertext = fs::read(vault).unwrap();
    let key_text = fs::read_to_string(key).unwrap();
    let result = if let Some(line) = key_text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")) {
        let identity = age::x25519::Identity::from_str(line).unwrap();
        age::decrypt(&identity, &ciphertext)
    } else {
        let identity =
            age::ssh::Identity::from_buffer(std::io::BufReader::new(key_text.as_bytes()), None)
                .unwrap();
        age::decrypt(&identity, &ciphertext)
    };
    result
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .map_err(|e| e.to_string())
}

/// Decrypts with the Go `age -d` CLI: None when it is not installed.
pub fn go_age_decrypt(sandbox: &Sandbox, key: &str, vault: &str) -> Option<Result<String, String>> {
    let Some(age) = find_program("age") else {
        println!("skipped: age CLI not installed");
        return None;
    };
    let output = std::process::Command::new(age)
        .env_clear()
        .env("HOME", sandbox.home())
        .current_dir(sandbox.root())
        .args(["-d", "-i", key, vault])
        .output()
        .unwrap();
    Some(if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

/// `key` opens `vault` (with the age crate, the Go CLI when installed, and `teamotp list`), which holds
/// exactly `plaintext` and lists as `list` (`list --format csv`'s stdout).
pub fn assert_opens(sandbox: &Sandbox, key: &str, vault: &str, plaintext: &str, list: &str) {
    let empty_note = if list == LIST_HEADER {
        format!("teamotp: {vault} has no accounts\n")
    } else {
        String::new()
    };
    assert_eq!(
        decrypt(&sandbox.path(key), &sandbox.path(vault)).as_deref(),
        Ok(plaintext),
        "{key} decrypts {vault} (age crate)"
    );
    if let Some(result) = go_age_decrypt(sandbox, key, vault) {
        assert_eq!(
            result.as_deref(),
            Ok(plaintext),
            "{key} decrypts {vault} (age CLI)"
        );
    }
    assert_eq!(
        without_mismatch(sandbox.run(&["-i", key, "-f", vault, "list", "--format", "csv"])),
        out(0, list, &empty_note),
        "{key} lists {vault} (teamotp)"
    );
}

/// `out` without the warning that the version is not encrypted to exactly its recipients file: the
/// helpers here check who can open a version, while the tests change the recipients file on purpose (the
/// warning itself is asserted in tests/team_git.rs).
pub fn without_mismatch(mut out: Out) -> Out {
    out.stderr = out
        .stderr
        .lines()
        .filter(|l| {
            !(l.starts_with("teamotp: warning: '") && l.contains("is not encrypted to exactly"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    out
}

/// `key` cannot open `vault` (age crate, Go CLI when installed, teamotp).
pub fn assert_refused(sandbox: &Sandbox, key: &str, vault: &str) {
    assert_eq!(
        decrypt(&sandbox.path(key), &sandbox.path(vault)),
        Err("No matching keys found".to_owned()),
        "{key} must not decrypt {vault} (age crate)"
    );
    if let Some(result) = go_age_decrypt(sandbox, key, vault) {
        let stderr = result.expect_err("the age CLI must refuse");
        assert!(
            stderr.starts_with("age: error: no identity matched any of the recipients"),
            "{stderr}"
        );
    }
    assert_eq!(
        without_mismatch(sandbox.run(&["-i", key, "-f", vault, "list"])),
        out(
            2,
            "",
            &format!(
                "teamotp: error: cannot decrypt '{vault}': none of the identities can open it \
                 (tried '{key}')\n\
                 teamotp: hint: the vault is not encrypted to your key: send your public key to a \
                 teammate, who adds it with 'teamotp members add'\n"
            )
        )
    );
}

/// The recipient stanza types in an age file's header, sorted, without the random "grease" stanzas and
/// without teamotp's record of the recipients (see [`recorded_keys`]).
pub fn stanzas(path: &Path) -> Vec<String> {
    let bytes = fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut types: Vec<String> = text
        .lines()
        .take_while(|l| !l.starts_with("---"))
        .filter_map(|l| l.strip_prefix("-> "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|t| !t.ends_with("-grease") && t != "teamotp-recipients")
        .collect();
    types.sort();
    types
}

/// The keys an age file's header records as its recipients (teamotp's `teamotp-recipients` stanza), read
/// here independently of teamotp's own parser; None when the file has no record.
pub fn recorded_keys(bytes: &[u8]) -> Option<Vec<String>> {
    use data_encoding::BASE64_NOPAD;
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().take_while(|l| !l.starts_with("---"));
    lines.find(|l| l.starts_with("-> teamotp-recipients "))?;
    let mut body = String::new();
    for line in lines {
        body.push_str(line);
        if line.len() < 64 {
            break;
        }
    }
    let decoded = BASE64_NOPAD.decode(body.as_bytes()).ok()?;
    Some(
        String::from_utf8(decoded)
            .ok()?
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// `SHA256:<hex>` of the sandbox's `.age-recipients`, as reviews show it.
pub fn recipients_fingerprint(sandbox: &Sandbox) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(sandbox.bytes(".age-recipients"));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("SHA256:{hex}")
}

/// A review's lines (`+ ...` / `- ...`) and the fingerprint of the sandbox's `.age-recipients`.
pub fn review(sandbox: &Sandbox, lines: &[String]) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(&format!("    {line}\n"));
    }
    text.push_str(&format!(
        "    recipients file fingerprint: {}\n",
        recipients_fingerprint(sandbox)
    ));
    text
}

/// The pin error for the given `+ ...` / `- ...` lines.
pub fn pin_error(sandbox: &Sandbox, lines: &[String]) -> String {
    format!(
        "teamotp: error: the recipients file changed since you last wrote 'v.age':\n{}{LABELS_HINT}{PIN_HINTS}",
        review(sandbox, lines)
    )
}
