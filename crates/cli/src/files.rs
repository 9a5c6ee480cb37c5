//! Reading inputs, and checking before a run that its outputs can be written.

use std::path::Path;

use anyhow::Context;
use scalelab_metrics::output::write_atomic;

/// The text of `path`; errors say which input it was.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Creates `dir` if needed and proves a file can be created in it, so a run learns before it starts
/// that it could not write its results; the error says why (permission, a file in the way, …).
pub fn check_writable_dir(dir: &Path) -> anyhow::Result<()> {
    if let Some(existing) = dir.ancestors().find(|a| a.exists())
        && !existing.is_dir()
    {
        anyhow::bail!("{} is a file, not a directory", existing.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let probe = dir.join(format!(".scalelab-probe.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot clean up {}", probe.display()))
}

/// Proves `path` can be written later: not a directory, and its directory writable (created if
/// needed).
pub fn check_writable_file(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!("{} is a directory, not a file", path.display());
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    check_writable_dir(dir)
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
