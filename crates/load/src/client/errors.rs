//! Classifies a failed request into an [`ErrorKind`] by walking its error chain.

use std::error::Error;
use std::io;

use scalelab_metrics::ErrorKind;

/// The kind of a failure that happened after the connection was established.
pub fn classify(error: &(dyn Error + 'static)) -> ErrorKind {
    let mut current: Option<&(dyn Error + 'static)> = Some(error);
    let mut kind = None;
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<io::Error>() {
            return io_kind(io);
        }
        if error.downcast_ref::<rustls::Error>().is_some() {
            return ErrorKind::Tls;
        }
        if let Some(hyper) = error.downcast_ref::<hyper::Error>() {
            kind = kind.or(
                if hyper.is_parse() || hyper.is_parse_status() || hyper.is_parse_too_large() {
                    Some(ErrorKind::Malformed)
                } else if hyper.is_timeout() {
                    Some(ErrorKind::RequestTimeout)
                } else if hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled()
                {
                    Some(ErrorKind::Reset)
                } else {
                    None
                },
            );
        }
        current = error.source();
    }
    // HTTP/2 stream and connection errors (RST_STREAM, GOAWAY) end here: the peer cut the exchange.
    kind.unwrap_or(ErrorKind::Reset)
}

/// The kind of an I/O error, whether it happened while connecting or later.
pub fn io_kind(error: &io::Error) -> ErrorKind {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => ErrorKind::Reset,
        io::ErrorKind::TimedOut => ErrorKind::RequestTimeout,
        io::ErrorKind::InvalidData => {
            let tls = error
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
            if tls {
                ErrorKind::Tls
            } else {
                ErrorKind::Malformed
            }
        }
        _ => ErrorKind::Other,
    }
}
