//! Helpers of the secret-hygiene tests (tests/hygiene_*.rs): canaries, the leak check, runs of the real
//! binary, keys and vaults.
//!
//! Secret hygiene of the real binary, proven with canary secrets.
//!
//! Every secret here is a canary (see [`canary`]): 32 base32 characters, `CANARY` and 26 characters
//! derived from a tag, so that any 6-character piece of one is unmistakable wherever it turns up. What
//! is proven:
//!
//! 1. No output of any command (stdout and stderr, success and every error path) holds a piece of a
//!    secret. The one place a secret may appear is the stdout of `export --plaintext`, where the same
//!    check must find it (which shows the check works).
//! 2. While the TUI runs, its command line, its environment and everything it writes to the terminal
//!    hold no secret.
//! 3. The `Debug` output of the loaded state holds no secret and no key bytes.
//! 4. The process has a zero core-size limit and is non-dumpable, already while it waits for the
//!    passphrase (before anything is decrypted) and while the TUI runs.
//! 5. Identity files that group or others can read are refused; the files teamotp creates are 0600 even
//!    under `umask 000`, and stay 0600 when the vault is rewritten.
//!
//! Hygiene of the tests themselves: every run has an empty environment except `HOME` and the XDG
//! directories in a temporary directory (and `PATH`), codes are computed `--at` a fixed time, nothing
//! uses the network, and every non-TUI run is started with `setsid` so teamotp has no controlling
//! terminal and can never prompt on the developer's.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use age::secrecy::ExposeSecret;
use sha2::Digest;

pub use super::spaced_lower;
use super::{set_mode, setsid, strings};

/// The teamotp binary built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_teamotp");

/// Fixtures of this file: QR images (see `tests/fixtures/hygiene/README.md`).
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hygiene");

/// Every code is computed at this time (the TUI's clock starts there and runs on).
pub const AT: &str = "1700000000";

/// A command that takes longer than this is killed and fails the test (a hang, say a prompt).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Longest wait for anything on a pseudo-terminal.
pub const PTY_TIMEOUT: Duration = Duration::from_secs(20);

/// How often a pseudo-terminal or a /proc file is polled while waiting.
pub const POLL: Duration = Duration::from_millis(10);

/// UID and GID of `nobody`, for the runs as another user.
pub const NOBODY: u32 = 65534;

// ---------------------------------------------------------------------------------------------------------
// Canaries and the leak check
// ---------------------------------------------------------------------------------------------------------

/// Every canary tag used in this file. [`secret`] refuses any other, so no canary escapes the check.
pub const TAGS: &[&str] = &[
    // The mixed team CSV vault: valid rows, then one invalid row of each kind.
    "alpha",
    "bravo",
    "charlie",
    "hyphen",
    "badchar",
    "badlength",
    "lone",
    "toomany",
    "digits",
    "period",
    "algo",
    "hotp",
    "nonutf8",
    "noname",
    "duplicate",
    "padding",
    "control",
    // The mixed gauth vault.
    "g-lone",
    "g-mike",
    "g-lima",
    "g-november",
    "g-oscar",
    "g-nonutf8",
    "g-nocolon",
    "g-noname",
    "g-papa",
    "g-quebec",
    "g-romeo",
    "g-tango",
    "g-uniform",
    "g-victor",
    // Writing commands.
    "init-first",
    "add-delta",
    "add-echo",
    "add-bad",
    "add-short",
    "add-control",
    "uri-ok",
    "uri-rename",
    "uri-hotp",
    "uri-digits",
    "uri-char",
    "uri-percent",
    "uri-bare",
    "uri-noname",
    "uri-nosecret",
    "edit-new",
    "edit-bad",
    "merge-theirs",
    // Imports, good and malformed.
    "imp-india",
    "imp-juliet",
    "imp-kilo",
    "imp-stdin",
    "imp-aegis",
    "imp-aegis-hotp",
    "imp-2fas",
    "imp-andotp",
    "imp-google",
    "imp-google-hotp",
    "bad-gauth",
    "bad-gauth-lone",
    "bad-gauth-nocolon",
    "bad-otpauth-digits",
    "bad-otpauth-char",
    "bad-otpauth-percent",
    "bad-aegis-json",
    "bad-aegis-secret",
    "bad-2fas-secret",
    "bad-andotp-secret",
    "bad-andotp-digits",
    "bad-google-digits",
    "bad-google-empty-name",
    "bad-google-protobuf",
    "bad-google-base64",
    "bad-google-nodata",
    "qr-valid",
    "qr-bad",
    // The TUI and the passphrase vault.
    "tui-alpha",
    "tui-bravo",
    "tui-steam",
    "tui-badchar",
    "tui-lone",
    "tui-toomany",
    "pass-alpha",
    // Known bugs (ignored tests).
    "bug-type",
    "bug-label",
];

