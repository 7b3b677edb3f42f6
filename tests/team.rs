//! End-to-end tests of the team-vault commands: `init`, `encrypt`, `add`, `rm`, `rename`, `edit`,
//! `members` (list, add, rm, ack), `rekey`, and recipients-file pinning.
//!
//! Rules every test follows:
//! - every run has `env_clear()`, `HOME` inside a fresh temporary directory (and `XDG_*` unset or inside
//!   it), no network, and `--at 1700000000` so codes never depend on the clock;
//! - every run goes through `setsid -w`: teamotp has no controlling terminal, as in CI, even when the
//!   tests are started from one (otherwise a confirmation could wait on the developer's terminal);
//! - stdout, stderr and the exit code are compared exactly;
//! - what a write produced is checked from outside teamotp: decrypted with the `age` crate in this test
//!   (every identity kind: X25519, ssh-ed25519, ssh-rsa), and with the Go `age -d` CLI when it is installed
//!   (otherwise "skipped: age CLI not installed" is printed and only that part is skipped);
//! - codes come from outside teamotp: `oathtool --totp -b -N @1700000000 JBSWY3DPEHPK3PXP` (324550),
//!   `oathtool --totp=SHA256 -d 8 -s 60 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ` (34855935),
//!   `oathtool --totp=SHA512 -d 8 -s 60 ...` and a Python HMAC implementation for the Steam code.
//!
//! Key fixtures come from tests/fixtures/age (README there); git does not keep mode 0600, so they are
//! copied into the sandbox and chmod'ed first.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_teamotp");
const AGE_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/age");
const AT: &str = "1700000000";

/// No command should take long; a hang (a prompt nobody answers) fails the test instead of blocking it.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The caller's identity in most tests (a copy of tests/fixtures/age/x25519.key), relative to the sandbox.
const ME: &str = "keys/x25519.key";
const OTHER: &str = "keys/other.key";
const ED25519: &str = "keys/id_ed25519";
const RSA: &str = "keys/id_rsa";

/// The header of a vault teamotp creates.
const HEADER: &str = "name,issuer,secret,digits,period,algorithm,type\n";

/// `teamotp add AWS` with secret JBSWY3DPEHPK3PXP, as stored.
const AWS_ROW: &str = "AWS,,JBSWY3DPEHPK3PXP,,,,\n";
/// `list --format csv` of that account at 1700000000 (oathtool: prev 822542, curr 324550, next 367665).
const AWS_LIST: &str = "AWS,,822542,324550,367665,10\n";
const LIST_HEADER: &str = "name,issuer,prev,curr,next,remaining\n";
const ADDED_AWS: &str = "teamotp: added 'AWS' to v.age; its current code is 324 550 (10 s left): \
                         check that the service accepts it\n";

const CREATED_V_AGE: &str = "teamotp: wrote the recipients file ./.age-recipients (1 recipient)\n\
                             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n";

const RECIPIENTS_PREAMBLE: &str =
    "# teamotp recipients: every write encrypts the vault to exactly these keys.\n\n";

const CONFIRM_NEEDED: &str = "teamotp: error: confirmation needed and there is no terminal to ask on\n\
                              teamotp: hint: pass --yes to confirm\n";

const LOCKED_OUT: &str = "teamotp: error: your identity could not open the new version of 'v.age': \
                          you would lock yourself out; nothing was changed\n\
                          teamotp: hint: keep your own key among the recipients, or pass --force if \
                          that is really meant\n";

/// Every review says what it cannot vouch for.
const LABELS_HINT: &str = "teamotp: hint: only the keys are authenticated: labels are comments anyone \
                           with write access can change; compare the keys\n";

const PIN_HINTS: &str = "teamotp: hint: if you expected this change (a teammate joined or left), accept \
                         it: teamotp members ack\n\
                         teamotp: hint: if not, someone may have slipped in a key: check the file's \
                         history before going on\n";

const NOT_RETROACTIVE: &str = "teamotp: v.age.bak, the previous version, is re-encrypted to the remaining \
                               recipients too\n\
                               teamotp: warning: removal is not retroactive: they may keep old copies of \
                               the vault (git history, the shared drive, backups) and every secret in \
                               them\n";

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// What a user sees: exit code, stdout and stderr.
#[derive(Debug, PartialEq, Eq)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn out(code: i32, stdout: &str, stderr: &str) -> Out {
    Out {
        code,
        stdout: stdout.to_owned(),
        stderr: stderr.to_owned(),
    }
}

/// A program found on the test's own PATH (the runs themselves get no PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn setsid() -> PathBuf {
    find_program("setsid")
        .expect("setsid (util-linux) is needed to run teamotp without a controlling terminal")
}

