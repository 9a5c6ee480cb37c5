//! The open-model staircase: a `ramping-arrival-rate` scenario whose rate jumps from step to step,
//! run by the load engine; an observer judges each step as it completes and stops the run at the
//! first one the server did not keep up with.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_load::engine::{self, CompiledPlan, Observer, Progress, RunOptions};
use scalelab_load::plan::{Executor, Plan};
use scalelab_metrics::{Interval, LatencyHistogram};
use scalelab_shape::Stage;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::ProbeError;
use crate::analysis::{Limits, Second, Shortfall, shortfalls};
use crate::server::{Readings, ServerSource, usage};

/// How the offered rate grows from one step to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Growth {
    /// Multiply by this (above 1).
    Factor(f64),
    /// Add this many arrivals per second (above 0).
    Increment(f64),
}

/// The staircase: where it starts, how it grows, how long each step lasts and where it must stop.
#[derive(Debug, Clone, PartialEq)]
pub struct Staircase {
    /// Arrivals per second of the first step.
    pub start: f64,
    pub growth: Growth,
    /// Length of each step, whole seconds, at least 2 (the first second of each is not measured).
    pub step: Duration,
    /// No step offers more than this.
    pub max_rate: f64,
    /// The staircase never runs longer than this.
    pub max_duration: Duration,
    /// Concurrent requests the load generator may have open (k6 `maxVUs`).
    pub max_vus: u64,
    pub limits: Limits,
}

impl Default for Staircase {
    /// 10/s, ×1.5 every 10 s, up to 5,000/s or 5 minutes: 16 steps, 2 min 40 s at most.
    fn default() -> Self {
        Self {
            start: 10.0,
            growth: Growth::Factor(1.5),
            step: Duration::from_secs(10),
            max_rate: 5000.0,
            max_duration: Duration::from_secs(300),
            max_vus: 2000,
            limits: Limits::default(),
        }
    }
}

impl Staircase {
    /// Checks every quantity is in its bounds.
    pub fn validate(&self) -> Result<(), ProbeError> {
        let bad = |what: &str| Err(ProbeError::Invalid(what.to_owned()));
        let step = self.step.as_secs_f64();
        if !(self.start.is_finite() && self.start > 0.0 && self.start <= 1e6) {
            return bad("--start must be above 0 and at most 1,000,000 requests/s");
        }
        match self.growth {
            Growth::Factor(f) if !(f.is_finite() && f > 1.0 && f <= 100.0) => {
                return bad("--factor must be above 1 and at most 100");
            }
            Growth::Increment(i) if !(i.is_finite() && i > 0.0 && i <= 1e6) => {
                return bad("--increment must be above 0 and at most 1,000,000 requests/s");
            }
            _ => {}
        }
        if step.fract() != 0.0 || !(2.0..=3600.0).contains(&step) {
            return bad("--step must be whole seconds, from 2s to 1h");
        }
        if !(self.max_rate.is_finite() && self.max_rate >= self.start) {
            return bad("--max-rate must be at least --start");
        }
        if self.max_duration < self.step || self.max_duration > Duration::from_secs(24 * 3600) {
            return bad("--max-duration must be at least one step and at most 24h");
        }
        if !(1..=100_000).contains(&self.max_vus) {
            return bad("--max-vus must be from 1 to 100,000");
        }
        let l = &self.limits;
        if !(0.0..=1.0).contains(&l.error_rate) {
            return bad("--error-limit must be from 0 to 100 %");
        }
        Ok(())
    }

    /// The offered rate of each step: growing from `start`, none above `max_rate`, all within
    /// `max_duration`.
    pub fn rates(&self) -> Vec<f64> {
        let steps = (self.max_duration.as_secs() / self.step.as_secs().max(1)) as usize;
        let mut rates = Vec::new();
        let mut rate = self.start;
        while rates.len() < steps && rate <= self.max_rate * (1.0 + 1e-9) {
            rates.push(rate);
            rate = match self.growth {
                Growth::Factor(f) => rate * f,
                Growth::Increment(i) => rate + i,
            };
        }
        rates
    }

