//! The public demo vault and its key, embedded for `--demo`.
//!
//! PUBLIC TEST DATA: the secrets in `demo.csv` and the key in `demo-identity.txt` are published in the
//! repository. `demo.csv.age` was made from `demo.csv` with the Go `age` CLI by `make.sh`.

/// The demo vault, age-encrypted to the demo identity.
pub const VAULT: &[u8] = include_bytes!("demo.csv.age");

/// The demo identity (an age X25519 key). Public: it protects nothing.
pub const IDENTITY: &[u8] = include_bytes!("demo-identity.txt");

/// How the demo vault is named in messages.
pub const LABEL: &str = "demo vault";
