//! The plan model: every dialect (native, k6 options, Artillery) is loaded into these types, and the
//! engine runs only these types.

use std::time::Duration;

use scalelab_shape::{Phase, Stage};

/// What one scalelab process can do, and so the most a plan may ask for: every configured quantity
/// is checked against these when the plan is loaded, with the field and its position.
pub mod limits {
    use std::time::Duration;

    /// Virtual users of one scenario (each holds a connection, a file descriptor and buffers).
    pub const MAX_VUS: u64 = 100_000;
    /// Arrivals per second of one scenario (beyond this the release timer and the VUs starve and
    /// the schedule cannot be kept).
    pub const MAX_RATE: f64 = 1_000_000.0;
    /// Scenarios of one plan (each runs its own tasks on every loader thread).
    pub const MAX_SCENARIOS: usize = 1_000;
    /// Steps of one flow, loops counted as written (a loop is run, never unrolled, but its count is
    /// bounded like everything else).
    pub const MAX_LOOP_COUNT: u64 = 1_000_000;
    /// Any duration: a stage, a scenario, a think time, a timeout.
    pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
    /// Iterations of one scenario: what one process could run at [`MAX_RATE`] for [`MAX_DURATION`]
    /// (a count, never allocated, but none beyond it can complete).
    pub const MAX_ITERATIONS: u64 = MAX_RATE as u64 * MAX_DURATION.as_secs();
    /// Loader threads.
    pub const MAX_THREADS: usize = 1_024;
}

/// One run: where to aim, what every request shares, pass/fail criteria, and the scenarios.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Base URL requests with a relative `path` are sent to. `None`: the embedded stress service.
    pub target: Option<String>,
    pub defaults: Defaults,
    pub thresholds: Vec<Threshold>,
    pub scenarios: Vec<Scenario>,
    /// Things the plan asked for that scalelab does not do, each with where it was written
    /// (e.g. an Artillery `function` step). Shown to the user before the run.
    pub warnings: Vec<String>,
}

/// Settings every request of the plan shares unless it says otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub headers: Vec<(String, String)>,
    /// Per-request timeout (k6 default 60 s).
    pub timeout: Duration,
    pub http: HttpVersion,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// `User-Agent` sent when the request sets none.
    pub user_agent: Option<String>,
    /// k6's `discardResponseBodies`: a script's responses have no body unless a request asks for
    /// one with `responseType`.
    pub discard_response_bodies: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            timeout: Duration::from_secs(60),
            http: HttpVersion::Auto,
            insecure: false,
            user_agent: None,
            discard_response_bodies: false,
        }
    }
}

/// Which HTTP version the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 on plain connections, HTTP/2 when TLS ALPN agrees on it.
    Auto,
    Http1,
    /// HTTP/2 only: ALPN `h2` over TLS, prior knowledge (h2c) on plain connections.
    Http2,
}

/// A k6 threshold: `metric` (with an optional tag filter such as `http_req_duration{name:cpu}`) and
/// its conditions (`p(95)<300`, `rate<0.01`), as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: String,
    pub conditions: Vec<String>,
    /// Stop the run as soon as the threshold fails.
    pub abort_on_fail: bool,
    /// With `abort_on_fail`: do not evaluate before this much of the run has passed.
    pub delay_abort_eval: Duration,
}

/// One scenario: an executor that decides when iterations run, and what an iteration does.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub executor: Executor,
    /// What one iteration does.
    pub iteration: Iteration,
    /// Delay from the start of the run before this scenario starts (k6 `startTime`).
    pub start_time: Duration,
    /// How long running iterations may finish after the scenario's end (k6 `gracefulStop`, default 30 s).
    pub graceful_stop: Duration,
    /// Tags every request of the scenario carries (k6's scenario `tags`); a request's own tag of
    /// the same name wins.
    pub tags: Vec<(String, String)>,
}

