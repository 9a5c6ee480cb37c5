//! Uploads stream through the balancer: four concurrent 64 MiB bodies leave its memory flat. In its
//! own test binary, so the process's peak resident memory is this test's alone.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use scalelab_cluster::ClusterConfig;
use scalelab_cluster::balancer::{self, Backend, Balancer, Health};
use scalelab_cluster::events::EventLog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const MIB: usize = 1024 * 1024;

/// Peak resident memory of this process so far, in MiB.
fn peak_mib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_large_uploads_stream_without_growing_memory() {
    // A backend that counts the bytes it receives, one frame at a time.
    let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_addr = backend.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = backend.accept().await {
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(|request: Request<hyper::body::Incoming>| async {
                        let mut body = request.into_body();
                        let mut received = 0usize;
                        while let Some(frame) = body.frame().await {
                            received += frame.unwrap().into_data().map_or(0, |d| d.len());
                        }
                        Ok::<_, Infallible>(Response::new(balancer::body_of(received.to_string())))
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let config = ClusterConfig::from_yaml(
        "client: {max_request_body: 128MiB}\ngroups: [{name: a, command: 'x {port}', max: 1}]\n",
    )
    .unwrap();
    let events = Arc::new(EventLog::new(None, false).unwrap());
    let balancer = Balancer::new(&config, balancer::backend_client(), events);
    let registered = Arc::new(Backend::new(1, backend_addr));
    registered.set_health(Health::Healthy);
    balancer.pools()[0].register(registered);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = listener.local_addr().unwrap();
    tokio::spawn(balancer::serve(
        Arc::new(balancer),
        listener,
        CancellationToken::new(),
    ));

    let before = peak_mib();
    let uploads: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(lb).await.unwrap();
                let head = format!(
                    "POST /up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    64 * MIB
                );
                stream.write_all(head.as_bytes()).await.unwrap();
                let chunk = Bytes::from(vec![b'x'; MIB]);
                for _ in 0..64 {
                    stream.write_all(&chunk).await.unwrap();
                }
                let mut answer = String::new();
                stream.read_to_string(&mut answer).await.unwrap();
                answer
            })
        })
        .collect();
    for upload in uploads {
        let answer = upload.await.unwrap();
        assert!(answer.ends_with(&(64 * MIB).to_string()), "{answer}");
    }
    let grown = peak_mib().saturating_sub(before);
    eprintln!("peak resident memory grew {grown} MiB for 256 MiB uploaded");
    // Buffered whole, the four bodies alone would take 256 MiB.
    assert!(grown < 64, "peak resident memory grew {grown} MiB");
}