/// The public key of an age identity file (from its `# public key:` line).
fn age_public(file: &str) -> String {
    let text = fs::read_to_string(Path::new(AGE_FIXTURES).join(file)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("a public key line")
        .to_owned()
}

/// `TYPE BODY` of an SSH public key file (without its comment), and its comment.
fn ssh_public(file: &str) -> (String, String) {
    let text = fs::read_to_string(Path::new(AGE_FIXTURES).join(file)).unwrap();
    let words: Vec<&str> = text.split_whitespace().collect();
    (format!("{} {}", words[0], words[1]), words[2..].join(" "))
}

fn x25519_pub() -> String {
    age_public("x25519.key")
}

fn other_pub() -> String {
    age_public("other.key")
}

fn ed25519_pub() -> String {
    ssh_public("id_ed25519.pub").0
}

fn rsa_pub() -> String {
    ssh_public("id_rsa.pub").0
}

/// How messages shorten a key: the first 16 characters, an ellipsis, the last 6.
fn short(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 24 {
        return key.to_owned();
    }
    let head: String = chars[..16].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

/// A temporary directory that is the working directory of every run, with `home/` as `HOME` and private
/// copies of the key fixtures in `keys/`.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("teamotp-team-")
            .tempdir()
            .expect("a temporary directory");
        let sandbox = Sandbox { dir };
        fs::create_dir(sandbox.home()).unwrap();
        fs::create_dir(sandbox.path("keys")).unwrap();
        for name in [
            "x25519.key",
            "other.key",
            "id_ed25519",
            "id_ed25519.pub",
            "id_rsa",
            "id_rsa.pub",
        ] {
            sandbox.copy_fixture(name, &format!("keys/{name}"));
        }
        sandbox
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Copies `tests/fixtures/age/NAME` to `rel`, mode 0600.
    fn copy_fixture(&self, name: &str, rel: &str) -> PathBuf {
        let to = self.path(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(Path::new(AGE_FIXTURES).join(name), &to).unwrap();
        set_mode(&to, 0o600);
        to
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    fn bytes(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path(rel)).unwrap()
    }

    /// `setsid -w teamotp --at AT ARGS` with a cleared environment, `HOME` in the sandbox.
    fn command(&self, args: &[&str]) -> Command {
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

    fn run(&self, args: &[&str]) -> Out {
        run(&mut self.command(args))
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        run(self.command(args).write_stdin(stdin))
    }

    /// `teamotp -i ME -f v.age ARGS`.
    fn me(&self, args: &[&str]) -> Out {
        self.run(&[&["-i", ME, "-f", "v.age"], args].concat())
    }

    fn me_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_stdin(&[&["-i", ME, "-f", "v.age"], args].concat(), stdin)
    }

    /// `init` of `v.age` encrypted to ME (the caller's own key: no `-r`).
    fn init(&self) {
        assert_eq!(self.me(&["init"]), out(0, "", CREATED_V_AGE));
        assert_eq!(
            self.read(".age-recipients"),
            format!("{RECIPIENTS_PREAMBLE}{}\n", x25519_pub())
        );
    }

    /// `init`, then `add AWS`.
    fn init_with_aws(&self) {
        self.init();
        assert_eq!(
            self.me_stdin(&["add", "AWS"], "JBSWY3DPEHPK3PXP\n"),
            out(0, "", ADDED_AWS)
        );
    }

    /// Names in a directory of the sandbox, sorted (temporary files would show here).
    fn names(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The files of the pin directory under `state`.
    fn pins(&self, state: &Path) -> Vec<String> {
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

fn run(cmd: &mut Command) -> Out {
    let output = cmd.output().expect("the command runs");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Decrypts `vault` with the identity file `key` using the `age` crate directly (not teamotp's loader).
fn decrypt(key: &Path, vault: &Path) -> Result<String, String> {
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
fn go_age_decrypt(sandbox: &Sandbox, key: &str, vault: &str) -> Option<Result<String, String>> {
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
fn assert_opens(sandbox: &Sandbox, key: &str, vault: &str, plaintext: &str, list: &str) {
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
        sandbox.run(&["-i", key, "-f", vault, "list", "--format", "csv"]),
        out(0, list, &empty_note),
        "{key} lists {vault} (teamotp)"
    );
}

/// `key` cannot open `vault` (age crate, Go CLI when installed, teamotp).
fn assert_refused(sandbox: &Sandbox, key: &str, vault: &str) {
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
        sandbox.run(&["-i", key, "-f", vault, "list"]),
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

/// The stanza types in an age file's header, sorted, without the random "grease" stanzas.
fn stanzas(path: &Path) -> Vec<String> {
    let bytes = fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut types: Vec<String> = text
        .lines()
        .take_while(|l| !l.starts_with("---"))
        .filter_map(|l| l.strip_prefix("-> "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|t| !t.ends_with("-grease"))
        .collect();
    types.sort();
    types
}

/// `SHA256:<hex>` of the sandbox's `.age-recipients`, as reviews show it.
fn recipients_fingerprint(sandbox: &Sandbox) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(sandbox.bytes(".age-recipients"));
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("SHA256:{hex}")
}

/// A review's lines (`+ ...` / `- ...`) and the fingerprint of the sandbox's `.age-recipients`.
fn review(sandbox: &Sandbox, lines: &[String]) -> String {
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
fn pin_error(sandbox: &Sandbox, lines: &[String]) -> String {
    format!(
        "teamotp: error: the recipients file changed since you last wrote 'v.age':\n{}{LABELS_HINT}{PIN_HINTS}",
        review(sandbox, lines)
    )
}

// ---------------------------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------------------------

#[test]
fn init_without_an_identity_creates_one_and_encrypts_the_empty_vault_to_it() {
    let sb = Sandbox::new();
    let result = sb.run(&["-f", "v.age", "init"]);

    let identity = sb.home().join(".config/teamotp/identity.txt");
    let text = fs::read_to_string(&identity).expect("the identity was created");
    let secret = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("an age secret key");
    let public = age::x25519::Identity::from_str(secret)
        .unwrap()
        .to_public()
        .to_string();
    assert_eq!(
        text.lines().find_map(|l| l.strip_prefix("# public key: ")),
        Some(public.as_str())
    );
    assert_eq!(
        result,
        out(
            0,
            "",
            &format!(
                "teamotp: created your identity at {} (keep it private, and back it up)\n\
                 teamotp: your public key (send it to your teammates): {public}\n\
                 {CREATED_V_AGE}",
                identity.display()
            )
        )
    );
    assert_eq!(mode(&identity), 0o600, "the identity is private");
    assert_eq!(mode(identity.parent().unwrap()), 0o700);
    assert_eq!(mode(&sb.path("v.age")), 0o600, "the vault is private");
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{public}\n")
    );
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age"])
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519"]);

    // The empty vault is the team CSV header only; the new identity (found by default) opens it.
    assert_eq!(decrypt(&identity, &sb.path("v.age")).as_deref(), Ok(HEADER));
    if let Some(result) = go_age_decrypt(&sb, identity.to_str().unwrap(), "v.age") {
        assert_eq!(result.as_deref(), Ok(HEADER));
    }
    assert_eq!(
        sb.run(&["-f", "v.age", "list", "--format", "csv"]),
        out(0, LIST_HEADER, "teamotp: v.age has no accounts\n")
    );
    // The pin is kept in ~/.local/state by default.
    assert_eq!(sb.pins(&sb.home().join(".local/state")).len(), 1);

    // A second vault uses the identity now there: no new one, and the file is not touched.
    let before = fs::read(&identity).unwrap();
    assert_eq!(
        sb.run(&["-f", "other/w.age", "init"]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file other/.age-recipients (1 recipient)\n\
             teamotp: created the vault other/w.age; add accounts with 'teamotp add NAME'\n"
        )
    );
    assert_eq!(fs::read(&identity).unwrap(), before);
    assert_eq!(
        sb.read("other/.age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{public}\n")
    );
}

#[test]
fn init_creates_the_identity_under_xdg_config_home_and_the_pin_under_xdg_state_home() {
    let sb = Sandbox::new();
    let config = sb.path("config");
    let state = sb.path("state");
    let xdg = |args: &[&str]| {
        run(sb
            .command(args)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_STATE_HOME", &state))
    };
    let result = xdg(&["-f", "v.age", "init"]);
    let identity = config.join("teamotp/identity.txt");
    let text = fs::read_to_string(&identity).expect("the identity is under XDG_CONFIG_HOME");
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    assert_eq!(
        result,
        out(
            0,
            "",
            &format!(
                "teamotp: created your identity at {} (keep it private, and back it up)\n\
                 teamotp: your public key (send it to your teammates): {public}\n\
                 {CREATED_V_AGE}",
                identity.display()
            )
        )
    );
    assert_eq!(mode(&identity), 0o600);
    assert!(!sb.home().join(".config").exists());
    assert_eq!(sb.pins(&state).len(), 1, "the pin is under XDG_STATE_HOME");
    assert!(!sb.home().join(".local").exists());
    assert_eq!(
        xdg(&["-f", "v.age", "list", "--format", "csv"]),
        out(0, LIST_HEADER, "teamotp: v.age has no accounts\n")
    );
}

#[test]
fn init_without_recipients_uses_the_public_key_of_the_callers_ssh_identity() {
    let sb = Sandbox::new();
    sb.copy_fixture("id_ed25519", "home/.ssh/id_ed25519");
    sb.copy_fixture("id_ed25519.pub", "home/.ssh/id_ed25519.pub");
    assert_eq!(sb.run(&["-f", "v.age", "init"]), out(0, "", CREATED_V_AGE));
    assert!(
        !sb.home().join(".config").exists(),
        "no identity is created when the caller has one"
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{}\n", ed25519_pub())
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["ssh-ed25519"]);
    assert_opens(&sb, ED25519, "v.age", HEADER, LIST_HEADER);
}

#[test]
fn init_refuses_to_overwrite_an_existing_vault() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["init"]),
        out(
            2,
            "",
            "teamotp: error: 'v.age' already exists\n\
             teamotp: hint: teamotp does not overwrite a vault; pass another -f/--file PATH\n"
        )
    );
    assert_eq!(
        sb.me(&["init", "-r", &other_pub(), "--force"]).code,
        2,
        "not even with --force"
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), names);
}

#[test]
fn init_encrypts_to_recipients_an_authorized_keys_line_and_a_github_keys_file() {
    let sb = Sandbox::new();
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");
    // A GitHub .keys file: bare keys, one with a type age cannot use.
    sb.write(
        "bob.keys",
        &format!(
            "{}\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExample=\n",
            rsa_pub()
        ),
    );
    // An authorized_keys line with options.
    sb.write(
        "authorized_keys",
        &format!("no-pty,command=\"/bin/false\" {ed} {ed_comment}\n"),
    );
    let result = sb.me(&[
        "init",
        "--recipient",
        &x25519_pub(),
        "--recipients-from",
        "authorized_keys",
        "-R",
        "bob.keys",
    ]);
    assert_eq!(
        result,
        out(
            0,
            "",
            "teamotp: warning: bob.keys:2: 'ecdsa-sha2-nistp256' keys are not supported by age; that key \
             gets no access\n\
             teamotp: wrote the recipients file ./.age-recipients (3 recipients)\n\
             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n"
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# {ed_comment}\n{ed}\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(
        stanzas(&sb.path("v.age")),
        ["X25519", "ssh-ed25519", "ssh-rsa"]
    );
    for key in [ME, ED25519, RSA] {
        assert_opens(&sb, key, "v.age", HEADER, LIST_HEADER);
    }
    assert_refused(&sb, OTHER, "v.age");
}

#[test]
fn init_refuses_recipients_the_callers_identity_cannot_open_unless_forced() {
    let sb = Sandbox::new();
    let names = sb.names(".");
    assert_eq!(sb.me(&["init", "-r", &other_pub()]), out(2, "", LOCKED_OUT));
    assert_eq!(
        sb.names("."),
        names,
        "no vault, no recipients file, no temp file"
    );

    assert_eq!(
        sb.me(&["init", "-r", &other_pub(), "--force"]),
        out(0, "", CREATED_V_AGE)
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{}\n", other_pub())
    );
    assert_opens(&sb, OTHER, "v.age", HEADER, LIST_HEADER);
    assert_refused(&sb, ME, "v.age");
}

#[test]
/// Regression: `init -R FILE` whose FILE lists no usable recipient silently encrypts to the caller's own key instead of refusing an empty recipients list
fn init_refuses_a_recipients_file_that_lists_no_recipient() {
    let sb = Sandbox::new();
    sb.write("nobody.keys", "# Bob has not uploaded a key yet\n");
    let names = sb.names(".");
    let result = sb.me(&["init", "-R", "nobody.keys"]);
    assert_eq!(result.code, 2, "{result:?}");
    assert!(
        result.stderr.starts_with("teamotp: error: ")
            && result.stderr.contains("nobody.keys")
            && result.stderr.contains("no recipient"),
        "{result:?}"
    );
    assert_eq!(sb.names("."), names, "nothing created");
}

#[test]
/// Regression: `init -r A -r B -r A` writes A twice into .age-recipients; every later command then warns './.age-recipients:N: the same key is listed twice'
fn init_writes_each_recipient_once() {
    let sb = Sandbox::new();
    let (me, other) = (x25519_pub(), other_pub());
    assert_eq!(
        sb.me(&["init", "-r", &me, "-r", &other, "-r", &me]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (2 recipients)\n\
             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n"
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{me}\n{other}\n")
    );
    assert_eq!(sb.me(&["members"]), out(0, &format!("{me}\n{other}\n"), ""));
}

#[test]
fn init_refuses_recipients_mixed_with_a_passphrase() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.me(&["init", "--passphrase", "-r", &x25519_pub()]),
        out(
            2,
            "",
            "error: the argument '--passphrase' cannot be used with '--recipient <RECIPIENT>'\n\n\
             Usage: teamotp init --passphrase\n\n\
             For more information, try '--help'.\n"
        )
    );
    assert_eq!(
        sb.me(&["init", "--passphrase", "-R", "keys/id_rsa.pub"])
            .code,
        2
    );
    assert_eq!(sb.names("."), strings(&["home", "keys"]));
}

#[test]
fn init_passphrase_without_a_terminal_fails_clearly() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["-f", "v.age", "init", "--passphrase"]),
        out(
            2,
            "",
            "teamotp: error: a passphrase is needed and there is no terminal to ask on\n"
        )
    );
    assert_eq!(sb.names("."), strings(&["home", "keys"]));
    assert_eq!(sb.names("home"), Vec::<String>::new());
}

#[test]
fn the_demo_vault_is_read_only() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run_stdin(&["--demo", "add", "X"], "JBSWY3DPEHPK3PXP\n"),
        out(
            2,
            "",
            "teamotp: error: the demo vault is read-only\n\
             teamotp: hint: create your own with 'teamotp init', or pass -f/--file PATH\n"
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// Accounts: add, rm, rename, edit
// ---------------------------------------------------------------------------------------------------------

#[test]
fn add_reads_the_secret_from_stdin_validates_it_and_shows_the_current_code() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(
            &[
                "add",
                "Root, production",
                "--issuer",
                "ACME",
                "--digits",
                "8",
                "--period",
                "60",
                "--algorithm",
                "SHA256"
            ],
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq\r\n"
        ),
        out(
            0,
            "",
            "teamotp: added 'Root, production' to v.age; its current code is 3485 5935 (40 s left): \
             check that the service accepts it\n"
        )
    );
    // Steam: python HMAC-SHA1 over counter 56666666, 5 characters of 23456789BCDFGHJKMNPQRTVWXY.
    assert_eq!(
        sb.me_stdin(&["add", "Steam", "--type", "steam"], "STEAMSECRETAAAAA"),
        out(
            0,
            "",
            "teamotp: added 'Steam' to v.age; its current code is BPGGD (10 s left): check that the \
             service accepts it\n"
        )
    );
    let plaintext = format!(
        "{HEADER}{AWS_ROW}\"Root, production\",ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n\
         Steam,,STEAMSECRETAAAAA,,,,steam\n"
    );
    assert_opens(
        &sb,
        ME,
        "v.age",
        &plaintext,
        &format!(
            "{LIST_HEADER}{AWS_LIST}\"Root, production\",ACME,82941486,34855935,20921162,40\n\
             Steam,,XDBP5,BPGGD,D7QYM,10\n"
        ),
    );
}

#[test]
fn add_uri_reads_an_otpauth_uri_from_stdin() {
    let sb = Sandbox::new();
    sb.init();
    let uri = "otpauth://totp/ACME:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8\
               &period=60&algorithm=SHA256\n";
    assert_eq!(
        sb.me_stdin(&["add", "--uri"], uri),
        out(
            0,
            "",
            "teamotp: added 'ACME:ops' to v.age; its current code is 3485 5935 (40 s left): check that \
             the service accepts it\n"
        )
    );
    // A name on the command line wins over the URI's label; flags over its parameters.
    assert_eq!(
        sb.me_stdin(
            &["add", "--uri", "AWS", "--issuer", "Amazon"],
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=Other"
        ),
        out(
            0,
            "",
            "teamotp: added 'AWS' to v.age; its current code is 324 550 (10 s left): check that the \
             service accepts it\n"
        )
    );
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!(
            "{HEADER}ACME:ops,ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n\
             AWS,Amazon,JBSWY3DPEHPK3PXP,,,,\n"
        )
        .as_str())
    );
}

