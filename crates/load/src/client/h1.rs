//! The lean HTTP/1.1 path for plain TCP: the request goes out as serialized once per template, the
//! response is parsed with `httparse` in a buffer the connection keeps, and the virtual user's own
//! future drives the socket — no connection task, no channel, no allocation per request.
//!
//! Framing follows RFC 9112 §6.3: no body after HEAD, 1xx, 204 and 304; chunked when
//! `Transfer-Encoding` ends in `chunked`; else `Content-Length`; else the body runs to the close.
//! httparse parses heads and chunk-size lines; the state machine around it (what no crate offers
//! without also owning the socket) is written here.

use std::mem::MaybeUninit;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use http::{HeaderMap, HeaderName, HeaderValue};
use scalelab_metrics::ErrorKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::errors;

/// Longest response head (status line and headers), or trailer section, accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most headers in a response head.
const MAX_HEADERS: usize = 100;
/// Longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// A connection's first read buffer; it doubles while reads fill it, up to [`MAX_BUFFER`].
const FIRST_BUFFER: usize = 2048;
/// Largest read buffer: a head of [`MAX_HEAD`] fits, bodies stream through.
const MAX_BUFFER: usize = MAX_HEAD;

/// Why a response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not HTTP/1.x, or framing that cannot be trusted.
    Invalid,
    /// A head, trailer section or chunk line longer than the limits.
    TooLarge,
}

/// A response head as the exchange needs it.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
    /// The headers, when asked for.
    pub headers: Option<HeaderMap>,
}

/// How the body of a response is delimited, and how far it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Length(u64),
    Chunked(Chunk),
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    /// Trailer bytes seen so far.
    Trailers(usize),
}

#[derive(Debug)]
enum State {
    Head,
    Body(Body),
    Done,
}

/// Parses one response fed in pieces; it keeps nothing of the input, so memory stays bounded.
#[derive(Debug)]
pub struct Parser {
    state: State,
    /// The request was HEAD: the response has no body whatever its headers say.
    head_request: bool,
    want_headers: bool,
    head: Option<Head>,
}

impl Parser {
    pub fn new(head_request: bool, want_headers: bool) -> Self {
        Self {
            state: State::Head,
            head_request,
            want_headers,
            head: None,
        }
    }

    /// The final (non-1xx) head, once parsed.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    pub fn take_head(&mut self) -> Option<Head> {
        self.head.take()
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Consumes what it can of `input` (body data goes to `body`) and returns how many bytes it
    /// took; 0 means it needs more input (or is done).
    pub fn feed(&mut self, input: &[u8], body: &mut impl FnMut(&[u8])) -> Result<usize, Malformed> {
        match self.state {
            State::Done => Ok(0),
            State::Head => self.parse_head(input),
            State::Body(Body::Close) => {
                body(input);
                Ok(input.len())
            }
            State::Body(Body::Length(left)) => {
                let taken = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                body(&input[..taken]);
                let left = left - taken as u64;
                self.state = if left == 0 {
                    State::Done
                } else {
                    State::Body(Body::Length(left))
                };
                Ok(taken)
            }
            State::Body(Body::Chunked(chunk)) => self.parse_chunked(chunk, input, body),
        }
    }

    /// The peer closed the connection: fine for a close-delimited body, too early otherwise.
    pub fn eof(&mut self) -> Result<(), ErrorKind> {
        match self.state {
            State::Body(Body::Close) | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(ErrorKind::Reset),
        }
    }

