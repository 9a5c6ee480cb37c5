//! Plans built in code and small fault servers for the engine's tests. Everything listens on
//! 127.0.0.1 with port 0 and every loop is bounded.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_load::engine::{self, CompiledPlan, Observer, Progress, RunOptions, RunOutcome};
use scalelab_load::plan::{
    Check, Defaults, Executor, Flow, Iteration, Plan, Request, Scenario, Step,
};
use scalelab_metrics::Interval;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub fn get(name: &str, path: &str, checks: Vec<Check>) -> Request {
    Request {
        name: name.into(),
        method: "GET".into(),
        url: path.into(),
        headers: vec![],
        body: None,
        checks,
        tags: vec![],
    }
}

pub fn scenario(executor: Executor, requests: Vec<Request>) -> Scenario {
    Scenario {
        name: "default".into(),
        executor,
        iteration: Iteration {
            flows: requests
                .into_iter()
                .map(|r| Flow {
                    name: r.name.clone(),
                    weight: 1,
                    steps: vec![Step::Request(r)],
                })
                .collect(),
            think: None,
        },
        start_time: Duration::ZERO,
        graceful_stop: Duration::from_secs(30),
        tags: Vec::new(),
    }
}

pub fn plan(scenarios: Vec<Scenario>, timeout: Duration) -> Plan {
    Plan {
        target: None,
        defaults: Defaults {
            timeout,
            ..Defaults::default()
        },
        thresholds: vec![],
        scenarios,
        warnings: vec![],
    }
}

/// Keeps every interval it is given.
#[derive(Default)]
pub struct Keep(pub Vec<Interval>);

impl Observer for Keep {
    fn on_interval(&mut self, interval: &Interval, _: &Progress<'_>) {
        self.0.push(interval.clone());
    }
}

pub async fn run(plan: &Plan, base: &str) -> (RunOutcome, Vec<Interval>) {
    run_with(
        plan,
        base,
        RunOptions {
            threads: 2,
            ..RunOptions::default()
        },
    )
    .await
}

pub async fn run_with(plan: &Plan, base: &str, options: RunOptions) -> (RunOutcome, Vec<Interval>) {
    let compiled = Arc::new(CompiledPlan::new(plan, base).expect("plan compiles"));
    let mut keep = Keep::default();
    let outcome = engine::run(compiled, options, &mut keep)
        .await
        .expect("run");
    (outcome, keep.0)
}

/// A port on which nothing listens, held by a socket bound to it but not listening (connecting is
/// refused) for as long as the returned socket lives, so that no other server can take the port.
pub fn refusing() -> (SocketAddr, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    (socket.local_addr().unwrap(), socket)
}

/// A server that accepts every connection and never answers: it reads nothing and keeps each
/// connection open for as long as the test's runtime lives.
pub async fn dead_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    addr
}

/// A server that answers every connection with `behaviour`.
pub async fn fault_server(behaviour: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                // Out of file descriptors: wait for connections to close, never stop listening
                // (the port would then refuse, another fault).
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                match behaviour {
                    Fault::Reset => {
                        // SO_LINGER 0 makes the close a reset (RST), which is the point here.
                        #[allow(deprecated)]
                        let _ = stream.set_linger(Some(Duration::ZERO));
                        drop(stream);
                    }
                    Fault::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
                    Fault::Garbage => {
                        let _ = stream.write_all(b"NOT HTTP AT ALL\r\n\r\n").await;
                        // Kept until the client, having read it, closes (not a fixed time: at
                        // thousands of connections a second that held a thousand descriptors).
                        let _ =
                            tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer))
                                .await;
                    }
                }
            });
        }
    });
    addr
}

#[derive(Clone, Copy)]
pub enum Fault {
    /// Reads the request, then resets the connection.
    Reset,
    /// Accepts and never answers.
    Silent,
    /// Answers bytes that are not HTTP.
    Garbage,
}

/// An HTTP server that answers 200 at once, except during 1 s of every 5 (from 2 s to 3 s of each
/// 5-second cycle, counted from its first request), when requests wait until the stall ends and
/// are answered 203, so that a run's results tell them apart.
pub async fn stalling_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let origin = Arc::new(std::sync::OnceLock::new());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                // Out of file descriptors: wait for connections to close.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let origin = origin.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let mut filled = 0;
                loop {
                    let Ok(read) = stream.read(&mut buffer[filled..]).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    filled += read;
                    while let Some(end) = find(&buffer[..filled], b"\r\n\r\n") {
                        buffer.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                        let origin = *origin.get_or_init(Instant::now);
                        let phase = origin.elapsed().as_secs_f64() % 5.0;
                        let held = (2.0..3.0).contains(&phase);
                        if held {
                            tokio::time::sleep(Duration::from_secs_f64(3.0 - phase)).await;
                        }
                        let response: &[u8] = if held {
                            b"HTTP/1.1 203 Non-Authoritative Information\r\ncontent-length: 2\r\n\r\nok"
                        } else {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                        };
                        if stream.write_all(response).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
