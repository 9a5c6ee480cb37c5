//! Request templates resolved once per run into what the client sends.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::Full;
use scalelab_metrics::EndpointId;

use crate::plan::{self, Body, Defaults};

/// Characters a URI cannot carry as they are (controls, space, `"<>\\^`{|}` and non-ASCII): they are
/// percent-encoded, as browsers and curl do, so `/orders/{{ id }}` is sent as `/orders/%7B%7B%20id%20%7D%7D`.
const NOT_IN_URI: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Scheme, host and port of a target: requests to the same origin share a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// A request ready to send: method, URI, headers and body resolved, endpoint assigned.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub endpoint: EndpointId,
    pub origin: Arc<Origin>,
    method: Method,
    /// `scheme://authority/path?query`, as HTTP/2 needs it.
    absolute: Uri,
    /// `/path?query`, as an HTTP/1.1 request line carries it.
    path: Uri,
    headers: HeaderMap,
    body: Bytes,
    /// The whole HTTP/1.1 request (head and body), serialized once: nothing in it varies per send.
    http1: Bytes,
}

/// Why a request template could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("request '{name}': {why}")]
pub struct RequestError {
    pub name: String,
    pub why: String,
}

impl PreparedRequest {
    /// Resolves `request` against the plan's `base` URL and defaults.
    pub fn new(
        request: &plan::Request,
        base: &str,
        defaults: &Defaults,
        endpoint: EndpointId,
    ) -> Result<Self, RequestError> {
        let error = |why: String| RequestError {
            name: request.name.clone(),
            why,
        };
        let url = if request.url.starts_with("http://") || request.url.starts_with("https://") {
            request.url.clone()
        } else {
            let path = if request.url.starts_with('/') {
                request.url.clone()
            } else {
                format!("/{}", request.url)
            };
            format!("{}{path}", base.trim_end_matches('/'))
        };
        let url = percent_encoding::utf8_percent_encode(&url, NOT_IN_URI).to_string();
        let absolute: Uri = url
            .parse()
            .map_err(|e| error(format!("'{url}' is not a valid URL: {e}")))?;
        let https = match absolute.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(error(format!(
                    "'{url}' must start with http:// or https://"
                )));
            }
        };
        let host = absolute
            .host()
            .ok_or_else(|| error(format!("'{url}' has no host")))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = absolute.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = absolute
            .authority()
            .expect("a URL with a host has an authority")
            .to_string();
        let path: Uri = absolute
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| error(format!("bad path: {e}")))?;
        let method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| error(format!("'{}' is not an HTTP method", request.method)))?;

        let mut headers = HeaderMap::new();
        let mut set = |name: &str, value: &str| -> Result<(), RequestError> {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| error(format!("bad header name '{name}'")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| error(format!("bad value for header '{name}'")))?;
            headers.insert(name, value);
            Ok(())
        };
        set("host", &authority)?;
        set(
            "user-agent",
            defaults
                .user_agent
                .as_deref()
                .unwrap_or(concat!("scalelab/", env!("CARGO_PKG_VERSION"))),
        )?;
        for (name, value) in defaults.headers.iter().chain(&request.headers) {
            set(name, value)?;
        }
        let body = match &request.body {
            None => Bytes::new(),
            Some(Body::Text(text)) => Bytes::from(text.clone()),
            Some(Body::Json(json)) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Bytes::from(json.clone())
            }
        };
        let http1 = serialize_http1(&method, &path, &headers, &body);
        Ok(Self {
            endpoint,
            origin: Arc::new(Origin { https, host, port }),
            method,
            absolute,
            path,
            headers,
            body,
            http1,
        })
    }

    /// The serialized HTTP/1.1 request.
    pub(crate) fn http1(&self) -> &[u8] {
        &self.http1
    }

    /// Whether the request may be sent again when a reused connection turned out closed: an
    /// idempotent method without a body (Go's `Request.isReplayable`).
    pub(crate) fn is_replayable(&self) -> bool {
        self.body.is_empty()
            && [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE].contains(&self.method)
    }

    /// Whether the response carries no body whatever its headers say.
    pub(crate) fn is_head(&self) -> bool {
        self.method == Method::HEAD
    }

    /// The hyper request for one send. HTTP/2 takes the authority from the URI, not a Host header.
    pub(crate) fn build(&self, http2: bool) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.headers_mut() = self.headers.clone();
        if http2 {
            *request.uri_mut() = self.absolute.clone();
            *request.version_mut() = http::Version::HTTP_2;
            request.headers_mut().remove(HOST);
        } else {
            *request.uri_mut() = self.path.clone();
        }
        debug_assert!(request.headers().contains_key(USER_AGENT));
        request
    }
}