    fn parse_head(&mut self, input: &[u8]) -> Result<usize, Malformed> {
        // Uninitialized slots: filling 100 empty headers per response would cost more than parsing.
        let mut headers = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut response,
            input,
            &mut headers,
        );
        let length = match parsed {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if input.len() >= MAX_HEAD => {
                return Err(Malformed::TooLarge);
            }
            Ok(httparse::Status::Partial) => return Ok(0),
            Err(httparse::Error::TooManyHeaders) => return Err(Malformed::TooLarge),
            Err(_) => return Err(Malformed::Invalid),
        };
        let status = response.code.ok_or(Malformed::Invalid)?;
        if (100..200).contains(&status) {
            // 101 would switch protocols, which no request of ours asks for.
            return if status == 101 {
                Err(Malformed::Invalid)
            } else {
                Ok(length)
            };
        }
        let mut length_header: Option<u64> = None;
        let mut chunked = false;
        let mut transfer_encoding = false;
        let (mut close, mut keep_alive) = (false, false);
        for header in response.headers.iter() {
            let name = header.name;
            if name.eq_ignore_ascii_case("content-length") {
                let value = parse_length(header.value)?;
                if length_header.is_some_and(|l| l != value) {
                    return Err(Malformed::Invalid);
                }
                length_header = Some(value);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                transfer_encoding = true;
                // Only the last coding decides whether the body is chunked.
                chunked = header
                    .value
                    .rsplit(|&b| b == b',')
                    .next()
                    .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                for token in header.value.split(|&b| b == b',') {
                    let token = token.trim_ascii();
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
        }
        let http11 = response.version == Some(1);
        let mut reusable = if http11 { !close } else { keep_alive && !close };
        let body = if self.head_request || status == 204 || status == 304 {
            Body::Length(0)
        } else if transfer_encoding {
            // A Transfer-Encoding overrides Content-Length, and such a message may be a smuggling
            // attempt: do not reuse the connection after it (RFC 9112 §6.3).
            if length_header.is_some() {
                reusable = false;
            }
            if chunked {
                Body::Chunked(Chunk::Size)
            } else {
                reusable = false;
                Body::Close
            }
        } else if let Some(length) = length_header {
            Body::Length(length)
        } else {
            reusable = false;
            Body::Close
        };
        let headers = if self.want_headers {
            let mut map = HeaderMap::with_capacity(response.headers.len());
            for header in response.headers.iter() {
                let name = HeaderName::from_bytes(header.name.as_bytes())
                    .map_err(|_| Malformed::Invalid)?;
                let value =
                    HeaderValue::from_bytes(header.value).map_err(|_| Malformed::Invalid)?;
                map.append(name, value);
            }
            Some(map)
        } else {
            None
        };
        self.head = Some(Head {
            status,
            keep_alive: reusable,
            headers,
        });
        self.state = match body {
            Body::Length(0) => State::Done,
            body => State::Body(body),
        };
        Ok(length)
    }

    fn parse_chunked(
        &mut self,
        chunk: Chunk,
        input: &[u8],
        body: &mut impl FnMut(&[u8]),
    ) -> Result<usize, Malformed> {
        let (taken, next) = match chunk {
            Chunk::Size => match httparse::parse_chunk_size(input) {
                Ok(httparse::Status::Complete((length, 0))) => (length, Chunk::Trailers(0)),
                Ok(httparse::Status::Complete((length, size))) => (length, Chunk::Data(size)),
                Ok(httparse::Status::Partial) if input.len() >= MAX_CHUNK_LINE => {
                    return Err(Malformed::TooLarge);
                }
                Ok(httparse::Status::Partial) => return Ok(0),
                Err(_) => return Err(Malformed::Invalid),
            },
            Chunk::Data(left) => {
                let taken = input.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                body(&input[..taken]);
                let left = left - taken as u64;
                let next = if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                };
                (taken, next)
            }
            Chunk::DataEnd => match input {
                [b'\r', b'\n', ..] => (2, Chunk::Size),
                [b'\n', ..] => (1, Chunk::Size),
                [] | [b'\r'] => return Ok(0),
                _ => return Err(Malformed::Invalid),
            },
            Chunk::Trailers(seen) => {
                // Trailer fields are skipped line by line; an empty line ends the message.
                let Some(end) = input.iter().position(|&b| b == b'\n') else {
                    return if seen + input.len() >= MAX_HEAD {
                        Err(Malformed::TooLarge)
                    } else {
                        Ok(0)
                    };
                };
                let line = &input[..end];
                if line.is_empty() || line == b"\r" {
                    self.state = State::Done;
                    return Ok(end + 1);
                }
                if seen + end + 1 >= MAX_HEAD {
                    return Err(Malformed::TooLarge);
                }
                (end + 1, Chunk::Trailers(seen + end + 1))
            }
        };
        self.state = State::Body(Body::Chunked(next));
        Ok(taken)
    }
}

/// A Content-Length value: digits only (RFC 9110 §8.6), which also rules out a sign or overflow.
fn parse_length(value: &[u8]) -> Result<u64, Malformed> {
    let value = value.trim_ascii();
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(Malformed::Invalid);
    }
    value
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or(Malformed::Invalid)
}

