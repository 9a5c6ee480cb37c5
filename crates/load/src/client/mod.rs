//! The HTTP client of one virtual user: a keep-alive connection (HTTP/1.1, or HTTP/2 by ALPN or
//! prior knowledge), a per-request timeout, response bodies read and counted but kept only when a
//! check needs them, and every failure classified rather than raised. Plain HTTP/1.1 takes the lean
//! path of [`h1`]; TLS and HTTP/2 go through hyper.

mod errors;
mod h1;
mod meter;
mod request;
mod tls;

pub use request::{Origin, PreparedRequest, RequestError};
pub use tls::client_config;

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use scalelab_metrics::{ErrorKind, Outcome, Phases};
use tokio::net::TcpStream;

use crate::plan::HttpVersion;
use meter::{Meter, Metered};

/// Longest response body kept for body checks; beyond it the rest is counted but not kept.
const MAX_KEPT_BODY: usize = 1 << 20;

/// What every connection of a run shares.
#[derive(Debug)]
pub struct ClientSettings {
    pub timeout: Duration,
    pub http: HttpVersion,
    pub tls: Arc<rustls::ClientConfig>,
}

/// How one request went.
#[derive(Debug)]
pub struct Exchange {
    pub outcome: Outcome,
    pub sent: Instant,
    pub first_byte: Option<Instant>,
    pub done: Instant,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub phases: Phases,
    /// Response headers, when a response arrived and they were asked for.
    pub headers: Option<HeaderMap>,
}

impl Exchange {
    /// An exchange that ended in `outcome` without a response byte or a byte counted.
    pub fn failed(outcome: Outcome, sent: Instant, done: Instant) -> Self {
        Self {
            outcome,
            sent,
            first_byte: None,
            done,
            bytes_sent: 0,
            bytes_received: 0,
            phases: Phases::default(),
            headers: None,
        }
    }
}

/// One virtual user's connection to the target, opened on first use and reopened when lost.
pub struct HttpClient {
    settings: Arc<ClientSettings>,
    connection: Option<(Arc<Origin>, Connection)>,
}

enum Connection {
    /// Plain HTTP/1.1, driven by the virtual user's own future.
    Plain(h1::Connection),
    /// TLS or HTTP/2: hyper's client connection, with its own task.
    Hyper { sender: Sender, meter: Arc<Meter> },
}

impl Connection {
    fn is_reusable(&mut self) -> bool {
        match self {
            Connection::Plain(connection) => connection.is_reusable(),
            Connection::Hyper { sender, .. } => !sender.is_closed(),
        }
    }
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn ready(&mut self) -> Result<(), hyper::Error> {
        match self {
            Sender::Http1(s) => s.ready().await,
            Sender::Http2(s) => s.ready().await,
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }
}

struct Response {
    status: u16,
    headers: Option<HeaderMap>,
    sent: Instant,
    first_byte: Instant,
    done: Instant,
    bytes_sent: u64,
    bytes_received: u64,
}

impl HttpClient {
    pub fn new(settings: Arc<ClientSettings>) -> Self {
        Self {
            settings,
            connection: None,
        }
    }

    /// Sends `request` and reads the whole response. With `body` given, the response body is
    /// copied into it (up to 1 MiB) for checks; the headers are kept when `headers` is true.
    pub async fn send(
        &mut self,
        request: &PreparedRequest,
        body: Option<&mut Vec<u8>>,
        headers: bool,
    ) -> Exchange {
        let started = Instant::now();
        let mut phases = Phases::default();
        let connected = Cell::new(false);
        let timeout = self.settings.timeout;
        let attempt = self.exchange(request, &mut phases, &connected, body, headers);
        let result = match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => result,
            Err(_) if connected.get() => Err(ErrorKind::RequestTimeout),
            Err(_) => Err(ErrorKind::ConnectTimeout),
        };
        match result {
            Ok(response) => Exchange {
                outcome: Outcome::Status(response.status),
                sent: response.sent,
                first_byte: Some(response.first_byte),
                done: response.done,
                bytes_sent: response.bytes_sent,
                bytes_received: response.bytes_received,
                phases,
                headers: response.headers,
            },
            Err(kind) => {
                // A failed exchange leaves the connection in an unknown state: start afresh.
                self.connection = None;
                Exchange {
                    outcome: Outcome::Error(kind),
                    sent: started,
                    first_byte: None,
                    done: Instant::now(),
                    bytes_sent: 0,
                    bytes_received: 0,
                    phases,
                    headers: None,
                }
            }
        }
    }

