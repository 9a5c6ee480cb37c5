//! Aligned text tables for the terminal.

/// Rows as an aligned table under a rule: text left-aligned, numbers and dollars right-aligned; each
/// line indented by two spaces and ended by a newline.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([headers[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
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
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    out += &line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for row in rows {
        out += &line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let rows = vec![
            vec!["t2.micro".to_owned(), "1".to_owned(), "$0.0116".to_owned()],
            vec!["m5.large".to_owned(), "2".to_owned(), "$0.096".to_owned()],
        ];
        assert_eq!(
            table(&["type", "vCPUs", "per hour"], &rows),
            "  type      vCPUs  per hour\n  --------  -----  --------\n  t2.micro      1   $0.0116\n  m5.large      2    $0.096\n"
        );
    }
}
