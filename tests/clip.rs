//! `teamotp code NAME --clip` with a real X11 clipboard: an Xvfb server on a free display, `xclip` reading
//! the CLIPBOARD selection from outside. Skipped (with the reason printed) when Xvfb or xclip is missing
//! (`apt-get install -y xvfb xclip`, as .ci/run does).

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{BIN, Sandbox, find_program};

/// An Xvfb server on a display nobody uses, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start(program: &Path) -> Xvfb {
        for n in 120..200 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let child = Command::new(program)
                .args([
                    &format!(":{n}"),
                    "-nolisten",
                    "tcp",
                    "-screen",
                    "0",
                    "640x480x24",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Xvfb");
            let mut xvfb = Xvfb {
                child,
                display: format!(":{n}"),
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return xvfb;
                }
                if xvfb.child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = xvfb.child.kill();
        }
        panic!("no free display for Xvfb");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the CLIPBOARD selection holds ("" when nothing owns it).
fn clipboard(xclip: &Path, display: &str) -> String {
    let out = Command::new(xclip)
        .env_clear()
        .env("DISPLAY", display)
        .args(["-selection", "clipboard", "-o"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sets the CLIPBOARD selection as the user would (xclip stays in the background to own it).
fn user_copies(xclip: &Path, display: &str, text: &str) {
    use std::io::Write;
    let mut child = Command::new(xclip)
        .env_clear()
        .env("DISPLAY", display)
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait().unwrap();
}

/// Every process's command line: the code must be in none of them (it goes through a pipe).
fn command_lines() -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
            all.push_str(&String::from_utf8_lossy(&bytes).replace('\0', " "));
            all.push('\n');
        }
    }
    all
}

/// Runs `teamotp --at AT -f vault.csv code fast [--clip]` on `display` with no terminal.
fn code(sandbox: &Sandbox, display: &str, at: &str, clip: bool) -> support::Out {
    let mut command = Command::new(support::setsid());
    command
        .env_clear()
        .env("HOME", sandbox.home())
        .env("DISPLAY", display)
        .current_dir(sandbox.root())
        .args(["-w", BIN, "--at", at, "-f", "vault.csv", "code", "fast"]);
    if clip {
        command.arg("--clip");
    }
    support::execute(command, b"")
}

/// Regression (issue 14): there was no `code --clip`. The code goes to the system clipboard instead of
/// stdout, a detached helper keeps owning it (X11 drops a selection when its owner exits), and clears it
/// when the code expires, but only while it still holds the code.
#[test]
fn code_clip_copies_to_the_system_clipboard_and_clears_it_when_the_code_expires() {
    let (Some(xvfb), Some(xclip)) = (find_program("Xvfb"), find_program("xclip")) else {
        println!("skipped: Xvfb or xclip not installed (apt-get install -y xvfb xclip)");
        return;
    };
    let server = Xvfb::start(&xvfb);
    let display = server.display.as_str();
    let sandbox = Sandbox::new("teamotp-clip-");
    sandbox.write("vault.csv", "name,secret\nfast,JBSWY3DPEHPK3PXP\n");
    support::set_mode(&sandbox.path("vault.csv"), 0o600);

    // 1700000034: 6 s left of the 30 s period.
    let printed = code(&sandbox, display, "1700000034", false);
    assert_eq!(printed.code, 0, "{printed:?}");
    let expected = printed.stdout.trim().to_owned();
    let start = Instant::now();
    let copied = code(&sandbox, display, "1700000034", true);
    assert_eq!(copied.code, 0, "{copied:?}");
    assert_eq!(copied.stdout, "", "the code is not printed");
    assert!(copied.stderr.contains("system clipboard"), "{copied:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "code --clip waited for the helper: {:?}",
        start.elapsed()
    );
    // teamotp has exited: the helper owns the selection.
    assert_eq!(clipboard(&xclip, display), expected);
    assert!(
        !command_lines().contains(&expected),
        "the code is on a command line"
    );
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        clipboard(&xclip, display),
        "",
        "cleared when the code expired"
    );

    // Something the user copied since is left alone.
    let copied = code(&sandbox, display, "1700000037", true);
    assert_eq!(copied.code, 0, "{copied:?}");
    assert_eq!(clipboard(&xclip, display), expected);
    user_copies(&xclip, display, "the user's text");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(clipboard(&xclip, display), "the user's text");
}