    /// `mix` with its one scenario driven by the staircase.
    fn plan(&self, mix: &Plan, rates: &[f64]) -> Result<Plan, ProbeError> {
        let [scenario] = &mix.scenarios[..] else {
            return Err(ProbeError::Invalid(format!(
                "the plan has {} scenarios: a capacity test offers one request mix; keep one",
                mix.scenarios.len()
            )));
        };
        let mut stages = Vec::new();
        for (i, &rate) in rates.iter().enumerate() {
            if i > 0 {
                stages.push(Stage {
                    duration: Duration::ZERO,
                    target: rate,
                });
            }
            stages.push(Stage {
                duration: self.step,
                target: rate,
            });
        }
        let mut scenario = scenario.clone();
        scenario.executor = Executor::RampingArrivalRate {
            start_rate: rates[0],
            time_unit: Duration::from_secs(1),
            stages,
            pre_allocated_vus: self.max_vus.min(64),
            max_vus: self.max_vus,
        };
        scenario.start_time = Duration::ZERO;
        scenario.graceful_stop = Duration::from_secs(2);
        Ok(Plan {
            scenarios: vec![scenario],
            thresholds: Vec::new(),
            ..mix.clone()
        })
    }
}

/// One measured step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub index: usize,
    /// Arrivals per second the step offered.
    pub offered: f64,
    /// The measured window, in seconds from the start (the step's first second is left out).
    pub from_s: f64,
    pub to_s: f64,
    /// Successful requests per second.
    pub throughput: f64,
    /// Relative standard deviation of the per-second successful requests.
    pub throughput_spread: f64,
    /// Completed requests (any outcome) per second.
    pub requests_per_second: f64,
    /// Requests per second the step offered (arrivals × requests per iteration): the load the CPU
    /// is fitted against. It is exact where completions per second carry the noise of which
    /// second a request happened to end in.
    pub offered_requests: f64,
    /// Iterations completed per second (any outcome).
    pub completed: f64,
    pub requests: u64,
    pub failed: u64,
    pub dropped: u64,
    /// (failed + dropped) / (requests + dropped).
    pub error_rate: f64,
    /// Latency of the successful requests, ms (from the scheduled send time).
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Mean service time of the successful requests, ms: from the actual send to the last byte.
    pub service_ms: f64,
    /// Mean of the requests in flight at the end of each measured second.
    pub mean_in_flight: f64,
    /// CPU % of the server's machine (all vCPUs = 100), when seen.
    pub cpu_percent: Option<f64>,
    /// Mean resident memory of the server, bytes, when seen.
    pub memory_bytes: Option<f64>,
    /// Busy CPU % of the whole machine (all processes), for a local server (`--pid`).
    pub machine_cpu_percent: Option<f64>,
    /// Why the step did not keep up (empty: it did).
    pub shortfalls: Vec<Shortfall>,
    /// Failures by outcome (status code or error kind) and count.
    pub errors: Vec<(String, u64)>,
}

impl Step {
    pub fn kept_up(&self) -> bool {
        self.shortfalls.is_empty()
    }
}

/// Why the staircase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// A step did not keep up.
    Limit,
    /// Every step up to `--max-rate` (within `--max-duration`) kept up.
    Schedule,
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// Everything the staircase measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub steps: Vec<Step>,
    pub ended: Ended,
    /// The rates the staircase would have offered.
    pub planned_rates: Vec<f64>,
    pub max_vus: u64,
    /// vCPUs the server's CPU % is a share of.
    pub vcpus: u32,
    /// Whether the server's CPU was read.
    pub server_seen: bool,
}

/// How a staircase is run.
pub struct ProbeOptions {
    /// Where the server's CPU and memory are read, if anywhere.
    pub server: Option<ServerSource>,
    /// vCPUs of the server's machine.
    pub vcpus: u32,
    /// Loader threads.
    pub threads: usize,
    /// Cancel to end the staircase (Ctrl-C); the completed steps are kept.
    pub interrupt: CancellationToken,
    /// Told each step as it completes.
    pub on_step: Box<dyn FnMut(&Step) + Send>,
}