/// When iterations run: the k6 executors and Artillery phases.
#[derive(Debug, Clone, PartialEq)]
pub enum Executor {
    /// k6 `constant-vus`: `vus` looping for `duration`.
    ConstantVus { vus: u64, duration: Duration },
    /// k6 `ramping-vus` (and the top-level `stages` shorthand).
    RampingVus {
        start_vus: u64,
        stages: Vec<Stage>,
        graceful_ramp_down: Duration,
    },
    /// k6 `constant-arrival-rate`: `rate` iterations per `time_unit`.
    ConstantArrivalRate {
        rate: f64,
        time_unit: Duration,
        duration: Duration,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
    /// k6 `ramping-arrival-rate`: stage targets are rates per `time_unit`.
    RampingArrivalRate {
        start_rate: f64,
        time_unit: Duration,
        stages: Vec<Stage>,
        pre_allocated_vus: u64,
        max_vus: u64,
    },
    /// k6 `per-vu-iterations`: each of `vus` runs `iterations` times, within `max_duration`.
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    /// k6 `shared-iterations`: `iterations` in total shared by `vus`, within `max_duration`.
    SharedIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    /// `scalelab quick -q` (wrk2's and oha's fixed rate): `rate` requests per second over
    /// `connections` VUs for `duration`. An arrival that finds every VU busy waits for the next free
    /// one instead of being dropped; its latency still counts from its scheduled time.
    FixedRate {
        rate: f64,
        duration: Duration,
        connections: u64,
    },
    /// Artillery `phases`: each arrival is a new virtual user (a new connection) that runs the
    /// iteration once. `max_vus` caps concurrent users (Artillery `maxVusers`); past it arrivals drop.
    Phases {
        phases: Vec<Phase>,
        max_vus: Option<u64>,
    },
}

/// What one iteration of a scenario does: pick one flow by weight, run its steps, then think.
///
/// A k6 script with one call is one flow of one request; a weighted choice of requests is several
/// one-request flows; an Artillery script's weighted scenarios are several flows of many steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Iteration {
    pub flows: Vec<Flow>,
    /// Pause after each iteration (k6 `sleep()` at the end of the default function).
    pub think: Option<Think>,
}

/// An ordered list of steps, chosen with probability proportional to `weight`.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub name: String,
    /// Relative weight (default 1).
    pub weight: u32,
    pub steps: Vec<Step>,
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Request(Request),
    /// Artillery `think`, k6 `sleep` between calls.
    Think(Think),
    /// Artillery `loop` with a `count`: `steps` run `count` times over (run, never unrolled).
    Loop {
        count: u64,
        steps: Vec<Step>,
    },
}

impl Step {
    /// Requests these steps send, loops counted (saturating).
    pub fn requests(steps: &[Step]) -> u64 {
        steps
            .iter()
            .map(|step| match step {
                Step::Request(_) => 1,
                Step::Think(_) => 0,
                Step::Loop { count, steps } => count.saturating_mul(Step::requests(steps)),
            })
            .fold(0, u64::saturating_add)
    }
}

/// A pause: fixed, or uniform between `min` and `max` (`sleep(Math.random()*5)` is `{min: 0s, max: 5s}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    Fixed(Duration),
    Uniform { min: Duration, max: Duration },
}

/// One HTTP request template.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The name results are grouped by (k6 `tags.name`); defaults to `METHOD path`.
    pub name: String,
    pub method: String,
    /// An absolute URL, or a path joined to the plan's target.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    pub checks: Vec<Check>,
    /// Tags added to this request's samples, which threshold filters such as
    /// `http_req_duration{type:API}` select on (k6 `params.tags`; `name` is also the `name` above).
    pub tags: Vec<(String, String)>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(String),
    /// Sent as `application/json` unless a content type is given.
    Json(String),
}

/// A check on a response; a failed check is counted, never fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The status is one of these.
    Status(Vec<u16>),
    /// The body contains this text.
    BodyContains(String),
    /// The header exists and contains this text (case-insensitive name).
    Header { name: String, contains: String },
    /// The request took less than this (from sent to done).
    DurationBelow(Duration),
}