#[test]
fn add_refuses_bad_secrets_duplicate_names_and_bad_uris_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let bak = sb.bytes("v.age.bak");
    let names = sb.names(".");
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &["add", "Bad"],
            "not base32!\n",
            "teamotp: error: the secret is not usable: secret has an invalid character '!' at position 11 \
             (base32 uses only A-Z and 2-7)\n",
        ),
        (
            &["add", "Empty"],
            "  \n",
            "teamotp: error: the secret is not usable: secret is empty\n",
        ),
        (
            &["add", "aws"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", " Aws "],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'Aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", "--uri", "aws"],
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", "--uri"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: that is not an otpauth:// URI\n\
             teamotp: hint: without --uri, teamotp add NAME reads the base32 secret itself\n",
        ),
        (
            &["add", "--uri"],
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1\n",
            "teamotp: error: the URI is not usable: HOTP (counter-based) accounts are not supported, only \
             TOTP\n",
        ),
        (
            &["add"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: give the account's name: teamotp add NAME\n\
             teamotp: hint: or pass an otpauth:// URI with --uri\n",
        ),
    ];
    for (args, stdin, stderr) in cases {
        assert_eq!(sb.me_stdin(args, stdin), out(2, "", stderr), "{args:?}");
    }
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.bytes("v.age.bak"), bak);
    assert_eq!(sb.names("."), names);
}

