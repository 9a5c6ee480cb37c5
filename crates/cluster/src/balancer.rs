//! The L7 load balancer: listener rules by (normalized) path prefix pick a group's pool; the pool picks
//! a backend (round robin or least outstanding requests); the request streams over a keep-alive
//! connection. Answers 502/503/504 as an ALB does, and counts each. Only a failure to connect to a
//! backend takes it out of rotation (nothing a client sends can), and an idempotent request that so
//! reached no backend is retried once on another.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use scalelab_metrics::LatencyHistogram;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::TimeoutBody;

use crate::config::{Algorithm, ClientLimits, ClusterConfig};
use crate::events::{EventKind, EventLog};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed body, in either direction.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// The HTTP client to backends: keep-alive connections, pooled per backend.
pub type BackendClient = Client<HttpConnector, ProxyBody>;

/// A body of `bytes`, as a [`ProxyBody`].
pub fn body_of(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A keep-alive client for backends and their health checks.
pub fn backend_client() -> BackendClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(2)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// What the health checks last concluded about a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not yet passed `healthy_threshold` checks since launch.
    Initial = 0,
    Healthy = 1,
    /// Failed `unhealthy_threshold` checks in a row after being healthy.
    Unhealthy = 2,
}

/// One replica as the load balancer sees it.
#[derive(Debug)]
pub struct Backend {
    pub replica: u64,
    pub addr: SocketAddr,
    health: AtomicU8,
    /// Refused a connection since its last health transition: out of rotation at once.
    refused: AtomicBool,
    /// Deregistered: no new requests, ever.
    draining: AtomicBool,
    in_flight: AtomicU64,
    /// Requests answered, since launch.
    requests: AtomicU64,
}

impl Backend {
    pub fn new(replica: u64, addr: SocketAddr) -> Self {
        Self {
            replica,
            addr,
            health: AtomicU8::new(Health::Initial as u8),
            refused: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            in_flight: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    pub fn health(&self) -> Health {
        match self.health.load(Ordering::SeqCst) {
            1 => Health::Healthy,
            2 => Health::Unhealthy,
            _ => Health::Initial,
        }
    }

    /// Records a health transition; a healthy verdict also forgets an earlier refused connection.
    pub fn set_health(&self, health: Health) {
        if health == Health::Healthy {
            self.refused.store(false, Ordering::SeqCst);
        }
        self.health.store(health as u8, Ordering::SeqCst);
    }

    /// Whether new requests may go here.
    pub fn in_rotation(&self) -> bool {
        self.health() == Health::Healthy
            && !self.refused.load(Ordering::SeqCst)
            && !self.draining.load(Ordering::SeqCst)
    }

    /// Whether it refused a connection and no health check has passed it since.
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }

    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Counts of one group's answers: since the start, or over one second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub errors: u64,
    pub bad_gateway: u64,
    pub unavailable: u64,
    pub gateway_timeout: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;

    fn sub(self, before: Counts) -> Counts {
        Counts {
            requests: self.requests - before.requests,
            errors: self.errors - before.errors,
            bad_gateway: self.bad_gateway - before.bad_gateway,
            unavailable: self.unavailable - before.unavailable,
            gateway_timeout: self.gateway_timeout - before.gateway_timeout,
        }
    }
}

/// Counters of one group's traffic through the load balancer, since the start.
#[derive(Debug, Default)]
pub struct PoolCounters {
    pub requests: AtomicU64,
    /// Answers with a 5xx status, from a backend or from the load balancer.
    pub errors: AtomicU64,
    /// Answered by the load balancer: a backend refused, reset or spoke bad HTTP.
    pub bad_gateway: AtomicU64,
    /// Answered by the load balancer: no backend in rotation.
    pub unavailable: AtomicU64,
    /// Answered by the load balancer: the backend did not answer within `backend_timeout`.
    pub gateway_timeout: AtomicU64,
}

impl PoolCounters {
    /// The counts now.
    pub fn read(&self) -> Counts {
        Counts {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            bad_gateway: self.bad_gateway.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            gateway_timeout: self.gateway_timeout.load(Ordering::Relaxed),
        }
    }
}

/// The backends of one group (its target group).
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    algorithm: Algorithm,
    timeout: Duration,
    backends: RwLock<Vec<Arc<Backend>>>,
    next: AtomicUsize,
    pub counters: PoolCounters,
    /// Latency through the load balancer of the requests answered since the last [`Pool::take_latency`].
    latency: Mutex<LatencyHistogram>,
}

