//! Reading inputs.

use std::path::Path;

use anyhow::Context;

/// The text of `path`; errors say which input it was.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}
