//! Reading inputs and writing results: whole files, written under a temporary name and renamed.

use std::path::Path;

use anyhow::Context;

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

/// Prints rows as an aligned table: text left-aligned, numbers right-aligned.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                if cell.parse::<f64>().is_ok() || cell.starts_with('$') {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|w| "-".repeat(*w)).collect());
    for row in rows {
        line(row.clone());
    }
}

/// Dollars with up to four decimals and at least two: `$467.712`, `$227.1744`, `$0.15`.
pub fn usd(amount: f64) -> String {
    let text = format!("{amount:.4}");
    let trimmed = text.trim_end_matches('0');
    let decimals = trimmed.split_once('.').map_or(0, |(_, d)| d.len());
    format!("${trimmed}{}", "0".repeat(2usize.saturating_sub(decimals)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_keep_the_cents_and_the_significant_decimals() {
        assert_eq!(usd(467.712_000_000_000_05), "$467.712");
        assert_eq!(usd(227.1744), "$227.1744");
        assert_eq!(usd(0.15), "$0.15");
        assert_eq!(usd(3.0), "$3.00");
    }
}