impl Pool {
    pub fn new(name: &str, algorithm: Algorithm, timeout: Duration) -> Self {
        Self {
            name: name.to_owned(),
            algorithm,
            timeout,
            backends: RwLock::default(),
            next: AtomicUsize::new(0),
            counters: PoolCounters::default(),
            latency: Mutex::default(),
        }
    }

    pub fn register(&self, backend: Arc<Backend>) {
        self.backends.write().expect("pool lock").push(backend);
    }

    pub fn deregister(&self, replica: u64) {
        self.backends
            .write()
            .expect("pool lock")
            .retain(|b| b.replica != replica);
    }

    /// The latency of the requests answered since the last call.
    pub fn take_latency(&self) -> LatencyHistogram {
        std::mem::take(&mut *self.latency.lock().expect("latency lock"))
    }

    /// The next backend in rotation by the pool's algorithm, skipping `except`.
    fn pick(&self, except: Option<u64>) -> Option<Arc<Backend>> {
        let backends = self.backends.read().expect("pool lock");
        let candidates: Vec<&Arc<Backend>> = backends
            .iter()
            .filter(|b| b.in_rotation() && Some(b.replica) != except)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % candidates.len();
        let rotated = candidates[start..].iter().chain(&candidates[..start]);
        let chosen = match self.algorithm {
            Algorithm::RoundRobin => candidates[start],
            Algorithm::LeastOutstandingRequests => {
                rotated.min_by_key(|b| b.in_flight()).expect("not empty")
            }
        };
        Some(chosen.clone())
    }
}

/// Listener rules and the pools they route to.
#[derive(Debug)]
pub struct Balancer {
    pools: Vec<Arc<Pool>>,
    rules: Vec<(String, usize, bool)>,
    default_pool: usize,
    limits: ClientLimits,
    client: BackendClient,
    events: Arc<EventLog>,
}

/// Why a request got no answer from a backend.
enum Failure {
    /// No connection to the backend: the only failure that takes it out of rotation.
    Refused,
    Timeout,
    BadGateway,
    /// The client's body broke off, stalled or passed the limit: the client's fault, not the backend's.
    Client(StatusCode, &'static str),
}

impl Balancer {
    /// A balancer for `config`'s groups and rules, with one empty pool per group.
    pub fn new(config: &ClusterConfig, client: BackendClient, events: Arc<EventLog>) -> Self {
        let pools = config
            .groups
            .iter()
            .map(|g| Arc::new(Pool::new(&g.name, g.algorithm, g.backend_timeout)))
            .collect();
        let rules = config
            .rules
            .iter()
            .map(|r| {
                let index = config.group_index(&r.group).expect("validated");
                (
                    r.path.trim_end_matches('/').to_owned(),
                    index,
                    r.strip_prefix,
                )
            })
            .collect();
        let default_pool = config
            .default_group
            .as_deref()
            .and_then(|name| config.group_index(name))
            .unwrap_or(0);
        Self {
            pools,
            rules,
            default_pool,
            limits: config.client.clone(),
            client,
            events,
        }
    }

    pub fn pools(&self) -> &[Arc<Pool>] {
        &self.pools
    }

    /// The pool for a normalized `path` and the path to forward.
    fn route<'a>(&self, path: &'a str) -> (&Arc<Pool>, &'a str) {
        for (prefix, pool, strip) in &self.rules {
            let Some(rest) = path.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if rest.is_empty() || rest.starts_with('/') || prefix.is_empty() {
                let forwarded = match (strip, rest) {
                    (true, "") => "/",
                    (true, rest) => rest,
                    (false, _) => path,
                };
                return (&self.pools[*pool], forwarded);
            }
        }
        (&self.pools[self.default_pool], path)
    }