/// Base32 characters that are neither hex digits nor `0`/`1`/`8`/`9`: every 6-character piece of a
/// canary holds a letter that no hex fingerprint and no code can have.
pub const FILL: &[u8] = b"GHJKMNPQRSTVWXZ234567";

/// The letters of [`FILL`].
pub const LETTERS: &[u8] = b"GHJKMNPQRSTVWXZ";

/// The canary of `tag`: `CANARY` and 26 characters from SHA-256 of the tag (32 base32 characters,
/// 20 key bytes). `tests/fixtures/hygiene/README.md` shows the same function in Python.
pub fn canary(tag: &str) -> String {
    let digest = sha2::Sha256::digest(tag.as_bytes());
    let mut text = String::from("CANARY");
    for byte in digest.iter().take(32 - text.len()) {
        // After five characters without a letter, a letter: no piece is digits only.
        let tail = &text.as_bytes()[text.len() - 5..];
        let alphabet = if tail.iter().all(u8::is_ascii_digit) {
            LETTERS
        } else {
            FILL
        };
        text.push(char::from(alphabet[usize::from(*byte) % alphabet.len()]));
    }
    assert_eq!(text.len(), 32);
    assert!(
        text.as_bytes()
            .windows(6)
            .all(|w| w.iter().any(|c| c.is_ascii_uppercase() && *c > b'F')),
        "canary {text} of {tag} has a 6-character piece without a letter G-Z"
    );
    text
}

/// The canary of a tag listed in [`TAGS`].
pub fn secret(tag: &str) -> String {
    assert!(TAGS.contains(&tag), "tag {tag} is not in TAGS");
    canary(tag)
}

/// Every canary, in canonical form.
pub fn all_canaries() -> Vec<String> {
    TAGS.iter().map(|t| canary(t)).collect()
}

/// Upper case in groups of four separated by hyphens.
pub fn hyphenated(canonical: &str) -> String {
    canonical
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("-")
}

/// The raw key bytes of a canary.
pub fn key_bytes(canonical: &str) -> Vec<u8> {
    data_encoding::BASE32_NOPAD
        .decode(canonical.as_bytes())
        .unwrap()
}

/// Every `n`-character piece of an ASCII text.
pub fn pieces(text: &str, n: usize) -> impl Iterator<Item = &str> {
    (0..(text.len() + 1).saturating_sub(n)).map(move |i| &text[i..i + n])
}

/// Every `n`-character piece of `text` (by characters), in a set.
pub fn piece_set(text: &str, n: usize) -> HashSet<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(n).map(|w| w.iter().collect()).collect()
}

