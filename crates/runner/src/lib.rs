//! A run of a plan from start to verdict, shared by `run`, `quick`, `demo` and `cluster --plan`:
//! aim the plan (at the embedded stress service when it names no target), run it with a live view,
//! write its results and report, and decide the verdict and its exit code.
//!
//! The command line only turns its flags into [`Settings`], prints the [`Finished`] run and exits
//! with [`Verdict::exit_code`].

/// Diagnostics on stderr that never panic: std's `eprintln!` panics when stderr is a closed pipe,
/// and a closed stderr should lose the messages, not the run. Declared before the modules, it
/// shadows std's in all of them.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod console;
mod outputs;
mod run;
mod verdict;

pub use outputs::{check_writable_dir, check_writable_file, write_junit};
pub use run::{Finished, Part, RunError, Settings, run};
pub use verdict::{Verdict, exit};