#[test]
fn rm_asks_unless_yes_and_refuses_unknown_names() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
            .code,
        0
    );
    let before = sb.bytes("v.age");
    assert_eq!(sb.me(&["rm", "AWS"]), out(2, "", CONFIRM_NEEDED));
    assert_eq!(
        sb.me(&["rm", "nope", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["rm", "aw", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'aw'\n\
             teamotp: hint: did you mean 'AWS'?\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);

    assert_eq!(
        sb.me(&["rm", "aws", "-y"]),
        out(0, "", "teamotp: removed 'AWS'\n")
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!("{HEADER}GitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n").as_str())
    );
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
}

#[test]
fn rename_refuses_an_existing_new_name_and_unknown_old_names() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
            .code,
        0
    );
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["rename", "AWS", "github"]),
        out(
            2,
            "",
            "teamotp: error: an account named 'github' already exists\n"
        )
    );
    assert_eq!(
        sb.me(&["rename", "nope", "x"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["rename", "AWS", "  "]),
        out(2, "", "teamotp: error: the new name is empty\n")
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(
        sb.me(&["rename", "aws", "Amazon root"]),
        out(0, "", "teamotp: renamed 'AWS' to 'Amazon root'\n")
    );
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!(
            "{HEADER}Amazon root,,JBSWY3DPEHPK3PXP,,,,\nGitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n"
        )
        .as_str())
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
}

