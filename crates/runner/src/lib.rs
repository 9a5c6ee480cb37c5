//! A run of a plan from start to verdict, shared by `run`, `quick`, `demo` and `cluster --plan`:
//! aim the plan (at the embedded stress service when it names no target), run it with a live view,
//! write its results and report, and decide the verdict and its exit code.
//!
//! The command line only turns its flags into [`Settings`], prints the [`Finished`] run and exits
//! with [`Verdict::exit_code`].

mod console;
mod outputs;
mod run;
mod verdict;

pub use outputs::{check_writable_dir, check_writable_file, write_junit};
pub use run::{Finished, Part, RunError, Settings, run};
pub use verdict::{Verdict, exit};