/// What one exchange on a [`Connection`] produced.
pub struct Reply {
    pub head: Head,
    /// When the request's last byte was handed to the kernel.
    pub written: Instant,
    /// When the final head was complete.
    pub first_byte: Instant,
    pub done: Instant,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// A connection's read buffer: bytes read and not yet parsed. It holds at most a partial head,
/// chunk line or trailer line, so it never grows past [`MAX_BUFFER`]; body data streams through.
#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Where the unparsed bytes start.
    start: usize,
    /// The last read filled the room given: a bigger buffer saves system calls on long bodies.
    filled: bool,
}

impl Buffer {
    /// Parses what is buffered as far as it goes; true once the response is complete.
    fn parse(
        &mut self,
        parser: &mut Parser,
        body: &mut impl FnMut(&[u8]),
    ) -> Result<bool, Malformed> {
        loop {
            let taken = parser.feed(&self.bytes[self.start..], body)?;
            self.start += taken;
            if parser.is_done() {
                return Ok(true);
            }
            if taken == 0 {
                return Ok(false);
            }
        }
    }

    /// Drops what was parsed and makes room for a read (growing while reads fill the buffer);
    /// returns the room.
    fn make_room(&mut self) -> Result<usize, Malformed> {
        self.bytes.drain(..self.start);
        self.start = 0;
        if self.filled || self.bytes.capacity() == self.bytes.len() {
            let grown = (self.bytes.capacity() * 2).clamp(FIRST_BUFFER, MAX_BUFFER);
            if grown <= self.bytes.len() {
                // The parser's limits rule this out; kept as a bound on memory all the same.
                return Err(Malformed::TooLarge);
            }
            self.bytes.reserve_exact(grown - self.bytes.len());
        }
        Ok(self.bytes.capacity() - self.bytes.len())
    }

    /// Notes a read of `read` bytes into a room of `room`.
    fn note_read(&mut self, read: usize, room: usize) {
        self.filled = read == room && self.bytes.capacity() < MAX_BUFFER;
    }

    /// Whether bytes beyond the response are buffered.
    fn has_rest(&self) -> bool {
        self.start < self.bytes.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.start = 0;
    }
}

/// One keep-alive HTTP/1.1 connection over plain TCP, with its read buffer.
pub struct Connection {
    stream: TcpStream,
    buffer: Buffer,
    reusable: bool,
    /// Some response byte arrived in the last exchange.
    answered: bool,
}