#[test]
fn edit_changes_parameters_and_re_enrols_the_secret_from_stdin() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    // oathtool --totp=SHA512 -d 8 -s 60 -b -N @1700000000 JBSWY3DPEHPK3PXP
    assert_eq!(
        sb.me(&[
            "edit",
            "aws",
            "--issuer",
            "Amazon",
            "--digits",
            "8",
            "--period",
            "60",
            "--algorithm",
            "SHA512"
        ]),
        out(
            0,
            "",
            "teamotp: updated 'AWS'; its current code is 2572 1347 (40 s left): check that the service \
             accepts it\n"
        )
    );
    // oathtool --totp=SHA512 -d 8 -s 60 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
    assert_eq!(
        sb.me_stdin(
            &["edit", "AWS", "--secret"],
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"
        ),
        out(
            0,
            "",
            "teamotp: updated 'AWS'; its current code is 2256 0896 (40 s left): check that the service \
             accepts it\n"
        )
    );
    let plaintext = format!("{HEADER}AWS,Amazon,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA512,\n");
    assert_opens(
        &sb,
        ME,
        "v.age",
        &plaintext,
        &format!("{LIST_HEADER}AWS,Amazon,97746057,22560896,75402646,40\n"),
    );

    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(&["edit", "AWS", "--secret"], "bad!\n"),
        out(
            2,
            "",
            "teamotp: error: the secret is not usable: secret has an invalid character '!' at position 4 \
             (base32 uses only A-Z and 2-7)\n"
        )
    );
    assert_eq!(
        sb.me(&["edit", "nope", "--digits", "7"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["edit", "AWS"]),
        out(
            2,
            "",
            "teamotp: error: nothing to change\n\
             teamotp: hint: pass --issuer, --digits, --period, --algorithm or --type, or --secret to \
             re-enrol\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
}

// ---------------------------------------------------------------------------------------------------------
// members
// ---------------------------------------------------------------------------------------------------------

#[test]
fn members_lists_the_recipients_with_their_comments_on_stdout() {
    let sb = Sandbox::new();
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");
    sb.write(
        "team.rcp",
        &format!(
            "# Ops team\n\n# Alice\n{}\n\n{ed} {ed_comment}\n# Rita (laptop)\n{} rita@old\n",
            x25519_pub(),
            rsa_pub()
        ),
    );
    assert_eq!(
        sb.run(&["-f", "v.age", "--recipients-file", "team.rcp", "members"]),
        out(
            0,
            &format!(
                "{}  # Alice\n{ed}  # {ed_comment}\n{}  # Rita (laptop)\n",
                x25519_pub(),
                rsa_pub()
            ),
            ""
        )
    );
    assert_eq!(
        sb.run(&[
            "-f",
            "v.age",
            "--recipients-file",
            "team.rcp",
            "members",
            "list"
        ])
        .stdout,
        format!(
            "{}  # Alice\n{ed}  # {ed_comment}\n{}  # Rita (laptop)\n",
            x25519_pub(),
            rsa_pub()
        )
    );
}

#[test]
fn members_add_and_rm_change_the_file_and_re_encrypt_in_one_step() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let plaintext = format!("{HEADER}{AWS_ROW}");
    let list = format!("{LIST_HEADER}{AWS_LIST}");
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");

    // An authorized_keys line: its own comment names the member.
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&[
            "members",
            "add",
            &format!("restrict,no-pty {ed} {ed_comment}")
        ]),
        out(
            0,
            "",
            &format!(
                "teamotp: added {ed_comment} ({}); the vault is now encrypted to 2 recipients\n",
                short(&ed)
            )
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519", "ssh-ed25519"]);

    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["members", "add", &rsa_pub(), "--name", "Rita"]),
        out(
            0,
            "",
            &format!(
                "teamotp: added Rita ({}); the vault is now encrypted to 3 recipients\n",
                short(&rsa_pub())
            )
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(
        sb.read(".age-recipients"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# {ed_comment}\n{ed}\n# Rita\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(
        sb.me(&["members"]),
        out(
            0,
            &format!(
                "{}\n{ed}  # {ed_comment}\n{}  # Rita\n",
                x25519_pub(),
                rsa_pub()
            ),
            ""
        )
    );
    assert_eq!(
        stanzas(&sb.path("v.age")),
        ["X25519", "ssh-ed25519", "ssh-rsa"]
    );
    for key in [ME, ED25519, RSA] {
        assert_opens(&sb, key, "v.age", &plaintext, &list);
    }
    assert_refused(&sb, OTHER, "v.age");

    // Removing by the name in the comment (case-insensitive).
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["members", "rm", "rita", "--yes"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed Rita ({})\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp edit \
                 NAME --secret'):\n    AWS\n",
                short(&rsa_pub())
            )
        )
    );
    // The backup holds the previous version, re-encrypted so the removed key opens it no more.
    assert_ne!(sb.bytes("v.age.bak"), before);
    assert_eq!(stanzas(&sb.path("v.age.bak")), ["X25519", "ssh-ed25519"]);
    assert_refused(&sb, RSA, "v.age.bak");
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age.bak")),
        decrypt(&sb.path(ME), &sb.path("v.age"))
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519", "ssh-ed25519"]);
    assert_refused(&sb, RSA, "v.age");
    for key in [ME, ED25519] {
        assert_opens(&sb, key, "v.age", &plaintext, &list);
    }

    // Removing by the key's base64 body.
    let body = ed.split_whitespace().nth(1).unwrap();
    assert_eq!(
        sb.me(&["members", "rm", body, "-y"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed {ed_comment} ({})\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp edit \
                 NAME --secret'):\n    AWS\n",
                short(&ed)
            )
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{}\n", x25519_pub())
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519"]);
    assert_refused(&sb, ED25519, "v.age");
    assert_opens(&sb, ME, "v.age", &plaintext, &list);

    // An X25519 member, added and removed by its whole key.
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    assert_opens(&sb, OTHER, "v.age", &plaintext, &list);
    assert_eq!(sb.me(&["members", "rm", &other_pub(), "--yes"]).code, 0);
    assert_refused(&sb, OTHER, "v.age");
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
}

#[test]
fn members_add_refuses_a_member_twice_and_what_is_not_a_recipient() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let recipients = sb.read(".age-recipients");
    assert_eq!(
        sb.me(&["members", "add", &x25519_pub(), "--name", "Me again"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: Me again ({}) is already a member\n",
                short(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "add", "garbage"]),
        out(
            2,
            "",
            "teamotp: error: RECIPIENT:1: 'garbage' is not a recipient\n\
             teamotp: hint: each line is an age1... key, an ssh-ed25519 or ssh-rsa public key, or a # \
             comment\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.read(".age-recipients"), recipients);
}

#[test]
/// Regression: `members add` of an ecdsa key says only 'give exactly one recipient'; the reason (age does not support that key type) is dropped
fn members_add_of_an_unsupported_ssh_key_says_why() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let result = sb.me(&[
        "members",
        "add",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExample= carol",
    ]);
    assert_eq!(result.code, 2);
    assert!(
        result
            .stderr
            .contains("'ecdsa-sha2-nistp256' keys are not supported by age"),
        "{result:?}"
    );
}

#[test]
/// Regression: `members add KEY --name` with a newline in the name writes a second key line into .age-recipients that the vault was not encrypted to
fn members_add_name_cannot_add_a_second_recipient() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let sneaky = age_public_of("x25519-enc.pub");
    let result = sb.me(&[
        "members",
        "add",
        &other_pub(),
        "--name",
        &format!("Olga\n{sneaky}"),
    ]);
    // Refused, or the name kept on one comment line: either way the file lists exactly what the vault
    // is encrypted to.
    let listed = sb.me(&["members"]);
    assert!(
        !listed.stdout.contains(&sneaky),
        "{result:?}\n.age-recipients:\n{}",
        sb.read(".age-recipients")
    );
    assert_eq!(listed.stderr, "");
}

/// A recipients file's single key (`x25519-enc.pub`).
fn age_public_of(file: &str) -> String {
    fs::read_to_string(Path::new(AGE_FIXTURES).join(file))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn members_rm_refuses_the_last_recipient_a_lock_out_unknown_members_and_asks_unless_yes() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: {} is the last recipient; a vault without recipients could not be opened \
                 by anyone\n",
                short(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    let before = sb.bytes("v.age");
    let recipients = sb.read(".age-recipients");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["members", "rm", "Olga"]),
        out(2, "", CONFIRM_NEEDED)
    );
    assert_eq!(
        sb.me(&["members", "rm", "nobody", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no member is 'nobody'\n\
             teamotp: hint: 'teamotp members' lists them: give the name in its comment, or the whole key\n"
        )
    );
    // Removing your own key while another member remains would lock you out.
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes"]),
        out(2, "", LOCKED_OUT)
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.read(".age-recipients"), recipients);
    assert_eq!(sb.names("."), names, "no temp file left behind");

    // --force: the caller accepts being locked out.
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes", "--force"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed {}\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp edit \
                 NAME --secret'):\n    AWS\n",
                short(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}# Olga\n{}\n", other_pub())
    );
    assert_refused(&sb, ME, "v.age");
    assert_opens(
        &sb,
        OTHER,
        "v.age",
        &format!("{HEADER}{AWS_ROW}"),
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
}

#[test]
fn members_add_refuses_a_passphrase_vault() {
    use expectrl::{Eof, Expect, Regex, Session};

    let sb = Sandbox::new();
    sb.copy_fixture("passphrase.csv.age", "v.age");
    let before = sb.bytes("v.age");
    let mut command = std::process::Command::new(BIN);
    command
        .env_clear()
        .env("HOME", sb.home())
        .env("TERM", "dumb")
        .current_dir(sb.root())
        .args(["--at", AT, "-f", "v.age", "members", "add", &other_pub()]);
    let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session
        .expect(Regex("Passphrase for v.age: $"))
        .expect("the passphrase prompt");
    // rpassword writes the prompt before it turns echo off: type only once echo is off.
    let start = std::time::Instant::now();
    while session.get_process().get_echo().unwrap() {
        assert!(start.elapsed() < TIMEOUT, "echo never turned off");
        std::thread::sleep(Duration::from_millis(10));
    }
    session.send_line("fixture-vault-pass").unwrap();
    let rest = session.expect(Eof).expect("teamotp ends");
    let bytes = [rest.before(), rest.as_bytes()].concat();
    let text = String::from_utf8_lossy(&bytes).replace('\r', "");
    let status = session.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::process::unix::WaitStatus::Exited(session.get_process().pid(), 2),
        "{text}"
    );
    assert_eq!(
        text.trim_start_matches('\n'),
        "teamotp: error: 'v.age' is encrypted with a passphrase; it has no members\n\
         teamotp: hint: age cannot mix recipients with a passphrase: create a recipients vault with \
         'teamotp init' and move the accounts\n"
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), strings(&["home", "keys", "v.age"]));
}

