//! The native functions the k6 modules (`js/*.js`) call: requests, sleeps, checks and metrics
//! suspend the VU's code until its task has served them; `open()`, `__ENV`, `__VU`, `__ITER` and `console` are globals.

use std::cell::Cell;
use std::io::Write;
use std::path::Path;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corosensei::Yielder;
use rquickjs::function::{Opt, Rest};
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, Value};
use scalelab_load::engine::program::{self, Call, Command};
use scalelab_load::plan::limits::MAX_DURATION;
use scalelab_metrics::{CustomKind, ErrorKind, Outcome};

use crate::Code;
use crate::vu::Input;

/// How long a VU's JavaScript may run without a call before it lets its loader thread's other
/// tasks run (checked at QuickJS's interrupt points, every 10,000 or so instructions).
const SLICE: Duration = Duration::from_millis(2);

/// A VU's side of its task: how its native functions suspend its coroutine, and what they track.
pub struct Port {
    code: Arc<Code>,
    vu: u64,
    /// The coroutine's yielder; `None` when init code runs only to read `options`.
    ///
    /// Safety: a port is made inside its coroutine's body, and the body checks that every clone is
    /// gone (its runtime, which held them, dropped) before it returns, so the yielder outlives it.
    yielder: Option<NonNull<Yielder<Input, Call>>>,
    /// Init code is running: `open()` is allowed, requests are not (as in k6).
    pub init: Cell<bool>,
    /// The scenario of the iteration running.
    pub scenario: Cell<usize>,
    /// The VU's task is gone (the run ended): whatever the script throws now is not its fault.
    pub ended: Cell<bool>,
    /// When QuickJS first checked for an interrupt since the code last got the thread (not read
    /// at every resume: most resumes end at a call long before the first check).
    running_since: Cell<Option<Instant>>,
}

impl Port {
    pub fn new(code: Arc<Code>, vu: u64, yielder: Option<&Yielder<Input, Call>>) -> Self {
        Self {
            code,
            vu,
            yielder: yielder.map(NonNull::from),
            init: Cell::new(true),
            scenario: Cell::new(0),
            ended: Cell::new(false),
            running_since: Cell::new(None),
        }
    }

    /// Suspends the code with `call` until its task answers; `None` once the task is gone (or
    /// when there is no task: init code run to read `options`).
    ///
    /// The project's one `unsafe`: QuickJS keeps the native functions for as long as the runtime
    /// lives, so they cannot borrow the coroutine's yielder and the port holds a pointer to it.
    #[allow(unsafe_code)]
    pub fn suspend(&self, call: Call) -> Option<Command> {
        if self.ended.get() {
            return None;
        }
        // SAFETY: see `yielder`; and this runs on the coroutine's stack, the only place its
        // port's functions are called from.
        let yielder = unsafe { self.yielder?.as_ref() };
        match yielder.suspend(call) {
            Input::Command(command) => {
                self.running_since.set(None);
                Some(command)
            }
            Input::End => {
                self.ended.set(true);
                None
            }
        }
    }

    /// QuickJS's interrupt check: true stops the script with an uncatchable error (the run has
    /// ended); JavaScript that has run for a [`SLICE`] without a call (timed from the first check
    /// after it got the thread) lets other tasks run first.
    pub fn interrupt(&self) -> bool {
        if self.ended.get() {
            return true;
        }
        if self.yielder.is_none() {
            return false;
        }
        match self.running_since.get() {
            None => {
                self.running_since.set(Some(Instant::now()));
                false
            }
            Some(since) if since.elapsed() < SLICE => false,
            Some(_) => self.suspend(Call::Yield).is_none(),
        }
    }

    /// Suspends with `call`, which needs no answer but the task's leave to go on.
    fn send(&self, ctx: &Ctx<'_>, call: Call) -> rquickjs::Result<()> {
        self.ask(ctx, call).map(drop)
    }

    /// Suspends with `call` until the task answers.
    fn ask(&self, ctx: &Ctx<'_>, call: Call) -> rquickjs::Result<Command> {
        if self.yielder.is_none() {
            return Err(Exception::throw_message(
                ctx,
                "not available in the init context",
            ));
        }
        self.suspend(call)
            .ok_or_else(|| Exception::throw_message(ctx, "the run has ended"))
    }
}

