//! A virtual user and what it does in one iteration: pick a flow, send its requests, run the checks,
//! think.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use scalelab_metrics::{ErrorKind, Outcome, Phases, Sample};

use super::compile::{CompiledRequest, CompiledScenario, CompiledStep};
use super::thread::ThreadContext;
use crate::client::{Exchange, HttpClient};
use crate::plan::{Check, Think};

/// One virtual user: its connection, a buffer for bodies that checks read, and its random numbers.
pub struct Vu {
    client: HttpClient,
    body: Vec<u8>,
    rng: SmallRng,
}

impl Vu {
    pub fn new(ctx: &ThreadContext, id: u64) -> Self {
        Self {
            client: HttpClient::new(ctx.plan.client.clone()),
            body: Vec::new(),
            rng: SmallRng::seed_from_u64(ctx.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        }
    }

    /// Forgets the connection, so the next request opens a new one (a new Artillery user).
    pub fn disconnect(&mut self) {
        self.client.disconnect();
    }

    /// Runs one iteration of `scenario`. `intended` is the scheduled start in the open model: the
    /// first request's latency counts from it, so time spent waiting for the schedule counts too.
    pub async fn iterate(
        &mut self,
        ctx: &ThreadContext,
        scenario: &CompiledScenario,
        intended: Option<Instant>,
    ) {
        let started = intended.unwrap_or_else(Instant::now);
        let unfinished = Unfinished::new(ctx, scenario.index);
        let pick = self.rng.random_range(
            0..*scenario
                .cumulative_weights
                .last()
                .expect("a scenario has flows"),
        );
        let flow = &scenario.flows[scenario.cumulative_weights.partition_point(|&w| w <= pick)];
        let mut intended = intended;
        for step in &flow.steps {
            match step {
                CompiledStep::Think(think) => tokio::time::sleep(self.think_time(think)).await,
                CompiledStep::Request(request) => {
                    self.request(ctx, request, intended.take()).await;
                }
            }
        }
        if let Some(think) = &scenario.think {
            tokio::time::sleep(self.think_time(think)).await;
        }
        unfinished.done();
        ctx.recorder
            .record_iteration(scenario.index, started.elapsed());
    }

    async fn request(
        &mut self,
        ctx: &ThreadContext,
        request: &CompiledRequest,
        intended: Option<Instant>,
    ) {
        let recorder = &ctx.recorder;
        let scheduled = intended.is_some();
        let in_flight = InFlight::new(ctx, request, intended);
        let sink = request.needs_body.then(|| {
            self.body.clear();
            &mut self.body
        });
        let exchange = self
            .client
            .send(&request.prepared, sink, request.needs_headers)
            .await;
        in_flight.done();
        let sent = exchange.sent;
        let intended = intended.map_or(sent, |i| i.min(sent));
        recorder.record(&Sample {
            endpoint: request.prepared.endpoint,
            outcome: exchange.outcome,
            intended: recorder.offset(intended),
            sent: recorder.offset(sent),
            first_byte: exchange.first_byte.map(|t| recorder.offset(t)),
            done: recorder.offset(exchange.done),
            bytes_sent: exchange.bytes_sent,
            bytes_received: exchange.bytes_received,
            phases: exchange.phases,
        });
        if scheduled {
            recorder.record_send_delay(sent - intended);
        }
        for (id, check) in &request.checks {
            recorder.record_check(*id, passes(check, &exchange, &self.body));
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

/// A request on its way: counted in the in-flight gauge while it lives. Dropped before
/// [`InFlight::done`] — the run ended while it waited (its graceful stop ran out) — it is recorded
/// as failed with [`ErrorKind::Interrupted`], its latency the time it waited: a server that never
/// answers shows as failures, not as silence.
struct InFlight<'a> {
    ctx: &'a ThreadContext,
    request: &'a CompiledRequest,
    intended: Option<Instant>,
    sent: Instant,
    finished: bool,
}

impl<'a> InFlight<'a> {
    fn new(
        ctx: &'a ThreadContext,
        request: &'a CompiledRequest,
        intended: Option<Instant>,
    ) -> Self {
        let gauge = &ctx.recorder.in_flight;
        gauge.set(gauge.get() + 1);
        Self {
            ctx,
            request,
            intended,
            sent: Instant::now(),
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
        if self.finished {
            return;
        }
        let sent = recorder.offset(self.sent);
        recorder.record(&Sample {
            endpoint: self.request.prepared.endpoint,
            outcome: Outcome::Error(ErrorKind::Interrupted),
            intended: self.intended.map_or(sent, |i| recorder.offset(i).min(sent)),
            sent,
            first_byte: None,
            done: recorder.offset(Instant::now()),
            bytes_sent: 0,
            bytes_received: 0,
            phases: Phases::default(),
        });
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
