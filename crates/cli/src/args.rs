//! Parsers for command-line values shared by several commands (durations: `scalelab_config`).

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
    fn sizes_accept_units() {
        assert_eq!(bytes("512MiB"), Ok(512 * 1024 * 1024));
        assert_eq!(bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(bytes("1000"), Ok(1000));
        assert!(bytes("lots").is_err());
    }
}
