//! End-to-end tests of bringing accounts in and out: `import` (every fixture in tests/fixtures/import,
//! made by the real tools: see the README there), `export`, `qr`, and the `completions` and `man`
//! helpers.
//!
//! Rules every test follows:
//! - every run has `env_clear()`, `HOME` and `XDG_*` inside a fresh temporary directory, no `PATH` (teamotp
//!   needs none), no network, and `--at 1700000000`, so codes never depend on the clock;
//! - runs that need no terminal go through `setsid -w`: teamotp has no controlling terminal even when the
//!   tests are started from one (a prompt could otherwise wait on the developer's terminal);
//! - runs that need a terminal get a pseudo-terminal (expectrl) whose output is parsed by vt100;
//! - each test makes its own vault with `teamotp -f DIR/vault.csv.age init`;
//! - expected names and codes come from `expected.tsv` (oathtool), never from teamotp itself; Steam codes
//!   (which oathtool cannot compute) from a Python HMAC-SHA1 Steam Guard implementation.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::Duration;

use expectrl::process::unix::WaitStatus;

mod support;

use support::pty::Term;
use support::{AT, BIN, Out, TIMEOUT, need_program, xdg_env};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

/// The password of the five `gauth-*.csv.enc` fixtures.
const GAUTH_PASS: &str = "gauth-fixture-pass";
/// The five `openssl enc` variants of `gauth.csv`.
const GAUTH_ENC: [&str; 5] = [
    "gauth-aes128-sha256.csv.enc",
    "gauth-aes128-pbkdf2.csv.enc",
    "gauth-aes256-sha256.csv.enc",
    "gauth-aes256-pbkdf2.csv.enc",
    "gauth-aes128-md5.csv.enc",
];

/// The Steam code of make.sh's Steam key (`steam-fixture-key!!!`) at 1700000000: Python
/// `hmac.new(key, struct.pack(">Q", 1700000000 // 30), sha1)`, dynamic truncation, then 5 characters of
/// `23456789BCDFGHJKMNPQRTVWXY`.
const STEAM_CODE: &str = "5G2NJ";
const STEAM_ALPHABET: &str = "23456789BCDFGHJKMNPQRTVWXY";

/// `oathtool --totp -b -N @1700000000 GEZDGNBVGY3TQOJQ`.
const OTHER_SECRET: &str = "GEZDGNBVGY3TQOJQ";
const OTHER_CODE: &str = "017492";

/// The HOTP entries the fixtures hold (unsupported: they must be reported by name).
const HOTP: [(&str, &str); 4] = [
    ("otpauth-list.txt", "counter@example.com"),
    ("google-hotp.txt", "counter@example.com"),
    ("aegis-plain.json", "counter@example.com"),
    ("2fas.2fas", "counter@example.com"),
];

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// The shared [`support::Sandbox`] (an empty `home/`) with a vault directory, `team/`.
struct Sandbox(support::Sandbox);

support::sandbox_wrapper!(Sandbox);

impl Sandbox {
    /// A sandbox with a new, empty vault (`teamotp init`).
    fn new() -> Self {
        let sandbox = Sandbox(support::Sandbox::empty("teamotp-exchange-"));
        let out = sandbox.run(&["init"]);
        assert_eq!(out.code, 0, "init failed: {out:?}");
        assert!(sandbox.vault().is_file());
        sandbox
    }

    fn vault_dir(&self) -> PathBuf {
        self.path("team")
    }

    fn vault(&self) -> PathBuf {
        self.vault_dir().join("vault.csv.age")
    }

    /// `HOME` and every `XDG_*` directory teamotp might read, all inside the sandbox.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        xdg_env(&self.home())
    }

    /// `teamotp --at AT -f VAULT ARGS` without a controlling terminal, stdin from `stdin`.
    fn run_with(&self, args: &[&str], stdin: &[u8]) -> Out {
        let mut command = assert_cmd::Command::new(need_program("setsid"));
        command
            .env_clear()
            .envs(self.env())
            .current_dir(self.root())
            .arg("-w")
            .arg(BIN)
            .args(["--at", AT, "-f"])
            .arg(self.vault())
            .args(args)
            .write_stdin(stdin.to_vec())
            .timeout(TIMEOUT);
        let output = command.output().unwrap();
        Out {
            code: output.status.code().expect("teamotp ended by a signal"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, b"")
    }

    /// Runs and asserts exit 0.
    fn ok(&self, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code, 0, "teamotp {args:?}: {out:?}");
        out
    }

    /// `import FIXTURE` (plus `extra` arguments).
    fn import(&self, name: &str, extra: &[&str]) -> Out {
        let path = fixture(name);
        let mut args = vec!["import"];
        args.extend_from_slice(extra);
        args.push(path.to_str().unwrap());
        self.run(&args)
    }

    /// `add NAME` with the secret on stdin.
    fn add(&self, name: &str, secret: &str) {
        let out = self.run_with(&["add", name], format!("{secret}\n").as_bytes());
        assert_eq!(out.code, 0, "add {name}: {out:?}");
    }

    /// `list --format csv` at AT: every account's name, issuer and current code.
    fn list(&self) -> Vec<Listed> {
        let out = self.ok(&["list", "--format", "csv"]);
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        assert_eq!(
            reader.headers().unwrap(),
            vec!["name", "issuer", "prev", "curr", "next", "remaining"]
        );
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                Listed {
                    name: r[0].to_owned(),
                    issuer: r[1].to_owned(),
                    code: r[3].to_owned(),
                }
            })
            .collect()
    }

    /// Every file in the vault's directory with its bytes: what an import that fails must leave alone.
    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(self.vault_dir())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    /// The secrets of every account, from `export --format csv --plaintext`.
    fn secrets(&self) -> Vec<String> {
        let out = self.ok(&["export", "--format", "csv", "--plaintext"]);
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        let column = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "secret")
            .expect("a secret column");
        reader
            .records()
            .map(|r| r.unwrap()[column].to_owned())
            .collect()
    }
}

