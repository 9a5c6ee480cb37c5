//! A virtual user and what it does in one iteration: pick a flow, send its requests, run the checks,
//! think — or, for a script, resume its code and serve its requests, checks and sleeps.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use scalelab_metrics::{Endpoint, EndpointId, ErrorKind, Outcome, Phases, Sample};

use super::compile::{CompiledPlan, CompiledRequest, CompiledScenario, CompiledStep};
use super::program::{self, Call, Code, Command};
use super::recorder::Allocated;
use super::thread::ThreadContext;
use crate::client::{Exchange, HttpClient, PreparedRequest};
use crate::plan::{self as model, Check, Think};

/// An open-model arrival handed to a VU: when it was due, and whether it found every VU busy and
/// waited for one (or was due while an earlier arrival waited).
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub due: Instant,
    pub waited: bool,
}

/// One virtual user: its connection, a buffer for bodies that checks read, its random numbers, and
/// its code when iterations are a script's.
pub struct Vu {
    client: HttpClient,
    body: Vec<u8>,
    rng: SmallRng,
    /// Its code, when iterations are a script's.
    code: Option<VuCode>,
    _allocated: Allocated,
}

/// A VU's code and what its task keeps for it.
struct VuCode {
    code: Box<dyn Code>,
    ready: bool,
    /// Iterations so far (k6's `__ITER`).
    iterations: u64,
    /// The code's last request, prepared: a request made again (most scripts repeat theirs) is
    /// not resolved, serialized and named again.
    last: Option<LastRequest>,
}

struct LastRequest {
    scenario: usize,
    request: Box<program::Request>,
    prepared: PreparedRequest,
}