impl Check {
    /// A short human label, as k6 shows check names (`status is 200`).
    pub fn label(&self) -> String {
        match self {
            Check::Status(codes) => {
                let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
                format!("status is {}", codes.join(" or "))
            }
            Check::BodyContains(text) => format!("body contains {text:?}"),
            Check::Header { name, contains } => format!("header {name} contains {contains:?}"),
            Check::DurationBelow(limit) => {
                format!("duration < {}", scalelab_config::format_duration(*limit))
            }
        }
    }
}

impl Executor {
    /// How long the executor starts iterations for (for iteration-count executors: the most it may take).
    pub fn duration(&self) -> Duration {
        let stages = |stages: &[Stage]| stages.iter().map(|s| s.duration).sum();
        match self {
            Executor::ConstantVus { duration, .. }
            | Executor::ConstantArrivalRate { duration, .. }
            | Executor::FixedRate { duration, .. } => *duration,
            Executor::RampingVus { stages: s, .. }
            | Executor::RampingArrivalRate { stages: s, .. } => stages(s),
            Executor::PerVuIterations { max_duration, .. }
            | Executor::SharedIterations { max_duration, .. } => *max_duration,
            Executor::Phases { phases, .. } => phases
                .iter()
                .map(|p| match *p {
                    Phase::Rate { duration, .. }
                    | Phase::Count { duration, .. }
                    | Phase::Pause { duration } => duration,
                })
                .sum(),
        }
    }