/// Request line, headers and body as HTTP/1.1 sends them. A body, or a method that defines one
/// (POST, PUT, PATCH), gets its Content-Length, as hyper's client sets it.
fn serialize_http1(method: &Method, path: &Uri, headers: &HeaderMap, body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.to_string().as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name == CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || [Method::POST, Method::PUT, Method::PATCH].contains(method) {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> plan::Request {
        plan::Request {
            name: "r".into(),
            method: "post".into(),
            url: url.into(),
            headers: vec![("X-A".into(), "1".into())],
            body: Some(Body::Json("{}".into())),
            checks: vec![],
            tags: vec![],
        }
    }

    #[test]
    fn paths_join_the_base_and_absolute_urls_stand() {
        let defaults = Defaults::default();
        let r = PreparedRequest::new(
            &request("ping?x=1"),
            "http://127.0.0.1:8080/",
            &defaults,
            EndpointId(0),
        )
        .unwrap();
        assert_eq!(r.absolute, "http://127.0.0.1:8080/ping?x=1");
        assert_eq!(r.path, "/ping?x=1");
        assert_eq!(
            *r.origin,
            Origin {
                https: false,
                host: "127.0.0.1".into(),
                port: 8080
            }
        );
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.headers["host"], "127.0.0.1:8080");
        let r = PreparedRequest::new(
            &request("https://example.test/a"),
            "http://x",
            &defaults,
            EndpointId(0),
        )
        .unwrap();
        assert_eq!(
            *r.origin,
            Origin {
                https: true,
                host: "example.test".into(),
                port: 443
            }
        );
        assert!(r.build(true).headers().get("host").is_none());
        assert_eq!(r.build(false).uri(), "/a");
        let templated = PreparedRequest::new(
            &request("/orders/{{ id }}?q=a b"),
            "http://h",
            &defaults,
            EndpointId(0),
        )
        .unwrap();
        assert_eq!(templated.path, "/orders/%7B%7B%20id%20%7D%7D?q=a%20b");
    }

    #[test]
    fn http1_requests_are_serialized_once_with_their_length() {
        let defaults = Defaults::default();
        let mut get = request("/a?b=1");
        get.method = "get".into();
        get.body = None;
        let r = PreparedRequest::new(&get, "http://h:81", &defaults, EndpointId(0)).unwrap();
        let ua = concat!("scalelab/", env!("CARGO_PKG_VERSION"));
        assert_eq!(
            std::str::from_utf8(r.http1()).unwrap(),
            format!("GET /a?b=1 HTTP/1.1\r\nhost: h:81\r\nuser-agent: {ua}\r\nx-a: 1\r\n\r\n")
        );
        let post =
            PreparedRequest::new(&request("/p"), "http://h", &defaults, EndpointId(0)).unwrap();
        assert!(
            std::str::from_utf8(post.http1())
                .unwrap()
                .ends_with("content-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        );
        assert!(!post.is_head());
    }

    #[test]
    fn bad_templates_name_the_request() {
        let defaults = Defaults::default();
        let err =
            PreparedRequest::new(&request("ftp://x/y"), "", &defaults, EndpointId(0)).unwrap_err();
        assert!(err.to_string().contains("request 'r'") && err.to_string().contains("http://"));
        let mut bad = request("/x");
        bad.method = "GE T".into();
        assert!(PreparedRequest::new(&bad, "http://h", &defaults, EndpointId(0)).is_err());
    }
}