    /// Drops the connection, as a new virtual user would start without one.
    pub fn disconnect(&mut self) {
        self.connection = None;
    }

    async fn exchange(
        &mut self,
        request: &PreparedRequest,
        phases: &mut Phases,
        connected: &Cell<bool>,
        mut sink: Option<&mut Vec<u8>>,
        headers: bool,
    ) -> Result<Response, ErrorKind> {
        let mut reused = self
            .connection
            .as_mut()
            .is_some_and(|(origin, c)| *origin == request.origin && c.is_reusable());
        loop {
            if !reused {
                self.connection = None;
                // Boxed: connecting (DNS, TCP, TLS) is rare and its state is large; inlined, it
                // would grow every virtual user's task by kilobytes.
                let connection = Box::pin(connect(&self.settings, &request.origin, phases)).await?;
                self.connection = Some((request.origin.clone(), connection));
            }
            connected.set(true);
            let (_, connection) = self.connection.as_mut().expect("connected above");
            let plain = match connection {
                Connection::Plain(plain) => plain,
                Connection::Hyper { sender, meter } => {
                    return exchange_hyper(sender, meter, request, phases, sink, headers).await;
                }
            };
            match exchange_plain(plain, request, phases, sink.as_deref_mut(), headers).await {
                // The server closed the idle connection as the request went out (nothing came
                // back): once more on a new connection, as Go's Transport (so k6) does for
                // requests that are safe to replay.
                Err(ErrorKind::Reset) if reused && !plain.answered() && request.is_replayable() => {
                    reused = false;
                }
                result => return result,
            }
        }
    }
}

/// Keeps up to [`MAX_KEPT_BODY`] of a response body in `sink`.
fn keep(sink: &mut Option<&mut Vec<u8>>, data: &[u8]) {
    if let Some(sink) = sink.as_deref_mut() {
        let room = MAX_KEPT_BODY.saturating_sub(sink.len());
        sink.extend_from_slice(&data[..data.len().min(room)]);
    }
}

async fn exchange_plain(
    connection: &mut h1::Connection,
    request: &PreparedRequest,
    phases: &mut Phases,
    mut sink: Option<&mut Vec<u8>>,
    headers: bool,
) -> Result<Response, ErrorKind> {
    let sent = Instant::now();
    let parser = h1::Parser::new(request.is_head(), headers);
    let reply = connection
        .exchange(request.http1(), parser, &mut |data| keep(&mut sink, data))
        .await?;
    phases.sending = reply.written - sent;
    phases.waiting = reply.first_byte.saturating_duration_since(reply.written);
    phases.receiving = reply.done.saturating_duration_since(reply.first_byte);
    Ok(Response {
        status: reply.head.status,
        headers: reply.head.headers,
        sent,
        first_byte: reply.first_byte,
        done: reply.done,
        bytes_sent: reply.bytes_sent,
        bytes_received: reply.bytes_received,
    })
}

