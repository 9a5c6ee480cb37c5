//! HTTP/2 by ALPN over TLS and by prior knowledge (h2c), HTTP/1.1 when asked, `insecure`, and a
//! certificate the client does not trust counted as a TLS error.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{get, plan, run, scenario};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use scalelab_load::plan::{Check, Executor, HttpVersion};
use tokio::net::TcpListener;

/// A server that answers with the HTTP version it received, over TLS (self-signed, ALPN h2 and
/// http/1.1) or plain TCP (HTTP/1.1, or HTTP/2 by prior knowledge).
async fn version_server(tls: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls.then(|| {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                .unwrap();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(format!("{:?}", request.version())),
                        )))
                    },
                );
                let builder = auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    addr
}

async fn version_seen(base: &str, http: HttpVersion, insecure: bool) -> scalelab_metrics::Summary {
    let mut plan = plan(
        vec![scenario(
            Executor::PerVuIterations {
                vus: 2,
                iterations: 5,
                max_duration: Duration::from_secs(10),
            },
            vec![get("v", "/", vec![Check::BodyContains("HTTP/2.0".into())])],
        )],
        Duration::from_secs(5),
    );
    plan.defaults.http = http;
    plan.defaults.insecure = insecure;
    run(&plan, base).await.0.summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_over_tls_by_alpn_and_http1_when_asked() {
    let base = format!("https://127.0.0.1:{}", version_server(true).await.port());
    let summary = version_seen(&base, HttpVersion::Auto, true).await;
    assert_eq!(
        summary.endpoints[0].outcome, "200",
        "{:?}",
        summary.endpoints
    );
    assert_eq!(
        (summary.totals.checks_passed, summary.totals.checks_failed),
        (10, 0),
        "ALPN chose h2"
    );
    assert!(summary.endpoints[0].phases_avg_ms["tls_handshaking"] > 0.0);

    let summary = version_seen(&base, HttpVersion::Http1, true).await;
    assert_eq!(summary.endpoints[0].outcome, "200");
    assert_eq!(summary.totals.checks_passed, 0, "HTTP/1.1 was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_by_prior_knowledge() {
    let base = format!("http://{}", version_server(false).await);
    let summary = version_seen(&base, HttpVersion::Http2, false).await;
    assert_eq!(
        summary.endpoints[0].outcome, "200",
        "{:?}",
        summary.endpoints
    );
    assert_eq!(summary.totals.checks_passed, 10);
    let summary = version_seen(&base, HttpVersion::Auto, false).await;
    assert_eq!(
        summary.totals.checks_passed, 0,
        "plain HTTP defaults to HTTP/1.1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_tls_error() {
    let base = format!("https://127.0.0.1:{}", version_server(true).await.port());
    let summary = version_seen(&base, HttpVersion::Auto, false).await;
    assert_eq!(
        summary.endpoints[0].outcome, "tls",
        "{:?}",
        summary.endpoints
    );
    assert_eq!(summary.totals.failures, 10);
}