// ---------------------------------------------------------------------------------------------------------
// The recipients file
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_recipients_file_without_recipients_is_refused() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    sb.write(".age-recipients", "# everyone left\n");
    let refusal = "teamotp: error: the recipients file './.age-recipients' lists no recipient\n\
                   teamotp: hint: add one with 'teamotp members add RECIPIENT'\n";
    assert_eq!(sb.me(&["rekey"]), out(2, "", refusal));
    assert_eq!(
        sb.me_stdin(&["add", "X"], "JBSWY3DPEHPK3PXP"),
        out(2, "", refusal)
    );
    assert_eq!(sb.me(&["members"]), out(2, "", refusal));
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--force"]),
        out(2, "", refusal)
    );
    assert_eq!(sb.bytes("v.age"), before);
}

#[test]
fn a_vault_without_a_recipients_file_is_not_written() {
    let sb = Sandbox::new();
    sb.copy_fixture("x25519.csv.age", "v.age");
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(&["add", "X"], "JBSWY3DPEHPK3PXP"),
        out(
            2,
            "",
            "teamotp: error: cannot read the recipients file './.age-recipients': No such file or \
             directory (os error 2)\n\
             teamotp: hint: the vault is encrypted to the keys in .age-recipients beside it; \
             --recipients-file PATH names another file\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), strings(&["home", "keys", "v.age"]));
}

#[test]
fn recipients_file_option_overrides_the_file_beside_the_vault() {
    let sb = Sandbox::new();
    let run = |rest: &[&str]| {
        let fixed = [
            "-i",
            ME,
            "-f",
            "vault/v.age",
            "--recipients-file",
            "team.rcp",
        ];
        sb.run(&[&fixed[..], rest].concat())
    };
    assert_eq!(
        run(&["init"]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file team.rcp (1 recipient)\n\
             teamotp: created the vault vault/v.age; add accounts with 'teamotp add NAME'\n"
        )
    );
    assert_eq!(mode(&sb.path("vault")), 0o700);
    assert_eq!(
        run(&["members", "add", &rsa_pub(), "--name", "Rita"]).code,
        0
    );
    assert_eq!(
        sb.read("team.rcp"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# Rita\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(sb.names("vault"), strings(&["v.age", "v.age.bak"]));
    assert_eq!(stanzas(&sb.path("vault/v.age")), ["X25519", "ssh-rsa"]);
    assert_opens(&sb, RSA, "vault/v.age", HEADER, LIST_HEADER);
}

// ---------------------------------------------------------------------------------------------------------
// Pinning
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_teammates_edit_of_the_recipients_file_stops_every_write_until_ack() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let bak = sb.bytes("v.age.bak");
    // Someone appends a key to the file directly (a git pull, or a slipped-in key).
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Mallory\n{}\n", other_pub()));
    sb.write(".age-recipients", &text);
    let stop = pin_error(&sb, &[format!("+ {}  # Mallory", other_pub())]);

    let writes: [(&[&str], &str); 8] = [
        (&["add", "GitHub"], "JBSWY3DPEHPK3PXP\n"),
        (&["rm", "AWS", "--yes"], ""),
        (&["rename", "AWS", "Amazon"], ""),
        (&["edit", "AWS", "--digits", "8"], ""),
        (&["edit", "AWS", "--secret"], "GEZDGNBVGY3TQOJQ\n"),
        (&["rekey"], ""),
        (&["members", "add", &rsa_pub()], ""),
        (&["members", "rm", "Mallory", "--yes"], ""),
    ];
    for (args, stdin) in writes {
        assert_eq!(sb.me_stdin(args, stdin), out(2, "", &stop), "{args:?}");
    }
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.bytes("v.age.bak"), bak);
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
    assert_refused(&sb, OTHER, "v.age");

    // Reading still works meanwhile.
    assert_eq!(
        sb.me(&["list", "--format", "csv"]),
        out(0, &format!("{LIST_HEADER}{AWS_LIST}"), "")
    );

    let shown = format!(
        "teamotp: the recipients file changed since your last write:\n{}{LABELS_HINT}",
        review(&sb, &[format!("+ {}  # Mallory", other_pub())])
    );
    assert_eq!(
        sb.me(&["members", "ack"]),
        out(2, "", &format!("{shown}{CONFIRM_NEEDED}"))
    );
    assert_eq!(
        sb.me(&["members", "ack", "--yes"]),
        out(
            0,
            "",
            &format!(
                "{shown}teamotp: accepted; the next write encrypts to these 2 recipients (or run 'teamotp \
                 rekey' now)\n"
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "ack", "--yes"]),
        out(
            0,
            "",
            "teamotp: the recipients are unchanged; nothing to accept\n"
        )
    );
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"),
        out(
            0,
            "",
            "teamotp: added 'GitHub' to v.age; its current code is 921 300 (10 s left): check that the \
             service accepts it\n"
        )
    );
    let plaintext = format!("{HEADER}{AWS_ROW}GitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n");
    let list = format!("{LIST_HEADER}{AWS_LIST}GitHub,,276857,921300,732303,10\n");
    assert_opens(&sb, ME, "v.age", &plaintext, &list);
    assert_opens(&sb, OTHER, "v.age", &plaintext, &list);
}

#[test]
fn a_key_removed_from_the_recipients_file_by_hand_is_shown_and_stops_writes() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    // A teammate removes Olga's key by hand (and leaves a stray comment).
    sb.write(
        ".age-recipients",
        &format!("{RECIPIENTS_PREAMBLE}{}\n# Olga\n", x25519_pub()),
    );
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["rekey"]),
        out(
            2,
            "",
            &pin_error(&sb, &[format!("- {}  # Olga", other_pub())])
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_opens(
        &sb,
        OTHER,
        "v.age",
        &format!("{HEADER}{AWS_ROW}"),
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
    assert_eq!(sb.me(&["members", "ack", "--yes"]).code, 0);
    assert_eq!(
        sb.me(&["rekey"]),
        out(0, "", "teamotp: re-encrypted v.age to 1 recipient\n")
    );
    assert_refused(&sb, OTHER, "v.age");
}

#[test]
fn rekey_refuses_a_recipients_list_that_would_lock_the_caller_out_unless_forced() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    // A teammate replaces the caller's key with theirs; the caller accepts the change, then rekeys.
    sb.write(
        ".age-recipients",
        &format!("{RECIPIENTS_PREAMBLE}# Olga\n{}\n", other_pub()),
    );
    assert_eq!(
        sb.me(&["rekey"]),
        out(
            2,
            "",
            &pin_error(
                &sb,
                &[
                    format!("+ {}  # Olga", other_pub()),
                    format!("- {}", x25519_pub()),
                ]
            )
        )
    );
    assert_eq!(sb.me(&["members", "ack", "--yes"]).code, 0);
    let before = sb.bytes("v.age");
    let names = sb.names(".");
    assert_eq!(sb.me(&["rekey"]), out(2, "", LOCKED_OUT));
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), names);
    assert_eq!(
        sb.me(&["rekey", "--force"]),
        out(0, "", "teamotp: re-encrypted v.age to 1 recipient\n")
    );
    // The backup follows the new recipients too.
    assert_ne!(sb.bytes("v.age.bak"), before);
    assert_refused(&sb, ME, "v.age.bak");
    assert_refused(&sb, ME, "v.age");
}