/// Installs `__k6native`, `__k6groups`, `__k6discard` (`discardResponseBodies`), `__VU`,
/// `__ITER`, `open` and `console`.
pub fn install<'js>(ctx: &Ctx<'js>, port: Rc<Port>) -> rquickjs::Result<()> {
    let globals = ctx.globals();
    let native = Object::new(ctx.clone())?;
    let p = port.clone();
    native.set(
        "request",
        Function::new(
            ctx.clone(),
            // Seven arguments, rquickjs's most: the context comes from the method's string.
            move |method: rquickjs::String<'js>,
                  url: String,
                  body: Option<String>,
                  headers: Vec<String>,
                  tags: Vec<String>,
                  timeout_ms: f64,
                  response_type: String| {
                let ctx = method.ctx().clone();
                let request = Spec {
                    method: method.to_string()?,
                    url,
                    body,
                    headers,
                    tags,
                    timeout_ms,
                };
                request_native(&ctx, &p, request, &response_type)
            },
        )?,
    )?;
    let p = port.clone();
    native.set(
        "check",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, passed: bool| {
                if p.yielder.is_none() {
                    return Ok(());
                }
                p.send(&ctx, Call::Check { name, passed })
            },
        )?,
    )?;
    let p = port.clone();
    native.set(
        "metric",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, kind: String| {
                if !p.init.get() {
                    return Err(Exception::throw_message(
                        &ctx,
                        "metrics must be created in the init context (as in k6)",
                    ));
                }
                p.code
                    .metrics
                    .define(&name, custom_kind(&ctx, &kind)?)
                    .map_err(|why| Exception::throw_type(&ctx, &why))
            },
        )?,
    )?;
    let p = port.clone();
    native.set(
        "add",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, kind: String, value: f64, tags: String| {
                if p.init.get() {
                    return Err(Exception::throw_message(
                        &ctx,
                        "adding to metrics in the init context is not supported (as in k6)",
                    ));
                }
                let kind = custom_kind(&ctx, &kind)?;
                if p.yielder.is_none() {
                    return Ok(());
                }
                let tags: Vec<(String, String)> = serde_json::from_str(&tags)
                    .map_err(|e| Exception::throw_type(&ctx, &format!("bad tags: {e}")))?;
                p.send(
                    &ctx,
                    Call::Metric {
                        name,
                        kind,
                        value,
                        tags,
                    },
                )
            },
        )?,
    )?;
    let p = port.clone();
    native.set(
        "sleep",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, seconds: f64| {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(Exception::throw_range(
                    &ctx,
                    &format!("sleep({seconds}): not a duration"),
                ));
            }
            let duration = Duration::from_secs_f64(seconds).min(MAX_DURATION);
            match p.ask(&ctx, Call::Sleep(duration))? {
                Command::Woke => Ok(()),
                _ => Err(Exception::throw_message(&ctx, "unexpected answer to sleep")),
            }
        })?,
    )?;
    let p = port.clone();
    native.set(
        "shared",
        Function::new(ctx.clone(), move |name: String| {
            p.code
                .shared
                .lock()
                .expect("lock")
                .get(&name)
                .map(|s| s.to_string())
        })?,
    )?;
    let p = port.clone();
    native.set(
        "share",
        Function::new(ctx.clone(), move |name: String, json: String| {
            p.code
                .shared
                .lock()
                .expect("lock")
                .entry(name)
                .or_insert_with(|| json.into());
        })?,
    )?;
    let p = port.clone();
    native.set(
        "scenario",
        Function::new(ctx.clone(), move || {
            p.code
                .scenarios
                .get()
                .and_then(|s| s.get(p.scenario.get()))
                .map(|s| s.name.clone())
        })?,
    )?;
    let p = port.clone();
    native.set(
        "executor",
        Function::new(ctx.clone(), move || {
            p.code
                .scenarios
                .get()
                .and_then(|s| s.get(p.scenario.get()))
                .map(|s| s.executor)
        })?,
    )?;
    let p = port.clone();
    native.set(
        "abort",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, reason: String| {
            let reason = format!("VU {}: test.abort(): {reason}", p.vu);
            p.code.stop(&reason, true);
            p.send(&ctx, Call::Abort(reason))
        })?,
    )?;
    globals.set("__k6native", native)?;
    globals.set("__k6groups", rquickjs::Array::new(ctx.clone())?)?;
    globals.set(
        "__k6discard",
        port.code
            .discard_bodies
            .load(std::sync::atomic::Ordering::Relaxed),
    )?;
    globals.set("__VU", port.vu)?;
    globals.set("__ITER", 0)?;
    let p = port.clone();
    globals.set(
        "open",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, path: String, mode: Opt<String>| {
                open(&ctx, &p, &path, mode.0.as_deref())
            },
        )?,
    )?;
    let console = Object::new(ctx.clone())?;
    // k6's levels: `console.debug` shows only with k6's --verbose, so here never.
    for (method, level) in [
        ("log", Some("info")),
        ("info", Some("info")),
        ("warn", Some("warning")),
        ("error", Some("error")),
        ("debug", None),
    ] {
        console.set(
            method,
            Function::new(ctx.clone(), move |parts: Rest<Value<'js>>| {
                let Some(level) = level else { return };
                let text: Vec<String> = parts
                    .0
                    .iter()
                    .map(|v| match v.as_string() {
                        Some(s) => s.to_string().unwrap_or_default(),
                        None => v
                            .ctx()
                            .json_stringify(v.clone())
                            .ok()
                            .flatten()
                            .and_then(|s| s.to_string().ok())
                            .unwrap_or_else(|| format!("{v:?}")),
                    })
                    .collect();
                // Not eprintln!, which panics when stderr is a closed pipe.
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "{}",
                    log_line(std::time::SystemTime::now(), level, &text.join(" "))
                );
            })?,
        )?;
    }
    globals.set("console", console)?;
    Ok(())
}

