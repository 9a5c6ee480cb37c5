//! Parsers for command-line values shared by several commands.

use std::time::Duration;

/// A duration as `90s`, `1m30s`, `2h`, `250ms`, or plain seconds (`90`, `0.5`).
pub fn duration(text: &str) -> Result<Duration, String> {
    scalelab_shape::parse_duration(text)
}

/// A size in bytes as `512MiB`, `2GB`, `1.5 GiB` or plain bytes.
pub fn bytes(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|e| format!("'{text}' is not a size like 512MiB or 2GB: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_plain_seconds() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("0.25"), Ok(Duration::from_millis(250)));
        assert!(duration("soon").is_err());
        assert!(duration("-1").is_err());
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(bytes("1000"), Ok(1000));
        assert!(bytes("lots").is_err());
    }
}
