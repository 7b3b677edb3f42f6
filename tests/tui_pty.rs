//! The TUI of the real binary on a pseudo-terminal (expectrl), its screen parsed by vt100.
//!
//! Every run goes through a small `sh` script on the pty: it sets the window size and sane terminal
//! modes, saves `stty -g`, records teamotp's PID (an inner `sh` writes its own PID, then `exec`s
//! teamotp in the foreground, so teamotp keeps the terminal's input), prints teamotp's exit status and
//! saves `stty -g` again, so the tests can check the terminal is given back exactly as it was.
//!
//! Codes are computed at `--at 1700000000` and the TUI's clock runs on from there: the 30 s codes stay
//! valid for the first 10 s of a run, the 60 s ones for 40 s. Every check polls the parsed screen (no
//! blind sleeps) and gives up after [`TIMEOUT`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;
use tempfile::TempDir;

mod support;

use support::pty::{POLL, Term, script_command};
use support::{AT, BIN, list_csv};

/// Longest wait for anything: the screen to show something, the PID file, the end of the run.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments for the demo vault at [`AT`].
const DEMO: [&str; 3] = ["--demo", "--at", AT];

/// `sh -c` script: `$1` rows, `$2` columns, `$3` a private directory for `before`, `after` and `pid`,
/// then teamotp and its arguments. It first waits for a line from the test: the pty library sets its
/// default size (80x24) after the child has started, so the size is set only once that is done.
const SCRIPT: &str = r#"
rows=$1 cols=$2 dir=$3
shift 3
read -r go || exit 96
stty sane rows "$rows" cols "$cols" || exit 97
stty -g > "$dir/before" || exit 98
sh -c 'echo $$ > "$0"; exec "$@"' "$dir/pid" "$@"
echo "status=$?"
stty -g > "$dir/after"
"#;

/// One account as `list --format csv` prints it.
#[derive(Debug, Clone)]
struct Expected {
    name: String,
    prev: String,
    curr: String,
    next: String,
}

/// The demo vault's accounts and codes at [`AT`], from `list --format csv` (no terminal involved).
fn expected_demo() -> Vec<Expected> {
    let home = TempDir::new().unwrap();
    let stdout = list_csv(home.path(), DEMO);
    let mut reader = csv::Reader::from_reader(stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {headers:?}"))
    };
    let (name, prev, curr, next) = (
        column("name"),
        column("prev"),
        column("curr"),
        column("next"),
    );
    let accounts: Vec<Expected> = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            Expected {
                name: record[name].to_owned(),
                prev: record[prev].to_owned(),
                curr: record[curr].to_owned(),
                next: record[next].to_owned(),
            }
        })
        .collect();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AWS root",
            "GitHub ops",
            "RFC 6238 SHA1",
            "RFC 6238 SHA256",
            "RFC 6238 SHA512",
            "홈택스 법인",
            "Vendor console, prod",
            "Slack admin",
            "Steam shared",
        ],
        "the demo vault's accounts"
    );
    accounts
}

/// A code grouped for reading as the TUI shows it: `123 456`, `1234 5678`, Steam's 5 letters together.
fn group(code: &str) -> String {
    if code.len() < 6 || !code.is_ascii() {
        return code.to_owned();
    }
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

/// A code hidden as the TUI shows it: `••• •••`.
fn masked(code: &str) -> String {
    group(code)
        .chars()
        .map(|c| if c == ' ' { ' ' } else { '•' })
        .collect()
}

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| *c != ' ').collect()
}

/// The screen's lines.
fn lines(screen: &vt100::Screen) -> Vec<String> {
    let (_, cols) = screen.size();
    screen.rows(0, cols.get()).collect()
}

/// The line of the account named `name` (a table row starts with a space and the name).
fn row_of(screen: &vt100::Screen, name: &str) -> Option<String> {
    lines(screen).into_iter().find(|line| {
        line.strip_prefix(' ')
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|after| after.is_empty() || after.starts_with(' '))
    })
}

/// The account's row shows `prev curr next` in that order, grouped for reading.
fn shows_all_codes(screen: &vt100::Screen, account: &Expected) -> bool {
    row_of(screen, &account.name).is_some_and(|row| {
        let codes = format!("{}{}{}", account.prev, account.curr, account.next);
        [&account.prev, &account.curr, &account.next]
            .iter()
            .all(|code| row.contains(&group(code)))
            && without_spaces(&row).contains(&codes)
    })
}

/// The account's row shows only masks, none of its codes.
fn shows_masks_only(screen: &vt100::Screen, account: &Expected) -> bool {
    row_of(screen, &account.name).is_some_and(|row| {
        let bare = without_spaces(&row);
        row.contains(&masked(&account.curr))
            && [&account.prev, &account.curr, &account.next]
                .iter()
                .all(|code| !bare.contains(code.as_str()))
    })
}

