//! Reading inputs.

use std::path::Path;

use anyhow::Context;
use scalelab_metrics::output::write_atomic;

/// The text of `path`; errors say which input it was.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    scalelab_config::read_text_bounded(path, scalelab_config::MAX_CONFIG_BYTES)
        .with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Writes `bytes` to `path` (to a temporary name, then renamed) and returns how to name it: the path,
/// with "(replaced the previous one)" when a file of that name was there, since the default names
/// (`results/sim-timeline.csv`) would otherwise take the last run's results away unseen.
pub fn write_result(path: &Path, bytes: &[u8]) -> anyhow::Result<String> {
    let replaced = path.is_file();
    write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(if replaced {
        format!("{} (replaced the previous one)", path.display())
    } else {
        path.display().to_string()
    })
}
