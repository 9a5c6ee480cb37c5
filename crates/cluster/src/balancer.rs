//! The L7 load balancer: listener rules by path prefix pick a group's pool; the pool picks a backend
//! (round robin or least outstanding requests); the request goes over a keep-alive connection. Answers
//! 502/503/504 as an ALB does, and counts each.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use scalelab_metrics::LatencyHistogram;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{Algorithm, ClusterConfig};
use crate::events::{EventKind, EventLog};

/// The HTTP client to backends: keep-alive connections, pooled per backend.
pub type BackendClient = Client<HttpConnector, Full<Bytes>>;

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
    client: BackendClient,
    events: Arc<EventLog>,
}

enum Failure {
    Refused,
    Timeout,
    BadGateway,
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
            client,
            events,
        }
    }

    pub fn pools(&self) -> &[Arc<Pool>] {
        &self.pools
    }

    /// The pool for `path` and the path to forward.
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

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let (pool, forwarded) = self.route(&path);
        let query = request.uri().query().map(|q| format!("?{q}"));
        let target = format!("{forwarded}{}", query.as_deref().unwrap_or(""));
        let (parts, body) = request.into_parts();
        let response = match body.collect().await {
            Ok(body) => {
                self.forward(
                    pool,
                    &parts.method,
                    &parts.headers,
                    &target,
                    body.to_bytes(),
                )
                .await
            }
            Err(_) => answer(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ),
        };
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

    /// Sends the request to a backend; a refused connection takes the backend out of rotation and an
    /// idempotent request is retried once on another backend.
    async fn forward(
        &self,
        pool: &Pool,
        method: &Method,
        headers: &HeaderMap,
        target: &str,
        body: Bytes,
    ) -> Response<Full<Bytes>> {
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
            backend.in_flight.fetch_add(1, Ordering::SeqCst);
            let result = self
                .send(
                    &backend,
                    pool.timeout,
                    method,
                    headers,
                    target,
                    body.clone(),
                )
                .await;
            backend.in_flight.fetch_sub(1, Ordering::SeqCst);
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
                    if refused_by.is_none() && method.is_idempotent() {
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
            }
        }
    }

    async fn send(
        &self,
        backend: &Backend,
        timeout: Duration,
        method: &Method,
        headers: &HeaderMap,
        target: &str,
        body: Bytes,
    ) -> Result<Response<Full<Bytes>>, Failure> {
        let uri: Uri = format!("http://{}{target}", backend.addr)
            .parse()
            .map_err(|_| Failure::BadGateway)?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(body))
            .map_err(|_| Failure::BadGateway)?;
        *request.headers_mut() = without_hop_by_hop(headers);
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    Failure::Refused
                } else {
                    Failure::BadGateway
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|_| Failure::BadGateway)?
                .to_bytes();
            let mut response = Response::from_parts(parts, Full::new(body));
            *response.headers_mut() = without_hop_by_hop(response.headers());
            Ok(response)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}

/// Serves the balancer on `listener` until `stop` is cancelled.
pub async fn serve(balancer: Arc<Balancer>, listener: TcpListener, stop: CancellationToken) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "load balancer: accept failed");
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        let _ = stream.set_nodelay(true);
        let balancer = balancer.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let balancer = balancer.clone();
                async move { Ok::<_, Infallible>(balancer.handle(request).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}

/// Headers that describe one connection, not the message: never forwarded.
const HOP_BY_HOP: [header::HeaderName; 5] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers
}

fn answer(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!(
        "{{\"error\":\"{message}\",\"status\":{}}}",
        status.as_u16()
    ))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
