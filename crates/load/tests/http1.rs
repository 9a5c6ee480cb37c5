//! The lean HTTP/1.1 client against hyper's server (keep-alive, chunked, HEAD, 204/304, large
//! bodies) and against a raw socket for what hyper's server never sends (close-delimited bodies,
//! 1xx before the response, garbage): statuses, bodies, byte counts and error kinds.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use scalelab_load::client::{ClientSettings, HttpClient, PreparedRequest, client_config};
use scalelab_load::plan::{Defaults, HttpVersion};
use scalelab_metrics::{EndpointId, ErrorKind, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LARGE: usize = 3 << 20;

/// hyper's HTTP/1.1 server; counts the connections it accepted.
async fn hyper_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(respond))
                    .await;
            });
        }
    });
    (addr, accepted)
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn respond(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let received = request.into_body().collect().await.unwrap().to_bytes();
    let full = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("x-served", "hyper")
            .body(Full::new(Bytes::from(body)).boxed())
            .unwrap()
    };
    Ok(match path.as_str() {
        "/hello" => full(200, b"hello".to_vec()),
        "/echo" => full(200, received.to_vec()),
        "/no-content" => full(204, vec![]),
        "/not-modified" => full(304, vec![]),
        "/large" => full(200, vec![b'x'; LARGE]),
        // A body of unknown length: hyper sends it chunked.
        "/chunked" | "/chunked-large" => {
            let (pieces, size) = if path == "/chunked" {
                (3, 4)
            } else {
                (48, 1 << 16)
            };
            let pieces = (0..pieces)
                .map(|i| Bytes::from(vec![b'a' + i as u8 % 26; size]))
                .collect();
            Response::builder()
                .header("x-served", "hyper")
                .body(Pieces(pieces).boxed())
                .unwrap()
        }
        _ => full(404, vec![]),
    })
}

/// A body of unknown length, so hyper's server sends it chunked, one chunk per piece.
struct Pieces(VecDeque<Bytes>);

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.get_mut()
                .0
                .pop_front()
                .map(|piece| Ok(Frame::data(piece))),
        )
    }
}