    async fn handle(&self, request: Request<Incoming>, client: SocketAddr) -> Response<ProxyBody> {
        let started = Instant::now();
        // Only origin-form targets are routed: `OPTIONS *` or `CONNECT host:port` are the client's
        // business with the load balancer, answered here and never sent to a backend.
        let Some(path) = normalize_path(request.uri().path()) else {
            return answer(
                StatusCode::BAD_REQUEST,
                "the load balancer forwards only paths that start with '/'",
            );
        };
        let (pool, forwarded) = self.route(&path);
        let target = match request.uri().query() {
            Some(query) => format!("{forwarded}?{query}"),
            None => forwarded.to_owned(),
        };
        let response = self.forward(pool, request, &target, client).await;
        let counters = &pool.counters;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if response.status().is_server_error() {
            counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        pool.latency
            .lock()
            .expect("latency lock")
            .record(started.elapsed());
        response
    }

    /// Sends the request to a backend; a refused connection takes the backend out of rotation, and an
    /// idempotent request (RFC 9110 section 9.2.2), which then never reached a backend, is retried
    /// once on another one, its body included.
    async fn forward(
        &self,
        pool: &Pool,
        request: Request<Incoming>,
        target: &str,
        client: SocketAddr,
    ) -> Response<ProxyBody> {
        let (mut parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.limits.max_request_body) {
            return too_large(self.limits.max_request_body);
        }
        parts.headers = forwarded_headers(&parts.headers, client);
        let limit = usize::try_from(self.limits.max_request_body).unwrap_or(usize::MAX);
        let body = Limited::new(TimeoutBody::new(self.limits.idle_timeout, body), limit)
            .map_err(|error| BoxError::from(ClientBody(error)))
            .boxed_unsync();
        let body = Arc::new(Mutex::new(Some(body)));
        let mut refused_by = None;
        loop {
            let Some(backend) = pool.pick(refused_by) else {
                if refused_by.is_some() {
                    pool.counters.bad_gateway.fetch_add(1, Ordering::Relaxed);
                    return answer(
                        StatusCode::BAD_GATEWAY,
                        "the backend refused the connection",
                    );
                }
                pool.counters.unavailable.fetch_add(1, Ordering::Relaxed);
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no healthy backend in the target group",
                );
            };
            let lent = Lent {
                slot: body.clone(),
                taken: None,
            }
            .boxed_unsync();
            let result = self
                .send(&backend, pool.timeout, &parts, target, lent)
                .await;
            match result {
                Ok(response) => {
                    backend.requests.fetch_add(1, Ordering::SeqCst);
                    return response;
                }
                Err(Failure::Refused) => {
                    if !backend.refused.swap(true, Ordering::SeqCst) {
                        self.events.record(
                            &pool.name,
                            Some(backend.replica),
                            EventKind::OutOfRotation,
                            format!("{} refused a connection", backend.addr),
                        );
                    }
                    let unsent = body.lock().expect("body lock").is_some();
                    if refused_by.is_none() && parts.method.is_idempotent() && unsent {
                        refused_by = Some(backend.replica);
                        continue;
                    }
                    pool.counters.bad_gateway.fetch_add(1, Ordering::Relaxed);
                    return answer(
                        StatusCode::BAD_GATEWAY,
                        "the backend refused the connection",
                    );
                }
                Err(Failure::Timeout) => {
                    pool.counters
                        .gateway_timeout
                        .fetch_add(1, Ordering::Relaxed);
                    return answer(
                        StatusCode::GATEWAY_TIMEOUT,
                        "the backend did not answer in time",
                    );
                }
                Err(Failure::BadGateway) => {
                    pool.counters.bad_gateway.fetch_add(1, Ordering::Relaxed);
                    return answer(StatusCode::BAD_GATEWAY, "the backend closed the connection");
                }
                Err(Failure::Client(StatusCode::PAYLOAD_TOO_LARGE, _)) => {
                    return too_large(self.limits.max_request_body);
                }
                Err(Failure::Client(status, message)) => return answer(status, message),
            }
        }
    }