/// A console line as k6 writes it (logrus's text format): `time="…" level=info msg=… source=console`.
fn log_line(at: std::time::SystemTime, level: &str, message: &str) -> String {
    format!(
        "time=\"{}\" level={level} msg={} source=console",
        humantime::format_rfc3339_seconds(at),
        logfmt_value(message)
    )
}

/// A value as logrus writes it: bare when it is made of letters, digits and `-._/@^+` only, else
/// quoted as Go's `%q` quotes (written here: no crate quotes the Go way).
fn logfmt_value(text: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || "-._/@^+".contains(c);
    if text.chars().all(bare) {
        return text.to_owned();
    }
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The metric type `k6/metrics` passes by name.
fn custom_kind(ctx: &Ctx<'_>, kind: &str) -> rquickjs::Result<CustomKind> {
    Ok(match kind {
        "trend" => CustomKind::Trend,
        "counter" => CustomKind::Counter,
        "rate" => CustomKind::Rate,
        "gauge" => CustomKind::Gauge,
        other => {
            return Err(Exception::throw_type(
                ctx,
                &format!("unknown metric type '{other}'"),
            ));
        }
    })
}

/// What `k6/http` passes for a request: headers as name, value, name, value…; tags as the
/// request's name, then tag, value, tag, value….
struct Spec {
    method: String,
    url: String,
    body: Option<String>,
    headers: Vec<String>,
    tags: Vec<String>,
    timeout_ms: f64,
}

/// Pairs from a flat list `[k1, v1, k2, v2, …]`.
fn pairs(flat: Vec<String>) -> Vec<(String, String)> {
    let mut flat = flat.into_iter();
    std::iter::from_fn(|| Some((flat.next()?, flat.next()?))).collect()
}

/// Sends a request through the VU's task; the response as the flat array `k6/http` builds its
/// response object from: status, error, error code, body, headers (name, value, …), then the
/// timings in ms — blocked, connecting, TLS handshaking, sending, waiting, receiving.
fn request_native<'js>(
    ctx: &Ctx<'js>,
    port: &Port,
    spec: Spec,
    response_type: &str,
) -> rquickjs::Result<rquickjs::Array<'js>> {
    if port.init.get() {
        return Err(Exception::throw_message(
            ctx,
            "making requests in the init context is not supported (as in k6): make them in a function",
        ));
    }
    let timeout = (spec.timeout_ms > 0.0)
        .then(|| Duration::from_secs_f64(spec.timeout_ms / 1000.0).min(MAX_DURATION));
    let mut tags = spec.tags.into_iter();
    let name = tags.next().unwrap_or_else(|| spec.url.clone());
    let request = program::Request {
        method: spec.method,
        url: spec.url,
        headers: pairs(spec.headers),
        body: spec.body,
        name,
        tags: pairs(tags.collect()),
        timeout,
    };
    let Command::Response(response) = port.ask(ctx, Call::Request(Box::new(request)))? else {
        return Err(Exception::throw_message(
            ctx,
            "unexpected answer to a request",
        ));
    };
    response_array(ctx, &response, response_type)
}

