//! Errors written for the person reading them: a message, then what to do.

use std::fmt;

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

/// Writes an error the way users see it: `teamotp: error: ...` and `teamotp: hint: ...` lines.
pub fn report(error: &anyhow::Error, out: &mut dyn std::io::Write) -> u8 {
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
