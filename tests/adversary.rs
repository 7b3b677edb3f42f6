//! Attacks by a hostile (or careless) teammate with write access to the shared folder or repository, one
//! test per attack (issue 9 and docs/security.md "A hostile teammate"). Each test first reproduced the
//! attack against the code before the fix; it now proves the attack fails.

mod support;

#[path = "adversary/agent.rs"]
mod agent;
#[path = "adversary/discovery.rs"]
mod discovery;
#[path = "adversary/files.rs"]
mod files;
#[path = "adversary/header.rs"]
mod header;
#[path = "adversary/history.rs"]
mod history;
#[path = "adversary/keys.rs"]
mod keys;
#[path = "adversary/limits.rs"]
mod limits;
#[path = "adversary/links.rs"]
mod links;
#[path = "adversary/pinning.rs"]
mod pinning;
#[path = "adversary/stdout.rs"]
mod stdout;
#[path = "adversary/text.rs"]
mod text;
