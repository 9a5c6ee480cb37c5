//! `scalelab` as a real process, for the CLI tests that read its output.

use std::process::{Command, Output};

/// Runs `scalelab` with `args` to its end.
pub fn scalelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .output()
        .expect("scalelab runs")
}

/// Its standard output, after checking that it succeeded (its stderr otherwise).
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