// ---------------------------------------------------------------------------------------------------------
// rekey of vaults made by the Go age CLI
// ---------------------------------------------------------------------------------------------------------

#[test]
fn rekey_re_encrypts_a_vault_made_by_age_to_the_recipients_file() {
    let plain = fs::read_to_string(Path::new(AGE_FIXTURES).join("plain.csv")).unwrap();
    // plain.csv at 1700000000 (oathtool, see the module documentation).
    let list = format!(
        "{LIST_HEADER}AWS root,Amazon,822542,324550,367665,10\n\
         \"Root, production\",ACME,82941486,34855935,20921162,40\n"
    );
    for (fixture, vault) in [
        ("x25519.csv.age", "v.age"),
        ("x25519.csv.age.asc", "v.age.asc"),
    ] {
        let sb = Sandbox::new();
        sb.copy_fixture(fixture, vault);
        set_mode(&sb.path(vault), 0o644);
        let original = sb.bytes(vault);
        sb.write(
            ".age-recipients",
            &format!(
                "# Me\n{}\n# Ed\n{}\n# Rita\n{}\n",
                x25519_pub(),
                ed25519_pub(),
                rsa_pub()
            ),
        );
        // A vault teamotp never wrote from this HOME: its recipients are accepted first.
        assert_eq!(
            sb.run(&["-i", ME, "-f", vault, "members", "ack", "--yes"])
                .code,
            0
        );
        assert_eq!(
            sb.run(&["-i", ME, "-f", vault, "rekey"]),
            out(
                0,
                "",
                &format!("teamotp: re-encrypted {vault} to 3 recipients\n")
            )
        );
        // The backup is the previous version encrypted to the new recipients.
        let bak = format!("{vault}.bak");
        assert_ne!(sb.bytes(&bak), original);
        for key in [ME, ED25519, RSA] {
            assert_eq!(
                decrypt(&sb.path(key), &sb.path(&bak)).as_deref(),
                Ok(plain.as_str()),
                "{key} opens {bak}"
            );
        }
        assert_eq!(mode(&sb.path(vault)), 0o644, "the vault's mode is kept");
        let armored = vault.ends_with(".asc");
        assert_eq!(
            sb.bytes(vault)
                .starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
            armored,
            "armour is kept"
        );
        if !armored {
            assert_eq!(
                stanzas(&sb.path(vault)),
                ["X25519", "ssh-ed25519", "ssh-rsa"]
            );
        }
        for key in [ME, ED25519, RSA] {
            assert_opens(&sb, key, vault, &plain, &list);
        }
        assert_refused(&sb, OTHER, vault);
        let mut expected = strings(&[".age-recipients", "home", "keys"]);
        expected.extend([vault.to_owned(), format!("{vault}.bak")]);
        expected.sort();
        assert_eq!(sb.names("."), expected);
    }
}

// ---------------------------------------------------------------------------------------------------------
// encrypt
// ---------------------------------------------------------------------------------------------------------

/// A hand-written team CSV: comments, a blank line, its own column order, an unknown column, quoting.
const HAND_WRITTEN: &str = "# Ops team vault\n\
                            # owner: who to ask before rotating\n\
                            \n\
                            issuer,name,secret,owner,digits\n\
                            Amazon,AWS root,JBSWY3DPEHPK3PXP,alice,\n\
                            # legacy account, rotate in 2024\n\
                            ACME,\"Root, prod\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,\"bob \"\"b\"\"\",8\n";

#[test]
fn encrypt_then_add_keeps_comments_column_order_and_unknown_columns() {
    let sb = Sandbox::new();
    sb.write("plain.csv", HAND_WRITTEN);
    assert_eq!(
        sb.me(&["encrypt", "plain.csv"]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (1 recipient)\n\
             teamotp: encrypted 2 accounts from plain.csv (team CSV) into v.age\n\
             teamotp: hint: now remove the plaintext: shred -u 'plain.csv' (and any copy in backups, sync \
             folders or git history)\n"
        )
    );
    assert_eq!(
        sb.read("plain.csv"),
        HAND_WRITTEN,
        "the plaintext is not changed"
    );
    assert_eq!(mode(&sb.path("v.age")), 0o600);
    // oathtool --totp -d 8 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ: 30 s, SHA1.
    let list = format!(
        "{LIST_HEADER}AWS root,Amazon,822542,324550,367665,10\n\
         \"Root, prod\",ACME,84276857,81921300,67732303,10\n"
    );
    assert_opens(&sb, ME, "v.age", HAND_WRITTEN, &list);

    let encrypted = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(
            &["add", "GitHub", "--issuer", "GitHub"],
            "JBSWY3DPEHPK3PXP\n"
        ),
        out(
            0,
            "",
            "teamotp: added 'GitHub' to v.age; its current code is 324 550 (10 s left): check that the \
             service accepts it\n"
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), encrypted);
    let expected = format!("{HAND_WRITTEN}GitHub,GitHub,JBSWY3DPEHPK3PXP,,\n");
    assert_opens(
        &sb,
        ME,
        "v.age",
        &expected,
        &format!("{list}GitHub,GitHub,822542,324550,367665,10\n"),
    );

    // A parameter whose column the file lacks: the column is added at the end, nothing else moves.
    assert_eq!(
        sb.me(&["edit", "GitHub", "--period", "60"]).code,
        0,
        "edit --period"
    );
    let expected = "# Ops team vault\n\
                    # owner: who to ask before rotating\n\
                    \n\
                    issuer,name,secret,owner,digits,period\n\
                    Amazon,AWS root,JBSWY3DPEHPK3PXP,alice,,\n\
                    # legacy account, rotate in 2024\n\
                    ACME,\"Root, prod\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,\"bob \"\"b\"\"\",8,\n\
                    GitHub,GitHub,JBSWY3DPEHPK3PXP,,,60\n";
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(expected)
    );
    if let Some(result) = go_age_decrypt(&sb, ME, "v.age") {
        assert_eq!(result.as_deref(), Ok(expected));
    }
    assert_eq!(
        sb.names("."),
        strings(&[
            ".age-recipients",
            "home",
            "keys",
            "plain.csv",
            "v.age",
            "v.age.bak"
        ])
    );
}