/// One row of `list --format csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    name: String,
    issuer: String,
    code: String,
}

/// One row of expected.tsv.
#[derive(Debug, Clone)]
struct Expected {
    file: String,
    name: String,
    issuer: Option<String>,
    algorithm: String,
    digits: String,
    period: String,
    steam: bool,
    code: Option<String>,
}

impl Expected {
    /// The code `list` must show at AT.
    fn code(&self) -> &str {
        if self.steam {
            STEAM_CODE
        } else {
            self.code.as_deref().expect("a code for a TOTP row")
        }
    }

    fn listed(&self) -> Listed {
        Listed {
            name: self.name.clone(),
            issuer: self.issuer.clone().unwrap_or_default(),
            code: self.code().to_owned(),
        }
    }
}

fn expected_rows() -> Vec<Expected> {
    let text = std::fs::read_to_string(fixture("expected.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("file\tname\tissuer\talgorithm\tdigits\tperiod\ttype\tcode_at_1700000000")
    );
    let none = |s: &str| (s != "-").then(|| s.to_owned());
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 8, "{line:?}");
            Expected {
                file: f[0].to_owned(),
                name: f[1].to_owned(),
                issuer: none(f[2]),
                algorithm: f[3].to_owned(),
                digits: f[4].to_owned(),
                period: f[5].to_owned(),
                steam: f[6] == "steam",
                code: none(f[7]),
            }
        })
        .collect()
}

/// The rows of `file`, in its order.
fn expected_for(file: &str) -> Vec<Expected> {
    let rows: Vec<Expected> = expected_rows()
        .into_iter()
        .filter(|r| r.file == file)
        .collect();
    assert!(!rows.is_empty(), "expected.tsv has no rows for {file}");
    rows
}

/// The files of expected.tsv in order of first appearance.
fn expected_files() -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for row in expected_rows() {
        if !files.contains(&row.file) {
            files.push(row.file);
        }
    }
    files
}

/// Every problem with stderr's report of an import of `rows` (one `+` line per account, with its name,
/// issuer and parameters) and of the unsupported entries `hotp`.
fn report_problems(stderr: &str, rows: &[Expected], hotp: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let first = stderr.lines().next().unwrap_or_default();
    let count = format!(
        "imported {} account{} from ",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    if !first.starts_with("teamotp: ") || !first.contains(&count) {
        problems.push(format!("first line {first:?} does not say {count:?}"));
    }
    let added: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("  + "))
        .map(|l| &l["  + ".len()..])
        .collect();
    if added.len() != rows.len() {
        problems.push(format!(
            "{} '+' lines for {} accounts",
            added.len(),
            rows.len()
        ));
    }
    for (line, row) in added.iter().zip(rows) {
        let mut wanted = vec![row.name.clone()];
        if let Some(issuer) = &row.issuer {
            wanted.push(format!("({issuer})"));
        }
        if row.steam {
            wanted.extend(["Steam".to_owned(), format!("{} s", row.period)]);
        } else {
            wanted.extend([
                row.algorithm.clone(),
                format!("{} digits", row.digits),
                format!("{} s", row.period),
            ]);
        }
        if !line.starts_with(&row.name) || wanted.iter().any(|w| !line.contains(w.as_str())) {
            problems.push(format!("'+' line {line:?} lacks one of {wanted:?}"));
        }
    }
    for name in hotp {
        let reported = stderr.lines().any(|l| {
            l.starts_with("  ! ")
                && l.contains(name)
                && l.contains("not imported")
                && l.contains("HOTP")
        });
        if !reported {
            problems.push(format!(
                "HOTP entry {name:?} is not reported as unsupported"
            ));
        }
    }
    problems
}

/// Problems if `text` holds `secret` or a long piece of it (case and spaces ignored).
fn leaks(text: &str, secret: &str) -> Option<String> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let secret = secret.trim_end_matches('=').to_uppercase();
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(8.min(chars.len()))
        .map(|w| w.iter().collect::<String>())
        .find(|piece| text.contains(piece.as_str()))
        .map(|piece| format!("{piece:?} of the secret {secret:?} is in the output"))
}

// ---------------------------------------------------------------------------------------------------------
// A pseudo-terminal
// ---------------------------------------------------------------------------------------------------------

/// `sh -c` script: `$1` the stty program, `$2` rows, `$3` columns, then teamotp and its arguments. It waits
/// for a line from the test first (the pty library sets its own size and modes after the child has
/// started), then sets the size and turns echo on, as a user's terminal has it.
const SCRIPT: &str = r#"
stty=$1 rows=$2 cols=$3
shift 3
read -r go || exit 96
"$stty" sane echo rows "$rows" cols "$cols" || exit 97
exec "$@"
"#;

/// teamotp running on a pseudo-terminal, answering cursor position queries as a terminal emulator does.
struct Pty(Term);

impl Deref for Pty {
    type Target = Term;

    fn deref(&self) -> &Term {
        &self.0
    }
}

impl DerefMut for Pty {
    fn deref_mut(&mut self) -> &mut Term {
        &mut self.0
    }
}

impl Pty {
    /// Starts `teamotp --at AT -f VAULT ARGS` on a `rows` x `cols` terminal.
    fn start(sandbox: &Sandbox, rows: u16, cols: u16, args: &[&str]) -> Pty {
        let mut command = std::process::Command::new("/bin/sh");
        command
            .env_clear()
            .envs(sandbox.env())
            .env("TERM", "xterm-256color")
            .current_dir(sandbox.root())
            .arg("-c")
            .arg(SCRIPT)
            .arg("sh")
            .arg(need_program("stty"))
            .arg(rows.to_string())
            .arg(cols.to_string())
            .arg(BIN)
            .args(["--at", AT, "-f"])
            .arg(sandbox.vault())
            .args(args);
        let mut term = Term::spawn(command, rows, cols);
        term.answer_cursor_queries = true;
        Pty(term)
    }