fn response_array<'js>(
    ctx: &Ctx<'js>,
    response: &program::Response,
    response_type: &str,
) -> rquickjs::Result<rquickjs::Array<'js>> {
    let (status, error, code) = match (&response.invalid, response.outcome) {
        (Some(invalid), _) => (0, invalid.why.clone(), invalid.k6_code),
        (None, Outcome::Status(status)) => (
            status,
            String::new(),
            if status >= 400 {
                1000 + u32::from(status)
            } else {
                0
            },
        ),
        (None, Outcome::Error(kind)) => (0, kind.as_str().to_owned(), error_code(kind)),
    };
    let out = rquickjs::Array::new(ctx.clone())?;
    out.set(0, status)?;
    out.set(1, error)?;
    out.set(2, code)?;
    match response_type {
        "binary" => out.set(3, ArrayBuffer::new_copy(ctx.clone(), &response.body)?)?,
        "none" => out.set(3, Value::new_null(ctx.clone()))?,
        _ => out.set(3, String::from_utf8_lossy(&response.body).as_ref())?,
    }
    let headers = rquickjs::Array::new(ctx.clone())?;
    let mut name = String::new();
    for (i, (lowercase, value)) in response.headers.iter().enumerate() {
        canonical(lowercase.as_str(), &mut name);
        headers.set(2 * i, name.as_str())?;
        headers.set(
            2 * i + 1,
            String::from_utf8_lossy(value.as_bytes()).as_ref(),
        )?;
    }
    out.set(4, headers)?;
    for (i, phase) in response.phases.in_order().into_iter().enumerate() {
        out.set(5 + i, phase.as_secs_f64() * 1000.0)?;
    }
    Ok(out)
}

/// The k6 error code closest to each failure (k6's documented list: 1050 timeout, 1100 DNS,
/// 1211 dial timeout, 1212 connection refused, 1220 reset, 1300 TLS, 1000 anything else).
fn error_code(kind: ErrorKind) -> u32 {
    match kind {
        ErrorKind::RequestTimeout => 1050,
        ErrorKind::Dns => 1100,
        ErrorKind::ConnectTimeout => 1211,
        ErrorKind::ConnectionRefused => 1212,
        ErrorKind::Reset => 1220,
        ErrorKind::Tls => 1300,
        ErrorKind::Malformed | ErrorKind::Other => 1000,
    }
}

/// `content-type` as Go (and so k6) shows header names, `Content-Type`, into `out`.
fn canonical(name: &str, out: &mut String) {
    out.clear();
    let mut upper = true;
    out.extend(name.chars().map(|c| {
        let c = if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        };
        upper = c == '-';
        c
    }));
}

/// The largest file `open()` reads: 256 MiB. Each VU that opens it holds its own copy (as in k6,
/// where `SharedArray` is the way to share a large data file).
pub const MAX_OPEN_BYTES: u64 = 256 << 20;

/// k6's `open(path, mode)`: a file's text (or bytes with mode `b`), only in init code; a relative
/// path is relative to the main script. Only a regular file of at most [`MAX_OPEN_BYTES`].
fn open<'js>(
    ctx: &Ctx<'js>,
    port: &Port,
    path: &str,
    mode: Option<&str>,
) -> rquickjs::Result<Value<'js>> {
    if !port.init.get() {
        return Err(Exception::throw_message(
            ctx,
            "open() is only available in the init context (as in k6)",
        ));
    }
    let base = Path::new(&port.code.main).parent().unwrap_or(Path::new(""));
    let full = base.join(path);
    let bytes = {
        let mut files = port.code.files.lock().expect("lock");
        match files.get(&full) {
            Some(bytes) => bytes.clone(),
            None => {
                let bytes: Arc<[u8]> = scalelab_config::read_bounded(&full, MAX_OPEN_BYTES)
                    .map_err(|e| {
                        Exception::throw_message(
                            ctx,
                            &format!("open({path}): {}: {e}", full.display()),
                        )
                    })?
                    .into();
                files.insert(full.clone(), bytes.clone());
                bytes
            }
        }
    };
    if mode == Some("b") {
        Ok(ArrayBuffer::new_copy(ctx.clone(), &*bytes)?.into_value())
    } else {
        Ok(rquickjs::String::from_str(ctx.clone(), &String::from_utf8_lossy(&bytes))?.into_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_written_as_k6_writes_them() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_696_422);
        // As k6 v1.1.0 printed `console.log('hello', {a: 1})` and `console.warn('careful')`.
        assert_eq!(
            log_line(at, "info", r#"hello {"a":1}"#),
            r#"time="2026-12-08T02:20:22Z" level=info msg="hello {\"a\":1}" source=console"#
        );
        assert_eq!(
            log_line(at, "warning", "careful"),
            r#"time="2026-12-08T02:20:22Z" level=warning msg=careful source=console"#
        );
        assert_eq!(logfmt_value("a\tb\u{1}"), r#""a\tb\x01""#);
        assert_eq!(logfmt_value("v1.2/x@y"), "v1.2/x@y");
    }

    #[test]
    fn header_names_are_canonical_as_in_go() {
        let canonical = |name| {
            let mut out = String::new();
            canonical(name, &mut out);
            out
        };
        assert_eq!(canonical("content-type"), "Content-Type");
        assert_eq!(canonical("x-request-ID"), "X-Request-Id");
        assert_eq!(canonical("a--b-"), "A--B-");
    }
}
