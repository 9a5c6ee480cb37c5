//! A cluster of custom-command replicas (Python's web server), started through a stand-in for the
//! `scalelab` executable, so the cluster crate tests its life cycle without the CLI: load balancing,
//! self-healing after SIGKILL with the exit reason, the Prometheus endpoint.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use scalelab_cluster::{Cluster, ClusterConfig, ClusterOptions, EventKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound of every wait: the condition is what the test checks, not the speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// A launcher that does what `scalelab replica --parent-pid PID -- COMMAND...` does, minus the
/// parent-death signal: becomes the command.
fn launcher(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("launcher");
    std::fs::write(
        &path,
        "#!/bin/sh\n[ \"$1\" = replica ] || exit 64\nshift 4\nexec \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

const PYTHON: &str = "listen: 127.0.0.1:0
groups:
  - name: py
    command: [python3, -m, http.server, '{port}', --bind, 127.0.0.1]
    min: 2
    max: 2
    health_check: {path: /, interval: 200ms, healthy_threshold: 1, unhealthy_threshold: 2}
";

async fn start(dir: &std::path::Path, metrics: bool) -> Cluster {
    let options = ClusterOptions {
        serve_program: launcher(dir),
        out: Some(dir.join("out")),
        offered_load: None,
        metrics_addr: metrics.then(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        live: false,
        interrupt: Default::default(),
    };
    Cluster::start(ClusterConfig::from_yaml(PYTHON).unwrap(), options)
        .await
        .unwrap()
}

/// GET `path` on `addr`; the status code and body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, answer)
    };
    tokio::time::timeout(PATIENCE, exchange).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_replicas_are_balanced_healed_and_exposed_to_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = start(dir.path(), true).await;
    let lb = cluster.url().trim_start_matches("http://").to_owned();
    for _ in 0..10 {
        assert_eq!(get(&lb, "/").await.0, 200);
    }
    let status = cluster.next_second().await;
    let mut answered: Vec<u64> = status[0].replicas.iter().map(|r| r.requests).collect();
    answered.sort();
    assert_eq!(answered, [5, 5], "round robin over two replicas");

    let metrics = cluster
        .metrics_addr()
        .expect("a metrics address")
        .to_string();
    let (code, text) = get(&metrics, "/metrics").await;
    assert_eq!(code, 200);
    assert!(
        text.contains("scalelab_cluster_replicas{group=\"py\",phase=\"in_service\"} 2"),
        "{text}"
    );

    // SIGKILL one replica: it is seen to exit, with the signal, and replaced.
    let victim = status[0].replicas[0].clone();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(victim.pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let healed = tokio::time::timeout(PATIENCE, async {
        loop {
            let status = cluster.next_second().await;
            let ids: Vec<u64> = status[0].replicas.iter().map(|r| r.id).collect();
            if status[0].in_service == 2 && !ids.contains(&victim.id) {
                return;
            }
        }
    })
    .await;
    let events = cluster.events();
    assert!(healed.is_ok(), "{events:#?}");
    let exited = events
        .iter()
        .find(|e| e.kind == EventKind::Exited && e.replica == Some(victim.id))
        .expect("an exited event");
    assert!(exited.detail.contains("signal: 9"), "{}", exited.detail);
    assert_eq!(get(&lb, "/").await.0, 200);
    cluster.shutdown().await;
    // Each replica's stderr is kept: Python logs every request there.
    let log = std::fs::read_to_string(
        dir.path()
            .join(format!("out/replicas/py-{}.stderr", victim.id)),
    )
    .unwrap();
    assert!(log.contains("\"GET / HTTP/1.1\" 200"), "{log}");
}
