//! Standard output for every command. std's `print!` and `println!` panic when stdout is closed
//! (`scalelab sim ... | head -1`), since Rust ignores SIGPIPE so that a write to a closed socket
//! returns an error instead of killing the process. Restoring SIGPIPE would let a load-test peer that
//! closes its connection kill scalelab, so these two macros, declared before the commands' modules,
//! shadow std's in all of them: a closed stdout ends the process at once, quietly and successfully,
//! as it ends `cat` or `grep`; any other write error still panics, as std's does.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// Writes to stdout; exits with status 0 if its reader is gone.
pub fn print(args: Arguments<'_>) {
    if let Err(error) = std::io::stdout().lock().write_fmt(args) {
        if error.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("failed printing to stdout: {error}");
    }
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
