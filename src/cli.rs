//! The command line: clap definitions only, over the core's value types (`output::Format`,
//! `import::Format`, `document::Changes`); nothing here imports `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::{ExportFormat, Format};
use crate::vault::document::Changes;

/// Shared TOTP codes for teams: an age-encrypted secrets file, a live TUI, and commands for scripts.
#[derive(Debug, Parser)]
#[command(
    name = "teamotp",
    version,
    about,
    after_help = "With no command, teamotp opens the TUI when stdout is a terminal, and runs 'list' otherwise.\n\
                  Exit codes: 0 success, 1 nothing found (or 'check' found problems), 2 error.\n\
                  Environment: TEAMOTP_FILE (vault path), TEAMOTP_IDENTITY (identity path), NO_COLOR,\n\
                  TEAMOTP_AGENT_SOCK (agent socket), TEAMOTP_NO_AGENT=1 (do not ask the agent).\n\
                  Config: $XDG_CONFIG_HOME/teamotp/config.toml names vaults (docs/config.md)."
)]
pub struct Cli {
    /// The vault (default: $TEAMOTP_FILE, else --vault, the vault of this directory or git work tree, the
    /// config's default, else $XDG_CONFIG_HOME/teamotp/secrets.csv.age)
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

    /// When to use colours in the TUI (not global: no other command draws in colour)
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: Color,

    /// Start the TUI with codes hidden (only the selected row shows its codes)
    #[arg(long)]
    pub hide: bool,

    /// The vault named NAME in the config (docs/config.md)
    #[arg(long, value_name = "NAME", global = true, conflicts_with_all = ["file", "demo"])]
    pub vault: Option<String>,

    /// Show every configured vault (list, code, check and the TUI)
    #[arg(long, global = true, conflicts_with_all = ["file", "demo", "vault"])]
    pub all: bool,

