//! One request's result and timestamps.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::EndpointId;

/// How a request failed before a response could be read. Failures are counted, never fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Nothing listens: the connection was refused.
    ConnectionRefused,
    /// The TCP connection was not established within the timeout.
    ConnectTimeout,
    /// The response was not complete within the timeout.
    RequestTimeout,
    /// The peer reset or closed the connection mid-request.
    Reset,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The host name did not resolve.
    Dns,
    /// The response was not valid HTTP.
    Malformed,
    /// Any other I/O error.
    Other,
}

impl ErrorKind {
    const ALL: [ErrorKind; 8] = [
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectTimeout,
        ErrorKind::RequestTimeout,
        ErrorKind::Reset,
        ErrorKind::Tls,
        ErrorKind::Dns,
        ErrorKind::Malformed,
        ErrorKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ConnectionRefused => "connection_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Tls => "tls",
            ErrorKind::Dns => "dns",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Other => "other",
        }
    }
}

/// What a request ended with: an HTTP status or an error kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Status(u16),
    Error(ErrorKind),
}

impl Outcome {
    /// Failed as k6 counts `http_req_failed`: an error, or a status outside 200–399.
    pub fn is_failure(self) -> bool {
        match self {
            Outcome::Status(code) => !(200..400).contains(&code),
            Outcome::Error(_) => true,
        }
    }
}

/// As its text: the status code (`"200"`) or the error kind (`"reset"`).
impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if let Ok(code) = text.parse::<u16>() {
            return Ok(Outcome::Status(code));
        }
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .map(Outcome::Error)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome '{text}'")))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(code) => write!(f, "{code}"),
            Outcome::Error(kind) => f.write_str(kind.as_str()),
        }
    }
}

/// Time spent in each phase of a request, as k6 reports them (zero where a phase did not happen,
/// e.g. `connecting` on a reused connection).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// Waiting for a connection to be available.
    pub blocked: Duration,
    /// Establishing the TCP connection.
    pub connecting: Duration,
    /// The TLS handshake.
    pub tls_handshaking: Duration,
    /// Writing the request.
    pub sending: Duration,
    /// From the request written to the first byte of the response (time to first byte).
    pub waiting: Duration,
    /// From the first byte to the last byte of the response.
    pub receiving: Duration,
}

impl Phases {
    /// The phases in k6's order: blocked, connecting, TLS handshaking, sending, waiting,
    /// receiving.
    pub fn in_order(&self) -> [Duration; 6] {
        [
            self.blocked,
            self.connecting,
            self.tls_handshaking,
            self.sending,
            self.waiting,
            self.receiving,
        ]
    }
}

/// One request: where it went, how it ended, how big it was and when each thing happened.
///
/// Timestamps are offsets from the start of the run on a monotonic clock. `intended` is when the
/// schedule wanted the request sent: in the open model (arrival rates) latency is measured from it,
/// so a stalled server cannot hide behind the requests it delayed; in the closed model (virtual
/// users) it equals `sent`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub endpoint: EndpointId,
    pub outcome: Outcome,
    pub intended: Duration,
    pub sent: Duration,
    pub first_byte: Option<Duration>,
    pub done: Duration,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub phases: Phases,
}

impl Sample {
    /// Latency as the user of the service saw it: from the intended send time to the last byte.
    pub fn latency(&self) -> Duration {
        self.done.saturating_sub(self.intended)
    }

    /// Service time: from actually sending to the last byte (what a closed-loop tool reports).
    pub fn service_time(&self) -> Duration {
        self.done.saturating_sub(self.sent)
    }
}
