//! Request templates resolved once per run into what the client sends.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue, USER_AGENT};
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
        Ok(Self {
            endpoint,
            origin: Arc::new(Origin { https, host, port }),
            method,
            absolute,
            path,
            headers,
            body,
        })
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