/// How a run on the pty ended.
#[derive(Debug)]
struct Finished {
    /// teamotp's exit status, as the shell printed it.
    status: Option<i32>,
    /// `stty -g` before teamotp started and after it ended.
    before: String,
    after: String,
    /// The screen at the end.
    screen: String,
    alternate_screen: bool,
    hide_cursor: bool,
}

/// teamotp running on a pty of a given size, with the screen as a vt100 parser sees it.
struct Pty {
    term: Term,
    dir: TempDir,
}

impl Pty {
    /// Starts `teamotp ARGS` on a `rows` x `cols` pty with an empty environment except `HOME` (an empty
    /// directory), `TERM=xterm-256color` and the test's `PATH`.
    fn start(rows: u16, cols: u16, args: &[&str]) -> Pty {
        Self::start_with(rows, cols, args, &[])
    }

    /// [`Pty::start`] with more environment (`XDG_CONFIG_HOME` for a config).
    fn start_with(rows: u16, cols: u16, args: &[&str], env: &[(&str, &std::path::Path)]) -> Pty {
        let dir = TempDir::new().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let mut command = script_command(SCRIPT, rows, cols);
        for (name, value) in env {
            command.env(name, value);
        }
        command
            .env("HOME", &home)
            .arg(dir.path())
            .arg(BIN)
            .args(args);
        // Term::spawn sends the line SCRIPT waits for.
        Pty {
            term: Term::spawn(command, rows, cols),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn screen(&self) -> &vt100::Screen {
        self.term.screen()
    }

    /// Waits until `done` holds for the screen; panics with `what` and the screen after [`TIMEOUT`].
    fn wait_for(&mut self, what: &str, done: impl Fn(&vt100::Screen) -> bool) {
        self.term.wait_until(
            TIMEOUT,
            what,
            |term| done(term.screen()),
            |term| format!("screen:\n{}", term.screen().contents()),
        );
    }

    /// Waits for the table: the header and every account's row.
    fn wait_for_table(&mut self, accounts: &[Expected]) {
        self.wait_for("the table", |screen| {
            screen.alternate_screen()
                && lines(screen).iter().any(|l| l.contains("Account"))
                && accounts.iter().all(|a| row_of(screen, &a.name).is_some())
        });
    }

    /// Types `bytes` on the terminal.
    fn send(&mut self, bytes: &[u8]) {
        self.term.send(bytes);
    }

    /// teamotp's PID (the inner shell writes its own PID, then becomes teamotp).
    fn teamotp_pid(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(self.path("pid")).unwrap_or_default();
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
            assert!(start.elapsed() < TIMEOUT, "no PID file");
            std::thread::sleep(POLL);
        }
    }

    /// Sends `signal` to teamotp.
    fn signal(&mut self, signal: rustix::process::Signal) {
        let pid = self.teamotp_pid();
        let pid = rustix::process::Pid::from_raw(pid).expect("a positive PID");
        rustix::process::kill_process(pid, signal).expect("signal teamotp");
    }

    /// Waits for the whole run to end (teamotp, then the script) and collects how it ended.
    fn finish(mut self) -> Finished {
        self.term.wait_for_end(TIMEOUT, |term| {
            format!("screen:\n{}", term.screen().contents())
        });
        match self.term.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, 0) => {}
            other => panic!(
                "the script failed: {other:?}; screen:\n{}",
                self.screen().contents()
            ),
        }
        let screen = self.screen().contents();
        let status = screen
            .lines()
            .find_map(|line| line.trim().strip_prefix("status="))
            .and_then(|s| s.parse().ok());
        let read = |name: &str| {
            std::fs::read_to_string(self.path(name))
                .unwrap_or_else(|e| panic!("{name}: {e}; screen:\n{screen}"))
        };
        Finished {
            status,
            before: read("before"),
            after: read("after"),
            alternate_screen: self.screen().alternate_screen(),
            hide_cursor: self.screen().hide_cursor(),
            screen,
        }
    }
}

/// The terminal is exactly as it was before teamotp started.
fn assert_restored(end: &Finished) {
    assert!(!end.before.trim().is_empty(), "{end:?}");
    assert_eq!(
        end.before, end.after,
        "terminal modes not restored: {end:?}"
    );
    assert!(
        !end.alternate_screen,
        "still on the alternate screen: {end:?}"
    );
    assert!(!end.hide_cursor, "cursor still hidden: {end:?}");
}

/// The header line (the first line naming the `Account` column).
fn header(screen: &vt100::Screen) -> Option<String> {
    lines(screen).into_iter().find(|l| l.contains("Account"))
}

// Screens are checked only inside `wait_for`: a frame may arrive in pieces, so what is on the screen
// right after one condition held may still be half drawn.