    /// The recipients file (default: .age-recipients in the vault's directory)
    #[arg(long, value_name = "PATH", global = true)]
    pub recipients_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one run (or for help, completions and the
// man page): parsing the command line is a fifth of `teamotp code`'s time, and this saves about 0.05 ms
// of it (docs/performance-history.md).
#[command(defer = true)]
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
        /// Copy the code to the clipboard instead of printing it (cleared when it expires)
        #[arg(long)]
        clip: bool,
    },
    /// Validate the vault and list every problem (exit 1 when there is one) and the accounts to re-enrol
    Check {
        /// Exit 1 when an account waits for re-enrolment too
        #[arg(long)]
        strict: bool,
    },
    /// Create an empty vault and its recipients file
    Init(NewVaultArgs),
    /// Create the vault from a plaintext team CSV or gauth file
    Encrypt {
        /// The plaintext file (it is not changed or removed)
        plaintext: PathBuf,
        #[command(flatten)]
        new: NewVaultArgs,
    },
    /// Add an account; the secret is read hidden from the terminal, or from stdin
    Add {
        /// The account's name (with --uri: defaults to the URI's label)
        name: Option<String>,
        /// Read an otpauth:// URI instead of a bare secret
        #[arg(long)]
        uri: bool,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Remove an account (exact name)
    Rm {
        name: String,
        /// Do not ask for confirmation
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Rename an account
    Rename { old: String, new: String },
    /// Change an account's issuer or parameters, or re-enrol its secret with --secret
    Edit {
        name: String,
        #[command(flatten)]
        params: ParamArgs,
        /// Read a new secret (hidden from the terminal, or from stdin)
        #[arg(long)]
        secret: bool,
    },
    /// Re-enrol an account: read its new secret (hidden from the terminal, or from stdin), show the
    /// current code to confirm at the service, and clear its re-enrolment mark (as edit NAME --secret)
    Rotate { name: String },
    /// List, add or remove the people (recipients) the vault is encrypted to
    Members {
        #[command(subcommand)]
        action: Option<MembersAction>,
    },
    /// Re-encrypt the vault to the current recipients file
    Rekey {
        /// Write even if your own identity cannot open the result; needed to downgrade a post-quantum
        /// vault to classic keys (recorded in the pin)
        #[arg(long)]
        force: bool,
        /// Switch to the post-quantum keys registered in .age-recipients.next, when every member has one
        #[arg(long)]
        post_quantum: bool,
    },
    /// Import accounts from a password manager (Bitwarden, KeePass/KeePassXC, 1Password, Proton Pass,
    /// Keeper, LastPass), an authenticator app (Aegis, 2FAS, andOTP, Ente Auth, Proton Authenticator,
    /// FreeOTP+, Authenticator Pro, Google, LastPass and Bitwarden Authenticator), gauth, an otpauth
    /// list or a QR code image (docs/migrating.md)
    Import {
        /// The file to import (an OPVault: its folder), or - for standard input
        #[arg(value_name = "FILE")]
        input: PathBuf,
        /// The file's format (default: detected)
        #[arg(long, value_name = "FORMAT")]
        format: Option<crate::import::Format>,
        /// Import an account whose name the vault has under a new name (NAME (2))
        #[arg(long, conflicts_with = "replace")]
        rename: bool,
        /// Replace the vault's account of the same name
        #[arg(long)]
        replace: bool,
        /// Read an encrypted export's password from the first line of FILE (default: asked on the
        /// terminal)
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// A KeePass database's key file
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
    },
    /// Write accounts with their secrets in plaintext to stdout (for a new phone or another tool)
    Export {
        /// Keep accounts whose name or issuer contains QUERY
        query: Option<String>,
        #[arg(long, value_name = "FORMAT", default_value = "otpauth")]
        format: ExportFormat,
        /// Confirm that secrets are to be written in plaintext
        #[arg(long)]
        plaintext: bool,
        /// Print even when stdout is a terminal
        #[arg(short = 'y', long)]
        yes: bool,
    },
    /// Show an account as a QR code on the terminal, for enrolling a phone (any key clears it)
    Qr {
        /// Exact account name, or text only one account's name or issuer contains
        query: String,
    },
    /// Set up git's diff and merge drivers for the vault's repository
    GitSetup,
    /// Print a vault as git diff shows it: one line per account, never a secret
    Textconv {
        /// The vault file, or - for standard input (git show :3:PATH | teamotp textconv -)
        #[arg(value_name = "FILE")]
        input: PathBuf,
    },
    /// Owns the clipboard for `code --clip` until UNIX, then clears it (internal; reads the code on stdin)
    #[command(name = "clip-helper", hide = true)]
    ClipHelper {
        #[arg(long, value_name = "UNIX")]
        until: u64,
        /// Load tmux's buffer on the server at SOCKET instead of the system clipboard
        #[arg(long, value_name = "SOCKET")]
        tmux: Option<PathBuf>,
    },
    /// git merge driver: merge three versions of the vault by account name (BASE OURS THEIRS [PATH])
    MergeDriver {
        base: PathBuf,
        ours: PathBuf,
        theirs: PathBuf,
        /// The vault's path in the work tree (git's %P)
        path: Option<PathBuf>,
    },
    /// git merge driver for .age-recipients: merge three versions by key (BASE OURS THEIRS [PATH])
    MergeRecipients {
        base: PathBuf,
        ours: PathBuf,
        theirs: PathBuf,
        /// The file's path in the work tree (git's %P)
        path: Option<PathBuf>,
    },
    /// Unlock your identities (and a passphrase vault's passphrase) once for the session: teamotp asks
    /// each passphrase now, hands the keys to the teamotp agent (started in the background when none
    /// runs), and every command, git diff and merge asks the agent instead of you until it locks
    #[command(
        after_help = "The agent holds age keys, ssh-ed25519 keys, keys from age-encrypted identity \
        files and passphrase vaults' passphrases; ssh-rsa keys and plugin identities stay with teamotp. It \
        answers processes of your own user only. TEAMOTP_NO_AGENT=1 bypasses it for one command. See \
        docs/agent.md."
    )]
    Unlock {
        /// Forget everything DURATION after this unlock (90s, 15m, 8h; at most 366d), counting time asleep
        #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = crate::agent::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Make the agent forget everything and stop (exit 0 also when none runs)
    Lock,
    /// Run the teamotp agent in the foreground (for a systemd --user or launchd unit); at the timeout it
    /// forgets everything and keeps running. 'teamotp agent status' shows what it holds
    Agent {
        #[command(subcommand)]
        action: Option<AgentAction>,
        /// Detach (new session, no terminal) and exit at the timeout: what 'unlock' starts
        #[arg(long, hide = true)]
        background: bool,
    },
    /// Print account names for shell completion (never prompts; prints nothing it cannot read)
    #[command(name = "__complete-names", hide = true)]
    CompleteNames,
    /// Write a new identity (0600, never overwriting) and print its public key for the vault admin
    Keygen {
        /// A post-quantum identity (AGE-SECRET-KEY-PQ-1..., recipient age1pq1...)
        #[arg(long)]
        pq: bool,
        /// Where to write it (default: $XDG_CONFIG_HOME/teamotp/identity.txt)
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the public key of every identity teamotp would use (one a line; which file each comes from on
    /// stderr)
    Whoami,
    /// Who can read what: the vaults (every configured one, and this folder's) where KEY, or the members
    /// labelled LABEL, are recipients now, since when, and which current secrets they could ever read
    /// (from git history)
    Access {
        /// A recipient key, or a member's label (the keys that carry it now)
        who: String,
    },
    /// Access review of the chosen vault(s): per account, when its current secret was set, every key
    /// that could read it and until when, and who was removed without a rotation (exit 1 then)
    Audit {
        /// Only readers who could read a current secret on or after DATE (YYYY-MM-DD, RFC 3339 or Unix
        /// seconds)
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        since: Option<u64>,
        /// Output format (column names in docs/team-sharing.md)
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add an existing vault (-f PATH, or the one found from here) to the config under NAME
    Register {
        /// The vault's name in the config (then: --vault NAME)
        name: String,
    },
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write every command's page into a directory
    Man {
        /// Write teamotp.1 and a page for every command (teamotp-code.1, teamotp-members-add.1, ...)
        /// into DIR, and print their paths
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AgentAction {
    /// Whether an agent runs, its pid, what it holds and when it locks (exit 0 when it holds something,
    /// 1 otherwise)
    Status,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum MembersAction {
    /// List the recipients with their comments
    List,
    /// Add a recipient (age1..., age1pq1..., age1tag1..., ssh-ed25519 or ssh-rsa key) and re-encrypt the
    /// vault; with --next, register a post-quantum key for the switch instead
    Add {
        recipient: String,
        /// Who it is (written as a comment above the key)
        #[arg(long, value_name = "LABEL")]
        name: Option<String>,
        /// Write even if your own identity cannot open the result
        #[arg(long, conflicts_with = "next")]
        force: bool,
        /// Register a post-quantum key in .age-recipients.next (nothing is encrypted to it before
        /// 'teamotp rekey --post-quantum')
        #[arg(long)]
        next: bool,
        /// With --next: the current member (name or key) whose access this key takes over
        #[arg(long, value_name = "NAME-OR-KEY", requires = "next")]
        replaces: Option<String>,
    },
    /// Remove a recipient (by the name in its comment, or its key) and re-encrypt the vault
    Rm {
        #[arg(value_name = "NAME-OR-KEY")]
        who: String,
        /// Do not ask for confirmation
        #[arg(short = 'y', long)]
        yes: bool,
        /// Write even if your own identity cannot open the result
        #[arg(long)]
        force: bool,
    },
    /// Show the recipients (how the file changed since your last write, or all of them when none were
    /// accepted on this machine yet) and the file's fingerprint, and accept them
    Ack {
        /// Accept without asking (the review is still printed)
        #[arg(short = 'y', long)]
        yes: bool,
        /// Accept only if the recipients file's fingerprint is FINGERPRINT (SHA256:hex or hex, as the
        /// review shows it); no terminal needed
        #[arg(long, value_name = "FINGERPRINT", conflicts_with = "yes")]
        expect: Option<String>,
        /// Review and accept .age-recipients.next (the post-quantum keys of the switch) instead
        #[arg(long)]
        next: bool,
    },
}

// How a new vault is protected (`init`, `encrypt`). A plain comment, not a doc comment: a flattened
// struct's doc comment would become the about text of every command that flattens it (issue 21).
#[derive(Debug, Args)]
pub struct NewVaultArgs {
    /// A recipient: age1..., ssh-ed25519 or ssh-rsa public key (repeatable; default: your own key)
    #[arg(short = 'r', long = "recipient", value_name = "RECIPIENT")]
    pub recipients: Vec<String>,
    /// A file of recipients, one per line, e.g. a GitHub .keys file (repeatable)
    #[arg(short = 'R', long = "recipients-from", value_name = "FILE")]
    pub recipient_files: Vec<PathBuf>,
    /// Encrypt with a passphrase (asked twice on the terminal) instead of recipients
    #[arg(long, conflicts_with_all = ["recipients", "recipient_files"])]
    pub passphrase: bool,
    /// Write even if your own identity cannot open the result
    #[arg(long)]
    pub force: bool,
    /// Encrypt to an existing recipients file this machine has not accepted, without asking (its keys are
    /// still shown)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// The label of your own key in the recipients file (default: an SSH key's comment, or $USER)
    #[arg(long, value_name = "LABEL")]
    pub name: Option<String>,
    /// Add the new vault to the config under NAME (docs/config.md)
    #[arg(long, value_name = "NAME")]
    pub register: Option<String>,
}

// Account parameters for add and edit (a plain comment: see NewVaultArgs).
#[derive(Debug, Args)]
pub struct ParamArgs {
    /// The service (shown beside the name)
    #[arg(long)]
    pub issuer: Option<String>,
    /// Code length: 6, 7 or 8
    #[arg(long, value_parser = |s: &str| crate::account::parse_digits(s).map_err(|e| e.to_string()))]
    pub digits: Option<u8>,
    /// Seconds each code is valid
    #[arg(long, value_parser = |s: &str| crate::account::parse_period(s).map_err(|e| e.to_string()))]
    pub period: Option<u64>,
    /// SHA1, SHA256 or SHA512
    #[arg(long, value_parser = |s: &str| crate::account::parse_algorithm(s).map_err(|e| e.to_string()))]
    pub algorithm: Option<crate::account::Algorithm>,
    /// totp, or steam for Steam Guard codes
    #[arg(long = "type", value_name = "TYPE", value_parser = |s: &str| crate::account::parse_kind(s).map_err(|e| e.to_string()))]
    pub kind: Option<crate::account::Kind>,
}

impl From<&ParamArgs> for Changes {
    fn from(p: &ParamArgs) -> Self {
        Changes {
            issuer: p.issuer.clone(),
            digits: p.digits,
            period: p.period,
            algorithm: p.algorithm,
            kind: p.kind,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `--since`: a date (YYYY-MM-DD, the start of that day UTC), an RFC 3339 time or Unix seconds.
fn parse_date(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.len() == 10 && text.as_bytes().get(4) == Some(&b'-') {
        return crate::time::parse(&format!("{text}T00:00:00Z"));
    }
    crate::time::parse(text)
}
