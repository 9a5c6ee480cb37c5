//! Reading inputs.

use std::path::Path;

use anyhow::Context;

/// The text of `path`; errors say which input it was.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    scalelab_config::read_text_bounded(path, scalelab_config::MAX_CONFIG_BYTES)
        .with_context(|| format!("cannot read {what} {}", path.display()))
}