impl Connection {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buffer: Buffer::default(),
            reusable: true,
            answered: false,
        }
    }

    /// Whether any byte of a response arrived in the last exchange.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Whether the connection can carry another request: the last response allowed it and the peer
    /// has neither closed it nor sent anything unasked since. Costs no system call while the
    /// socket has not become readable.
    pub fn is_reusable(&mut self) -> bool {
        if !self.reusable {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Ok(())) = self.stream.poll_read_ready(&mut cx) {
            let mut probe = [0u8; 1];
            match self.stream.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // End of stream, unsolicited bytes or an error: this connection is done.
                _ => self.reusable = false,
            }
        }
        self.reusable
    }

    /// Writes `request` (a whole serialized request) and reads the response to its end; body data
    /// goes to `body`. Any error leaves the connection unusable.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        mut parser: Parser,
        body: &mut impl FnMut(&[u8]),
    ) -> Result<Reply, ErrorKind> {
        self.reusable = false;
        self.answered = false;
        self.stream
            .write_all(request)
            .await
            .map_err(|e| errors::io_kind(&e))?;
        let written = Instant::now();
        let mut first_byte = None;
        let mut received = 0u64;
        self.buffer.clear();
        loop {
            let done = self
                .buffer
                .parse(&mut parser, body)
                .map_err(|_| ErrorKind::Malformed)?;
            if first_byte.is_none() && parser.head().is_some() {
                first_byte = Some(Instant::now());
            }
            if done {
                break;
            }
            let room = self.buffer.make_room().map_err(|_| ErrorKind::Malformed)?;
            let read = self
                .stream
                .read_buf(&mut self.buffer.bytes)
                .await
                .map_err(|e| errors::io_kind(&e))?;
            if read == 0 {
                parser.eof()?;
                break;
            }
            self.buffer.note_read(read, room);
            self.answered = true;
            received += read as u64;
        }
        let done = Instant::now();
        let head = parser.take_head().ok_or(ErrorKind::Reset)?;
        // Bytes beyond the response were not asked for: the connection cannot be trusted further.
        self.reusable = head.keep_alive && !self.buffer.has_rest();
        self.buffer.clear();
        Ok(Reply {
            head,
            written,
            first_byte: first_byte.unwrap_or(done),
            done,
            bytes_sent: request.len() as u64,
            bytes_received: received,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Feeds `input` through a connection's [`Buffer`] in reads of the sizes in `reads` (cycled),
    /// as the socket would deliver it, then reports the end of stream.
    fn drive(
        input: &[u8],
        reads: &[usize],
        head_request: bool,
    ) -> Result<(Head, Vec<u8>), ErrorKind> {
        let mut buffer = Buffer::default();
        let mut parser = Parser::new(head_request, true);
        let mut body = Vec::new();
        let (mut at, mut read_index) = (0, 0);
        loop {
            let done = buffer
                .parse(&mut parser, &mut |data| body.extend_from_slice(data))
                .map_err(|_| ErrorKind::Malformed)?;
            if done {
                break;
            }
            let room = buffer.make_room().map_err(|_| ErrorKind::Malformed)?;
            assert!(
                buffer.bytes.capacity() <= MAX_BUFFER,
                "the buffer stays bounded"
            );
            if at == input.len() {
                parser.eof()?;
                break;
            }
            let wanted = reads
                .get(read_index % reads.len().max(1))
                .copied()
                .unwrap_or(room);
            read_index += 1;
            let n = wanted.clamp(1, room).min(input.len() - at);
            buffer.bytes.extend_from_slice(&input[at..at + n]);
            buffer.note_read(n, room);
            at += n;
        }
        Ok((parser.take_head().ok_or(ErrorKind::Reset)?, body))
    }

    fn whole(input: &str) -> Result<(Head, Vec<u8>), ErrorKind> {
        drive(input.as_bytes(), &[], false)
    }

    #[test]
    fn content_length_bodies_end_at_their_length_in_any_split() {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
        for split in 1..response.len() {
            let (head, body) = drive(response.as_bytes(), &[split], false).unwrap();
            assert_eq!(
                (head.status, head.keep_alive, body.as_slice()),
                (200, true, &b"hello"[..])
            );
            assert_eq!(head.headers.unwrap()["x-a"], "b");
        }
    }

    #[test]
    fn chunked_bodies_join_their_chunks_and_skip_extensions_and_trailers() {
        let response = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n\
                        5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n";
        for split in 1..response.len() {
            let (head, body) = drive(response.as_bytes(), &[split], false).unwrap();
            assert_eq!(
                (head.status, head.keep_alive, body.as_slice()),
                (201, true, &b"hello world"[..])
            );
        }
    }

    #[test]
    fn heads_without_bodies() {
        // HEAD, 204 and 304 end at the head whatever Content-Length says; 1xx heads are skipped.
        let with_length = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        let (head, body) = drive(with_length.as_bytes(), &[], true).unwrap();
        assert_eq!((head.status, body.len(), head.keep_alive), (200, 0, true));
        for status in ["204 No Content", "304 Not Modified"] {
            let (head, body) =
                whole(&format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n")).unwrap();
            assert_eq!((body.len(), head.keep_alive), (0, true));
        }
        let informational = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                             HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let (head, body) = whole(informational).unwrap();
        assert_eq!((head.status, body.as_slice()), (200, &b"ok"[..]));
        assert_eq!(
            whole("HTTP/1.1 101 Switching\r\n\r\n").err(),
            Some(ErrorKind::Malformed)
        );
    }

    #[test]
    fn close_delimited_bodies_end_with_the_connection() {
        let (head, body) = whole("HTTP/1.1 200 OK\r\n\r\nall of it").unwrap();
        assert_eq!(
            (head.keep_alive, body.as_slice()),
            (false, &b"all of it"[..])
        );
        // Transfer-Encoding without chunked last: read to the close (RFC 9112 §6.3).
        let (head, body) = whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz").unwrap();
        assert_eq!((head.keep_alive, body.as_slice()), (false, &b"zz"[..]));
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let cases = [
            ("HTTP/1.1", "", true),
            ("HTTP/1.1", "Connection: close\r\n", false),
            ("HTTP/1.0", "", false),
            ("HTTP/1.0", "Connection: Keep-Alive\r\n", true),
            ("HTTP/1.1", "Connection: keep-alive, close\r\n", false),
        ];
        for (version, header, keep_alive) in cases {
            let response = format!("{version} 200 OK\r\n{header}Content-Length: 0\r\n\r\n");
            assert_eq!(
                whole(&response).unwrap().0.keep_alive,
                keep_alive,
                "{response}"
            );
        }
        // Both Transfer-Encoding and Content-Length: chunked wins, the connection is not reused.
        let both = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
        let (head, body) = whole(both).unwrap();
        assert_eq!((head.keep_alive, body.as_slice()), (false, &b"a"[..]));
    }

    #[test]
    fn broken_framing_is_malformed_and_early_ends_are_resets() {
        let malformed = [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
            "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nab",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "SSH-2.0-OpenSSH\r\n\r\n",
        ];
        for response in malformed {
            assert_eq!(
                whole(response).err(),
                Some(ErrorKind::Malformed),
                "{response}"
            );
        }
        let truncated = [
            "",
            "HTTP/1.1 200 OK\r\nContent-Le",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        ];
        for response in truncated {
            assert_eq!(whole(response).err(), Some(ErrorKind::Reset), "{response}");
        }
    }

    #[test]
    fn oversized_heads_chunk_lines_and_trailers_are_malformed() {
        let long_header = format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        let many_headers = format!(
            "HTTP/1.1 200 OK\r\n{}\r\n",
            "X-A: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        let chunk_line = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;{}\r\n",
            "e".repeat(MAX_CHUNK_LINE)
        );
        let trailers = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{}\r\n",
            "X-T: 1\r\n".repeat(MAX_HEAD / 8 + 1)
        );
        for response in [long_header, many_headers, chunk_line, trailers] {
            assert_eq!(whole(&response).err(), Some(ErrorKind::Malformed));
        }
    }

    /// A response with `body` framed as `framing` says (0 length, 1 chunked in pieces of
    /// `chunk`, 2 to the close).
    fn framed(body: &[u8], framing: u8, chunk: usize) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\nServer: t\r\n".to_vec();
        match framing {
            0 => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
            }
            1 => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for piece in body.chunks(chunk.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    out.extend_from_slice(piece);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            _ => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any bytes at all, in any reads: an outcome (malformed, reset or a response), never a
        /// panic, and the buffer within its bound (checked inside `drive`).
        #[test]
        fn garbage_never_panics(
            input in proptest::collection::vec(any::<u8>(), 0..3000),
            reads in proptest::collection::vec(1usize..5000, 1..8),
            head_request: bool,
        ) {
            let _ = drive(&input, &reads, head_request);
        }

        /// Garbage after a valid status line and header: exercises the framing code paths.
        #[test]
        fn garbage_bodies_never_panic(
            framing in 0u8..3,
            tail in proptest::collection::vec(any::<u8>(), 0..3000),
            reads in proptest::collection::vec(1usize..5000, 1..8),
        ) {
            let mut input = framed(b"", framing, 1);
            input.truncate(input.len() - if framing == 1 { 5 } else { 0 });
            input.extend_from_slice(&tail);
            let _ = drive(&input, &reads, false);
        }

        /// Every framing decodes the body exactly, however the reads split it; cut short, it is a
        /// reset (or, to the close, a shorter body).
        #[test]
        fn valid_responses_decode_and_truncated_ones_reset(
            body in proptest::collection::vec(any::<u8>(), 0..20_000),
            framing in 0u8..3,
            chunk in 1usize..5000,
            reads in proptest::collection::vec(1usize..70_000, 1..8),
            cut in any::<proptest::sample::Index>(),
        ) {
            let input = framed(&body, framing, chunk);
            let (head, decoded) = drive(&input, &reads, false).unwrap();
            prop_assert_eq!(head.status, 200);
            prop_assert_eq!(&decoded, &body);
            prop_assert_eq!(head.keep_alive, framing != 2);
            let cut = cut.index(input.len());
            match drive(&input[..cut], &reads, false) {
                Ok((_, partial)) => prop_assert!(framing == 2 && body.starts_with(&partial)),
                Err(kind) => prop_assert_eq!(kind, ErrorKind::Reset),
            }
        }

        /// A head of any size past the limit is malformed, whatever the reads.
        #[test]
        fn oversized_heads_are_malformed(
            extra in 0usize..20_000,
            reads in proptest::collection::vec(1usize..70_000, 1..4),
        ) {
            let input = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "v".repeat(MAX_HEAD + extra));
            prop_assert_eq!(drive(input.as_bytes(), &reads, false).err(), Some(ErrorKind::Malformed));
        }
    }
}