    /// One exchange with `backend`, until the response's head; its body streams on, and the
    /// backend counts the request in flight until the body is done.
    async fn send(
        &self,
        backend: &Arc<Backend>,
        timeout: Duration,
        parts: &http::request::Parts,
        target: &str,
        body: ProxyBody,
    ) -> Result<Response<ProxyBody>, Failure> {
        let uri = Uri::builder()
            .scheme("http")
            .authority(backend.addr.to_string())
            .path_and_query(target)
            .build()
            .map_err(|_| {
                Failure::Client(StatusCode::BAD_REQUEST, "the request target is invalid")
            })?;
        let mut request = Request::new(body);
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = parts.headers.clone();
        let in_flight = InFlight::new(backend.clone());
        let exchange = async {
            let response = self.client.request(request).await.map_err(classify)?;
            let (mut parts, body) = response.into_parts();
            parts.headers = without_hop_by_hop(&parts.headers);
            // The guard lives as long as the body: dropped when the last byte went to the client.
            let body = body
                .map_err(move |error| {
                    let _ = &in_flight;
                    BoxError::from(error)
                })
                .boxed_unsync();
            Ok(Response::from_parts(parts, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}

/// Counts a request in flight on a backend while it lives.
struct InFlight(Arc<Backend>);

impl InFlight {
    fn new(backend: Arc<Backend>) -> Self {
        backend.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(backend)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An error of the client's request body (it broke off, stalled or passed the limit), told apart
/// from the backend's errors wherever it surfaces in the client's error chain.
#[derive(Debug, thiserror::Error)]
#[error("the client's request body: {0}")]
struct ClientBody(#[source] BoxError);

/// A request body lent to one attempt: it leaves the shared slot only when the attempt first reads it,
/// so an attempt that never connected leaves it whole for the next.
struct Lent {
    slot: Arc<Mutex<Option<ProxyBody>>>,
    taken: Option<ProxyBody>,
}

impl Body for Lent {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.taken.is_none() {
            this.taken = this.slot.lock().expect("body lock").take();
        }
        match &mut this.taken {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.taken {
            Some(body) => body.is_end_stream(),
            None => self
                .slot
                .lock()
                .expect("body lock")
                .as_ref()
                .is_none_or(Body::is_end_stream),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.taken {
            Some(body) => body.size_hint(),
            None => self
                .slot
                .lock()
                .expect("body lock")
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), Body::size_hint),
        }
    }
}

/// Whose fault a failed exchange was: a connection that could not be made is the backend's; a request
/// body that broke off, stalled or grew past the limit is the client's; anything else (the backend
/// closed or reset the connection, or spoke bad HTTP) is a bad gateway.
fn classify(error: hyper_util::client::legacy::Error) -> Failure {
    if error.is_connect() {
        return Failure::Refused;
    }
    let causes = std::iter::successors(std::error::Error::source(&error), |cause| cause.source());
    let mut client_body = false;
    for cause in causes {
        if cause.is::<LengthLimitError>() {
            return Failure::Client(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        if cause.is::<tower_http::timeout::TimeoutError>() {
            return Failure::Client(
                StatusCode::REQUEST_TIMEOUT,
                "the client stopped sending its request body",
            );
        }
        client_body |= cause.is::<ClientBody>();
    }
    if client_body {
        return Failure::Client(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        );
    }
    Failure::BadGateway
}

/// Serves the balancer on `listener` until `stop` is cancelled, closing client connections that do
/// not send a request head within the header timeout (idle keep-alive connections included).
pub async fn serve(balancer: Arc<Balancer>, listener: TcpListener, stop: CancellationToken) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(balancer.limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(balancer.limits.header_timeout)
        .keep_alive_timeout(balancer.limits.header_timeout);
    let builder = Arc::new(builder);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most often: wait for connections to close.
                    tracing::warn!(%error, "load balancer: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        let _ = stream.set_nodelay(true);
        let balancer = balancer.clone();
        let builder = builder.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let balancer = balancer.clone();
                async move { Ok::<_, Infallible>(balancer.handle(request, client).await) }
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}

/// `path` with percent-encoded unreserved characters decoded and `.`/`..` segments removed (RFC 3986
/// sections 6.2.2.2 and 5.2.4), so that routing and the backend see the same path; `None` unless it
/// starts with `/`. Written by hand: the `percent-encoding` crate decodes every octet, `%2F` included,
/// which would change the path's segments.
pub fn normalize_path(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let decoded = decode_unreserved(path);
    let mut segments: Vec<&str> = Vec::new();
    let mut parts = decoded[1..].split('/').peekable();
    while let Some(segment) = parts.next() {
        let last = parts.peek().is_none();
        match segment {
            "." | ".." => {
                if segment == ".." {
                    segments.pop();
                }
                // A trailing dot segment leaves the path ending in '/'.
                if last {
                    segments.push("");
                }
            }
            segment => segments.push(segment),
        }
    }
    Some(format!("/{}", segments.join("/")))
}

/// Decodes `%XX` where XX is an unreserved character (ALPHA, DIGIT, `-`, `.`, `_`, `~`).
fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
            .filter(|b| b.is_ascii_alphanumeric() || b"-._~".contains(b));
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    // Only ASCII was decoded, so what was UTF-8 stays UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// Headers that describe one connection, not the message: never forwarded (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// `headers` without the hop-by-hop ones, nor those the `Connection` header names.
fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for value in headers.get_all(header::CONNECTION) {
        for name in value.to_str().unwrap_or("").split(',') {
            kept.remove(name.trim());
        }
    }
    for name in HOP_BY_HOP {
        kept.remove(name);
    }
    kept
}

/// The headers a backend gets: without hop-by-hop ones, with the client's address appended to
/// `X-Forwarded-For` and `X-Forwarded-Proto` set, as an ALB does.
fn forwarded_headers(headers: &HeaderMap, client: SocketAddr) -> HeaderMap {
    let mut forwarded = without_hop_by_hop(headers);
    let mut chain: Vec<String> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    chain.push(client.ip().to_string());
    if let Ok(value) = HeaderValue::from_str(&chain.join(", ")) {
        forwarded.insert("x-forwarded-for", value);
    }
    forwarded.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    forwarded
}

fn too_large(limit: u64) -> Response<ProxyBody> {
    let mut response = answer(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    if let Ok(value) = HeaderValue::from_str(&limit.to_string()) {
        response.headers_mut().insert("x-max-request-body", value);
    }
    response
}

fn answer(status: StatusCode, message: &str) -> Response<ProxyBody> {
    let mut response = Response::new(body_of(format!(
        "{{\"error\":\"{message}\",\"status\":{}}}",
        status.as_u16()
    )));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::normalize_path;
    use proptest::prelude::*;

    #[test]
    fn dot_segments_go_as_rfc_3986_removes_them() {
        // RFC 3986 section 5.2.4's example, then its edge cases.
        assert_eq!(normalize_path("/a/b/c/./../../g").unwrap(), "/a/g");
        for (path, normalized) in [
            ("/", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../../x", "/x"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/a/./b", "/a/b"),
            ("/cluster1/../cluster2/ping", "/cluster2/ping"),
            ("/cluster1/%2e%2E/cluster2/ping", "/cluster2/ping"),
            ("/%7Euser/%41", "/~user/A"),
            // Reserved and non-ASCII octets stay encoded: %2F is not a segment separator.
            ("/a%2F..%2Fb", "/a%2F..%2Fb"),
            ("/caf%C3%A9", "/caf%C3%A9"),
            ("/100%", "/100%"),
            ("/%zz", "/%zz"),
        ] {
            assert_eq!(normalize_path(path).unwrap(), normalized, "{path}");
        }
        assert_eq!(normalize_path("*"), None);
        assert_eq!(normalize_path(""), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn normalized_paths_have_no_dot_segments_and_stay_put(path in "/([a-z.%2eE/]{0,6}){0,6}") {
            let normalized = normalize_path(&path).unwrap();
            prop_assert!(normalized.starts_with('/'));
            prop_assert!(normalized.split('/').all(|s| s != "." && s != ".."), "{normalized}");
            prop_assert_eq!(normalize_path(&normalized).unwrap(), normalized);
        }
    }
}