/// The pieces of canaries found in `text`, one description per canary found.
///
/// Case-insensitively: every 6-character piece of each canary, and of the canary in lower case in groups
/// of four with spaces; and, with every character that is not a base32 character removed from `text`
/// (whatever separators a leak used), every 8-character piece of the canary. `extra` are more texts
/// whose 8-character pieces must not appear (case-sensitively), such as a Google export's Base64 data.
/// The pieces that lie within the prefix every canary shares (`canary`, `cana r`, `ana ry`) count too,
/// but are reported once rather than once per canary.
pub fn leaks(text: &str, extra: &[String]) -> Vec<String> {
    let lower = text.to_lowercase();
    let sixes = piece_set(&lower, 6);
    let squeezed: String = lower
        .chars()
        .filter(|c| c.is_ascii_lowercase() || ('2'..='7').contains(c))
        .collect();
    let squeezed_eights = piece_set(&squeezed, 8);
    let mut found = Vec::new();
    if let Some(piece) = ["canary", "cana r", "ana ry"]
        .into_iter()
        .find(|p| sixes.contains(*p))
    {
        found.push(format!("'{piece}' (the prefix every canary shares)"));
    }
    for canonical in all_canaries() {
        let lower_canary = canonical.to_ascii_lowercase();
        let spaced = spaced_lower(&canonical);
        // Past the shared prefix: from the second piece on (the second and third of the spaced form).
        let hit = pieces(&lower_canary, 6)
            .skip(1)
            .chain(pieces(&spaced, 6).skip(2))
            .find(|p| sixes.contains(*p))
            .map(|p| format!("'{p}'"))
            .or_else(|| {
                pieces(&lower_canary, 8)
                    .find(|p| squeezed_eights.contains(*p))
                    .map(|p| format!("'{p}' (ignoring separators)"))
            });
        if let Some(piece) = hit {
            found.push(format!("{piece} of {canonical}"));
        }
    }
    if !extra.is_empty() {
        let eights = piece_set(text, 8);
        for needle in extra {
            if let Some(piece) = pieces(needle, 8).find(|p| eights.contains(*p)) {
                found.push(format!("'{piece}' of {needle}"));
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------------------

/// One finished run.
pub struct Run {
    pub args: Vec<String>,
    pub stdin: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ teamotp {}", self.args.join(" "))?;
        if !self.stdin.is_empty() {
            writeln!(f, "  stdin: {:?}", self.stdin)?;
        }
        writeln!(f, "  exit: {:?}", self.code)?;
        writeln!(f, "  stdout: {:?}", self.stdout)?;
        write!(f, "  stderr: {:?}", self.stderr)
    }
}

/// A temporary directory that is the working directory of every run, with `home/`, `config/` and
/// `state/` as `HOME`, `XDG_CONFIG_HOME` and `XDG_STATE_HOME`.
pub struct Sandbox(super::Sandbox);

super::sandbox_wrapper!(Sandbox);

impl Sandbox {
    /// The shared [`super::Sandbox`] (prefix `hygiene-`, no keys) with `config/` and `state/` too.
    pub fn new() -> Sandbox {
        let sandbox = Sandbox(super::Sandbox::empty("hygiene-"));
        for sub in ["config", "state"] {
            fs::create_dir(sandbox.path(sub)).unwrap();
        }
        sandbox
    }

    /// Writes a file (creating its directory) with `mode`.
    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let path = self.0.write(relative, bytes);
        set_mode(&path, mode);
        path
    }

    pub fn copy(&self, from: &str, to: &str) {
        fs::copy(self.path(from), self.path(to)).unwrap();
    }

    /// The environment of every run: nothing but the sandbox's directories, a user name and `PATH`.
    pub fn env(&self) -> Vec<(String, std::ffi::OsString)> {
        vec![
            ("HOME".into(), self.path("home").into()),
            ("XDG_CONFIG_HOME".into(), self.path("config").into()),
            ("XDG_STATE_HOME".into(), self.path("state").into()),
            ("USER".into(), "tester".into()),
            ("PATH".into(), std::env::var_os("PATH").unwrap_or_default()),
        ]
    }

    /// Runs `teamotp ARGS` with `stdin`, in a new session.
    pub fn run(&self, args: &[String], stdin: &[u8]) -> Run {
        self.run_with(args, stdin, &[], false)
    }

    /// Runs `teamotp ARGS` with `stdin`, more environment variables, and optionally `umask 000`.
    pub fn run_with(
        &self,
        args: &[String],
        stdin: &[u8],
        env: &[(&str, &str)],
        umask0: bool,
    ) -> Run {
        let mut argv: Vec<std::ffi::OsString> = Vec::new();
        if umask0 {
            // The probe file shows the umask really reaches the process teamotp becomes.
            argv.extend(
                [
                    "/bin/sh",
                    "-c",
                    "umask 000; : > umask-probe; exec \"$@\"",
                    "sh",
                ]
                .map(Into::into),
            );
        }
        argv.push(setsid().into());
        argv.push(BIN.into());
        argv.extend(args.iter().map(Into::into));
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .env_clear()
            .envs(self.env())
            .envs(env.iter().copied())
            .current_dir(self.root());
        let (code, stdout, stderr) = execute(command, stdin, &args.join(" "));
        Run {
            args: args.to_vec(),
            stdin: String::from_utf8_lossy(stdin).into_owned(),
            code,
            stdout,
            stderr,
        }
    }
}

/// Runs a command to its end with `stdin`, killing it after [`RUN_TIMEOUT`].
pub fn execute(mut command: Command, stdin: &[u8], what: &str) -> (Option<i32>, String, String) {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let pid = child.id();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // teamotp may exit without reading its input: a broken pipe here is no failure.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = match receiver.recv_timeout(RUN_TIMEOUT) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            kill(pid);
            panic!("teamotp {what}: still running after {RUN_TIMEOUT:?}; killed");
        }
    };
    writer.join().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Sends SIGKILL to a process this test started.
pub fn kill(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// Runs commands, checks each one's exit code, that its output shows what proves the path was taken,
/// and that neither stdout nor stderr holds a piece of a canary; collects every failure.
pub struct Checker<'a> {
    pub sandbox: &'a Sandbox,
    /// Arguments after `--at AT` and before the command's own.
    pub base: Vec<String>,
    /// More texts that must not appear (see [`leaks`]).
    pub extra: Vec<String>,
    pub failures: Vec<String>,
    pub runs: usize,
}

impl<'a> Checker<'a> {
    pub fn new(sandbox: &'a Sandbox, base: &[&str]) -> Self {
        Checker {
            sandbox,
            base: strings(base),
            extra: Vec::new(),
            failures: Vec::new(),
            runs: 0,
        }
    }

    pub fn base(&mut self, base: &[&str]) {
        self.base = strings(base);
    }

    pub fn full_args(&self, args: &[&str]) -> Vec<String> {
        let mut full = strings(&["--at", AT]);
        full.extend(self.base.iter().cloned());
        full.extend(strings(args));
        full
    }

    /// Runs `teamotp --at AT BASE ARGS` and checks it (`shows`: text stdout or stderr must hold, or "").
    pub fn run(&mut self, args: &[&str], stdin: impl AsRef<[u8]>, code: i32, shows: &str) -> Run {
        let run = self.sandbox.run(&self.full_args(args), stdin.as_ref());
        self.runs += 1;
        let mut problems = Vec::new();
        if run.code != Some(code) {
            problems.push(format!("exit code {:?}, expected {code}", run.code));
        }
        if !shows.is_empty() && !run.stdout.contains(shows) && !run.stderr.contains(shows) {
            problems.push(format!("the output does not show {shows:?}"));
        }
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let found = leaks(text, &self.extra);
            if !found.is_empty() {
                problems.push(format!("SECRET IN {stream}: {}", found.join(", ")));
            }
        }
        if !problems.is_empty() {
            self.failures
                .push(format!("{}\n{run}", problems.join("; ")));
        }
        run
    }

    /// Runs `export --plaintext`: its stdout must hold `expected` (the check finds a secret where one
    /// is allowed), its stderr no secret.
    pub fn run_export(&mut self, args: &[&str], expected: &str) -> Run {
        let run = self.sandbox.run(&self.full_args(args), b"");
        self.runs += 1;
        let mut problems = Vec::new();
        if run.code != Some(0) {
            problems.push(format!("exit code {:?}, expected 0", run.code));
        }
        let found = leaks(&run.stdout, &[]);
        if !found.iter().any(|f| f.ends_with(expected)) {
            problems.push(format!(
                "the leak check does not find {expected} in the plaintext export (found: {found:?})"
            ));
        }
        if !run.stdout.contains(expected) {
            problems.push(format!("the export does not hold {expected}"));
        }
        let found = leaks(&run.stderr, &[]);
        if !found.is_empty() {
            problems.push(format!("SECRET IN stderr: {}", found.join(", ")));
        }
        if !problems.is_empty() {
            self.failures
                .push(format!("{}\n{run}", problems.join("; ")));
        }
        run
    }

    pub fn finish(self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} runs failed:\n\n{}",
            self.failures.len(),
            self.runs,
            self.failures.join("\n\n")
        );
        eprintln!("{what}: {} runs, no secret in any output", self.runs);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Keys and vaults
