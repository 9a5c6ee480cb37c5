//! Iterations written as code (a k6 script). Each VU's code runs on its own thread, as k6 scripts
//! call `http.get` synchronously; whatever needs the VU's event loop — an HTTP request, a sleep — the
//! code asks its VU's task for over channels, so a script's requests go through the same client,
//! samples, checks and schedule (intended start times included) as a plan's.

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use scalelab_metrics::{CustomKind, EndpointId, Outcome, Phases};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::compile::CompiledPlan;
use super::vu::{prepare, response, send};
use crate::client::HttpClient;

/// The code of a run's iterations.
pub trait Program: Send + Sync + fmt::Debug {
    /// Starts VU `vu` (numbered from 1, k6's `__VU`) on its own thread, talking over `link`. Its
    /// first call is [`Call::Ready`] once its init code ran, or [`Call::Abort`].
    fn start_vu(&self, vu: u64, link: Link) -> std::io::Result<()>;

    /// The custom metrics the code defines (k6 `k6/metrics`), which thresholds may name.
    fn custom_metrics(&self) -> Vec<(String, CustomKind)>;
}

/// The code's ends of a VU's two channels.
#[derive(Debug)]
pub struct Link {
    pub calls: UnboundedSender<Call>,
    pub commands: mpsc::Receiver<Command>,
}

/// What a VU's task tells its code.
#[derive(Debug)]
pub enum Command {
    /// Run one iteration of scenario `scenario` (its index in the plan); `iteration` counts this
    /// VU's iterations from 0 (k6's `__ITER`).
    Iterate { scenario: usize, iteration: u64 },
    /// The answer to [`Call::Request`].
    Response(Box<Response>),
    /// The pause of [`Call::Sleep`] is over.
    Woke,
}

/// What a VU's code asks of its task.
#[derive(Debug)]
pub enum Call {
    /// Init code ran: the VU can iterate.
    Ready,
    /// The run must stop (init code failed, the script called `test.abort()`); the message says
    /// where and why.
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
    pub invalid: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The body, up to 1 MiB.
    pub body: Vec<u8>,
    pub phases: Phases,
    /// From sent to done.
    pub duration: Duration,
}

/// Serves code outside a run — k6's `setup()` and `teardown()` — from its init to its first
/// [`Call::Done`]: requests go through a client of `plan`'s settings but are not recorded, checks
/// and custom metrics are not counted. An error is why the code could not run (its init failed,
/// its thread is gone).
pub async fn serve_unrecorded(
    plan: &CompiledPlan,
    calls: &mut UnboundedReceiver<Call>,
    commands: &mpsc::Sender<Command>,
) -> Result<(), String> {
    let gone = || "the script's thread ended unexpectedly".to_owned();
    match calls.recv().await {
        Some(Call::Ready) => {}
        Some(Call::Abort(error)) => return Err(error),
        _ => return Err(gone()),
    }
    let mut client = HttpClient::new(plan.client.clone());
    let mut body = Vec::new();
    commands
        .send(Command::Iterate {
            scenario: 0,
            iteration: 0,
        })
        .map_err(|_| gone())?;
    loop {
        let reply = match calls.recv().await.ok_or_else(gone)? {
            Call::Done => return Ok(()),
            Call::Abort(error) => return Err(error),
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
            Call::Check { .. } | Call::Metric { .. } | Call::Ready => continue,
        };
        commands.send(reply).map_err(|_| gone())?;
    }
}
