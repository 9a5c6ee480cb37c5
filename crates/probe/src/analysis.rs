//! The pure figures of a capacity test: least-squares fits, whether a step kept up, the maximum
//! sustainable rate, the knee, and what kind of server it is (Little's law). No I/O, no clock.

use serde::Serialize;

/// y = slope × x + intercept, by ordinary least squares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LinearFit {
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination: 1 − SS_res / SS_tot (1 when every point is on the line).
    pub r2: f64,
    pub points: usize,
}

/// The least-squares line through `points`; `None` with fewer than two distinct x values.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<LinearFit> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    if points.len() < 2 || sxx <= f64::EPSILON * mean_x.abs().max(1.0) {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    let ss_res: f64 = points
        .iter()
        .map(|p| (p.1 - (slope * p.0 + intercept)).powi(2))
        .sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    Some(LinearFit {
        slope,
        intercept,
        r2,
        points: points.len(),
    })
}

/// One measured second of a step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Second {
    /// Requests answered with a status in 200–399.
    pub ok: u64,
    /// Requests that failed (error or status outside 200–399).
    pub failed: u64,
    /// Arrivals not sent for want of a free virtual user.
    pub dropped: u64,
    /// Iterations completed (whatever their outcome).
    pub iterations: u64,
    /// Median latency of the second's successful requests, ms (0 when none).
    pub p50_ms: f64,
    /// Requests in flight at the end of the second.
    pub in_flight: u64,
}

/// When a step no longer counts as kept up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Highest share of failed and dropped requests.
    pub error_rate: f64,
    /// Lowest completed iterations per second as a share of the offered rate.
    pub throughput_ratio: f64,
    /// Latency grows within a step when its trend ends this many times above where it starts…
    pub latency_growth: f64,
    /// …and at least this many ms above it.
    pub latency_growth_ms: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            error_rate: 0.01,
            throughput_ratio: 0.9,
            latency_growth: 1.5,
            latency_growth_ms: 2.0,
        }
    }
}

/// Why a step did not keep up.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Shortfall {
    /// Completed iterations per second fell below the offered rate.
    ThroughputBelowOffered { achieved: f64, offered: f64 },
    /// The median latency trended up within the step.
    LatencyGrowing { first_ms: f64, last_ms: f64 },
    /// Failed or dropped requests above the limit.
    Errors { rate: f64, limit: f64 },
    /// Requests in flight trended up over the step (a queue).
    InFlightGrowing { first: f64, last: f64 },
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ThroughputBelowOffered { achieved, offered } => write!(
                f,
                "throughput {}/s below the offered {}/s",
                scalelab_report::number(*achieved, 1),
                scalelab_report::number(*offered, 1)
            ),
            Self::LatencyGrowing { first_ms, last_ms } => write!(
                f,
                "latency growing within the step (median {first_ms:.1} → {last_ms:.1} ms)"
            ),
            Self::Errors { rate, limit } => write!(
                f,
                "errors {:.2} % above the limit {:.2} %",
                rate * 100.0,
                limit * 100.0
            ),
            Self::InFlightGrowing { first, last } => {
                write!(f, "requests in flight growing ({first:.0} → {last:.0})")
            }
        }
    }
}

/// Mean of `values`, 0 when empty.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Least R² of the line through a step's seconds for latency or in-flight to count as growing.
pub const MIN_TREND_R2: f64 = 0.5;