// ---------------------------------------------------------------------------------------------------------

/// A new age key: the identity and its public key.
pub fn new_key() -> (age::x25519::Identity, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    (identity, public)
}

/// An identity file's text.
pub fn identity_text(identity: &age::x25519::Identity) -> String {
    format!("{}\n", identity.to_string().expose_secret())
}

/// `plaintext` encrypted to `identity`'s public key (binary age).
pub fn encrypt_to(identity: &age::x25519::Identity, plaintext: &[u8]) -> Vec<u8> {
    let recipient = identity.to_public();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).unwrap();
    writer.write_all(plaintext).unwrap();
    writer.finish().unwrap();
    out
}

/// `plaintext` encrypted with a passphrase (a low scrypt work factor: the test need not be slow).
pub fn encrypt_with_passphrase(passphrase: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.to_owned()));
    recipient.set_work_factor(10);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out).unwrap();
    writer.write_all(plaintext).unwrap();
    writer.finish().unwrap();
    out
}

/// The three valid accounts every writing test starts from.
pub fn valid_team_csv() -> String {
    format!(
        "# hygiene canaries: no 6-character piece of a secret may appear in any output\n\
         name,issuer,secret,digits,period,algorithm,type\n\
         alpha,Acme,{},,,,\n\
         bravo,,{},,,,\n\
         charlie,Initech,{},8,60,SHA256,\n",
        secret("alpha"),
        spaced_lower(&secret("bravo")),
        secret("charlie"),
    )
}