#[test]
fn shows_every_accounts_previous_current_and_next_codes() {
    let accounts = expected_demo();
    // Grouped for reading: 6 digits as `123 456`, 8 as `1234 5678`, Steam's 5 letters together.
    assert!(accounts.iter().any(|a| group(&a.curr).len() == 7));
    assert!(accounts.iter().any(|a| group(&a.curr).len() == 9));
    assert!(accounts.iter().any(|a| group(&a.curr).len() == 5));
    let mut pty = Pty::start(24, 100, &DEMO);
    pty.wait_for(
        "the three code columns and every account's codes",
        |screen| {
            header(screen).is_some_and(|h| {
                ["Account", "Previous", "Current", "Next"]
                    .iter()
                    .all(|column| h.contains(column))
            }) && accounts.iter().all(|a| shows_all_codes(screen, a))
                && row_of(screen, "홈택스 법인").is_some()
        },
    );
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
}

#[test]
fn slash_filters_as_you_type_and_esc_clears() {
    let accounts = expected_demo();
    let (rfc, others): (Vec<_>, Vec<_>) = accounts
        .iter()
        .cloned()
        .partition(|a| a.name.starts_with("RFC 6238"));
    assert_eq!(rfc.len(), 3);
    let mut pty = Pty::start(24, 100, &DEMO);
    pty.wait_for_table(&accounts);

    pty.send(b"/");
    pty.wait_for("the filter input", |screen| {
        lines(screen).last().is_some_and(|l| l.contains("/▏"))
    });
    pty.send(b"rfc");
    pty.wait_for("only the RFC 6238 rows", |screen| {
        let text = screen.contents();
        rfc.iter().all(|a| shows_all_codes(screen, a))
            && others.iter().all(|a| !text.contains(&a.name))
            && lines(screen).last().is_some_and(|l| l.contains("/rfc▏"))
    });

    pty.send(b"\x1b");
    pty.wait_for("every row back and the filter gone", |screen| {
        accounts.iter().all(|a| shows_all_codes(screen, a))
            && lines(screen)
                .last()
                .is_some_and(|l| l.contains("q quit") && !l.contains("/rfc"))
    });

    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
    assert_restored(&end);
}

#[test]
fn q_exits_0_and_restores_the_terminal() {
    let accounts = expected_demo();
    let mut pty = Pty::start(24, 100, &DEMO);
    pty.wait_for_table(&accounts);
    pty.wait_for("the cursor hidden", vt100::Screen::hide_cursor);
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
    assert_restored(&end);
    assert!(
        !end.screen.contains("Account"),
        "the table is gone with the alternate screen:\n{}",
        end.screen
    );
}

#[test]
fn sigterm_exits_143_and_restores_the_terminal() {
    let accounts = expected_demo();
    let mut pty = Pty::start(24, 100, &DEMO);
    pty.wait_for_table(&accounts);
    pty.signal(rustix::process::Signal::TERM);
    let end = pty.finish();
    assert_eq!(end.status, Some(143), "{end:?}");
    assert_restored(&end);
}

#[test]
fn h_hides_the_codes_of_unselected_rows() {
    let accounts = expected_demo();
    let (selected, others) = accounts.split_first().unwrap();
    let mut pty = Pty::start(24, 100, &DEMO);
    pty.wait_for_table(&accounts);
    pty.wait_for("codes shown", |screen| {
        accounts.iter().all(|a| shows_all_codes(screen, a))
    });

    pty.send(b"h");
    pty.wait_for("codes hidden but the selected row's", |screen| {
        shows_all_codes(screen, selected) && others.iter().all(|a| shows_masks_only(screen, a))
    });

    pty.send(b"h");
    pty.wait_for("codes shown again", |screen| {
        accounts.iter().all(|a| shows_all_codes(screen, a))
    });

    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
}

#[test]
fn hide_flag_starts_with_codes_hidden() {
    let accounts = expected_demo();
    let (selected, others) = accounts.split_first().unwrap();
    let args: Vec<&str> = DEMO.iter().copied().chain(["--hide"]).collect();
    let mut pty = Pty::start(24, 100, &args);
    pty.wait_for_table(&accounts);
    pty.wait_for("codes hidden but the selected row's", |screen| {
        shows_all_codes(screen, selected) && others.iter().all(|a| shows_masks_only(screen, a))
    });

    pty.send(b"h");
    pty.wait_for("codes shown", |screen| {
        accounts.iter().all(|a| shows_all_codes(screen, a))
    });

    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
}

#[test]
fn narrow_terminal_drops_previous_and_next() {
    let accounts = expected_demo();
    let mut pty = Pty::start(24, 40, &DEMO);
    pty.wait_for(
        "names and current codes, without previous and next",
        |screen| {
            header(screen).is_some_and(|h| {
                h.contains("Current") && !h.contains("Previous") && !h.contains("Next")
            }) && accounts.iter().all(|a| {
                row_of(screen, &a.name).is_some_and(|row| {
                    let bare = without_spaces(&row);
                    row.contains(&group(&a.curr))
                        && !bare.contains(&a.prev)
                        && !bare.contains(&a.next)
                })
            })
        },
    );
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
    assert_restored(&end);
}