#[test]
fn encrypt_converts_gauth_lines_to_team_csv() {
    let sb = Sandbox::new();
    sb.write(
        "gauth.csv",
        "AWS: jbsw y3dp ehpk 3pxp\notpauth://totp/ACME:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8&period=60&algorithm=SHA256\n",
    );
    assert_eq!(
        sb.me(&[
            "encrypt",
            "gauth.csv",
            "-r",
            &x25519_pub(),
            "-r",
            &ed25519_pub()
        ]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (2 recipients)\n\
             teamotp: encrypted 2 accounts from gauth.csv (gauth lines) into v.age\n\
             teamotp: hint: now remove the plaintext: shred -u 'gauth.csv' (and any copy in backups, sync \
             folders or git history)\n"
        )
    );
    let plaintext = format!(
        "{HEADER}AWS,,JBSWY3DPEHPK3PXP,,,,\nACME:ops,ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n"
    );
    let list = format!("{LIST_HEADER}{AWS_LIST}ACME:ops,ACME,82941486,34855935,20921162,40\n");
    for key in [ME, ED25519] {
        assert_opens(&sb, key, "v.age", &plaintext, &list);
    }
}

#[test]
fn encrypt_refuses_invalid_rows_ciphertext_and_an_existing_vault() {
    let sb = Sandbox::new();
    sb.write(
        "bad.txt",
        "AWS: jbsw y3dp ehpk 3pxp\nbad:0000\nno colon here\n",
    );
    sb.write("bad.csv", "name,secret\nok,JBSWY3DPEHPK3PXP\nbad,1111\n");
    sb.copy_fixture("x25519.csv.age", "old.age");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["encrypt", "bad.txt"]),
        out(
            2,
            "",
            "teamotp: error: 'bad.txt' has 2 invalid rows; nothing was encrypted:\n    \
             bad.txt:2: 'bad': secret has an invalid character '0' at position 1 (base32 uses only A-Z and \
             2-7)\n    \
             bad.txt:3: no ':' between the account name and the secret (gauth lines are NAME:SECRET)\n\
             teamotp: hint: fix them (teamotp -f FILE check lists them) and run the command again\n"
        )
    );
    assert_eq!(
        sb.me(&["encrypt", "bad.csv"]),
        out(
            2,
            "",
            "teamotp: error: 'bad.csv' has 1 invalid row; nothing was encrypted:\n    \
             bad.csv:3: 'bad': secret has an invalid character '1' at position 1 (base32 uses only A-Z and \
             2-7)\n\
             teamotp: hint: fix them (teamotp -f FILE check lists them) and run the command again\n"
        )
    );
    assert_eq!(
        sb.me(&["encrypt", "old.age"]),
        out(2, "", "teamotp: error: 'old.age' is already encrypted\n")
    );
    assert_eq!(sb.names("."), names, "nothing created");

    sb.write("good.csv", "name,secret\nok,JBSWY3DPEHPK3PXP\n");
    sb.init();
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["encrypt", "good.csv"]),
        out(
            2,
            "",
            "teamotp: error: 'v.age' already exists\n\
             teamotp: hint: teamotp does not overwrite a vault; pass another -f/--file PATH\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
}

// ---------------------------------------------------------------------------------------------------------
// Files: modes, backups, temporary files
// ---------------------------------------------------------------------------------------------------------

/// Runs `teamotp -i ME -f v.age ARGS` under `umask 022` (a usual login umask), stdin from `stdin`.
fn with_umask_022(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    let mut cmd = Command::new(setsid());
    cmd.env_clear()
        .env("HOME", sb.home())
        .current_dir(sb.root())
        .timeout(TIMEOUT)
        .args([
            "-w",
            "/bin/sh",
            "-c",
            "umask 022 && exec \"$0\" \"$@\"",
            BIN,
        ])
        .args(["--at", AT, "-i", ME, "-f", "v.age"])
        .args(args)
        .write_stdin(stdin);
    run(&mut cmd)
}

#[test]
fn a_rewrite_keeps_the_vaults_mode() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    set_mode(&sb.path("v.age"), 0o640);
    assert_eq!(
        with_umask_022(&sb, &["add", "GitHub"], "JBSWY3DPEHPK3PXP").code,
        0
    );
    assert_eq!(mode(&sb.path("v.age")), 0o640);
}

#[test]
/// Regression: a rewrite applies the umask to the kept mode: a group-writable vault (0660) becomes 0640 under umask 022
fn a_rewrite_keeps_a_group_writable_vaults_mode() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    set_mode(&sb.path("v.age"), 0o660);
    assert_eq!(
        with_umask_022(&sb, &["add", "GitHub"], "JBSWY3DPEHPK3PXP").code,
        0
    );
    assert_eq!(mode(&sb.path("v.age")), 0o660);
}

#[test]
fn every_write_keeps_the_previous_ciphertext_as_bak_and_leaves_no_temporary_file() {
    let sb = Sandbox::new();
    sb.init();
    let (ed, _) = ssh_public("id_ed25519.pub");
    let writes: [(&[&str], &str); 8] = [
        (&["add", "AWS"], "JBSWY3DPEHPK3PXP\n"),
        (
            &["add", "--uri"],
            "otpauth://totp/GitHub?secret=GEZDGNBVGY3TQOJQ",
        ),
        (&["rename", "GitHub", "GH"], ""),
        (&["edit", "GH", "--issuer", "GitHub"], ""),
        (&["members", "add", &ed, "--name", "Ed"], ""),
        (&["rekey"], ""),
        (&["members", "rm", "Ed", "--yes"], ""),
        (&["rm", "GH", "--yes"], ""),
    ];
    for (args, stdin) in writes {
        let before = sb.bytes("v.age");
        let before_plain = decrypt(&sb.path(ME), &sb.path("v.age")).unwrap();
        let result = sb.me_stdin(args, stdin);
        assert_eq!(result.code, 0, "{args:?}: {result:?}");
        if matches!(args[0], "rekey" | "members") && args.get(1) != Some(&"add") {
            // rekey and members rm re-encrypt the previous version to the new recipients.
            let key = sb.path(ME);
            assert_eq!(
                decrypt(&key, &sb.path("v.age.bak")),
                decrypt(&key, &sb.path("v.age")).map(|_| before_plain.clone()),
                "{args:?}: .bak is the previous version"
            );
        } else {
            assert_eq!(
                sb.bytes("v.age.bak"),
                before,
                "{args:?}: .bak is the previous ciphertext"
            );
        }
        assert_ne!(sb.bytes("v.age"), before, "{args:?}");
        assert_eq!(mode(&sb.path("v.age")), 0o600, "{args:?}");
        assert_eq!(
            sb.names("."),
            strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"]),
            "{args:?}"
        );
    }
    assert_opens(
        &sb,
        ME,
        "v.age",
        &format!("{HEADER}{AWS_ROW}"),
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
    assert_refused(&sb, ED25519, "v.age");
}
