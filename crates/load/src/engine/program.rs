//! Iterations written as code (a k6 script). A k6 script calls `http.get` synchronously, so each
//! VU's code runs as a coroutine on its loader thread: it runs until it needs the VU's event loop —
//! an HTTP request, a sleep, a check to count — and suspends with a [`Call`]; the VU's task serves
//! it and resumes the code with the answer, a [`Command`]. A script's requests so go through the
//! same client, samples, checks and schedule (intended start times included) as a plan's, and no
//! thread is woken between a request and its script.

use std::fmt;
use std::time::Duration;

use scalelab_metrics::{CustomKind, EndpointId, Outcome, Phases};

use super::compile::CompiledPlan;
use super::vu::{prepare, response, send};
use crate::client::HttpClient;

/// The code of a run's iterations.
pub trait Program: Send + Sync + fmt::Debug {
    /// VU `vu`'s code (numbered from 1, k6's `__VU`), made on the loader thread that runs it.
    /// Nothing runs until it is resumed with [`Command::Start`]: it then runs its init code and
    /// answers [`Call::Ready`] or [`Call::Abort`].
    fn vu(&self, vu: u64) -> std::io::Result<Box<dyn Code>>;

    /// The custom metrics the code defines (k6 `k6/metrics`), which thresholds may name.
    fn custom_metrics(&self) -> Vec<(String, CustomKind)>;
}

/// A VU's code, suspended between the calls it makes.
pub trait Code {
    /// Runs the code from where it stopped, with `command` as the answer to its last call, until
    /// its next call.
    fn resume(&mut self, command: Command) -> Call;
}

/// What a VU's task tells its code.
#[derive(Debug)]
pub enum Command {
    /// Run the init code.
    Start,
    /// Run one iteration of scenario `scenario` (its index in the plan); `iteration` counts this
    /// VU's iterations from 0 (k6's `__ITER`).
    Iterate { scenario: usize, iteration: u64 },
    /// The answer to [`Call::Request`].
    Response(Box<Response>),
    /// The pause of [`Call::Sleep`] is over.
    Woke,
    /// Go on: the answer to a call that needs none.
    Continue,
}

/// What a VU's code asks of its task.
#[derive(Debug)]
pub enum Call {
    /// Init code ran: the VU can iterate.
    Ready,
    /// The run must stop (init code failed, the script called `test.abort()`); the message says
    /// where and why. The code is not resumed after it: dropped, it ends.
    Abort(String),
    /// Send a request; the answer is a [`Command::Response`].
    Request(Box<Request>),
    /// A check ran.
    Check { name: String, passed: bool },
    /// A value added to a custom metric, with the tags passed to `add()`.
    Metric {
        name: String,
        kind: CustomKind,
        value: f64,
        tags: Vec<(String, String)>,
    },
    /// Pause; the answer is [`Command::Woke`].
    Sleep(Duration),
    /// The code has run a while without a call: let the thread's other tasks run, then go on.
    Yield,
    /// The iteration ended (returned or threw: the code counts its own exceptions).
    Done,
}

/// An HTTP request a script makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// An absolute URL, or a path joined to the plan's target.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The name results group it under (k6's `name` tag: the URL unless the script sets one).
    pub name: String,
    /// Further tags (k6 `params.tags`, `group`), which thresholds filter on.
    pub tags: Vec<(String, String)>,
    /// A per-request timeout (k6 `params.timeout`); it can only shorten the plan's.
    pub timeout: Option<Duration>,
}

/// How a script's request went.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub outcome: Outcome,
    /// Why the request could not be made at all (an invalid URL): nothing was sent.
    pub invalid: Option<Invalid>,
    pub headers: http::HeaderMap,
    /// The body, up to 1 MiB.
    pub body: Vec<u8>,
    pub phases: Phases,
    /// From sent to done.
    pub duration: Duration,
}

/// Why a request could not be made, and k6's error code for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub why: String,
    /// 1000 for a missing or unsupported scheme (k6's "unsupported protocol scheme"), 1020 for a
    /// URL that does not parse (k6's invalid URL).
    pub k6_code: u32,
}

impl Invalid {
    /// Whether k6 counts it as a failed request: a missing or unsupported scheme is refused by
    /// Go's client after k6 starts measuring; a URL that does not parse never gets that far.
    pub fn is_a_request(&self) -> bool {
        self.k6_code == 1000
    }
}

/// Serves code outside a run — k6's `setup()` and `teardown()` — from its init to the end of its
/// one iteration: requests go through a client of `plan`'s settings but are not recorded, checks
/// and custom metrics are not counted. An error is why the code could not run (its init failed).
pub async fn serve_unrecorded(plan: &CompiledPlan, code: &mut dyn Code) -> Result<(), String> {
    let mut client = HttpClient::new(plan.client.clone());
    let mut body = Vec::new();
    let mut command = Command::Start;
    let mut started = false;
    loop {
        command = match code.resume(command) {
            Call::Ready if !started => {
                started = true;
                Command::Iterate {
                    scenario: 0,
                    iteration: 0,
                }
            }
            Call::Done if started => return Ok(()),
            Call::Abort(error) => return Err(error),
            Call::Ready | Call::Done => return Err("the script's code answered out of turn".into()),
            Call::Request(request) => {
                Command::Response(match prepare(plan, &request, EndpointId(0)) {
                    Ok(prepared) => {
                        let exchange =
                            send(&mut client, &mut body, &prepared, request.timeout).await;
                        Box::new(response(exchange, &mut body))
                    }
                    Err(response) => response,
                })
            }
            Call::Sleep(duration) => {
                tokio::time::sleep(duration).await;
                Command::Woke
            }
            Call::Yield => {
                tokio::task::yield_now().await;
                Command::Continue
            }
            Call::Check { .. } | Call::Metric { .. } => Command::Continue,
        };
    }
}
