//! A traffic *shape*: how much load there should be at time `t`.
//!
//! One type, [`Shape`], serves the load engine (virtual users or arrivals per second over time) and the
//! simulator (offered load over time). k6 `stages`, Artillery `phases`, inline stage lists and CSV traces
//! all become a `Shape`: a piecewise-linear function of time with a total duration.

mod arrivals;
mod parse;
mod shard;
mod test_type;

pub use arrivals::Arrivals;
pub use parse::{csv_trace, parse_csv_trace, parse_inline_stages};
pub use shard::{MAX_SHARDS, Shard};
pub use test_type::TestType;

use std::time::Duration;

/// Why a shape could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("{0}")]
    Invalid(String),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

/// One k6 stage: ramp linearly from the previous target to `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: f64,
}

/// One Artillery phase, in arrivals per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// `arrivalRate` (ramping linearly to `rampTo` when given) for `duration`.
    Rate {
        duration: Duration,
        rate: f64,
        ramp_to: Option<f64>,
    },
    /// `arrivalCount` arrivals spread evenly over `duration`.
    Count { duration: Duration, count: u64 },
    /// `pause`: no arrivals for `duration`.
    Pause { duration: Duration },
}

/// The longest shape, in seconds: ten years of 365 days.
pub const MAX_SECONDS: f64 = 10.0 * 365.0 * 86_400.0;
/// The largest value a shape may take (a load of a trillion per second is beyond any test).
pub const MAX_VALUE: f64 = 1e12;

/// Why the point `(t, v)` cannot be in a shape, given the time of the point before it: times within
/// `[previous, MAX_SECONDS]`, values finite within `[0, MAX_VALUE]`.
pub fn check_point(previous: Option<f64>, t: f64, v: f64) -> Result<(), String> {
    match previous {
        None if t != 0.0 => Err(format!("a shape starts at time 0, not {t}")),
        Some(before) if t < before => Err(format!(
            "time goes backwards: {} after {}",
            short(t),
            short(before)
        )),
        _ if !(0.0..=MAX_SECONDS).contains(&t) => Err(format!(
            "time {} is not between 0 and {MAX_SECONDS} s (ten years)",
            short(t)
        )),
        _ if !(0.0..=MAX_VALUE).contains(&v) => Err(format!(
            "value {} is not between 0 and {MAX_VALUE:e}",
            short(v)
        )),
        _ => Ok(()),
    }
}