/// Runs `staircase` with the request mix of `mix` (one scenario) against `base`.
pub async fn run(
    staircase: &Staircase,
    mix: &Plan,
    base: &str,
    mut options: ProbeOptions,
) -> Result<Measurement, ProbeError> {
    staircase.validate()?;
    if options.vcpus == 0 {
        return Err(ProbeError::Invalid("--vcpus must be at least 1".into()));
    }
    let rates = staircase.rates();
    let plan = staircase.plan(mix, &rates)?;
    let compiled = Arc::new(CompiledPlan::new(&plan, base).map_err(ProbeError::Plan)?);
    if let Some(source) = &options.server {
        // Fail before any load when the server cannot be read at all.
        let client = crate::server::client();
        tokio::select! {
            read = source.read(&client) => read?,
            _ = options.interrupt.cancelled() => return Err(ProbeError::Interrupted),
        };
    }
    let stop = options.interrupt.child_token();
    let start = Instant::now();
    let sampling = CancellationToken::new();
    let readings = options
        .server
        .clone()
        .map(|source| Readings::spawn(source, start, Duration::from_millis(250), sampling.clone()));
    let step_secs = staircase.step.as_secs();
    let mut judge = Judge {
        step_secs,
        rates: &rates,
        limits: staircase.limits,
        stop: stop.clone(),
        current: StepBuffer::default(),
        done: Vec::new(),
        limit_found: false,
        on_step: &mut options.on_step,
        readings: readings.clone(),
        vcpus: options.vcpus,
    };
    let run_options = RunOptions {
        threads: options.threads.max(1),
        stop,
        stop_grace: Duration::from_secs(2),
        ..RunOptions::default()
    };
    engine::run(compiled, run_options, &mut judge)
        .await
        .map_err(ProbeError::Io)?;
    sampling.cancel();
    let ended = if judge.limit_found {
        Ended::Limit
    } else if options.interrupt.is_cancelled() {
        Ended::Interrupted
    } else {
        Ended::Schedule
    };
    let steps = std::mem::take(&mut judge.done);
    Ok(Measurement {
        steps,
        ended,
        planned_rates: rates,
        max_vus: staircase.max_vus,
        vcpus: options.vcpus,
        server_seen: readings.is_some(),
    })
}

/// The seconds of the step being measured.
#[derive(Default)]
struct StepBuffer {
    seconds: Vec<Second>,
    ok_latency: LatencyHistogram,
    ok_service: LatencyHistogram,
    requests: u64,
    errors: Vec<(String, u64)>,
}

/// The observer that cuts the run into steps and stops it at the first step that did not keep up.
struct Judge<'a> {
    step_secs: u64,
    rates: &'a [f64],
    limits: Limits,
    stop: CancellationToken,
    current: StepBuffer,
    done: Vec<Step>,
    limit_found: bool,
    on_step: &'a mut Box<dyn FnMut(&Step) + Send>,
    readings: Option<Readings>,
    vcpus: u32,
}

impl Observer for Judge<'_> {
    fn on_interval(&mut self, interval: &Interval, _progress: &Progress<'_>) {
        let index = (interval.second / self.step_secs) as usize;
        let within = interval.second % self.step_secs;
        if self.limit_found || index >= self.rates.len() || self.stop.is_cancelled() || within == 0
        {
            return;
        }
        let mut ok = LatencyHistogram::default();
        let (mut ok_count, mut failed) = (0, 0);
        for (key, series) in &interval.series {
            if key.outcome.is_failure() {
                failed += series.count;
                let name = key.outcome.to_string();
                match self.current.errors.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 += series.count,
                    None => self.current.errors.push((name, series.count)),
                }
            } else {
                ok_count += series.count;
                ok.merge(&series.latency);
                self.current.ok_service.merge(&series.service_time);
            }
        }
        self.current.ok_latency.merge(&ok);
        self.current.requests += ok_count + failed;
        self.current.seconds.push(Second {
            ok: ok_count,
            failed,
            dropped: interval.dropped_iterations,
            iterations: interval.iterations,
            p50_ms: ok.percentile(50.0),
            in_flight: interval.gauges.in_flight,
        });
        if within + 1 == self.step_secs {
            let buffer = std::mem::take(&mut self.current);
            let step = self.finish(index, buffer);
            (self.on_step)(&step);
            if !step.kept_up() {
                self.limit_found = true;
                self.stop.cancel();
            }
            self.done.push(step);
        }
    }
}

