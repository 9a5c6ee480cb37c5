//! Standard output and standard error for every command. std's `print!`, `println!` and `eprintln!`
//! panic when their stream is a closed pipe (`scalelab sim ... | head -1`), since Rust ignores
//! SIGPIPE so that a write to a closed socket returns an error instead of killing the process.
//! Restoring SIGPIPE would let a load-test peer that closes its connection kill scalelab, so these
//! macros, declared before the commands' modules, shadow std's in all of them. A closed stdout ends
//! the process at once, quietly, with the status a shell reports for `cat` or `grep` ended by
//! SIGPIPE (141), so that a `set -o pipefail` script does not take a cut-short command (a `compare
//! --fail-if` gate) for a pass; any other stdout error still panics, as std's does. Standard error
//! carries only diagnostics: when it cannot be written (closed, a full disk) they are lost and the
//! command goes on, its results and exit code unchanged.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// The exit status of a process ended by SIGPIPE, as shells report it: 128 + 13.
pub const BROKEN_PIPE_STATUS: i32 = 141;

/// Writes to stdout; exits with [`BROKEN_PIPE_STATUS`] if its reader is gone.
pub fn print(args: Arguments<'_>) {
    if let Err(error) = std::io::stdout().lock().write_fmt(args) {
        if error.kind() == ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        panic!("failed printing to stdout: {error}");
    }
}

/// Writes to stderr; an error is ignored (see the module's comment).
pub fn eprint(args: Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::print(format_args!($($arg)*))
    };
}

macro_rules! println {
    () => {
        $crate::output::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! eprintln {
    () => {
        $crate::output::eprint(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::eprint(format_args!("{}\n", format_args!($($arg)*)))
    };
}