/// `x` as written by hand, for messages: `1e300` rather than its 301 digits.
pub fn short(x: f64) -> String {
    if x.abs() >= 1e15 {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// A piecewise-linear function of time: `value(t)` between consecutive points is interpolated
/// linearly; a jump is two points at the same time. Zero outside `[0, duration]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// `(seconds, value)` with non-decreasing seconds, starting at 0.
    points: Vec<(f64, f64)>,
}

impl Shape {
    /// A shape through `points` (seconds, value); times must start at 0 and never decrease.
    pub fn from_points(points: Vec<(f64, f64)>) -> Result<Self, ShapeError> {
        if points.is_empty() {
            return Err(ShapeError::Invalid(
                "a shape needs at least one point".into(),
            ));
        }
        let mut previous = None;
        for &(t, v) in &points {
            check_point(previous, t, v).map_err(ShapeError::Invalid)?;
            previous = Some(t);
        }
        Ok(Self { points })
    }

    /// A constant `value` for `duration`.
    pub fn constant(value: f64, duration: Duration) -> Self {
        let end = duration.as_secs_f64();
        Self {
            points: vec![(0.0, value.max(0.0)), (end, value.max(0.0))],
        }
    }

    /// k6 stages: start at `start` and ramp linearly to each stage's target over its duration.
    pub fn from_stages(start: f64, stages: &[Stage]) -> Result<Self, ShapeError> {
        let mut points = vec![(0.0, start)];
        let mut t = 0.0;
        for stage in stages {
            t += stage.duration.as_secs_f64();
            points.push((t, stage.target));
        }
        Self::from_points(points)
    }

    /// Artillery phases, in arrivals per second.
    pub fn from_phases(phases: &[Phase]) -> Result<Self, ShapeError> {
        let mut points = vec![];
        let mut t = 0.0;
        for phase in phases {
            let (duration, from, to) = match *phase {
                Phase::Rate {
                    duration,
                    rate,
                    ramp_to,
                } => (duration, rate, ramp_to.unwrap_or(rate)),
                Phase::Count { duration, count } => {
                    let seconds = duration.as_secs_f64();
                    if seconds == 0.0 {
                        return Err(ShapeError::Invalid(
                            "arrivalCount needs a duration above 0".into(),
                        ));
                    }
                    let rate = count as f64 / seconds;
                    (duration, rate, rate)
                }
                Phase::Pause { duration } => (duration, 0.0, 0.0),
            };
            points.push((t, from));
            t += duration.as_secs_f64();
            points.push((t, to));
        }
        if points.is_empty() {
            return Err(ShapeError::Invalid("no phases".into()));
        }
        Self::from_points(points)
    }

    /// Total length of the shape.
    pub fn duration(&self) -> Duration {
        Duration::try_from_secs_f64(self.end()).unwrap_or(Duration::MAX)
    }

    fn end(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }

    /// The points the shape passes through.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The value at `t` seconds (right-continuous at jumps; 0 after the end).
    pub fn value(&self, t: f64) -> f64 {
        if t < 0.0 || t > self.end() {
            return 0.0;
        }
        let index = self.points.partition_point(|p| p.0 <= t);
        if index == self.points.len() {
            return self.points[index - 1].1;
        }
        let (t0, v0) = self.points[index - 1];
        let (t1, v1) = self.points[index];
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// The integral of the shape from 0 to `t` (e.g. arrivals so far when the value is a rate per second).
    pub fn integral(&self, t: f64) -> f64 {
        let t = t.min(self.end());
        let mut total = 0.0;
        for pair in self.points.windows(2) {
            let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
            if t <= t0 {
                break;
            }
            let upto = t.min(t1);
            if upto > t0 {
                let v_upto = v0 + (v1 - v0) * (upto - t0) / (t1 - t0);
                total += (v0 + v_upto) / 2.0 * (upto - t0);
            }
        }
        total
    }

    /// The value just before `t` (the left limit: at a jump, the value before it; 0 at or before 0
    /// and after the end).
    pub fn value_before(&self, t: f64) -> f64 {
        if t <= 0.0 || t > self.end() {
            return 0.0;
        }
        let index = self.points.partition_point(|p| p.0 < t);
        let (t0, v0) = self.points[index - 1];
        let (t1, v1) = self.points[index];
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }

    /// The sum of several shapes running side by side, each starting `offset` into the result (as the
    /// scenarios of a plan do). Jumps stay exact; a part contributes nothing outside its own span.
    pub fn sum(parts: &[(Duration, &Shape)]) -> Shape {
        let mut times: Vec<f64> = parts
            .iter()
            .flat_map(|(offset, shape)| {
                shape.points.iter().map(move |p| offset.as_secs_f64() + p.0)
            })
            .chain([0.0])
            .collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let end = times.last().copied().unwrap_or(0.0);
        // Right of `t`, a part that ends at `t` no longer counts.
        let after = |shape: &Shape, t: f64| {
            if t >= shape.end() && t > 0.0 {
                0.0
            } else {
                shape.value(t)
            }
        };
        let mut points = Vec::with_capacity(times.len() * 2);
        for &t in &times {
            let local = |offset: &Duration| t - offset.as_secs_f64();
            let before: f64 = parts.iter().map(|(o, s)| s.value_before(local(o))).sum();
            let at: f64 = parts
                .iter()
                .map(|(o, s)| {
                    if local(o) < 0.0 {
                        0.0
                    } else {
                        after(s, local(o))
                    }
                })
                .sum();
            if t > 0.0 {
                points.push((t, before));
            }
            if t == 0.0 || (t < end && at != before) {
                points.push((t, at));
            }
        }
        Self { points }
    }

    /// The same shape with every value multiplied by `factor` (e.g. per minute to per second).
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            points: self.points.iter().map(|&(t, v)| (t, v * factor)).collect(),
        }
    }

    /// Whole virtual users at `t` as k6's ramping-vus runs them: the interpolated target, truncated
    /// toward the stage's starting value (a ramp from 0 to 10 over 10 s adds one VU per second, at
    /// its end; a ramp down removes one at each second's start).
    pub fn vus_at(&self, t: f64) -> u64 {
        if t < 0.0 || t > self.end() {
            return 0;
        }
        let index = self.points.partition_point(|p| p.0 <= t);
        if index == self.points.len() {
            return self.points[index - 1].1.round() as u64;
        }
        let (t0, v0) = self.points[index - 1];
        let (t1, v1) = self.points[index];
        let exact = v0 + (v1 - v0) * (t - t0) / (t1 - t0);
        // Tolerate float noise so exact step times land on their step.
        let value = if v1 >= v0 {
            (exact + 1e-9).floor()
        } else {
            (exact - 1e-9).ceil()
        };
        value.max(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn k6_stages_interpolate_from_the_previous_target() {
        // progressive: [{90s,3},{1m,10},{90s,3}] starting at 1 VU (k6's default startVUs).
        let shape = Shape::from_stages(
            1.0,
            &[
                Stage {
                    duration: secs(90),
                    target: 3.0,
                },
                Stage {
                    duration: secs(60),
                    target: 10.0,
                },
                Stage {
                    duration: secs(90),
                    target: 3.0,
                },
            ],
        )
        .unwrap();
        assert_eq!(shape.duration(), secs(240));
        // Hand table: t -> exact target.
        for (t, expected) in [
            (0.0, 1.0),
            (45.0, 2.0),
            (90.0, 3.0),
            (120.0, 6.5),
            (150.0, 10.0),
            (195.0, 6.5),
            (240.0, 3.0),
            (241.0, 0.0),
        ] {
            assert!(
                (shape.value(t) - expected).abs() < 1e-9,
                "t={t}: {}",
                shape.value(t)
            );
        }
        // Whole VUs truncate toward the stage start.
        assert_eq!(shape.vus_at(44.9), 1);
        assert_eq!(shape.vus_at(45.0), 2);
        assert_eq!(shape.vus_at(120.0), 6);
        assert_eq!(shape.vus_at(195.0), 7);
        assert_eq!(shape.vus_at(240.0), 3);
    }

    #[test]
    fn artillery_phases_and_arrival_integral() {
        // arrivalRate 5 rampTo 150 over 600 s: 5 + 145 t/600 per second; total = (5+150)/2*600 = 46,500.
        let ramp = Shape::from_phases(&[Phase::Rate {
            duration: secs(600),
            rate: 5.0,
            ramp_to: Some(150.0),
        }])
        .unwrap();
        assert!((ramp.integral(600.0) - 46_500.0).abs() < 1e-6);
        assert!((ramp.value(300.0) - 77.5).abs() < 1e-9);
        // Warm-up, pause, count: 2/s for 10 s = 20; pause 5 s = 0; 30 over 10 s = 30; total 50.
        let shape = Shape::from_phases(&[
            Phase::Rate {
                duration: secs(10),
                rate: 2.0,
                ramp_to: None,
            },
            Phase::Pause { duration: secs(5) },
            Phase::Count {
                duration: secs(10),
                count: 30,
            },
        ])
        .unwrap();
        assert_eq!(shape.duration(), secs(25));
        assert!((shape.integral(10.0) - 20.0).abs() < 1e-9);
        assert!((shape.integral(15.0) - 20.0).abs() < 1e-9);
        assert!((shape.integral(25.0) - 50.0).abs() < 1e-9);
        assert_eq!(shape.value(12.0), 0.0);
        assert_eq!(shape.value(20.0), 3.0);
    }

    #[test]
    fn sums_keep_jumps_and_offsets() {
        // A: 10/s for 10 s. B: ramps 0 -> 20 over 10 s, starting 5 s in.
        let a = Shape::constant(10.0, secs(10));
        let b = Shape::from_stages(
            0.0,
            &[Stage {
                duration: secs(10),
                target: 20.0,
            }],
        )
        .unwrap();
        let sum = Shape::sum(&[(Duration::ZERO, &a), (secs(5), &b)]);
        for (t, expected) in [
            (0.0, 10.0),
            (5.0, 10.0),
            (7.5, 15.0),
            (9.99, 19.98),
            (10.0, 10.0),
            (12.5, 15.0),
            (15.0, 20.0),
        ] {
            assert!(
                (sum.value(t) - expected).abs() < 0.01,
                "t={t}: {}",
                sum.value(t)
            );
        }
        assert_eq!(sum.duration(), secs(15));
        // The integral is the sum of the parts': 100 + 100.
        assert!((sum.integral(15.0) - 200.0).abs() < 1e-9);
        assert!((sum.value_before(10.0) - 20.0).abs() < 1e-9);
    }

    #[test]
    fn bad_points_are_rejected() {
        assert!(Shape::from_points(vec![]).is_err());
        assert!(Shape::from_points(vec![(1.0, 1.0)]).is_err());
        assert!(Shape::from_points(vec![(0.0, 1.0), (5.0, 1.0), (4.0, 1.0)]).is_err());
        assert!(Shape::from_points(vec![(0.0, -1.0)]).is_err());
        for bad in [f64::NAN, f64::INFINITY, 1e300] {
            assert!(Shape::from_points(vec![(0.0, bad)]).is_err(), "value {bad}");
            assert!(
                Shape::from_points(vec![(0.0, 1.0), (bad, 1.0)]).is_err(),
                "time {bad}"
            );
        }
        assert!(Shape::from_points(vec![(0.0, MAX_VALUE), (MAX_SECONDS, 0.0)]).is_ok());
    }
}