impl Judge<'_> {
    fn finish(&self, index: usize, buffer: StepBuffer) -> Step {
        let offered = self.rates[index];
        let seconds = &buffer.seconds;
        let n = seconds.len() as f64;
        let per_second = |f: fn(&Second) -> u64| seconds.iter().map(f).sum::<u64>() as f64 / n;
        let throughput = per_second(|s| s.ok);
        let variance = seconds
            .iter()
            .map(|s| (s.ok as f64 - throughput).powi(2))
            .sum::<f64>()
            / (n - 1.0).max(1.0);
        let iterations: u64 = seconds.iter().map(|s| s.iterations).sum();
        let requests_per_iteration = if iterations == 0 {
            1.0
        } else {
            buffer.requests as f64 / iterations as f64
        };
        let failed: u64 = seconds.iter().map(|s| s.failed).sum();
        let dropped: u64 = seconds.iter().map(|s| s.dropped).sum();
        let from_s = (index as u64 * self.step_secs + 1) as f64;
        let to_s = ((index as u64 + 1) * self.step_secs) as f64;
        let seen = self
            .readings
            .as_ref()
            .and_then(|r| usage(&r.snapshot(), from_s, to_s, self.vcpus));
        let stats = buffer.ok_latency.stats();
        Step {
            index,
            offered,
            from_s,
            to_s,
            throughput,
            throughput_spread: if throughput > 0.0 {
                variance.sqrt() / throughput
            } else {
                0.0
            },
            requests_per_second: buffer.requests as f64 / n,
            offered_requests: offered * requests_per_iteration,
            completed: per_second(|s| s.iterations),
            requests: buffer.requests,
            failed,
            dropped,
            error_rate: if buffer.requests + dropped == 0 {
                0.0
            } else {
                (failed + dropped) as f64 / (buffer.requests + dropped) as f64
            },
            mean_ms: stats.avg,
            p50_ms: stats.p50,
            p95_ms: stats.p95,
            p99_ms: stats.p99,
            service_ms: buffer.ok_service.stats().avg,
            mean_in_flight: per_second(|s| s.in_flight),
            cpu_percent: seen.map(|u| u.cpu_percent),
            memory_bytes: seen.and_then(|u| u.memory_bytes),
            machine_cpu_percent: seen.and_then(|u| u.machine_percent),
            shortfalls: shortfalls(seconds, offered, &self.limits),
            errors: buffer.errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_stop_at_the_max_rate_and_the_max_duration() {
        let mut s = Staircase {
            start: 10.0,
            growth: Growth::Factor(2.0),
            step: Duration::from_secs(5),
            max_rate: 100.0,
            max_duration: Duration::from_secs(60),
            ..Staircase::default()
        };
        assert_eq!(s.rates(), vec![10.0, 20.0, 40.0, 80.0]);
        s.max_duration = Duration::from_secs(14);
        assert_eq!(s.rates(), vec![10.0, 20.0]);
        s.growth = Growth::Increment(25.0);
        s.max_duration = Duration::from_secs(60);
        assert_eq!(s.rates(), vec![10.0, 35.0, 60.0, 85.0]);
        // The defaults finish within a few minutes.
        let d = Staircase::default();
        assert!(d.rates().len() as u64 * d.step.as_secs() <= 300);
        assert!(d.validate().is_ok());
    }

    #[test]
    fn a_plan_mix_is_driven_by_the_staircase() {
        let text = "scenarios:\n  mix:\n    executor: constant-vus\n    vus: 3\n    duration: 1m\n    \
                    requests:\n      - {path: /ping, weight: 3}\n      - {path: /heavy, weight: 1}\n";
        let mix = scalelab_load::plan::load_str(text, "mix.yaml", &Default::default()).unwrap();
        let stairs = Staircase {
            step: Duration::from_secs(5),
            ..Staircase::default()
        };
        let plan = stairs.plan(&mix, &[10.0, 20.0]).unwrap();
        let scenario = &plan.scenarios[0];
        assert_eq!(scenario.iteration, mix.scenarios[0].iteration);
        // 10/s for 5 s, a jump, 20/s for 5 s.
        let shape = scenario.executor.arrival_rate().unwrap();
        assert_eq!(shape.value(2.5), 10.0);
        assert_eq!(shape.value(7.5), 20.0);
        assert_eq!(shape.duration(), Duration::from_secs(10));
        let mut two = mix.clone();
        two.scenarios.push(mix.scenarios[0].clone());
        let error = stairs.plan(&two, &[10.0]).unwrap_err().to_string();
        assert!(error.contains("2 scenarios"), "{error}");
    }

    #[test]
    fn bad_staircases_are_refused() {
        let ok = Staircase::default();
        for bad in [
            Staircase {
                start: 0.0,
                ..ok.clone()
            },
            Staircase {
                growth: Growth::Factor(1.0),
                ..ok.clone()
            },
            Staircase {
                growth: Growth::Increment(-1.0),
                ..ok.clone()
            },
            Staircase {
                step: Duration::from_millis(2500),
                ..ok.clone()
            },
            Staircase {
                step: Duration::from_secs(1),
                ..ok.clone()
            },
            Staircase {
                max_rate: 5.0,
                ..ok.clone()
            },
            Staircase {
                max_duration: Duration::from_secs(5),
                ..ok.clone()
            },
            Staircase {
                max_vus: 0,
                ..ok.clone()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
