//! Slow and idle clients cannot hold the stress service's connections.

mod common;
#[path = "common/open_files.rs"]
mod open_files;

use std::time::Duration;

use common::start;
use scalelab_stress::TargetConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound of every wait: the condition is what the test checks, not the speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Half-open connections of the slowloris.
const SLOW: u64 = 1200;

#[tokio::test]
async fn a_slowloris_neither_starves_health_nor_keeps_its_connections() {
    // Both ends of each connection are in this process, with room for the other tests.
    if !open_files::raise_to(
        2 * SLOW + 256,
        "a_slowloris_neither_starves_health_nor_keeps_its_connections",
    ) {
        return;
    }
    let target = start(TargetConfig {
        header_timeout: Duration::from_secs(1),
        ..TargetConfig::loopback()
    })
    .await;
    // SLOW connections that send half a request head and then nothing.
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut stream = TcpStream::connect(target.addr()).await.unwrap();
        stream
            .write_all(b"GET /ping HTTP/1.1\r\nHost: t\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let (status, body) = tokio::time::timeout(PATIENCE, common::get(&target, "/health"))
        .await
        .expect("/health answered");
    assert_eq!(status, 200, "{body}");
    // The 1 s header timeout closes every one of them.
    for mut stream in slow {
        let mut buffer = [0u8; 256];
        let closed = tokio::time::timeout(PATIENCE, async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a half-open connection stayed open");
    }
    target.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_zero_header_timeout_is_refused() {
    let error = scalelab_stress::start(TargetConfig {
        header_timeout: Duration::ZERO,
        ..TargetConfig::loopback()
    })
    .await
    .err()
    .expect("refused");
    assert!(error.to_string().contains("header timeout"), "{error}");
}