    /// Waits until `done` holds for what was received and the screen.
    fn wait_for(&mut self, what: &str, done: impl Fn(&str, &vt100::Screen) -> bool) {
        self.0.wait_until(
            TIMEOUT,
            what,
            |term| done(&term.text(), term.screen()),
            |term| {
                format!(
                    "received:\n{}\nscreen:\n{}",
                    term.text(),
                    term.screen().contents()
                )
            },
        );
    }

    /// Waits until the terminal's echo is off (teamotp writes its prompt before turning echo off).
    fn wait_for_echo_off(&mut self) {
        self.0.wait_for_echo_off(TIMEOUT);
    }

    /// Waits for the end of the run and returns teamotp's exit code.
    fn finish(&mut self) -> i32 {
        self.0
            .wait_for_end(TIMEOUT, |term| format!("received:\n{}", term.text()));
        match self.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!("teamotp did not exit normally: {other:?}\n{}", self.text()),
        }
    }
}

/// Imports an `openssl enc` fixture on a pty, typing `password` once echo is off; returns the exit code
/// and everything the terminal received.
fn import_on_pty(sandbox: &Sandbox, name: &str, password: &str) -> (i32, String) {
    let path = fixture(name);
    let mut pty = Pty::start(sandbox, 24, 200, &["import", path.to_str().unwrap()]);
    let prompt = format!("Password for {} (openssl enc): ", path.display());
    pty.wait_for("the password prompt", |text, _| text.ends_with(&prompt));
    pty.wait_for_echo_off();
    pty.send(format!("{password}\n").as_bytes());
    let code = pty.finish();
    let text = pty.text();
    assert!(!text.contains(password), "the password was echoed:\n{text}");
    assert_eq!(
        text.matches("Password for").count(),
        1,
        "asked more than once:\n{text}"
    );
    (code, text)
}

// ---------------------------------------------------------------------------------------------------------
// import: every fixture
// ---------------------------------------------------------------------------------------------------------