#[test]
fn tiny_terminal_says_it_is_too_small() {
    let mut pty = Pty::start(4, 20, &DEMO);
    pty.wait_for("'terminal too small'", |screen| {
        screen.alternate_screen() && screen.contents().contains("terminal too small")
    });
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
    assert_restored(&end);
}

// ---- several vaults, live reload (issue 13) ----

/// Two encrypted vaults, `infra/v.age` (AWS) and `finance/v.age` (Bank), made by teamotp with the fixture
/// key, and a config naming them (under `config/`, for `XDG_CONFIG_HOME`).
struct Vaults {
    dir: TempDir,
}

impl Vaults {
    fn new() -> Vaults {
        let dir = TempDir::new().unwrap();
        let key = dir.path().join("key.txt");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/age/x25519.key"),
            &key,
        )
        .unwrap();
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let vaults = Vaults { dir };
        for (name, account) in [("infra", "AWS"), ("finance", "Bank")] {
            std::fs::create_dir(vaults.path(name)).unwrap();
            vaults.teamotp(name, &["init"], "");
            vaults.teamotp(name, &["add", account], "JBSWY3DPEHPK3PXP\n");
        }
        std::fs::create_dir_all(vaults.path("config/teamotp")).unwrap();
        std::fs::write(
            vaults.path("config/teamotp/config.toml"),
            format!(
                "[vaults.infra]\nfile = \"{}\"\nidentity = [\"{}\"]\n[vaults.finance]\nfile = \"{}\"\nidentity = [\"{}\"]\n",
                vaults.path("infra/v.age").display(),
                key.display(),
                vaults.path("finance/v.age").display(),
                key.display()
            ),
        )
        .unwrap();
        vaults
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `teamotp -i key -f NAME/v.age ARGS` with `stdin`, no terminal; it must succeed.
    fn teamotp(&self, name: &str, args: &[&str], stdin: &str) {
        use std::io::Write;
        let mut child = std::process::Command::new(support::setsid())
            .env_clear()
            .env("HOME", self.path("home"))
            .arg("-w")
            .arg(BIN)
            .arg("-i")
            .arg(self.path("key.txt"))
            .arg("-f")
            .arg(self.path(&format!("{name}/v.age")))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "teamotp {args:?}: {output:?}");
    }

    fn start(&self) -> Pty {
        Pty::start_with(
            24,
            100,
            &["--at", AT],
            &[("XDG_CONFIG_HOME", &self.path("config"))],
        )
    }
}

#[test]
fn two_vaults_are_grouped_under_their_names() {
    let vaults = Vaults::new();
    let mut pty = vaults.start();
    pty.wait_for("both vaults grouped", |screen| {
        let lines = lines(screen);
        let at = |text: &str| lines.iter().position(|l| l.trim_end() == text);
        lines[0].contains("teamotp · finance, infra · 2 accounts")
            && matches!(
                (at(" finance"), row_of(screen, "Bank"), at(" infra"), row_of(screen, "AWS")),
                (Some(f), Some(_), Some(i), Some(_)) if f < i
            )
    });
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
}

#[test]
fn a_vault_replaced_on_disk_is_reloaded_without_a_key_press() {
    let vaults = Vaults::new();
    let mut pty = vaults.start();
    pty.wait_for("the table", |screen| row_of(screen, "AWS").is_some());
    // Another terminal's write: a new file renamed over the vault.
    vaults.teamotp(
        "infra",
        &["add", "GitHub"],
        "KRUGS4ZANFZSAYJAMRSW233TMVRXEZLU\n",
    );
    pty.wait_for("the new account and the reload message", |screen| {
        row_of(screen, "GitHub").is_some()
            && screen
                .contents()
                .contains("infra: reloaded, +1 -0 accounts")
    });
    // A broken replacement: the old view stays, and the message says why.
    let broken = vaults.path("infra/.broken");
    std::fs::write(&broken, "age-encryption.org/v1\n-> X25519 broken\n").unwrap();
    std::fs::rename(&broken, vaults.path("infra/v.age")).unwrap();
    pty.wait_for("the failed reload's message", |screen| {
        screen.contents().contains("infra: reload failed")
    });
    pty.wait_for("the accounts read before", |screen| {
        row_of(screen, "GitHub").is_some() && row_of(screen, "AWS").is_some()
    });
    pty.send(b"q");
    let end = pty.finish();
    assert_eq!(end.status, Some(0), "{end:?}");
    assert_restored(&end);
}
