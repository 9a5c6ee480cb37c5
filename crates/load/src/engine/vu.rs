//! A virtual user and what it does in one iteration: pick a flow, send its requests, run the checks,
//! think.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use scalelab_metrics::{Outcome, Sample};

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
        let in_flight = InFlight::new(&recorder.in_flight);
        let sink = request.needs_body.then(|| {
            self.body.clear();
            &mut self.body
        });
        let exchange = self
            .client
            .send(&request.prepared, sink, request.needs_headers)
            .await;
        drop(in_flight);
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

/// Counts a request in the in-flight gauge while it lives, even if the request is interrupted.
struct InFlight<'a>(&'a Cell<u64>);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a Cell<u64>) -> Self {
        gauge.set(gauge.get() + 1);
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
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
