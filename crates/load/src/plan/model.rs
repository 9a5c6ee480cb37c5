//! The plan model: every dialect (native, k6 options, Artillery) is loaded into these types, and the
//! engine runs only these types.

use std::time::Duration;

use scalelab_shape::{Phase, Stage};

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
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            timeout: Duration::from_secs(60),
            http: HttpVersion::Auto,
            insecure: false,
            user_agent: None,
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
            | Executor::ConstantArrivalRate { duration, .. } => *duration,
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

    /// The arrivals per second an open-model executor schedules over its duration (`None` for the
    /// closed-model executors).
    pub fn arrival_rate(&self) -> Option<scalelab_shape::Shape> {
        use scalelab_shape::Shape;
        match self {
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                ..
            } => Some(Shape::constant(rate / time_unit.as_secs_f64(), *duration)),
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => Shape::from_stages(*start_rate, stages)
                .ok()
                .map(|shape| shape.scaled(1.0 / time_unit.as_secs_f64())),
            Executor::Phases { phases, .. } => Shape::from_phases(phases).ok(),
            _ => None,
        }
    }

    /// Whether it paces arrivals (open model) rather than looping virtual users (closed model).
    pub fn is_open_model(&self) -> bool {
        matches!(
            self,
            Executor::ConstantArrivalRate { .. }
                | Executor::RampingArrivalRate { .. }
                | Executor::Phases { .. }
        )
    }
}