impl Vu {
    pub fn new(ctx: &ThreadContext, id: u64) -> Self {
        let code = ctx
            .plan
            .program
            .as_ref()
            .and_then(|program| match program.vu(id + 1) {
                Ok(code) => Some(VuCode {
                    code,
                    ready: false,
                    iterations: 0,
                    last: None,
                }),
                Err(error) => {
                    tracing::error!(%error, "cannot make the code of VU {}: stopping the run", id + 1);
                    ctx.stop.cancel();
                    None
                }
            });
        Self {
            client: HttpClient::new(ctx.plan.client.clone()),
            body: Vec::new(),
            rng: SmallRng::seed_from_u64(ctx.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            code,
            _allocated: ctx.recorder.allocate_vu(),
        }
    }

    /// Forgets the connection, so the next request opens a new one (a new Artillery user).
    pub fn disconnect(&mut self) {
        self.client.disconnect();
    }

    /// Runs one iteration of `scenario`. `arrival` is its scheduled start in the open model: the
    /// first request's latency counts from its due time, so time spent waiting for the schedule
    /// counts too.
    pub async fn iterate(
        &mut self,
        ctx: &ThreadContext,
        scenario: &CompiledScenario,
        arrival: Option<Arrival>,
    ) {
        let started = arrival.map_or_else(Instant::now, |a| a.due);
        let unfinished = Unfinished::new(ctx, scenario.index);
        if ctx.plan.program.is_some() {
            if self.run_code(ctx, scenario, arrival).await {
                unfinished.done();
                ctx.recorder
                    .record_iteration(scenario.index, started.elapsed());
            }
            return;
        }
        let pick = self.rng.random_range(
            0..*scenario
                .cumulative_weights
                .last()
                .expect("a scenario has flows"),
        );
        let flow = &scenario.flows[scenario.cumulative_weights.partition_point(|&w| w <= pick)];
        let mut arrival = arrival;
        // Loops run in place: a stack of (steps, next step, passes left after this one).
        let mut stack: Vec<(&[CompiledStep], usize, u64)> = vec![(&flow.steps, 0, 0)];
        while let Some((steps, next, passes_left)) = stack.last_mut() {
            let steps: &[CompiledStep] = steps;
            let Some(step) = steps.get(*next) else {
                if *passes_left > 0 {
                    *passes_left -= 1;
                    *next = 0;
                } else {
                    stack.pop();
                }
                continue;
            };
            *next += 1;
            match step {
                CompiledStep::Think(think) => tokio::time::sleep(self.think_time(think)).await,
                CompiledStep::Request(request) => {
                    self.request(ctx, request, arrival.take()).await;
                }
                CompiledStep::Loop { count, steps } if *count > 0 => {
                    stack.push((steps, 0, count - 1));
                }
                CompiledStep::Loop { .. } => {}
            }
        }
        if let Some(think) = &scenario.think {
            tokio::time::sleep(self.think_time(think)).await;
        }
        unfinished.done();
        ctx.recorder
            .record_iteration(scenario.index, started.elapsed());
    }

    /// Runs one iteration of the VU's code (its init code first, the first time), serving its
    /// requests, checks and sleeps until it is done; false when the code cannot run (its init
    /// failed): the run stops.
    async fn run_code(
        &mut self,
        ctx: &ThreadContext,
        scenario: &CompiledScenario,
        mut arrival: Option<Arrival>,
    ) -> bool {
        let Some(vu) = &mut self.code else {
            return false;
        };
        let mut command = if vu.ready {
            vu.iterations += 1;
            Command::Iterate {
                scenario: scenario.index,
                iteration: vu.iterations - 1,
            }
        } else {
            Command::Start
        };
        loop {
            command = match vu.code.resume(command) {
                Call::Ready if !vu.ready => {
                    vu.ready = true;
                    vu.iterations = 1;
                    Command::Iterate {
                        scenario: scenario.index,
                        iteration: 0,
                    }
                }
                Call::Done if vu.ready => return true,
                Call::Ready | Call::Done => {
                    tracing::error!("the code of a VU answered out of turn: stopping the run");
                    ctx.stop.cancel();
                    return false;
                }
                // Init failed, or the script called `test.abort()`: in k6 neither the VU nor the
                // run goes on. (The code, left suspended, is ended when the VU is dropped.)
                Call::Abort(error) => {
                    tracing::error!("{error}: stopping the run");
                    ctx.stop.cancel();
                    return false;
                }
                Call::Request(request) => {
                    let last = vu
                        .last
                        .take()
                        .filter(|last| last.scenario == scenario.index && last.request == request);
                    let last = match last {
                        Some(last) => last,
                        None => match prepare_named(ctx, scenario, &request) {
                            Ok(prepared) => LastRequest {
                                scenario: scenario.index,
                                request,
                                prepared,
                            },
                            Err((endpoint, response)) => {
                                // As in k6, a URL with no or another scheme is a failed request
                                // (sent and ended at once); one that does not parse is none.
                                if response
                                    .invalid
                                    .as_ref()
                                    .is_some_and(program::Invalid::is_a_request)
                                {
                                    let now = Instant::now();
                                    let exchange = Exchange::failed(response.outcome, now, now);
                                    record(ctx, endpoint, &exchange, arrival.take());
                                }
                                command = Command::Response(response);
                                continue;
                            }
                        },
                    };
                    let response = script_request(
                        ctx,
                        &mut self.client,
                        &mut self.body,
                        &last.prepared,
                        last.request.timeout,
                        arrival.take(),
                    )
                    .await;
                    vu.last = Some(last);
                    Command::Response(Box::new(response))
                }
                Call::Check { name, passed } => {
                    ctx.recorder.roll_now();
                    ctx.recorder
                        .record_check(ctx.plan.names.check(&name), passed);
                    Command::Continue
                }
                Call::Metric {
                    name,
                    kind,
                    value,
                    tags,
                } => {
                    ctx.recorder.record_custom(&name, kind, value);
                    for sub in &ctx.plan.submetrics {
                        if sub.selects(&name, &tags) {
                            ctx.recorder.record_custom(&sub.key, kind, value);
                        }
                    }
                    Command::Continue
                }
                Call::Sleep(duration) => {
                    tokio::time::sleep(duration).await;
                    Command::Woke
                }
                Call::Yield => {
                    tokio::task::yield_now().await;
                    Command::Continue
                }
            };
        }
    }

    async fn request(
        &mut self,
        ctx: &ThreadContext,
        request: &CompiledRequest,
        arrival: Option<Arrival>,
    ) {
        let in_flight = InFlight::new(ctx);
        let sink = request.needs_body.then(|| {
            self.body.clear();
            &mut self.body
        });
        let exchange = self
            .client
            .send(&request.prepared, sink, request.needs_headers)
            .await;
        in_flight.done();
        record(ctx, request.prepared.endpoint, &exchange, arrival);
        for (id, check) in &request.checks {
            ctx.recorder
                .record_check(*id, passes(check, &exchange, &self.body));
        }
    }

    fn think_time(&mut self, think: &Think) -> Duration {
        match *think {
            Think::Fixed(duration) => duration,
            Think::Uniform { min, max } if max > min => {
                Duration::from_secs_f64(self.rng.random_range(min.as_secs_f64()..max.as_secs_f64()))
            }
            Think::Uniform { min, .. } => min,
        }
    }
}

/// A script's request named in the endpoint table and prepared, or its endpoint and the response
/// saying why it could not be (nothing is sent).
fn prepare_named(
    ctx: &ThreadContext,
    scenario: &CompiledScenario,
    request: &program::Request,
) -> Result<PreparedRequest, (EndpointId, Box<program::Response>)> {
    let endpoint = ctx.plan.names.endpoint(Endpoint {
        scenario: scenario.name.clone(),
        name: request.name.clone(),
        method: request.method.to_ascii_uppercase(),
        tags: super::compile::tagged(&scenario.tags, &request.tags),
    });
    prepare(&ctx.plan, request, endpoint).map_err(|response| (endpoint, response))
}

/// Sends a script's prepared request through the VU's client and records it as a plan's request
/// is.
async fn script_request(
    ctx: &ThreadContext,
    client: &mut HttpClient,
    body: &mut Vec<u8>,
    prepared: &PreparedRequest,
    timeout: Option<Duration>,
    arrival: Option<Arrival>,
) -> program::Response {
    let in_flight = InFlight::new(ctx);
    let exchange = send(client, body, prepared, timeout).await;
    in_flight.done();
    record(ctx, prepared.endpoint, &exchange, arrival);
    response(exchange, body)
}

/// A script's request resolved against the plan's target and defaults, or the response saying
/// why it could not be (nothing is sent).
pub(crate) fn prepare(
    plan: &CompiledPlan,
    request: &program::Request,
    endpoint: EndpointId,
) -> Result<PreparedRequest, Box<program::Response>> {
    let template = model::Request {
        name: request.name.clone(),
        method: request.method.clone(),
        url: request.url.clone(),
        headers: request.headers.clone(),
        body: request.body.clone().map(model::Body::Text),
        checks: Vec::new(),
        tags: request.tags.clone(),
    };
    let scheme = request.url.split_once("://").map(|(scheme, _)| scheme);
    let scheme_error = |why: String| program::Invalid { why, k6_code: 1000 };
    let prepared = match scheme {
        Some(scheme) if !["http", "https"].contains(&scheme.to_ascii_lowercase().as_str()) => {
            Err(scheme_error(format!(
                "unsupported protocol scheme '{scheme}' in '{}'",
                request.url
            )))
        }
        // Only a path joins the target: `undefined/x` (a `-e` variable left out) is k6's
        // "unsupported protocol scheme", never a request to the embedded service.
        None if !request.url.starts_with('/') => Err(scheme_error(format!(
            "unsupported protocol scheme '' in '{}': a URL needs http:// or https://, or a path \
             starting with / to join the target",
            request.url
        ))),
        _ => {
            PreparedRequest::new(&template, &plan.base, &plan.defaults, endpoint).map_err(|error| {
                program::Invalid {
                    why: error.why,
                    k6_code: 1020,
                }
            })
        }
    };
    prepared.map_err(|invalid| {
        Box::new(program::Response {
            outcome: Outcome::Error(ErrorKind::Other),
            invalid: Some(invalid),
            headers: http::HeaderMap::new(),
            body: Vec::new(),
            phases: Phases::default(),
            duration: Duration::ZERO,
        })
    })
}

/// Sends `prepared`, keeping body and headers, within the script's own timeout if it set one.
pub(crate) async fn send(
    client: &mut HttpClient,
    body: &mut Vec<u8>,
    prepared: &PreparedRequest,
    timeout: Option<Duration>,
) -> Exchange {
    body.clear();
    let send = client.send(prepared, Some(&mut *body), true);
    let Some(timeout) = timeout else {
        return send.await;
    };
    match tokio::time::timeout(timeout, send).await {
        Ok(exchange) => exchange,
        Err(_) => {
            // Cut short mid-exchange: the connection's state is unknown.
            client.disconnect();
            let now = Instant::now();
            Exchange::failed(
                Outcome::Error(ErrorKind::RequestTimeout),
                now - timeout,
                now,
            )
        }
    }
}

/// What the script sees of an exchange.
pub(crate) fn response(exchange: Exchange, body: &mut Vec<u8>) -> program::Response {
    program::Response {
        outcome: exchange.outcome,
        invalid: None,
        headers: exchange.headers.unwrap_or_default(),
        body: std::mem::take(body),
        phases: exchange.phases,
        duration: exchange.done - exchange.sent,
    }
}

/// Records a request's sample (and, in the open model, how late it was sent).
fn record(
    ctx: &ThreadContext,
    endpoint: EndpointId,
    exchange: &Exchange,
    arrival: Option<Arrival>,
) {
    let recorder = &ctx.recorder;
    let sent = exchange.sent;
    let intended = arrival.map_or(sent, |a| a.due.min(sent));
    recorder.record(&Sample {
        endpoint,
        outcome: exchange.outcome,
        intended: recorder.offset(intended),
        sent: recorder.offset(sent),
        first_byte: exchange.first_byte.map(|t| recorder.offset(t)),
        done: recorder.offset(exchange.done),
        bytes_sent: exchange.bytes_sent,
        bytes_received: exchange.bytes_received,
        phases: exchange.phases,
    });
    if let Some(arrival) = arrival {
        recorder.record_send_delay(sent - intended, arrival.waited);
    }
}

/// A request on its way: counted in the in-flight gauge while it lives. Dropped before
/// [`InFlight::done`] — the run ended while it waited (its graceful stop ran out) — it is counted
/// as an interrupted request and in no `http_req_*` figure, as k6 drops a request its VU's context
/// cancelled. (A server that never answers still fails the run: nothing answered.)
struct InFlight<'a> {
    ctx: &'a ThreadContext,
    finished: bool,
}

