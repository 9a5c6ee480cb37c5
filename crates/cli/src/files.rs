//! Reading inputs and writing results: whole files, written under a temporary name and renamed.

use std::path::Path;

use anyhow::Context;

/// The text of `path`; errors say which input it was.
pub fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
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
