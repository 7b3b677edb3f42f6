//! Process hardening before any secret is in memory.

/// Makes the process non-dumpable (no core dumps, no ptrace by other unprivileged processes, /proc/PID
/// files owned by root) and sets the core size limit to 0. Best effort: failures are ignored, since a
/// platform without these controls must still be able to show codes.
pub fn harden() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
        let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
}
