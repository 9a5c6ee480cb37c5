//! Parsers for command-line values shared by several commands (durations: `scalelab_config`).

use std::time::Duration;

/// A duration above zero (and at most a year).
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = scalelab_config::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("must be above 0".into());
    }
    if duration > scalelab_load::plan::limits::MAX_DURATION {
        return Err("must be at most a year".into());
    }
    Ok(duration)
}

/// Virtual users: 1 to what one process runs.
pub fn vus(text: &str) -> Result<u64, String> {
    let max = scalelab_load::plan::limits::MAX_VUS;
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {max} (one process's virtual users)"
        )),
    }
}

/// Arrivals per second: a finite number above 0, at most what one process schedules.
pub fn rate(text: &str) -> Result<f64, String> {
    let max = scalelab_load::plan::limits::MAX_RATE;
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= max => Ok(r),
        _ => Err(format!(
            "must be a number above 0 and at most {max} per second"
        )),
    }
}

/// Loader threads: 1 to [`scalelab_load::plan::limits::MAX_THREADS`].
pub fn threads(text: &str) -> Result<usize, String> {
    let max = scalelab_load::plan::limits::MAX_THREADS;
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {max}")),
    }
}

/// An `http://` or `https://` URL with a host and, if given, a port from 1 to 65535.
pub fn http_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or("must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => (host, Some(port)),
        _ => (host_port, None),
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(format!("port '{port}' is not from 1 to 65535"));
    }
    Ok(text.to_owned())
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
    fn quick_values_are_bounded() {
        assert!(positive_duration("0s").is_err());
        assert!(positive_duration("1000d").is_err());
        assert_eq!(
            vus("0"),
            Err("must be a whole number from 1 to 100000 (one process's virtual users)".into())
        );
        assert!(vus("100001").is_err() && vus("50") == Ok(50));
        assert!(rate("NaN").is_err() && rate("inf").is_err() && rate("0").is_err());
        assert!(rate("1e7").is_err() && rate("20000") == Ok(20_000.0));
        assert!(threads("0").is_err() && threads("4") == Ok(4));
        assert_eq!(
            http_url("http://127.0.0.1:99999/x"),
            Err("port '99999' is not from 1 to 65535".into())
        );
        assert_eq!(
            http_url("ftp://127.0.0.1/x"),
            Err("must start with http:// or https://".into())
        );
        assert!(http_url("http:///x").is_err());
        assert!(http_url("http://[::1]:8080/x").is_ok() && http_url("https://example.com").is_ok());
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(bytes("1000"), Ok(1000));
        assert!(bytes("lots").is_err());
    }
}