/// A server that answers every request on a connection with `reply`, then closes if `close`.
async fn raw_server(reply: &'static [u8], close: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    // One reply per complete request head (the client sends no bodies here).
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        if stream.write_all(reply).await.is_err() {
                            return;
                        }
                        if close {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn client() -> HttpClient {
    HttpClient::new(Arc::new(ClientSettings {
        timeout: Duration::from_secs(10),
        http: HttpVersion::Http1,
        tls: client_config(HttpVersion::Http1, false),
    }))
}

fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> PreparedRequest {
    let plan_request = scalelab_load::plan::Request {
        name: "r".into(),
        method: method.into(),
        url: path.into(),
        headers: vec![],
        body: body.map(|b| scalelab_load::plan::Body::Text(b.into())),
        checks: vec![],
        tags: vec![],
    };
    PreparedRequest::new(
        &plan_request,
        &format!("http://{addr}"),
        &Defaults::default(),
        EndpointId(0),
    )
    .unwrap()
}

/// Method, path, request body, expected status and response body.
type Case = (
    &'static str,
    &'static str,
    Option<&'static str>,
    u16,
    &'static [u8],
);

#[tokio::test]
async fn keep_alive_bodies_heads_and_empty_statuses_against_hyper() {
    let (addr, accepted) = hyper_server().await;
    let mut client = client();
    let mut body = Vec::new();
    let cases: [Case; 6] = [
        ("GET", "/hello", None, 200, b"hello"),
        ("POST", "/echo", Some("ping pong"), 200, b"ping pong"),
        ("GET", "/chunked", None, 200, b"aaaabbbbcccc"),
        ("HEAD", "/hello", None, 200, b""),
        ("GET", "/no-content", None, 204, b""),
        ("GET", "/not-modified", None, 304, b""),
    ];
    for round in 0..2 {
        for (method, path, sent, status, expected) in cases {
            body.clear();
            let exchange = client
                .send(&request(addr, method, path, sent), Some(&mut body), true)
                .await;
            assert_eq!(exchange.outcome, Outcome::Status(status), "{method} {path}");
            assert_eq!(body, expected, "{method} {path}");
            assert_eq!(exchange.headers.unwrap()["x-served"], "hyper", "{round}");
            assert!(exchange.bytes_sent > 0 && exchange.bytes_received > expected.len() as u64);
            assert!(exchange.sent <= exchange.first_byte.unwrap());
            assert!(exchange.first_byte.unwrap() <= exchange.done);
        }
    }
    // Every exchange of both rounds went over the first connection.
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn large_bodies_are_counted_whole_and_kept_up_to_a_mebibyte() {
    let (addr, accepted) = hyper_server().await;
    let mut client = client();
    let mut body = Vec::new();
    for (path, length) in [("/large", LARGE), ("/chunked-large", 48 << 16)] {
        body.clear();
        let exchange = client
            .send(&request(addr, "GET", path, None), Some(&mut body), false)
            .await;
        assert_eq!(exchange.outcome, Outcome::Status(200));
        assert_eq!(body.len(), 1 << 20, "{path}: the kept part");
        assert!(
            exchange.bytes_received > length as u64,
            "{path}: every byte counted"
        );
        assert!(
            exchange.headers.is_none(),
            "headers kept only when asked for"
        );
        // Without a sink the body is read and counted all the same.
        let exchange = client
            .send(&request(addr, "GET", path, None), None, false)
            .await;
        assert!(exchange.bytes_received > length as u64);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn close_delimited_and_informational_responses_with_exact_byte_counts() {
    const CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: raw\r\n\r\nto the end";
    const EARLY_HINTS: &[u8] =
        b"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut client = client();
    for (reply, close, expected) in [
        (CLOSE, true, &b"to the end"[..]),
        (EARLY_HINTS, false, b"ok"),
    ] {
        let addr = raw_server(reply, close).await;
        let request = request(addr, "GET", "/x", None);
        for _ in 0..3 {
            let mut body = Vec::new();
            let exchange = client.send(&request, Some(&mut body), false).await;
            assert_eq!(exchange.outcome, Outcome::Status(200));
            assert_eq!(body, expected);
            assert_eq!(exchange.bytes_received, reply.len() as u64);
            let head = format!(
                "GET /x HTTP/1.1\r\nhost: {addr}\r\nuser-agent: scalelab/{}\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            );
            assert_eq!(exchange.bytes_sent, head.len() as u64);
        }
    }
}

#[tokio::test]
async fn garbage_is_malformed_and_a_cut_response_is_a_reset() {
    let cases: [(&[u8], ErrorKind); 4] = [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", ErrorKind::Malformed),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            ErrorKind::Malformed,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            ErrorKind::Reset,
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Le", ErrorKind::Reset),
    ];
    let mut client = client();
    for (reply, kind) in cases {
        let addr = raw_server(reply, true).await;
        let exchange = client
            .send(&request(addr, "GET", "/", None), None, false)
            .await;
        assert_eq!(
            exchange.outcome,
            Outcome::Error(kind),
            "{}",
            String::from_utf8_lossy(reply)
        );
    }
    // A server that keeps the connection open and says nothing: the request times out.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let mut quick = HttpClient::new(Arc::new(ClientSettings {
        timeout: Duration::from_millis(200),
        http: HttpVersion::Http1,
        tls: client_config(HttpVersion::Http1, false),
    }));
    let exchange = quick
        .send(&request(addr, "GET", "/", None), None, false)
        .await;
    assert_eq!(exchange.outcome, Outcome::Error(ErrorKind::RequestTimeout));
    drop(silent);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_not_failed() {
    // Connection: close on every response; the next request must open a new connection.
    const CLOSING: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let addr = raw_server(CLOSING, true).await;
    let mut client = client();
    for _ in 0..5 {
        let exchange = client
            .send(&request(addr, "GET", "/", None), None, false)
            .await;
        assert_eq!(exchange.outcome, Outcome::Status(200));
    }
}
