//! Tests that hold many connections at once need more file descriptors than the usual soft limit
//! of 1,024. Shared by the stress service's and the cluster's tests (included by path).

use std::io::Write;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises this process's soft limit of open files to `needed` when the hard limit allows it and
/// returns true; otherwise says on the test output that `test` is skipped, and why, and returns false.
pub fn raise_to(needed: u64, test: &str) -> bool {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("the limit of open files");
    if soft >= needed {
        return true;
    }
    if hard >= needed {
        setrlimit(Resource::RLIMIT_NOFILE, needed, hard).expect("a soft limit within the hard one");
        return true;
    }
    // Past the test harness's capture of `eprintln!`, so that `cargo test` shows it.
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: it needs {needed} open files and the hard limit is {hard} (ulimit -Hn)"
    );
    false
}