/// A team CSV vault: valid rows, then one row of each kind of invalid row, each with its own canary.
pub fn mixed_team_csv() -> Vec<u8> {
    let s = secret;
    let mut text = valid_team_csv().into_bytes();
    let nonutf8 = s("nonutf8");
    let padding = s("padding");
    let control = s("control");
    let rows = [
        format!("\"hyphen, quoted\",,\"{}\",,,,", hyphenated(&s("hyphen"))),
        format!(
            "badchar,,{}8{},,,,",
            &s("badchar")[..20],
            &s("badchar")[20..]
        ),
        format!("badlength,,{},,,,", &s("badlength")[..30]),
        s("lone"),
        format!("toomany,,{},,,,,surplus", s("toomany")),
        format!("digits,,{},9,,,", s("digits")),
        format!("period,,{},,0,,", s("period")),
        format!("algo,,{},,,MD5,", s("algo")),
        format!("hotp,,{},,,,hotp", s("hotp")),
        format!(",,{},,,,", s("noname")),
        format!("Bravo,,{},,,,", s("duplicate")),
        format!("padding,,{}=={},,,,", &padding[..16], &padding[16..]),
        format!("control,,{}\u{1b}{},,,,", &control[..12], &control[12..]),
    ];
    for row in rows {
        text.extend_from_slice(row.as_bytes());
        text.push(b'\n');
    }
    // A row whose secret holds a byte that is not UTF-8.
    text.extend_from_slice(format!("nonutf8,,{}", &nonutf8[..10]).as_bytes());
    text.push(0xFF);
    text.extend_from_slice(format!("{},,,,\n", &nonutf8[10..]).as_bytes());
    text
}