/// Why the measured `seconds` of a step offered `offered` iterations per second did not keep up
/// (empty: it kept up). Latency and in-flight growth are read from the least-squares line through
/// the step's seconds: its value at the first and at the last second.
pub fn shortfalls(seconds: &[Second], offered: f64, limits: &Limits) -> Vec<Shortfall> {
    let mut out = Vec::new();
    let n = seconds.len();
    if n == 0 {
        return out;
    }
    let achieved = mean(seconds.iter().map(|s| s.iterations as f64));
    if achieved < limits.throughput_ratio * offered {
        out.push(Shortfall::ThroughputBelowOffered { achieved, offered });
    }
    let sent: u64 = seconds.iter().map(|s| s.ok + s.failed + s.dropped).sum();
    let bad: u64 = seconds.iter().map(|s| s.failed + s.dropped).sum();
    let rate = if sent == 0 {
        0.0
    } else {
        bad as f64 / sent as f64
    };
    if sent == 0 || rate > limits.error_rate {
        out.push(Shortfall::Errors {
            rate: if sent == 0 { 1.0 } else { rate },
            limit: limits.error_rate,
        });
    }
    // A trend, not a spike: the least-squares line through the seconds must explain at least half
    // of their variance (a queue grows steadily; a burst of contention does not).
    let trend = |points: Vec<(f64, f64)>| {
        linear_fit(&points)
            .filter(|fit| fit.r2 >= MIN_TREND_R2)
            .map(|fit| (fit.intercept, fit.intercept + fit.slope * (n - 1) as f64))
    };
    let latency = seconds
        .iter()
        .enumerate()
        .filter(|(_, s)| s.ok > 0)
        .map(|(i, s)| (i as f64, s.p50_ms))
        .collect();
    if let Some((first_ms, last_ms)) = trend(latency)
        && first_ms > 0.0
        && last_ms > limits.latency_growth * first_ms
        && last_ms - first_ms > limits.latency_growth_ms
    {
        out.push(Shortfall::LatencyGrowing { first_ms, last_ms });
    }
    let in_flight = seconds
        .iter()
        .enumerate()
        .map(|(i, s)| (i as f64, s.in_flight as f64))
        .collect();
    // Twice as many and at least 5 more: a few requests either side of a second's end are noise.
    if let Some((first, last)) = trend(in_flight)
        && last > 2.0 * first.max(0.0)
        && last - first >= 5.0
    {
        out.push(Shortfall::InFlightGrowing { first, last });
    }
    out
}

/// What the analysis needs of one measured step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepFigures {
    /// Offered arrivals per second.
    pub offered: f64,
    /// Successful requests per second.
    pub throughput: f64,
    /// Relative standard deviation of the per-second successful throughput.
    pub throughput_spread: f64,
    /// Mean service time of the successful requests (from the actual send), ms.
    pub service_ms: f64,
    /// Median latency of the successful requests (from the scheduled send), ms.
    pub p50_ms: f64,
    pub mean_in_flight: f64,
    /// The server's CPU % of the whole machine, when seen.
    pub cpu_percent: Option<f64>,
    /// Busy CPU % of the whole machine (every process), when seen.
    pub machine_cpu_percent: Option<f64>,
    pub kept_up: bool,
}

/// The highest offered rate among the steps that kept up before the first that did not.
pub fn max_sustainable_rate(steps: &[StepFigures]) -> Option<f64> {
    steps
        .iter()
        .take_while(|s| s.kept_up)
        .map(|s| s.offered)
        .reduce(f64::max)
}

/// How far the median latency may rise above its low-load value before the knee is passed.
pub const KNEE_LATENCY_FACTOR: f64 = 1.5;

/// The knee: the highest offered rate among the steps before the first that either did not keep up
/// or had a median latency above [`KNEE_LATENCY_FACTOR`] × the first step's.
pub fn knee(steps: &[StepFigures]) -> Option<f64> {
    let base = steps.first()?.p50_ms;
    steps
        .iter()
        .take_while(|s| s.kept_up && s.p50_ms <= KNEE_LATENCY_FACTOR * base)
        .map(|s| s.offered)
        .reduce(f64::max)
}

/// CPU % of the machine taken by the server at which it counts as CPU-bound (and the machine's
/// busy % at which other processes may have starved it).
pub const CPU_SATURATED_PERCENT: f64 = 80.0;

/// What kind of server the staircase met.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// Latency stayed flat while concurrency grew; the limit, if reached, was the CPU.
    Async,
    /// Throughput plateaued at `workers` / service time while the CPU was not saturated.
    Sync {
        workers: f64,
        workers_low: f64,
        workers_high: f64,
    },
    /// The data do not tell.
    Undetermined,
}

/// Where the time of a request goes at the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The CPU was saturated at the limit.
    Cpu,
    /// The CPU was not saturated: requests wait (on I/O, a worker, a lock).
    Waiting,
    /// No limit was reached, or the CPU was not seen.
    Unknown,
}

/// How much to trust the characterization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// The characterization of a server from its staircase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Characterization {
    #[serde(flatten)]
    pub kind: Kind,
    pub bound: Bound,
    pub confidence: Confidence,
    /// The service time at low load, ms: the lowest mean service time of the steps that kept up.
    pub service_time_ms: f64,
    /// The highest successful throughput of any step (the plateau when a limit was found).
    pub peak_throughput: f64,
    /// Why, in a sentence or two, with the figures it rests on.
    pub statement: String,
}

