//! Number formatting shared by every view. What a person reads (terminal, HTML, JUnit messages)
//! groups thousands with commas, through [`number`] and [`count`]; files written for programs
//! (CSV, JSON, YAML) keep plain numbers.

use scalelab_metrics::LatencyHistogram;

/// A count with thousands separators: `12,345`.
pub fn count(n: u64) -> String {
    group(&n.to_string())
}

/// A number with `decimals` decimals and thousands separators: `number(19_991.34, 1)` is
/// `19,991.3`, `number(-1234.0, 0)` is `-1,234`.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_at(text.find('.').unwrap_or(text.len()));
    let zero = text.bytes().all(|b| b == b'0' || b == b'.');
    let sign = if value < 0.0 && !zero { "-" } else { "" };
    format!("{sign}{}{fraction}", group(whole))
}

/// `digits` with a comma before every group of three from the right.
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with precision that suits their size: `0.412`, `12.4`, `1,234`.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.3}")
    } else if ms < 1000.0 {
        format!("{ms:.1}")
    } else {
        count(ms.round() as u64)
    }
}

/// Percentile `p` of `latency` in milliseconds with its unit (`9.557 ms`), or `-` when nothing was
/// measured: an empty second has no percentile, not 0 ms.
pub(crate) fn percentile(latency: &LatencyHistogram, p: f64) -> String {
    if latency.count() == 0 {
        "-".into()
    } else {
        format!("{} ms", millis(latency.percentile(p)))
    }
}

/// Bytes in decimal units: `512 B`, `1.2 kB`, `3.4 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Dollars with up to four decimals and at least two: `$467.712`, `$227.1744`, `$0.15`.
pub fn usd(amount: f64) -> String {
    let text = format!("{amount:.4}");
    let trimmed = text.trim_end_matches('0');
    let decimals = trimmed.split_once('.').map_or(0, |(_, d)| d.len());
    format!("${trimmed}{}", "0".repeat(2usize.saturating_sub(decimals)))
}

/// Text made safe for HTML and XML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(number(19_991.34, 1), "19,991.3");
        assert_eq!(number(0.96, 1), "1.0");
        assert_eq!(number(999.96, 1), "1,000.0");
        assert_eq!(number(-1234.4, 0), "-1,234");
        assert_eq!(number(-0.01, 1), "0.0");
        assert_eq!(number(1_080_000.0, 3), "1,080,000.000");
        assert_eq!(number(f64::INFINITY, 1), "inf");
        assert_eq!(millis(0.4123), "0.412");
        assert_eq!(millis(12.44), "12.4");
        assert_eq!(millis(1234.4), "1,234");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234), "1.2 kB");
        assert_eq!(bytes(3_400_000), "3.4 MB");
        assert_eq!(usd(467.712_000_000_000_05), "$467.712");
        assert_eq!(usd(227.1744), "$227.1744");
        assert_eq!(usd(0.15), "$0.15");
        assert_eq!(usd(3.0), "$3.00");
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
    }
}