impl<'a> InFlight<'a> {
    fn new(ctx: &'a ThreadContext) -> Self {
        let gauge = &ctx.recorder.in_flight;
        gauge.set(gauge.get() + 1);
        Self {
            ctx,
            finished: false,
        }
    }

    fn done(mut self) {
        self.finished = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let recorder = &self.ctx.recorder;
        recorder.in_flight.set(recorder.in_flight.get() - 1);
        if !self.finished {
            recorder.record_interrupted_request();
        }
    }
}

/// An iteration under way; dropped before [`Unfinished::done`], it counts as interrupted.
struct Unfinished<'a> {
    ctx: &'a ThreadContext,
    scenario: usize,
    finished: bool,
}

impl<'a> Unfinished<'a> {
    fn new(ctx: &'a ThreadContext, scenario: usize) -> Self {
        Self {
            ctx,
            scenario,
            finished: false,
        }
    }

    fn done(mut self) {
        self.finished = true;
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.ctx.recorder.record_interrupted(self.scenario);
        }
    }
}

/// Whether a response passes a check; a request that failed before a response fails every check.
fn passes(check: &Check, exchange: &Exchange, body: &[u8]) -> bool {
    let Outcome::Status(status) = exchange.outcome else {
        return false;
    };
    match check {
        Check::Status(codes) => codes.contains(&status),
        Check::BodyContains(text) => {
            let needle = text.as_bytes();
            needle.is_empty() || body.windows(needle.len()).any(|window| window == needle)
        }
        Check::Header { name, contains } => exchange
            .headers
            .as_ref()
            .and_then(|headers| headers.get(name.as_str()))
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains(contains.as_str())),
        Check::DurationBelow(limit) => exchange.done - exchange.sent < *limit,
    }
}
