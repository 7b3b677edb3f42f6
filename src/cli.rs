//! The command line (clap definitions only).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Shared TOTP codes for teams: an age-encrypted secrets file, a live TUI, and commands for scripts.
#[derive(Debug, Parser)]
#[command(
    name = "teamotp",
    version,
    about,
    after_help = "With no command, teamotp opens the TUI when stdout is a terminal, and runs 'list' otherwise.\n\
                  Exit codes: 0 success, 1 nothing found (or 'check' found problems), 2 error.\n\
                  Environment: TEAMOTP_FILE (vault path), TEAMOTP_IDENTITY (identity path), NO_COLOR."
)]
pub struct Cli {
    /// The vault (default: $TEAMOTP_FILE, else $XDG_CONFIG_HOME/teamotp/secrets.csv.age)
    #[arg(short = 'f', long = "file", value_name = "PATH", global = true)]
    pub file: Option<PathBuf>,

    /// An identity file: age key, OpenSSH private key, or age-encrypted identity (repeatable)
    #[arg(short = 'i', long = "identity", value_name = "PATH", global = true)]
    pub identity: Vec<PathBuf>,

    /// Use the embedded demo vault and its public demo key
    #[arg(long, global = true, conflicts_with_all = ["file", "identity"])]
    pub demo: bool,

    /// Compute codes at TIME instead of now: Unix seconds or RFC 3339 (2023-11-14T22:13:20Z)
    #[arg(long, value_name = "TIME", global = true, value_parser = crate::time::parse)]
    pub at: Option<u64>,

    /// When to use colours in the TUI
    #[arg(long, value_name = "WHEN", global = true, default_value = "auto")]
    pub color: Color,

    /// Start the TUI with codes hidden (only the selected row shows its codes)
    #[arg(long, global = true)]
    pub hide: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every account's previous, current and next code
    List {
        /// Keep accounts whose name or issuer contains QUERY (case-insensitive)
        query: Option<String>,
        /// Output format
        #[arg(long, value_name = "FORMAT", default_value = "table")]
        format: Format,
    },
    /// Print the current code of one account
    Code {
        /// Exact account name (case-insensitive), or text that only one account's name or issuer contains
        query: String,
        /// When fewer SECONDS are left, wait for the next code and print that
        #[arg(long, value_name = "SECONDS")]
        min_remaining: Option<u64>,
    },
    /// Validate the vault and list every problem (exit 1 when there is one)
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}
