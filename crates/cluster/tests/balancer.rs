//! The load balancer against hostile and careless clients, with in-process backends on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use http_body_util::channel::Channel;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use scalelab_cluster::ClusterConfig;
use scalelab_cluster::balancer::{self, Backend, Balancer, Health};
use scalelab_cluster::events::EventLog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Generous bound of every wait: the condition is what the test checks, not the speed.
const PATIENCE: Duration = Duration::from_secs(30);

#[path = "../../stress/tests/common/open_files.rs"]
mod open_files;

type Answer = std::pin::Pin<Box<dyn Future<Output = Response<balancer::ProxyBody>> + Send>>;
type Handler = Arc<dyn Fn(Request<Incoming>) -> Answer + Send + Sync>;

/// A backend on a free port answering with `handler`; counts its requests.
async fn backend(handler: Handler) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (handler, hits) = (handler.clone(), counted.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    hits.fetch_add(1, Ordering::SeqCst);
                    let answer = handler(request);
                    async move { Ok::<_, Infallible>(answer.await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, hits)
}

/// A backend that answers with the path, the headers it got and the length of the body.
async fn echo() -> (SocketAddr, Arc<AtomicU64>) {
    backend(Arc::new(|request: Request<Incoming>| {
        Box::pin(async move {
            let mut text = format!("path={}\n", request.uri());
            for (name, value) in request.headers() {
                text.push_str(&format!("{name}={}\n", value.to_str().unwrap_or("?")));
            }
            let body = request.into_body().collect().await.unwrap().to_bytes();
            text.push_str(&format!("body={}\n", body.len()));
            Response::new(balancer::body_of(text))
        })
    }))
    .await
}

const CONFIG: &str = "\
listen: 127.0.0.1:0
client: {header_timeout: 1s, idle_timeout: 1s, max_request_body: 1MiB}
groups:
  - {name: one, command: 'unused {port}', max: 2}
  - {name: two, command: 'unused {port}', max: 2}
rules:
  - {path: /cluster1, group: one, strip_prefix: true}
  - {path: /cluster2, group: two}
";

/// A running balancer whose groups hold `backends` (group index, address), all healthy.
async fn balancer(
    backends: &[(usize, SocketAddr)],
) -> (SocketAddr, Vec<Arc<Backend>>, Arc<EventLog>) {
    let config = ClusterConfig::from_yaml(CONFIG).unwrap();
    let events = Arc::new(EventLog::new(None, false).unwrap());
    events.start_clock();
    let balancer = Balancer::new(&config, balancer::backend_client(), events.clone());
    let mut registered = Vec::new();
    for (id, (group, addr)) in backends.iter().enumerate() {
        let backend = Arc::new(Backend::new(id as u64 + 1, *addr));
        backend.set_health(Health::Healthy);
        balancer.pools()[*group].register(backend.clone());
        registered.push(backend);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(balancer::serve(
        Arc::new(balancer),
        listener,
        CancellationToken::new(),
    ));
    (addr, registered, events)
}

/// Sends `request` as written (no client library normalizes it) and reads the whole answer.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    tokio::time::timeout(PATIENCE, exchange).await.unwrap()
}

fn get(path: &str, headers: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n")
}

#[tokio::test]
async fn nothing_a_client_sends_takes_a_backend_out_of_rotation() {
    let (a, _) = echo().await;
    let (b, _) = echo().await;
    let (lb, backends, events) = balancer(&[(0, a), (0, b)]).await;
    let hostile = [
        "OPTIONS * HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n",
        "GET http://127.0.0.1:1/cluster1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /%zz%00 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nab",
    ];
    for request in hostile {
        let answer = raw(lb, request).await;
        assert!(
            !answer.starts_with("HTTP/1.1 5"),
            "{request:?} got {answer}"
        );
    }
    let options = raw(lb, hostile[0]).await;
    assert!(options.starts_with("HTTP/1.1 400"), "{options}");
    for backend in &backends {
        assert!(
            backend.in_rotation(),
            "backend {} left rotation",
            backend.addr
        );
    }
    assert!(events.events().is_empty(), "{:?}", events.events());
    for _ in 0..10 {
        let answer = raw(lb, &get("/ping", "")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

#[tokio::test]
async fn a_refused_connection_takes_the_backend_out_and_the_request_goes_elsewhere() {
    let (live, _) = echo().await;
    // Bound, not listening: connecting is refused, and the port stays ours while `held` lives.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead = held.local_addr().unwrap();
    let (lb, backends, _) = balancer(&[(0, dead), (0, live)]).await;
    for _ in 0..4 {
        let answer = raw(lb, &get("/ping", "")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    assert!(backends[0].refused() && !backends[0].in_rotation());
    assert!(backends[1].in_rotation());

    // Alone, a refusing backend gets 502 (no other to retry on), then leaves none in rotation: 503.
    let (lb, _, events) = balancer(&[(0, dead)]).await;
    assert!(raw(lb, &get("/ping", "")).await.starts_with("HTTP/1.1 502"));
    assert!(raw(lb, &get("/ping", "")).await.starts_with("HTTP/1.1 503"));
    assert_eq!(events.events().len(), 1, "one out_of_rotation event");
}

/// A backend that reads each request's head and closes the connection without an answer, as a
/// replica killed mid-request does; counts the requests that reached it.
async fn closes_mid_request() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let hits = counted.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                hits.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn a_backend_that_dies_mid_request_is_a_bad_gateway_not_the_clients_fault() {
    let (dying, hits) = closes_mid_request().await;
    let (lb, backends, _) = balancer(&[(0, dying)]).await;
    let post =
        "POST /up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";
    for request in [get("/ping", ""), post.to_owned()] {
        let answer = raw(lb, &request).await;
        assert!(
            answer.starts_with("HTTP/1.1 502"),
            "{request:?} got {answer}"
        );
        assert!(answer.contains("closed the connection"), "{answer}");
    }
    // Each reached the backend once: a request the backend received is never sent again.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // A backend that accepts connections stays in rotation; its health checks judge it.
    assert!(backends[0].in_rotation());
}

#[tokio::test]
async fn idempotent_requests_that_reached_no_backend_are_retried_once_bodies_included() {
    // Bound, not listening: connecting is refused. Round robin offers it first.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead = held.local_addr().unwrap();
    let put = |method: &str| {
        format!(
            "{method} /item HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
        )
    };
    let (live, hits) = echo().await;
    let (lb, backends, _) = balancer(&[(0, dead), (0, live)]).await;
    let answer = raw(lb, &put("PUT")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("body=5\n"),
        "the body was lost on the retry: {answer}"
    );
    assert!(backends[0].refused() && backends[1].in_rotation());
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // POST is not idempotent: refused, it is not sent again (502), whatever the other backend.
    let (live, hits) = echo().await;
    let (lb, _, _) = balancer(&[(0, dead), (0, live)]).await;
    let answer = raw(lb, &put("POST")).await;
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn paths_are_normalized_before_routing() {
    let (one, one_hits) = echo().await;
    let (two, _) = echo().await;
    let (lb, _, _) = balancer(&[(0, one), (1, two)]).await;
    for path in [
        "/cluster1/../cluster2/ping",
        "/cluster1/%2e%2E/cluster2/ping",
        "/cluster1/./../cluster2/./ping",
        "/%63luster2/ping",
    ] {
        let answer = raw(lb, &get(path, "")).await;
        assert!(answer.contains("path=/cluster2/ping\n"), "{path}: {answer}");
    }
    assert_eq!(one_hits.load(Ordering::SeqCst), 0);
    let answer = raw(lb, &get("/cluster1/a/../ping?x=1", "")).await;
    assert!(answer.contains("path=/ping?x=1\n"), "{answer}");
    let answer = raw(lb, &get("/../../cluster1/ping", "")).await;
    assert!(answer.contains("path=/ping\n"), "{answer}");
}

#[tokio::test]
async fn hop_by_hop_headers_are_dropped_and_forwarding_headers_set() {
    let (one, _) = echo().await;
    let (lb, _, _) = balancer(&[(0, one)]).await;
    let request = "GET /cluster1/ping HTTP/1.1\r\nHost: test\r\nConnection: close, x-secret\r\n\
        X-Secret: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eDp5\r\nTE: trailers\r\n\
        X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Kept: yes\r\n\r\n";
    let answer = raw(lb, request).await;
    assert!(answer.contains("x-kept=yes\n"), "{answer}");
    assert!(
        answer.contains("x-forwarded-for=10.0.0.1, 127.0.0.1\n"),
        "{answer}"
    );
    assert!(answer.contains("x-forwarded-proto=http\n"), "{answer}");
    for dropped in ["x-secret", "keep-alive", "proxy-authorization", "te="] {
        assert!(!answer.contains(dropped), "{dropped} forwarded: {answer}");
    }
}

#[tokio::test]
async fn bodies_stream_both_ways() {
    // The backend tells when the first chunk of the upload reached it, answers with one chunk at
    // once and the rest when told.
    let (first_arrived, mut arrived) = mpsc::channel::<()>(1);
    let (finish, finish_rx) = mpsc::channel::<()>(1);
    let finish_rx = Arc::new(tokio::sync::Mutex::new(finish_rx));
    let (addr, _) = backend(Arc::new(move |request: Request<Incoming>| {
        let (first_arrived, finish_rx) = (first_arrived.clone(), finish_rx.clone());
        Box::pin(async move {
            let mut body = request.into_body();
            let mut received = 0;
            while let Some(frame) = body.frame().await {
                received += frame.unwrap().into_data().map_or(0, |d| d.len());
                let _ = first_arrived.try_send(());
            }
            let (mut sender, answer) = Channel::<Bytes, Infallible>::new(1);
            tokio::spawn(async move {
                sender.send_data(Bytes::from("first ")).await.unwrap();
                finish_rx.lock().await.recv().await;
                sender
                    .send_data(Bytes::from(format!("received={received}")))
                    .await
                    .unwrap();
            });
            Response::new(answer.map_err(|never| match never {}).boxed_unsync())
        })
    }))
    .await;
    let (lb, _, _) = balancer(&[(0, addr)]).await;
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Channel<Bytes, Infallible>>();
    let (mut upload, body) = Channel::<Bytes, Infallible>::new(1);
    let request = Request::post(format!("http://{lb}/upload"))
        .body(body)
        .unwrap();
    let response = tokio::spawn(client.request(request));
    upload
        .send_data(Bytes::from(vec![b'a'; 1000]))
        .await
        .unwrap();
    // Had the balancer buffered the upload, the backend would see nothing before its end.
    tokio::time::timeout(PATIENCE, arrived.recv())
        .await
        .unwrap();
    upload
        .send_data(Bytes::from(vec![b'b'; 500]))
        .await
        .unwrap();
    drop(upload);
    let response = tokio::time::timeout(PATIENCE, response)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = tokio::time::timeout(PATIENCE, body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Had the balancer buffered the answer, this chunk could not arrive before the backend's end.
    assert_eq!(first.into_data().unwrap(), "first ");
    finish.send(()).await.unwrap();
    let rest = tokio::time::timeout(PATIENCE, body.collect())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest.to_bytes(), "received=1500");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_and_stalled_ones_408() {
    let (one, hits) = echo().await;
    let (lb, backends, _) = balancer(&[(0, one)]).await;
    let declared = "POST /cluster1/up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1048577\r\n\r\n";
    let answer = raw(lb, declared).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "an oversized body reached the backend"
    );

    // Chunked, so the size shows only while streaming: 2 MiB in 64 KiB chunks.
    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
    let mut chunked = String::from(
        "POST /cluster1/up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..32 {
        chunked.push_str(&chunk);
    }
    chunked.push_str("0\r\n\r\n");
    let answer = raw(lb, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    let within = format!(
        "POST /cluster1/up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 1048576\r\n\r\n{}",
        "y".repeat(1048576)
    );
    let answer = raw(lb, &within).await;
    assert!(
        answer.contains("body=1048576\n"),
        "{}",
        &answer[..answer.len().min(300)]
    );

    // Stalled: 2 of 10 bytes, then silence beyond the 1 s idle timeout.
    let stalled = "POST /cluster1/up HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 10\r\n\r\nab";
    let answer = raw(lb, stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(backends[0].in_rotation());
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_do_not_starve_others() {
    const SLOW: u64 = 1200;
    // Both ends of each connection are in this process, with room for the other tests.
    if !open_files::raise_to(
        2 * SLOW + 256,
        "slow_clients_are_cut_off_and_do_not_starve_others",
    ) {
        return;
    }
    let (one, _) = echo().await;
    let (lb, _, _) = balancer(&[(0, one)]).await;
    // A slowloris: SLOW connections that send half a request head and then nothing.
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut stream = TcpStream::connect(lb).await.unwrap();
        stream
            .write_all(b"GET /ping HTTP/1.1\r\nHost: t\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let answer = raw(lb, &get("/cluster1/health", "")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
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
}