#[test]
fn expected_tsv_covers_every_importable_fixture() {
    let mut files = expected_files();
    files.sort();
    let mut wanted: Vec<String> = [
        "gauth.csv",
        "otpauth-list.txt",
        "google-sample.txt",
        "google-two-pages.txt",
        "google-hotp.txt",
        "aegis-plain.json",
        "2fas.2fas",
        "andotp.json",
        "qr-otpauth.png",
        "qr-otpauth.jpg",
        "qr-migration.png",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(GAUTH_ENC.iter().map(|s| s.to_string()))
    .collect();
    wanted.sort();
    assert_eq!(files, wanted);
}

#[test]
fn every_plain_fixture_imports_the_expected_names_and_codes() {
    let mut problems = Vec::new();
    for file in expected_files()
        .iter()
        .filter(|f| !GAUTH_ENC.contains(&f.as_str()))
    {
        let rows = expected_for(file);
        let sandbox = Sandbox::new();
        let before = sandbox.list();
        assert!(before.is_empty());
        let out = sandbox.import(file, &[]);
        if out.code != 0 || !out.stdout.is_empty() {
            problems.push(format!("{file}: import failed: {out:?}"));
            continue;
        }
        let hotp: Vec<&str> = HOTP
            .iter()
            .filter(|(f, _)| f == file)
            .map(|(_, n)| *n)
            .collect();
        problems.extend(
            report_problems(&out.stderr, &rows, &hotp)
                .into_iter()
                .map(|p| format!("{file}: {p}\nstderr:\n{}", out.stderr)),
        );
        let listed = sandbox.list();
        let wanted: Vec<Listed> = rows.iter().map(Expected::listed).collect();
        if listed != wanted {
            problems.push(format!(
                "{file}: list shows\n  {listed:?}\nexpected\n  {wanted:?}"
            ));
        }
        for (row, got) in rows.iter().zip(&listed) {
            if row.steam
                && (got.code.chars().count() != 5
                    || !got.code.chars().all(|c| STEAM_ALPHABET.contains(c)))
            {
                problems.push(format!(
                    "{file}: Steam code {:?} is not 5 characters",
                    got.code
                ));
            }
        }
        for secret in sandbox.secrets() {
            if let Some(leak) = leaks(&out.stderr, &secret) {
                problems.push(format!("{file}: import report: {leak}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn hotp_entries_are_reported_as_unsupported_not_dropped_silently() {
    for (file, name) in HOTP {
        let sandbox = Sandbox::new();
        let out = sandbox.import(file, &[]);
        assert_eq!(out.code, 0, "{file}: {out:?}");
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains(name) && l.contains("not imported"))
            .unwrap_or_else(|| panic!("{file}: {name} not reported:\n{}", out.stderr));
        assert!(line.contains("HOTP"), "{file}: {line:?}");
        assert!(
            sandbox.list().iter().all(|l| l.name != name),
            "{file}: the HOTP entry was imported"
        );
    }
}

#[test]
fn import_adds_to_the_accounts_already_in_the_vault() {
    let sandbox = Sandbox::new();
    sandbox.add("Mine", OTHER_SECRET);
    assert_eq!(sandbox.import("gauth.csv", &[]).code, 0);
    assert_eq!(sandbox.import("2fas.2fas", &[]).code, 0);
    let mut wanted = vec![Listed {
        name: "Mine".into(),
        issuer: String::new(),
        code: OTHER_CODE.into(),
    }];
    wanted.extend(expected_for("gauth.csv").iter().map(Expected::listed));
    wanted.extend(expected_for("2fas.2fas").iter().map(Expected::listed));
    assert_eq!(sandbox.list(), wanted);
    // Written through the team write path: the vault stays openable by the recipients file's keys, and
    // `check` is happy with it.
    let check = sandbox.run(&["check"]);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn import_reads_standard_input() {
    for (file, extra) in [
        ("gauth.csv", &[][..]),
        ("aegis-plain.json", &[][..]),
        ("qr-otpauth.png", &[][..]),
        ("google-two-pages.txt", &["--format", "google"][..]),
    ] {
        let sandbox = Sandbox::new();
        let mut args = vec!["import"];
        args.extend_from_slice(extra);
        args.push("-");
        let out = sandbox.run_with(&args, &std::fs::read(fixture(file)).unwrap());
        assert_eq!(out.code, 0, "{file}: {out:?}");
        assert!(
            out.stderr.contains("from standard input"),
            "{file}: {}",
            out.stderr
        );
        let wanted: Vec<Listed> = expected_for(file).iter().map(Expected::listed).collect();
        assert_eq!(sandbox.list(), wanted, "{file}");
    }
}

#[test]
fn malformed_standard_input_imports_nothing() {
    let sandbox = Sandbox::new();
    assert_eq!(sandbox.import("gauth.csv", &[]).code, 0);
    let before = sandbox.files();
    let bytes = std::fs::read(fixture("bad-aegis.json")).unwrap();
    let out = sandbox.run_with(&["import", "-"], &bytes);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.starts_with("teamotp: error: ")
            && out.stderr.contains("standard input")
            && out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.files(), before);
}

#[test]
fn format_flag_forces_the_format() {
    // The right format, named.
    for (file, format) in [
        ("andotp.json", "andotp"),
        ("aegis-plain.json", "aegis"),
        ("2fas.2fas", "2fas"),
        ("qr-otpauth.png", "qr"),
        ("gauth.csv", "gauth"),
        ("otpauth-list.txt", "otpauth"),
        ("google-sample.txt", "google"),
    ] {
        let sandbox = Sandbox::new();
        let out = sandbox.import(file, &["--format", format]);
        assert_eq!(out.code, 0, "{file} as {format}: {out:?}");
        let wanted: Vec<Listed> = expected_for(file).iter().map(Expected::listed).collect();
        assert_eq!(sandbox.list(), wanted, "{file} as {format}");
    }
    // A wrong format is not second-guessed: a clear error, nothing imported.
    for (file, format, reason) in [
        ("andotp.json", "aegis", "not an Aegis export"),
        ("aegis-plain.json", "2fas", "not a"),
        ("gauth.csv", "qr", "image"),
        ("qr-otpauth.png", "gauth", "not UTF-8"),
    ] {
        let sandbox = Sandbox::new();
        let before = sandbox.files();
        let out = sandbox.import(file, &["--format", format]);
        assert_eq!(out.code, 2, "{file} as {format}: {out:?}");
        assert!(
            out.stderr.starts_with("teamotp: error: ")
                && out.stderr.contains(&format!("(as {format})"))
                && out.stderr.contains("nothing was imported")
                && out.stderr.contains(reason),
            "{file} as {format}: {}",
            out.stderr
        );
        assert_eq!(sandbox.files(), before, "{file} as {format}");
    }
}

#[test]
fn unknown_format_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let out = sandbox.import("gauth.csv", &["--format", "nosuchformat"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("nosuchformat"), "{}", out.stderr);
    assert!(sandbox.list().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// import: malformed and refused files
// ---------------------------------------------------------------------------------------------------------

#[test]
fn malformed_and_encrypted_files_give_a_clear_error_and_import_nothing() {
    // A broken container, or an encrypted file with no way to ask its password: exit 2, an error.
    let wrong = support::Sandbox::empty("teamotp-exchange-pw-");
    let wrong_password = wrong.write("wrong-password", "not-the-password\n");
    let cases: [(&str, &str, &[&str]); 6] = [
        ("bad-aegis.json", "not valid JSON", &[]),
        ("not-a-qr.png", "no QR code found", &[]),
        (
            "aegis-encrypted.json",
            "no terminal to ask for its password",
            &[],
        ),
        (
            "2fas-encrypted.2fas",
            "no terminal to ask for its password",
            &[],
        ),
        (
            "aegis-encrypted.json",
            "wrong password for this Aegis encrypted vault",
            &["--password-file", wrong_password.to_str().unwrap()],
        ),
        (
            "2fas-encrypted.2fas",
            "wrong password for this 2FAS encrypted backup",
            &["--password-file", wrong_password.to_str().unwrap()],
        ),
    ];
    let mut problems = Vec::new();
    for (file, reason, extra) in cases {
        let sandbox = Sandbox::new();
        // A vault with accounts: a partial import or a rewrite would show in its bytes.
        assert_eq!(sandbox.import("gauth.csv", &[]).code, 0);
        let before = sandbox.files();
        let listed = sandbox.list();
        let out = sandbox.import(file, extra);
        let path = fixture(file);
        let clear = out.stderr.starts_with("teamotp: error: ")
            && out.stderr.contains(&path.display().to_string())
            && out.stderr.contains("nothing was imported")
            && out.stderr.contains(reason);
        if out.code != 2 || !out.stdout.is_empty() || !clear {
            problems.push(format!("{file}: want exit 2 and {reason:?}: {out:?}"));
        }
        if sandbox.files() != before {
            problems.push(format!("{file}: the vault's directory changed"));
        }
        if sandbox.list() != listed {
            problems.push(format!("{file}: the accounts changed"));
        }
    }
    // A readable file whose only entry is unusable: the entry is listed with its reason, nothing is
    // written, exit 1.
    for (file, reason) in [
        ("bad-andotp.json", "digits"),
        ("bad-google.txt", "damaged"),
        ("bad-otpauth.txt", "invalid character '8'"),
        ("bad-2fas.2fas", "secret"),
    ] {
        let sandbox = Sandbox::new();
        assert_eq!(sandbox.import("gauth.csv", &[]).code, 0);
        let before = sandbox.files();
        let out = sandbox.import(file, &[]);
        let path = fixture(file);
        let clear = out.stderr.contains("teamotp: 1 entry left out:\n  ! ")
            && out.stderr.contains(reason)
            && out.stderr.ends_with(&format!(
                "teamotp: nothing was imported from {}: every entry was left out\n",
                path.display()
            ));
        if out.code != 1 || !out.stdout.is_empty() || !clear {
            problems.push(format!("{file}: want exit 1 and {reason:?}: {out:?}"));
        }
        if sandbox.files() != before {
            problems.push(format!("{file}: the vault's directory changed"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------
// import: duplicates
// ---------------------------------------------------------------------------------------------------------

#[test]
fn duplicate_names_are_reported_and_skipped() {
    let sandbox = Sandbox::new();
    sandbox.add("AWS", OTHER_SECRET);
    let out = sandbox.import("gauth.csv", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("  = AWS") && l.contains("already") && l.contains("skipped")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("imported 2 accounts"), "{}", out.stderr);
    let gauth = expected_for("gauth.csv");
    let mut wanted = vec![Listed {
        name: "AWS".into(),
        issuer: String::new(),
        code: OTHER_CODE.into(),
    }];
    wanted.extend(gauth[1..].iter().map(Expected::listed));
    assert_eq!(sandbox.list(), wanted, "the vault's AWS is kept");

    // Everything a duplicate: nothing written at all.
    let before = sandbox.files();
    let out = sandbox.import("gauth.csv", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("imported 0 accounts"), "{}", out.stderr);
    for row in &gauth {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&format!("  = {}:", row.name))),
            "{} not reported:\n{}",
            row.name,
            out.stderr
        );
    }
    assert_eq!(sandbox.files(), before);
}

#[test]
fn rename_imports_duplicates_under_a_numbered_name() {
    let sandbox = Sandbox::new();
    assert_eq!(sandbox.import("gauth.csv", &[]).code, 0);
    let out = sandbox.import("gauth.csv", &["--rename"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.lines().any(|l| l.starts_with("  + AWS (2)")),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.import("gauth.csv", &["--rename"]).code, 0);
    let gauth = expected_for("gauth.csv");
    let mut wanted: Vec<Listed> = gauth.iter().map(Expected::listed).collect();
    for suffix in [" (2)", " (3)"] {
        wanted.extend(gauth.iter().map(|r| Listed {
            name: format!("{}{suffix}", r.name),
            ..r.listed()
        }));
    }
    assert_eq!(sandbox.list(), wanted);
}

#[test]
fn replace_overwrites_the_vaults_account() {
    let sandbox = Sandbox::new();
    sandbox.add("AWS", OTHER_SECRET);
    let out = sandbox.import("gauth.csv", &["--replace"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("imported 3 accounts"), "{}", out.stderr);
    let mut listed = sandbox.list();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let mut wanted: Vec<Listed> = expected_for("gauth.csv")
        .iter()
        .map(Expected::listed)
        .collect();
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, wanted, "one AWS, with the imported secret");
}

/// Issue 22: two entries of one file with the same name both come in; the second, with no service to
/// tell it apart, is numbered (with --rename or not: the vault had neither).
#[test]
fn duplicates_within_one_file_both_come_in() {
    let text = format!("AWS:JBSWY3DPEHPK3PXP\nAWS:{OTHER_SECRET}\n");
    let aws = expected_for("gauth.csv")[0].listed();
    let renamed = Listed {
        name: "AWS (2)".into(),
        issuer: String::new(),
        code: OTHER_CODE.into(),
    };
    for extra in [&[][..], &["--rename"][..]] {
        let sandbox = Sandbox::new();
        let mut args = vec!["import"];
        args.extend_from_slice(extra);
        args.push("-");
        let out = sandbox.run_with(&args, text.as_bytes());
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stderr.contains("  + AWS (2) · SHA1"), "{}", out.stderr);
        assert_eq!(sandbox.list(), [aws.clone(), renamed.clone()]);
    }
}

#[test]
fn rename_and_replace_together_are_refused() {
    let sandbox = Sandbox::new();
    let before = sandbox.files();
    let out = sandbox.import("gauth.csv", &["--rename", "--replace"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(sandbox.files(), before);
}

// ---------------------------------------------------------------------------------------------------------
// import: gauth files encrypted with openssl (password on the terminal)
// ---------------------------------------------------------------------------------------------------------

#[test]
fn encrypted_gauth_files_ask_the_password_on_the_terminal() {
    for file in GAUTH_ENC {
        let sandbox = Sandbox::new();
        let (code, text) = import_on_pty(&sandbox, file, GAUTH_PASS);
        assert_eq!(code, 0, "{file}:\n{text}");
        let rows = expected_for(file);
        assert!(
            text.contains("imported 3 accounts"),
            "{file}: the import report:\n{text}"
        );
        let wanted: Vec<Listed> = rows.iter().map(Expected::listed).collect();
        assert_eq!(sandbox.list(), wanted, "{file}");
        for secret in sandbox.secrets() {
            assert_eq!(leaks(&text, &secret), None, "{file}: {text}");
        }
    }
}

#[test]
fn encrypted_gauth_file_with_a_wrong_password_imports_nothing() {
    let sandbox = Sandbox::new();
    assert_eq!(sandbox.import("otpauth-list.txt", &[]).code, 0);
    let before = sandbox.files();
    let (code, text) = import_on_pty(&sandbox, "gauth-aes128-sha256.csv.enc", "not-the-password");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("teamotp: error: "), "{text}");
    assert!(text.contains("password is wrong"), "{text}");
    assert!(text.contains("nothing was imported"), "{text}");
    assert_eq!(sandbox.files(), before);
}

#[test]
fn encrypted_gauth_file_without_a_terminal_is_a_clear_error() {
    for file in GAUTH_ENC {
        let sandbox = Sandbox::new();
        let before = sandbox.files();
        let out = sandbox.import(file, &[]);
        assert_eq!(out.code, 2, "{file}: {out:?}");
        assert!(out.stdout.is_empty());
        assert!(
            out.stderr.starts_with("teamotp: error: ")
                && out.stderr.contains("openssl enc")
                && out.stderr.contains("no terminal")
                && out.stderr.contains("nothing was imported"),
            "{file}: {}",
            out.stderr
        );
        assert_eq!(sandbox.files(), before, "{file}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// export
// ---------------------------------------------------------------------------------------------------------

/// A vault with every kind of account: SHA1/256/512, 6 and 8 digits, 30 and 60 s, Steam, issuers.
fn varied_vault() -> Sandbox {
    let sandbox = Sandbox::new();
    for file in ["otpauth-list.txt", "aegis-plain.json", "2fas.2fas"] {
        let out = sandbox.import(file, &[]);
        assert_eq!(out.code, 0, "{file}: {out:?}");
    }
    sandbox
}

/// The accounts of [`varied_vault`]: a later file's account whose name the vault already has is skipped
/// (since issue 21, `otpauth-list.txt`'s labels `Example:alice@example.com` and `ACME Co:ops@acme.example`
/// give the names `alice@example.com` and `ops@acme.example`, which aegis-plain.json has too).
fn varied_expected() -> Vec<Listed> {
    let mut seen = std::collections::HashSet::new();
    ["otpauth-list.txt", "aegis-plain.json", "2fas.2fas"]
        .iter()
        .flat_map(|f| expected_for(f))
        .map(|r| r.listed())
        .filter(|l| seen.insert(l.name.to_lowercase()))
        .collect()
}

#[test]
fn export_without_plaintext_refuses() {
    let sandbox = varied_vault();
    for format in ["otpauth", "csv"] {
        let out = sandbox.run(&["export", "--format", format]);
        assert_eq!(out.code, 2, "{out:?}");
        assert_eq!(out.stdout, "");
        assert!(
            out.stderr.starts_with("teamotp: error: ") && out.stderr.contains("--plaintext"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn export_otpauth_writes_uris_and_warns() {
    let sandbox = varied_vault();
    let out = sandbox.run(&["export", "--format", "otpauth", "--plaintext"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("warning") && out.stderr.contains("plaintext"),
        "{}",
        out.stderr
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), varied_expected().len(), "{}", out.stdout);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("otpauth://totp/") || l.starts_with("otpauth://steam/")),
        "{}",
        out.stdout
    );
    // The default format is otpauth.
    let default = sandbox.run(&["export", "--plaintext"]);
    assert_eq!(default.code, 0);
    assert_eq!(default.stdout, out.stdout);
    // The secrets are on stdout only.
    for secret in sandbox.secrets() {
        assert!(out.stdout.contains(&secret), "{secret} not exported");
        assert_eq!(leaks(&out.stderr, &secret), None);
    }
}

#[test]
fn export_csv_writes_a_team_csv() {
    let sandbox = varied_vault();
    let out = sandbox.run(&["export", "--format", "csv", "--plaintext", "vault corp"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "name",
            "issuer",
            "secret",
            "digits",
            "period",
            "algorithm",
            "type"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        1,
        "only the account QUERY matches: {}",
        out.stdout
    );
    assert_eq!(&rows[0][0], "admin");
    assert_eq!(&rows[0][1], "Vault Corp");
    assert_eq!(&rows[0][3], "8");
    assert_eq!(&rows[0][4], "60");
    assert_eq!(&rows[0][5], "SHA512");
}

/// Exports `source` in `format` and imports the output into a new vault from stdin: every account comes
/// back with the same name, issuer, parameters and codes.
fn assert_round_trip(source: &Sandbox, format: &str) {
    let out = source.run(&["export", "--format", format, "--plaintext"]);
    assert_eq!(out.code, 0, "{out:?}");
    let target = Sandbox::new();
    let imported = target.run_with(&["import", "-"], out.stdout.as_bytes());
    assert_eq!(imported.code, 0, "{format}: {imported:?}");
    assert_eq!(
        target.list(),
        source.list(),
        "{format}: same names, issuers and codes"
    );
    assert_eq!(
        target.ok(&["list", "--format", "json"]).stdout,
        source.ok(&["list", "--format", "json"]).stdout,
        "{format}: same parameters"
    );
}

/// A vault of TOTP accounts: SHA1/256/512, 6 and 8 digits, 30 and 60 s, with and without issuers.
fn totp_vault() -> Sandbox {
    let sandbox = Sandbox::new();
    for file in [
        "gauth.csv",
        "otpauth-list.txt",
        "google-two-pages.txt",
        "2fas.2fas",
    ] {
        let out = sandbox.import(file, &[]);
        assert_eq!(out.code, 0, "{file}: {out:?}");
    }
    // 10 accounts, less google-two-pages.txt's ops@acme.example: otpauth-list.txt's label
    // `ACME Co:ops@acme.example` gives that name too since issue 21 (the Key URI format), so it is skipped.
    assert_eq!(sandbox.list().len(), 9);
    sandbox
}

#[test]
fn export_otpauth_round_trips_through_import() {
    assert_round_trip(&totp_vault(), "otpauth");
}

#[test]
fn export_csv_round_trips_through_import() {
    assert_round_trip(&totp_vault(), "csv");
    assert_round_trip(&varied_vault(), "csv");
}

#[test]
/// Regression: export --format otpauth writes a Steam account as `otpauth://steam/gamer?secret=...&issuer=Steam&algorithm=SHA1&digits=5&period=30`, and importing it fails (exit 2): \"line 6: 'gamer': digits must be 6, 7 or 8, not '5'\"
fn export_otpauth_round_trips_a_steam_account() {
    let source = varied_vault();
    assert_eq!(source.list(), varied_expected());
    assert_round_trip(&source, "otpauth");
}

#[test]
fn export_refuses_a_terminal_unless_yes() {
    let sandbox = varied_vault();
    let secrets = sandbox.secrets();

    let mut pty = Pty::start(&sandbox, 24, 200, &["export", "--plaintext"]);
    let code = pty.finish();
    let text = pty.text();
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("teamotp: error: ") && text.contains("terminal") && text.contains("--yes"),
        "{text}"
    );
    for secret in &secrets {
        assert_eq!(leaks(&text, secret), None, "{text}");
    }

    let mut pty = Pty::start(&sandbox, 24, 250, &["export", "--plaintext", "--yes"]);
    let code = pty.finish();
    let text = pty.text();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("otpauth://totp/"), "{text}");
    assert!(text.contains("warning"), "{text}");
}

// ---------------------------------------------------------------------------------------------------------
// qr
// ---------------------------------------------------------------------------------------------------------

const HALF_BLOCKS: [&str; 3] = ["▀", "▄", "█"];

fn has_blocks(screen: &vt100::Screen) -> bool {
    let contents = screen.contents();
    HALF_BLOCKS.iter().any(|b| contents.contains(b))
}

/// Decodes the QR code drawn on the screen with half blocks (each cell one module wide, two tall), in
/// either polarity.
fn decode_screen_qr(screen: &vt100::Screen) -> Option<String> {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let cell = |r: u16, c: u16| screen.cell(r, c).map_or("", vt100::Cell::contents);
    let drawn: Vec<(u16, u16)> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .filter(|&(r, c)| HALF_BLOCKS.contains(&cell(r, c)))
        .collect();
    let top = drawn.iter().map(|p| p.0).min()?;
    let bottom = drawn.iter().map(|p| p.0).max()?;
    let left = drawn.iter().map(|p| p.1).min()?;
    let right = drawn.iter().map(|p| p.1).max()?;
    // module (x, y) -> is a block half there.
    let block = |x: u16, y: u16| -> bool {
        let (r, c) = (top + y / 2, left + x);
        match cell(r, c) {
            "█" => true,
            "▀" => y.is_multiple_of(2),
            "▄" => !y.is_multiple_of(2),
            _ => false,
        }
    };
    let (width, height) = (right - left + 1, (bottom - top + 1) * 2);
    const SCALE: usize = 4;
    const MARGIN: usize = 8;
    for blocks_are_light in [true, false] {
        let (w, h) = (
            width as usize * SCALE + 2 * MARGIN,
            height as usize * SCALE + 2 * MARGIN,
        );
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            if x < MARGIN || y < MARGIN || x >= w - MARGIN || y >= h - MARGIN {
                return 255;
            }
            let (mx, my) = ((x - MARGIN) / SCALE, (y - MARGIN) / SCALE);
            if block(mx as u16, my as u16) == blocks_are_light {
                255
            } else {
                0
            }
        });
        for grid in image.detect_grids() {
            if let Ok((_, content)) = grid.decode() {
                return Some(content);
            }
        }
    }
    None
}

#[test]
fn qr_refuses_when_stdout_is_not_a_terminal() {
    let sandbox = Sandbox::new();
    sandbox.add("QR me", "JBSWY3DPEHPK3PXP");
    let out = sandbox.run(&["qr", "QR me"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with("teamotp: error: ")
            && out.stderr.contains("not a terminal")
            && out.stderr.contains("teamotp: hint: ")
            && out.stderr.contains("export"),
        "{}",
        out.stderr
    );
    assert_eq!(leaks(&out.stderr, "JBSWY3DPEHPK3PXP"), None);
}

#[test]
fn qr_shows_the_account_until_a_key_is_pressed() {
    let sandbox = Sandbox::new();
    sandbox.add("QR me", "JBSWY3DPEHPK3PXP");
    let mut pty = Pty::start(&sandbox, 50, 120, &["qr", "QR me"]);
    pty.wait_for(
        "the QR code and the account's name on the alternate screen",
        |_, screen| {
            screen.alternate_screen()
                && has_blocks(screen)
                && screen.contents().contains("QR me")
                && decode_screen_qr(screen).is_some()
        },
    );
    let uri = decode_screen_qr(pty.screen()).unwrap();
    assert!(
        uri.starts_with("otpauth://totp/QR%20me?") && uri.contains("secret=JBSWY3DPEHPK3PXP"),
        "{uri}"
    );
    // Still waiting for a key.
    std::thread::sleep(Duration::from_millis(200));
    pty.pump();
    assert!(!pty.eof && pty.screen().alternate_screen());

    pty.send(b"x");
    pty.wait_for("the alternate screen left", |_, screen| {
        !screen.alternate_screen()
    });
    let code = pty.finish();
    assert_eq!(code, 0, "{}", pty.text());
    let screen = pty.screen();
    assert!(!screen.alternate_screen());
    assert!(
        !has_blocks(screen) && decode_screen_qr(screen).is_none(),
        "the QR code is still on the screen:\n{}",
        screen.contents()
    );
    assert!(
        !screen.contents().contains("JBSWY3DPEHPK3PXP"),
        "{}",
        screen.contents()
    );
}

#[test]
/// Regression: on a terminal that does not answer the cursor position query (ESC [ 6 n; ratatui's Terminal::clear asks it), qr fails after 2 s with exit 2 'terminal error: The cursor position could not be read within a normal duration' and leaves the terminal on the alternate screen, in raw mode, with mouse capture on and the cursor hidden (show_until_key returns before leave()); expected: the QR code is shown, and the terminal is restored on any error
fn qr_works_and_restores_the_terminal_when_the_cursor_query_is_not_answered() {
    let sandbox = Sandbox::new();
    sandbox.add("QR me", "JBSWY3DPEHPK3PXP");
    let mut pty = Pty::start(&sandbox, 50, 120, &["qr", "QR me"]);
    pty.answer_cursor_queries = false;
    pty.wait_for("the QR code", |_, screen| {
        screen.alternate_screen() && decode_screen_qr(screen).is_some()
    });
    pty.send(b"x");
    let code = pty.finish();
    assert_eq!(code, 0, "{}", pty.text());
    assert!(!pty.screen().alternate_screen(), "{}", pty.text());
}

#[test]
fn qr_of_an_unknown_account_fails() {
    let sandbox = Sandbox::new();
    sandbox.add("QR me", "JBSWY3DPEHPK3PXP");
    let mut pty = Pty::start(&sandbox, 24, 120, &["qr", "nobody"]);
    let code = pty.finish();
    let text = pty.text();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("no account matches 'nobody'"), "{text}");
    assert!(!pty.screen().alternate_screen());
}

// ---------------------------------------------------------------------------------------------------------
// completions and man
// ---------------------------------------------------------------------------------------------------------

#[test]
fn completions_mention_the_subcommands() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = sandbox.run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {out:?}");
        assert_eq!(out.stderr, "", "{shell}");
        for word in ["teamotp", "members", "import", "export", "qr", "git-setup"] {
            assert!(out.stdout.contains(word), "{shell}: no {word:?}");
        }
    }
    let out = sandbox.run(&["completions", "tcsh"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn man_prints_a_roff_page() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["man"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    // clap_mangen's preamble (the Aq string for both groff and other troffs), then the title.
    let first_macro = out
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap_or_default();
    assert!(first_macro.starts_with(".TH teamotp 1"), "{}", out.stdout);
    for word in [".SH NAME", ".SH SYNOPSIS", "members", "import", "export"] {
        assert!(out.stdout.contains(word), "no {word:?} in:\n{}", out.stdout);
    }
}

/// Regression (issue 14): `import` of a plaintext file did not remind to delete it (as `encrypt` does),
/// and a name listed twice in one file was reported as "the vault already has this name" (since issue
/// 22 both come in).
#[test]
fn import_reminds_to_remove_the_plaintext_and_names_a_duplicate_inside_the_file() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "export.txt",
        "otpauth://totp/ACME:ops?secret=JBSWY3DPEHPK3PXP\n\
         otpauth://totp/ACME:ops?secret=GEZDGNBVGY3TQOJQ\n",
    );
    let out = sandbox.ok(&["import", file.to_str().unwrap()]);
    // Issue 22: the second comes in, numbered (both are at the same service; issue 21 split the label
    // `ACME:ops` into the issuer ACME and the name ops).
    assert!(
        out.stderr.contains("  + ops (2) (ACME) · SHA1"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("the vault already has this name"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.ends_with(&format!(
            "teamotp: hint: now remove the plaintext: shred -u '{}' (and any copy in backups, sync \
             folders or git history)\n",
            file.display()
        )),
        "{}",
        out.stderr
    );
    // From stdin there is no file to remove.
    let out = sandbox.run_with(
        &["import", "-"],
        b"otpauth://totp/Other:me?secret=JBSWY3DPEHPK3PXP\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("shred"), "{}", out.stderr);
}

/// Regression (issue 14), against the Aegis project's own 2FAS test export: 2FAS keeps the service in
/// `name` and the account in `otp.account`; teamotp named every account after its service ("Deno"), so
/// two accounts at one service collided. Now, as for Aegis: name = account, issuer = service.
#[test]
fn two_fas_export_of_the_aegis_project_names_accounts_by_their_label() {
    let sandbox = Sandbox::new();
    let out = sandbox.import("aegis-project/2fas_authenticator_plain_v4.2fas", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("  + Mason (Deno) · SHA1 · 6 digits · 30 s\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("  + Sophia (Boeing) · Steam · 30 s\n"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("not imported").count(),
        3,
        "{}",
        out.stderr
    );
}

/// The Aegis project's andOTP plain test backup: labels, issuers and parameters as andOTP wrote them.
#[test]
fn and_otp_export_of_the_aegis_project() {
    let sandbox = Sandbox::new();
    let out = sandbox.import("aegis-project/andotp_plain.json", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    for line in [
        "  + Mason (Deno) · SHA1 · 6 digits · 30 s\n",
        "  + James (SPDX) · SHA256 · 7 digits · 20 s\n",
        "  + Elijah (Airbnb) · SHA512 · 8 digits · 50 s\n",
        "  + Sophia (Boeing) · Steam · 30 s\n",
    ] {
        assert!(out.stderr.contains(line), "{line:?} in\n{}", out.stderr);
    }
}

/// Regression (issue 14): an andOTP encrypted backup (.json.aes: a 4-byte iteration count, a 12-byte
/// salt, a 12-byte nonce, ciphertext) was refused as "not UTF-8 text". Since issue 22 it is decrypted:
/// with no terminal the password is asked for by name; a wrong one is named as such.
#[test]
fn an_and_otp_encrypted_backup_is_recognised_and_its_password_asked() {
    let sandbox = Sandbox::new();
    let mut bytes = 140_000u32.to_be_bytes().to_vec();
    bytes.extend((0u32..300).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let file = sandbox.write("otp_accounts.json.aes", &bytes);
    let out = sandbox.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("(andOTP encrypted backup)") && out.stderr.contains("--password-file"),
        "{}",
        out.stderr
    );
    let password = sandbox.write("pw", "guess\n");
    let out = sandbox.run(&[
        "import",
        "--format",
        "andotp",
        "--password-file",
        password.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("wrong password for this andOTP encrypted backup"),
        "{}",
        out.stderr
    );
}