/// Tells an async server from a sync one with W workers (Little's law: W = plateau throughput ×
/// service time at low load), and CPU-bound from waiting. `max_vus` is the load generator's own
/// concurrency limit: a plateau there is the client's, not the server's.
pub fn characterize(steps: &[StepFigures], max_vus: u64) -> Option<Characterization> {
    let base = steps.first()?;
    if !base.kept_up {
        return None;
    }
    let service_ms = steps
        .iter()
        .filter(|s| s.kept_up)
        .map(|s| s.service_ms)
        .fold(f64::INFINITY, f64::min);
    let service_s = service_ms / 1000.0;
    let peak = steps
        .iter()
        .max_by(|a, b| a.throughput.total_cmp(&b.throughput))
        .expect("steps is not empty");
    let limited = steps.iter().any(|s| !s.kept_up);
    let cpu_saturated = peak.cpu_percent.map(|c| c >= CPU_SATURATED_PERCENT);
    // Other processes keeping the machine busy: the server may have waited for CPU it could not get.
    let machine_busy = cpu_saturated != Some(true)
        && peak
            .machine_cpu_percent
            .is_some_and(|m| m >= CPU_SATURATED_PERCENT);
    let machine = peak.machine_cpu_percent.map_or(String::new(), |m| {
        format!(", the whole machine's at {m:.0} %")
    });
    let result = |kind, bound, confidence, statement: String| Characterization {
        kind,
        bound,
        confidence,
        service_time_ms: service_ms,
        peak_throughput: peak.throughput,
        statement,
    };
    if !limited {
        // Concurrency by Little's law (throughput × time in the system): exact, where the in-flight
        // gauge is a sample at each second's end.
        let concurrency = |s: &StepFigures| s.throughput * s.service_ms / 1000.0;
        let last = steps.last().expect("steps is not empty");
        let (from, to) = (concurrency(base), concurrency(last));
        let flat = last.p50_ms <= KNEE_LATENCY_FACTOR * base.p50_ms;
        let grew = to / from.max(1e-9);
        if flat && grew >= 2.0 && to >= 2.0 {
            let confidence = if grew >= 4.0 && to >= 4.0 {
                Confidence::High
            } else {
                Confidence::Medium
            };
            return Some(result(
                Kind::Async,
                Bound::Unknown,
                confidence,
                format!(
                    "async: median latency stayed flat ({:.1} → {:.1} ms) while concurrency grew \
                     {grew:.1}× ({from:.1} → {to:.1} requests in the server, by Little's law); no \
                     limit up to {:.1} requests/s, so any worker limit is above {:.0}",
                    base.p50_ms,
                    last.p50_ms,
                    last.offered,
                    to.floor()
                ),
            ));
        }
        return Some(result(
            Kind::Undetermined,
            Bound::Unknown,
            Confidence::Low,
            format!(
                "undetermined: no limit reached up to {:.1} requests/s, and concurrency grew only \
                 from {from:.1} to {to:.1} (or latency rose above {KNEE_LATENCY_FACTOR}× its \
                 low-load value); raise --max-rate or --max-duration",
                last.offered
            ),
        ));
    }
    // Little's law on the plateau: concurrency = throughput × time in the server.
    let workers = peak.throughput * service_s;
    let spread = peak.throughput_spread;
    let (workers_low, workers_high) = (workers * (1.0 - spread), workers * (1.0 + spread));
    if workers >= 0.9 * max_vus as f64 {
        return Some(result(
            Kind::Undetermined,
            Bound::Unknown,
            Confidence::Low,
            format!(
                "undetermined: the plateau's concurrency ({workers:.0}) is the load generator's \
                 --max-vus ({max_vus}); raise it to see the server's own limit"
            ),
        ));
    }
    if workers < 1.0 {
        return Some(result(
            Kind::Undetermined,
            Bound::Unknown,
            Confidence::Low,
            format!(
                "undetermined: the limit came at {:.1}/s where Little's law gives a concurrency of \
                 {workers:.2}, below one request, so it is no worker limit: latency grew with load \
                 (a machine busy with other work, a lock or another shared resource)",
                peak.throughput
            ),
        ));
    }
    if cpu_saturated == Some(true) {
        return Some(result(
            Kind::Async,
            Bound::Cpu,
            Confidence::High,
            format!(
                "CPU-bound: throughput peaked at {:.1}/s with the server's CPU at {:.0} % of the \
                 machine{machine}: the CPU is the limit; the server ran requests concurrently, as \
                 an async one (or a sync one with at least as many workers as cores) does",
                peak.throughput,
                peak.cpu_percent.unwrap_or_default()
            ),
        ));
    }
    let bound = match cpu_saturated {
        Some(false) => Bound::Waiting,
        _ => Bound::Unknown,
    };
    let nearest = workers.round();
    let integral = (workers - nearest).abs() <= 0.15 * nearest;
    // The step that failed still delivered what it was offered: the plateau may lie higher.
    let failed = steps.iter().find(|s| !s.kept_up).expect("limited");
    let kept_pace = failed.throughput >= 0.97 * failed.offered;
    let confidence = match (spread <= 0.05 && !kept_pace, integral) {
        _ if kept_pace => Confidence::Low,
        (true, true) if !machine_busy => Confidence::High,
        (true, _) | (_, true) => Confidence::Medium,
        (false, false) => Confidence::Low,
    };
    let busy = if machine_busy {
        " Other processes kept the machine busy: part of the limit may be CPU the server could \
         not get."
    } else {
        ""
    };
    let pace = if kept_pace {
        format!(
            " The failing step still delivered {:.1} of the {:.1}/s offered, so the plateau may be \
             higher and W a lower bound.",
            failed.throughput, failed.offered
        )
    } else {
        String::new()
    };
    let cpu = match peak.cpu_percent {
        Some(cpu) => {
            format!("the server's CPU at {cpu:.0} % (not saturated: requests wait){machine}")
        }
        None => "the CPU not seen (give --pid or --metrics-url to tell waiting from CPU)".into(),
    };
    Some(result(
        Kind::Sync {
            workers,
            workers_low,
            workers_high,
        },
        bound,
        confidence,
        format!(
            "sync with about {nearest:.0} workers: throughput plateaued at {:.1}/s (±{:.0} % second \
             to second) with {cpu}; Little's law W = {:.1}/s × {:.1} ms = {workers:.2} \
             ({workers_low:.2}–{workers_high:.2}). The service time at low load includes the \
             network and client, so W is an upper bound when those are not negligible.{pace}{busy}",
            peak.throughput,
            spread * 100.0,
            peak.throughput,
            service_ms
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortfall_groups_thousands_as_every_view_does() {
        let shortfall = Shortfall::ThroughputBelowOffered {
            achieved: 19_500.04,
            offered: 20_000.0,
        };
        assert_eq!(
            shortfall.to_string(),
            "throughput 19,500.0/s below the offered 20,000.0/s"
        );
    }

    #[test]
    fn least_squares_by_hand() {
        // x = 1,2,3,4; y = 3,5,7,10. mean x 2.5, mean y 6.25.
        // Sxx = 2.25+0.25+0.25+2.25 = 5; Sxy = (-1.5)(-3.25)+(-0.5)(-1.25)+(0.5)(0.75)+(1.5)(3.75) = 11.5
        // slope 2.3, intercept 6.25 - 5.75 = 0.5; fitted 2.8, 5.1, 7.4, 9.7
        // SS_res = 0.04+0.01+0.16+0.09 = 0.30; SS_tot = 10.5625+1.5625+0.5625+14.0625 = 26.75
        let fit = linear_fit(&[(1.0, 3.0), (2.0, 5.0), (3.0, 7.0), (4.0, 10.0)]).unwrap();
        assert!((fit.slope - 2.3).abs() < 1e-12);
        assert!((fit.intercept - 0.5).abs() < 1e-12);
        assert!((fit.r2 - (1.0 - 0.30 / 26.75)).abs() < 1e-12);
        assert_eq!(fit.points, 4);
        assert!(linear_fit(&[(1.0, 1.0)]).is_none());
        assert!(linear_fit(&[(2.0, 1.0), (2.0, 3.0)]).is_none());
        let flat = linear_fit(&[(1.0, 4.0), (2.0, 4.0)]).unwrap();
        assert_eq!((flat.slope, flat.intercept, flat.r2), (0.0, 4.0, 1.0));
    }

    fn second(ok: u64, p50_ms: f64, in_flight: u64) -> Second {
        Second {
            ok,
            iterations: ok,
            p50_ms,
            in_flight,
            ..Second::default()
        }
    }

    #[test]
    fn a_steady_step_keeps_up() {
        let seconds = [
            second(100, 50.0, 5),
            second(99, 51.0, 6),
            second(101, 50.0, 5),
        ];
        assert!(shortfalls(&seconds, 100.0, &Limits::default()).is_empty());
    }

    #[test]
    fn each_shortfall_is_seen() {
        let limits = Limits::default();
        // 80 of 100 per second: below 90 %.
        let slow = [second(80, 50.0, 5), second(80, 50.0, 5)];
        assert_eq!(
            shortfalls(&slow, 100.0, &limits),
            vec![Shortfall::ThroughputBelowOffered {
                achieved: 80.0,
                offered: 100.0
            }]
        );
        // Medians 50, 60, 150, 170 at seconds 0..3: mean x 1.5, mean y 107.5, Sxx 5,
        // Sxy = 1.5×57.5 + 0.5×47.5 + 0.5×42.5 + 1.5×62.5 = 225: slope 45, intercept 40, so the
        // trend runs 40 → 175 ms; residuals 10, −25, 20, −5: R² = 1 − 1150 / 11275 = 0.898.
        let growing = [
            second(100, 50.0, 5),
            second(100, 60.0, 5),
            second(100, 150.0, 5),
            second(100, 170.0, 5),
        ];
        assert_eq!(
            shortfalls(&growing, 100.0, &limits),
            vec![Shortfall::LatencyGrowing {
                first_ms: 40.0,
                last_ms: 175.0
            }]
        );
        // One slow second in the middle (contention) is not a trend: slope 1 ms/s, R² 0.01.
        let spike = [
            second(100, 40.0, 5),
            second(100, 40.0, 5),
            second(100, 120.0, 5),
            second(100, 40.0, 5),
            second(100, 45.0, 5),
        ];
        assert!(shortfalls(&spike, 100.0, &limits).is_empty());
        // 2 failed + 1 dropped of 100 + 2 + 1 = 3/103 > 1 %.
        let mut failing = second(100, 50.0, 5);
        failing.failed = 2;
        failing.dropped = 1;
        assert_eq!(
            shortfalls(&[failing], 100.0, &limits),
            vec![Shortfall::Errors {
                rate: 3.0 / 103.0,
                limit: 0.01
            }]
        );
        // In flight 5, 10, 15, 20, 30: mean 16, Sxx 10, Sxy 22 + 6 + 0 + 4 + 28 = 60: slope 6,
        // intercept 4, trend 4 → 28 (> 2× and ≥ 5 more); R² = 360 / 370.
        let queue = [
            second(100, 50.0, 5),
            second(100, 50.0, 10),
            second(100, 50.0, 15),
            second(100, 50.0, 20),
            second(100, 50.0, 30),
        ];
        assert_eq!(
            shortfalls(&queue, 100.0, &limits),
            vec![Shortfall::InFlightGrowing {
                first: 4.0,
                last: 28.0
            }]
        );
        // Small absolute changes are noise: 1 → 3 in flight, 0.4 → 0.9 ms.
        let noise = [second(100, 0.4, 1), second(100, 0.9, 3)];
        assert!(shortfalls(&noise, 100.0, &limits).is_empty());
        // Nothing answered at all is a 100 % error rate.
        let silent = [Second::default()];
        assert!(matches!(
            shortfalls(&silent, 10.0, &limits)[..],
            [
                Shortfall::ThroughputBelowOffered { .. },
                Shortfall::Errors { rate: 1.0, .. }
            ]
        ));
    }

    fn step(offered: f64, throughput: f64, p50: f64, in_flight: f64, kept_up: bool) -> StepFigures {
        StepFigures {
            offered,
            throughput,
            throughput_spread: 0.02,
            service_ms: p50,
            p50_ms: p50,
            mean_in_flight: in_flight,
            cpu_percent: None,
            machine_cpu_percent: None,
            kept_up,
        }
    }

    #[test]
    fn sustainable_rate_and_knee() {
        let steps = [
            step(10.0, 10.0, 50.0, 0.5, true),
            step(20.0, 20.0, 60.0, 1.0, true),
            step(40.0, 40.0, 80.0, 3.2, true),
            step(80.0, 50.0, 900.0, 45.0, false),
            step(160.0, 160.0, 50.0, 8.0, true),
        ];
        // 80 failed: the later step does not count. p50 80 > 1.5 × 50 ends the knee at 20.
        assert_eq!(max_sustainable_rate(&steps), Some(40.0));
        assert_eq!(knee(&steps), Some(20.0));
        assert_eq!(max_sustainable_rate(&steps[3..]), None);
        assert_eq!(knee(&[]), None);
    }

    #[test]
    fn a_worker_plateau_is_a_sync_server() {
        // 4 workers, 50 ms: plateau 80/s. W = 80 × 0.050 = 4.0; spread 2 % → 3.92–4.08.
        let mut steps = vec![
            step(20.0, 20.0, 50.0, 1.0, true),
            step(40.0, 40.0, 50.0, 2.0, true),
            step(60.0, 60.0, 51.0, 3.0, true),
            step(90.0, 80.0, 400.0, 30.0, false),
        ];
        steps[3].cpu_percent = Some(3.0);
        let c = characterize(&steps, 1000).unwrap();
        let Kind::Sync {
            workers,
            workers_low,
            workers_high,
        } = c.kind
        else {
            panic!("{c:?}")
        };
        assert!((workers - 4.0).abs() < 1e-12);
        assert!((workers_low - 3.92).abs() < 1e-12 && (workers_high - 4.08).abs() < 1e-12);
        assert_eq!((c.bound, c.confidence), (Bound::Waiting, Confidence::High));
        // The same plateau at the client's VU limit tells nothing about the server.
        assert_eq!(characterize(&steps, 4).unwrap().kind, Kind::Undetermined);
        // A limit at less than one request in flight is no worker limit.
        // (A busy machine: 29 ms requests, latency growing at 16.7/s: W = 16.7 × 0.029 = 0.48.)
        let busy = [
            step(5.0, 5.0, 29.0, 0.1, true),
            step(7.5, 7.4, 30.0, 0.2, true),
            step(16.9, 16.7, 48.0, 0.8, false),
        ];
        assert_eq!(characterize(&busy, 1000).unwrap().kind, Kind::Undetermined);
        // A failing step that still delivered its offered rate gives W only as a lower bound.
        let mut paced = steps.clone();
        paced[3] = step(80.0, 79.0, 80.0, 5.0, false);
        assert_eq!(
            characterize(&paced, 1000).unwrap().confidence,
            Confidence::Low
        );
        // With the CPU saturated, the limit is the CPU: the server's own, or the machine's.
        steps[3].cpu_percent = Some(95.0);
        let cpu = characterize(&steps, 1000).unwrap();
        assert_eq!((cpu.kind, cpu.bound), (Kind::Async, Bound::Cpu));
        // A machine kept busy by others: still 4 workers, but at most medium confidence.
        steps[3].cpu_percent = Some(12.0);
        steps[3].machine_cpu_percent = Some(97.0);
        let busy = characterize(&steps, 1000).unwrap();
        assert!(matches!(busy.kind, Kind::Sync { .. }), "{busy:?}");
        assert_eq!(busy.confidence, Confidence::Medium);
        assert!(
            busy.statement.contains("machine's at 97 %"),
            "{}",
            busy.statement
        );
    }

    #[test]
    fn flat_latency_under_growing_concurrency_is_async() {
        let steps = [
            step(20.0, 20.0, 50.0, 1.0, true),
            step(80.0, 80.0, 51.0, 4.1, true),
            step(160.0, 160.0, 52.0, 8.3, true),
        ];
        let c = characterize(&steps, 1000).unwrap();
        assert_eq!((c.kind, c.confidence), (Kind::Async, Confidence::High));
        // Concurrency 20 × 0.050 = 1.0 → 160 × 0.052 = 8.32 by Little's law: grew 8.3×.
        assert!(
            c.statement.contains("grew 8.3× (1.0 → 8.3"),
            "{}",
            c.statement
        );
        // Twice the load but under two requests in the server (2 × 0.11 → 4 × 0.11): too few to tell.
        let light = [
            step(2.0, 2.0, 110.0, 0.0, true),
            step(4.0, 4.0, 110.0, 0.0, true),
        ];
        assert_eq!(characterize(&light, 1000).unwrap().kind, Kind::Undetermined);
        // Concurrency barely grew: undetermined.
        assert_eq!(
            characterize(&steps[..1], 1000).unwrap().kind,
            Kind::Undetermined
        );
        // A server that failed at the first step is not characterized.
        assert!(characterize(&[step(20.0, 0.0, 0.0, 0.0, false)], 1000).is_none());
    }
}