/// A gauth-lines vault: valid lines and URIs, and one line of each kind of invalid line.
pub fn mixed_gauth() -> Vec<u8> {
    let s = secret;
    let oscar = s("g-oscar");
    let tango = s("g-tango");
    let mut text = Vec::new();
    let mut line = |bytes: &[u8]| {
        text.extend_from_slice(bytes);
        text.push(b'\n');
    };
    line(b"# gauth canaries: no 6-character piece of a secret may appear in any output");
    line(s("g-lone").as_bytes());
    line(format!("mike:{}", s("g-mike")).as_bytes());
    line(format!("lima:{}8{}", &s("g-lima")[..8], &s("g-lima")[8..]).as_bytes());
    line(format!("november:{}", &s("g-november")[..19]).as_bytes());
    line(
        &[
            format!("oscar:{}", &oscar[..10]).as_bytes(),
            b"\xFF",
            &oscar.as_bytes()[10..],
        ]
        .concat(),
    );
    line(&[b"\xFF".as_slice(), s("g-nonutf8").as_bytes()].concat());
    line(format!("nocolon {}", s("g-nocolon")).as_bytes());
    line(format!(":{}", s("g-noname")).as_bytes());
    line(format!("otpauth://totp/papa?secret={}&digits=9", s("g-papa")).as_bytes());
    line(format!("otpauth://hotp/quebec?secret={}&counter=1", s("g-quebec")).as_bytes());
    line(format!("otpauth://totp/romeo?secret={}8", s("g-romeo")).as_bytes());
    line(b"otpauth://totp/sierra?issuer=Nobody");
    line(
        format!(
            "otpauth://totp/tango?secret={}%FF{}",
            &tango[..10],
            &tango[10..]
        )
        .as_bytes(),
    );
    line(
        format!(
            "otpauth://totp/Uniform:me?secret={}&issuer=Uniform",
            s("g-uniform")
        )
        .as_bytes(),
    );
    line(format!(" victor : {} ", spaced_lower(&s("g-victor"))).as_bytes());
    text
}

/// Protobuf: a varint.
pub fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Protobuf: a length-delimited field.
pub fn bytes_field(number: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push((number << 3) | 2);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// Protobuf: a varint field.
pub fn varint_field(number: u8, value: u64, out: &mut Vec<u8>) {
    out.push(number << 3);
    varint(value, out);
}

/// A Google Authenticator `OtpParameters` message.
pub fn google_otp(secret: &[u8], name: &str, digits: u64, kind: u64) -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(1, secret, &mut out);
    bytes_field(2, name.as_bytes(), &mut out);
    bytes_field(3, b"Google Co", &mut out);
    varint_field(4, 1, &mut out);
    varint_field(5, digits, &mut out);
    varint_field(6, kind, &mut out);
    out
}

/// A `MigrationPayload` of these messages.
pub fn google_payload(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        bytes_field(1, message, &mut out);
    }
    varint_field(2, 1, &mut out);
    out
}

/// `otpauth-migration://offline?data=...` for a payload, and the Base64 it holds.
pub fn google_uri(payload: &[u8]) -> (String, String) {
    let base64 = data_encoding::BASE64.encode(payload);
    let encoded = base64
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    (
        format!("otpauth-migration://offline?data={encoded}"),
        base64,
    )
}

/// A sandbox with two keys (`me.key`, `other.key`, both 0600) and the mixed vaults: `mixed.csv` and
/// `mixed.txt` (plaintext, 0600) and `mixed.age` (`mixed.csv` encrypted to `me.key`).
pub struct Team {
    pub sandbox: Sandbox,
    pub me: age::x25519::Identity,
    pub me_public: String,
    pub other_public: String,
}

impl Team {
    pub fn new() -> Team {
        let sandbox = Sandbox::new();
        let (me, me_public) = new_key();
        let (other, other_public) = new_key();
        sandbox.write("me.key", identity_text(&me), 0o600);
        sandbox.write("other.key", identity_text(&other), 0o600);
        sandbox.write("mixed.csv", mixed_team_csv(), 0o600);
        sandbox.write("mixed.txt", mixed_gauth(), 0o600);
        sandbox.write("mixed.age", encrypt_to(&me, &mixed_team_csv()), 0o600);
        Team {
            sandbox,
            me,
            me_public,
            other_public,
        }
    }
}
