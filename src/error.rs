//! Errors written for the person reading them: a message, then what to do.

use std::fmt;
use std::io::Write;

use crate::text::TerminalText;

/// An error with hints (`teamotp: hint: ...` lines) and its exit code (2 unless said otherwise).
#[derive(Debug)]
pub struct UserError {
    pub message: String,
    pub hints: Vec<String>,
    pub code: u8,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hints: Vec::new(),
            code: 2,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Reports a usage error from clap in teamotp's own style: `teamotp: error: ...`, then clap's tips,
/// the usage line and the pointer to `--help` as `teamotp: hint: ...` lines. Returns clap's exit code (2).
pub fn usage(error: &clap::Error, out: &mut dyn Write) -> u8 {
    let out = &mut TerminalText::new(out);
    let text = error.render().to_string();
    let mut sections = text.split("\n\n");
    let mut message = String::new();
    let mut hints = Vec::new();
    for line in sections.next().unwrap_or_default().lines() {
        let line = line.trim();
        if let Some(first) = line.strip_prefix("error: ") {
            message = first.to_owned();
        } else if let Some(values) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            hints.push(values.to_owned());
        } else if !line.is_empty() {
            message.push_str(if message.ends_with(':') { " " } else { ", " });
            message.push_str(line);
        }
    }
    for section in sections {
        for line in section.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let hint = if let Some(tip) = line.strip_prefix("tip: ") {
                tip.to_owned()
            } else if let Some(usage) = line.strip_prefix("Usage: ") {
                format!("usage: {usage}")
            } else if let Some(more) = line.strip_prefix("For more information, try ") {
                format!("for more information, try {}", more.trim_end_matches('.'))
            } else {
                line.to_owned()
            };
            hints.push(hint);
        }
    }
    let _ = writeln!(out, "teamotp: error: {message}");
    for hint in hints {
        let _ = writeln!(out, "teamotp: hint: {hint}");
    }
    u8::try_from(error.exit_code()).unwrap_or(2)
}

/// Writes an error the way users see it: `teamotp: error: ...` and `teamotp: hint: ...` lines, through
/// [`TerminalText`] (a message quotes names and lines from files others write: nothing in them reaches the
/// terminal raw).
pub fn report(error: &anyhow::Error, out: &mut dyn Write) -> u8 {
    let out = &mut TerminalText::new(out);
    if let Some(user) = error.downcast_ref::<UserError>() {
        // Exit 1 means "nothing found": worth saying, but not an error.
        let kind = if user.code == 1 { "" } else { "error: " };
        let _ = writeln!(out, "teamotp: {kind}{}", user.message);
        for hint in &user.hints {
            let _ = writeln!(out, "teamotp: hint: {hint}");
        }
        return user.code;
    }
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    let _ = writeln!(out, "teamotp: error: {}", chain.join(": "));
    2
}

/// True when the error is a closed stdout (`teamotp list | head -1`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes command output to stdout. A closed pipe (`teamotp ... | head -1`) is not an error.
pub fn write_data(out: &mut dyn std::io::Write, bytes: &[u8]) -> Result<(), UserError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(UserError::new(format!("cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names, labels, lines and paths as a hostile teammate writes them.
    const HOSTILE: [&str; 6] = [
        "Evil\u{1b}[2A\u{1b}[?7l",
        "\u{1b}]52;c;SGVsbG8=\u{7}",
        "C1\u{9b}31m\u{85}",
        "\u{202e}gro.kab\u{2066}",
        "a\u{200b}b\u{feff}\u{ad}\u{e0041}",
        "tab\there\rcr\u{7f}",
    ];

    fn reported(error: anyhow::Error) -> String {
        let mut bytes = Vec::new();
        report(&error, &mut bytes);
        String::from_utf8(bytes).unwrap()
    }

    #[track_caller]
    fn assert_safe(text: &str) {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && crate::text::is_unsafe(c))
            .collect();
        assert!(bad.is_empty(), "{bad:?} in {text:?}");
    }

    #[test]
    fn report_escapes_hostile_text_in_messages_hints_and_causes() {
        for hostile in HOSTILE {
            let user = UserError::new(format!("no account is named '{hostile}'\n    '{hostile}'"))
                .hint(format!("did you mean '{hostile}'?"));
            let text = reported(user.into());
            assert_safe(&text);
            let shown = crate::text::printable(hostile);
            assert_eq!(
                text,
                format!(
                    "teamotp: error: no account is named '{shown}'\n    '{shown}'\n\
                     teamotp: hint: did you mean '{shown}'?\n"
                )
            );
            let chained =
                anyhow::anyhow!("cannot read '{hostile}'").context(format!("{hostile}:1"));
            let text = reported(chained);
            assert_safe(&text);
            assert_eq!(
                text,
                format!("teamotp: error: {shown}:1: cannot read '{shown}'\n")
            );
        }
    }
}