async fn exchange_hyper(
    sender: &mut Sender,
    meter: &Meter,
    request: &PreparedRequest,
    phases: &mut Phases,
    mut sink: Option<&mut Vec<u8>>,
    headers: bool,
) -> Result<Response, ErrorKind> {
    let blocked = Instant::now();
    sender.ready().await.map_err(|e| errors::classify(&e))?;
    phases.blocked = blocked.elapsed();

    let (written, read) = (meter.bytes_written(), meter.bytes_read());
    let sent = Instant::now();
    let http2 = matches!(sender, Sender::Http2(_));
    let message = request.build(http2);
    let response = match sender {
        Sender::Http1(s) => s.send_request(message).await,
        Sender::Http2(s) => s.send_request(message).await,
    }
    .map_err(|e| errors::classify(&e))?;
    let first_byte = Instant::now();
    let (parts, mut body) = response.into_parts();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| errors::classify(&e))?;
        if let Some(data) = frame.data_ref() {
            keep(&mut sink, data);
        }
    }
    let done = Instant::now();
    let last_write = meter.last_write().filter(|t| *t >= sent).unwrap_or(sent);
    phases.sending = last_write - sent;
    phases.waiting = first_byte.saturating_duration_since(last_write);
    phases.receiving = done - first_byte;
    Ok(Response {
        status: parts.status.as_u16(),
        headers: headers.then_some(parts.headers),
        sent,
        first_byte,
        done,
        bytes_sent: meter.bytes_written() - written,
        bytes_received: meter.bytes_read() - read,
    })
}

/// Opens a connection to `origin`: DNS, TCP, TLS when https, then the HTTP handshake.
async fn connect(
    settings: &ClientSettings,
    origin: &Arc<Origin>,
    phases: &mut Phases,
) -> Result<Connection, ErrorKind> {
    let tcp = connect_tcp(origin, phases).await?;
    if !origin.https && settings.http != HttpVersion::Http2 {
        return Ok(Connection::Plain(h1::Connection::new(tcp)));
    }
    // Boxed apart: TLS and hyper's handshakes hold kilobytes of state, which a plain connection's
    // opening should not allocate (10,000 VUs connecting at once would hold them all).
    Box::pin(connect_hyper(settings, origin, tcp, phases)).await
}

/// DNS and TCP.
async fn connect_tcp(origin: &Origin, phases: &mut Phases) -> Result<TcpStream, ErrorKind> {
    let address = tokio::net::lookup_host((origin.host.as_str(), origin.port))
        .await
        .map_err(|_| ErrorKind::Dns)?
        .next()
        .ok_or(ErrorKind::Dns)?;
    let started = Instant::now();
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| errors::io_kind(&e))?;
    let _ = tcp.set_nodelay(true);
    phases.connecting = started.elapsed();
    Ok(tcp)
}

/// TLS when https, then hyper's HTTP/1.1 or HTTP/2 handshake.
async fn connect_hyper(
    settings: &ClientSettings,
    origin: &Origin,
    tcp: TcpStream,
    phases: &mut Phases,
) -> Result<Connection, ErrorKind> {
    let meter = Meter::new();
    let stream = Metered::new(tcp, meter.clone());
    let sender = if origin.https {
        let started = Instant::now();
        let name = rustls::pki_types::ServerName::try_from(origin.host.clone())
            .map_err(|_| ErrorKind::Dns)?;
        let tls = tokio_rustls::TlsConnector::from(settings.tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| match errors::io_kind(&e) {
                ErrorKind::Reset => ErrorKind::Reset,
                _ => ErrorKind::Tls,
            })?;
        phases.tls_handshaking = started.elapsed();
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        handshake(TokioIo::new(tls), h2).await?
    } else {
        handshake(TokioIo::new(stream), true).await?
    };
    Ok(Connection::Hyper { sender, meter })
}

async fn handshake<T>(io: TokioIo<T>, http2: bool) -> Result<Sender, ErrorKind>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if http2 {
        let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| errors::classify(&e))?;
        tokio::spawn(connection);
        Ok(Sender::Http2(sender))
    } else {
        let (sender, connection) = http1::handshake(io)
            .await
            .map_err(|e| errors::classify(&e))?;
        tokio::spawn(connection);
        Ok(Sender::Http1(sender))
    }
}
