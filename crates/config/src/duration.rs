//! Durations as people write them in files and on the command line.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("'{0}' is not a valid number of seconds")]
    Seconds(String),
    #[error("'{0}' is not a duration like 90s, 1m30s, 2h or plain seconds")]
    Text(String),
}

/// Parses `90s`, `1m30s`, `2h`, `250ms` or plain seconds (`90`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| DurationError::Seconds(text.to_owned()));
    }
    humantime::parse_duration(text).map_err(|_| DurationError::Text(text.to_owned()))
}

/// Formats a duration compactly, as Go (and so k6) prints one: `1m30s`, `10m31.5s`, `250ms`,
/// `2h` (to the millisecond).
pub fn format_duration(duration: Duration) -> String {
    if duration.subsec_nanos() != 0 && duration < Duration::from_secs(1) {
        return format!("{}ms", duration.as_millis());
    }
    let total = duration.as_secs();
    let (h, m) = (total / 3600, total / 60 % 60);
    let millis = (total % 60) * 1000 + u64::from(duration.subsec_millis());
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if millis > 0 || out.is_empty() {
        let seconds = format!("{}.{:03}", millis / 1000, millis % 1000);
        out += seconds.trim_end_matches('0').trim_end_matches('.');
        out.push('s');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_plain_seconds() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        // Fractions of a second stay, as in Go: k6's `1.5s` was printed `1s`.
        assert_eq!(format_duration(Duration::from_millis(631_500)), "10m31.5s");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(60_250)), "1m0.25s");
    }
}