    /// The executor's timeline, the one [`scalelab_shape::Shape`] every part of scalelab reads:
    /// virtual users over time for `ramping-vus`, arrivals per second for the open model; `None`
    /// for the executors without one (constant VUs, iteration counts). Plan loading builds it once
    /// to validate it, so a loaded plan's executor always has a valid shape.
    pub fn shape(&self) -> Result<Option<scalelab_shape::Shape>, scalelab_shape::ShapeError> {
        use scalelab_shape::Shape;
        Ok(Some(match self {
            Executor::RampingVus {
                start_vus, stages, ..
            } => Shape::from_stages(*start_vus as f64, stages)?,
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                ..
            } => Shape::constant(rate / time_unit.as_secs_f64(), *duration),
            Executor::FixedRate { rate, duration, .. } => Shape::constant(*rate, *duration),
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => Shape::from_stages(*start_rate, stages)?.scaled(1.0 / time_unit.as_secs_f64()),
            Executor::Phases { phases, .. } => Shape::from_phases(phases)?,
            Executor::ConstantVus { .. }
            | Executor::PerVuIterations { .. }
            | Executor::SharedIterations { .. } => return Ok(None),
        }))
    }

    /// The arrivals per second of an open-model executor ([`Executor::shape`]); `None` in the
    /// closed model.
    pub fn arrival_rate(&self) -> Option<scalelab_shape::Shape> {
        self.is_open_model()
            .then(|| self.shape().ok().flatten())
            .flatten()
    }

    /// What it does, in k6's words: `10 looping VUs for 1m0s`, `20.00 iterations/s for 30s
    /// (maxVUs: 5-50)`.
    pub fn describe(&self) -> String {
        let d = |d: &Duration| scalelab_config::format_duration(*d);
        let peak =
            |start: f64, stages: &[Stage]| stages.iter().map(|s| s.target).fold(start, f64::max);
        match self {
            Executor::ConstantVus { vus, duration } => {
                format!("{vus} looping VUs for {}", d(duration))
            }
            Executor::RampingVus {
                start_vus,
                stages,
                graceful_ramp_down,
            } => format!(
                "up to {} looping VUs for {} over {} stages (gracefulRampDown: {})",
                peak(*start_vus as f64, stages),
                d(&self.duration()),
                stages.len(),
                d(graceful_ramp_down)
            ),
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus,
                max_vus,
            } => format!(
                "{:.2} iterations/s for {} (maxVUs: {pre_allocated_vus}-{max_vus})",
                rate / time_unit.as_secs_f64(),
                d(duration)
            ),
            Executor::FixedRate {
                rate,
                duration,
                connections,
            } => format!(
                "{rate:.2} requests/s for {} over {connections} connections (late arrivals wait)",
                d(duration)
            ),
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                pre_allocated_vus,
                max_vus,
            } => format!(
                "up to {:.2} iterations/s for {} over {} stages (maxVUs: {pre_allocated_vus}-{max_vus})",
                peak(*start_rate, stages) / time_unit.as_secs_f64(),
                d(&self.duration()),
                stages.len()
            ),
            Executor::PerVuIterations {
                vus,
                iterations,
                max_duration,
            } => format!(
                "{iterations} iterations for each of {vus} VUs (maxDuration: {})",
                d(max_duration)
            ),
            Executor::SharedIterations {
                vus,
                iterations,
                max_duration,
            } => format!(
                "{iterations} iterations shared among {vus} VUs (maxDuration: {})",
                d(max_duration)
            ),
            Executor::Phases { phases, max_vus } => {
                let peak = self.shape().ok().flatten().map_or(0.0, |shape| {
                    shape.points().iter().map(|p| p.1).fold(0.0, f64::max)
                });
                let cap = max_vus.map_or(String::new(), |m| format!(", maxVusers: {m}"));
                format!(
                    "Artillery phases: {} phases, up to {peak:.2} new users/s for {}{cap}",
                    phases.len(),
                    d(&self.duration())
                )
            }
        }
    }

    /// The most VUs it runs at once: `vus`, the peak of the stages, `maxVUs` (at least
    /// `preAllocatedVUs`), the connections of a fixed rate; `None` for Artillery phases without
    /// `maxVusers` (every arrival is a new user).
    pub fn max_vus(&self) -> Option<u64> {
        self.vus().1
    }

    /// The VUs k6 initializes for this executor before the test starts (its planned VUs); an
    /// arrival-rate executor may add unplanned ones up to `maxVUs` as it runs.
    pub fn planned_vus(&self) -> u64 {
        self.vus().0
    }

    /// (planned, most) VUs.
    fn vus(&self) -> (u64, Option<u64>) {
        let most = self.most_vus();
        let planned = match self {
            Executor::ConstantArrivalRate {
                pre_allocated_vus, ..
            }
            | Executor::RampingArrivalRate {
                pre_allocated_vus, ..
            } => *pre_allocated_vus,
            Executor::Phases { .. } => 0,
            _ => most.unwrap_or(0),
        };
        (planned, most)
    }

    fn most_vus(&self) -> Option<u64> {
        Some(match self {
            Executor::ConstantVus { vus, .. }
            | Executor::PerVuIterations { vus, .. }
            | Executor::SharedIterations { vus, .. } => *vus,
            Executor::RampingVus {
                start_vus, stages, ..
            } => stages
                .iter()
                .map(|s| s.target.ceil() as u64)
                .fold(*start_vus, u64::max),
            Executor::ConstantArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            }
            | Executor::RampingArrivalRate {
                pre_allocated_vus,
                max_vus,
                ..
            } => (*max_vus).max(*pre_allocated_vus),
            Executor::FixedRate { connections, .. } => *connections,
            Executor::Phases { max_vus, .. } => return *max_vus,
        })
    }

    /// k6's name of the executor (`phases` for Artillery phases).
    pub fn kind(&self) -> &'static str {
        match self {
            Executor::ConstantVus { .. } => "constant-vus",
            Executor::RampingVus { .. } => "ramping-vus",
            Executor::ConstantArrivalRate { .. } => "constant-arrival-rate",
            Executor::RampingArrivalRate { .. } => "ramping-arrival-rate",
            Executor::FixedRate { .. } => "fixed-rate",
            Executor::PerVuIterations { .. } => "per-vu-iterations",
            Executor::SharedIterations { .. } => "shared-iterations",
            Executor::Phases { .. } => "phases",
        }
    }

    /// Whether it paces arrivals (open model) rather than looping virtual users (closed model).
    pub fn is_open_model(&self) -> bool {
        matches!(
            self,
            Executor::ConstantArrivalRate { .. }
                | Executor::RampingArrivalRate { .. }
                | Executor::FixedRate { .. }
                | Executor::Phases { .. }
        )
    }
}
