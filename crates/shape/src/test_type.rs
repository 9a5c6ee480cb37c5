//! The test types of the performance playbook as shapes of arrival rate: load, stress, spike, soak,
//! breakpoint and scalability (after k6's "types of load testing").

use std::fmt;
use std::time::Duration;

use crate::{ShapeError, Stage};

/// A kind of load test, each with its shape of offered rate over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestType {
    /// The expected load: ramp up over 10 %, hold 80 %, ramp down over 10 %.
    Load,
    /// Twice the expected load, in the same shape as `Load`.
    Stress,
    /// The expected load with a sudden burst to 5× in the middle, then back: does it recover?
    Spike,
    /// The expected load held for a long time: ramp up over 5 %, hold 90 %, ramp down over 5 %.
    Soak,
    /// A steady ramp from 0 to 10× the expected load, to be stopped where the system breaks.
    Breakpoint,
    /// Equal steps of 1×, 2×, 3×, 4× and 5× the expected load: how throughput scales.
    Scalability,
}

impl TestType {
    pub const ALL: [TestType; 6] = [
        Self::Load,
        Self::Stress,
        Self::Spike,
        Self::Soak,
        Self::Breakpoint,
        Self::Scalability,
    ];

    /// The type named `name` (`load`, `stress`, `spike`, `soak`, `breakpoint`, `scalability`).
    pub fn parse(name: &str) -> Result<Self, ShapeError> {
        Self::ALL
            .into_iter()
            .find(|t| t.to_string() == name)
            .ok_or_else(|| {
                ShapeError::Invalid(format!(
                    "unknown test type '{name}': one of load, stress, spike, soak, breakpoint, \
                     scalability"
                ))
            })
    }

    /// What the type tests, in a sentence.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::Load => "the expected load: does the system meet its goals under normal traffic?",
            Self::Stress => "twice the expected load: how does it behave above normal traffic?",
            Self::Spike => {
                "a sudden burst to 5x the expected load and back: does it survive and recover?"
            }
            Self::Soak => {
                "the expected load for a long time: does it degrade (leaks, queues, disks)?"
            }
            Self::Breakpoint => {
                "a ramp to 10x the expected load: where does it break? (stopped by the thresholds)"
            }
            Self::Scalability => {
                "steps of 1x to 5x the expected load: does throughput grow with load?"
            }
        }
    }

    /// The rate at time 0 and the k6 stages of the shape for an expected `rate` over `duration`
    /// (stage durations rounded to whole seconds, the last one taking the remainder).
    pub fn stages(self, rate: f64, duration: Duration) -> Result<(f64, Vec<Stage>), ShapeError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(ShapeError::Invalid(format!(
                "the rate must be a number above 0, not {rate}"
            )));
        }
        let total = duration.as_secs();
        if total < 20 {
            return Err(ShapeError::Invalid(
                "the duration must be at least 20s (each stage needs whole seconds)".into(),
            ));
        }
        // (share of the duration, target as a multiple of the rate); 0-share stages are jumps.
        let parts: &[(f64, f64)] = match self {
            Self::Load => &[(0.1, 1.0), (0.8, 1.0), (0.1, 0.0)],
            Self::Stress => &[(0.1, 2.0), (0.8, 2.0), (0.1, 0.0)],
            Self::Spike => &[
                (0.1, 1.0),
                (0.3, 1.0),
                (0.05, 5.0),
                (0.1, 5.0),
                (0.05, 1.0),
                (0.3, 1.0),
                (0.1, 0.0),
            ],
            Self::Soak => &[(0.05, 1.0), (0.9, 1.0), (0.05, 0.0)],
            Self::Breakpoint => &[(1.0, 10.0)],
            Self::Scalability => &[
                (0.2, 1.0),
                (0.0, 2.0),
                (0.2, 2.0),
                (0.0, 3.0),
                (0.2, 3.0),
                (0.0, 4.0),
                (0.2, 4.0),
                (0.0, 5.0),
                (0.2, 5.0),
            ],
        };
        let start = if self == Self::Scalability { rate } else { 0.0 };
        let mut stages = Vec::new();
        let mut used = 0;
        for (index, &(share, multiple)) in parts.iter().enumerate() {
            let seconds = if index + 1 == parts.len() {
                total - used
            } else {
                (share * total as f64).round() as u64
            };
            used += seconds;
            stages.push(Stage {
                duration: Duration::from_secs(seconds),
                target: rate * multiple,
            });
        }
        Ok((start, stages))
    }
}

impl fmt::Display for TestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Load => "load",
            Self::Stress => "stress",
            Self::Spike => "spike",
            Self::Soak => "soak",
            Self::Breakpoint => "breakpoint",
            Self::Scalability => "scalability",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Shape;

    #[test]
    fn each_type_has_its_shape() {
        let ten_minutes = Duration::from_secs(600);
        let shape = |t: TestType| {
            let (start, stages) = t.stages(100.0, ten_minutes).unwrap();
            let shape = Shape::from_stages(start, &stages).unwrap();
            assert_eq!(shape.duration(), ten_minutes, "{t}");
            shape
        };
        // Load: 0 → 100 over 60 s, 100 until 540 s, 0 at 600 s.
        let load = shape(TestType::Load);
        assert_eq!(
            (load.value(30.0), load.value(300.0), load.value(570.0)),
            (50.0, 100.0, 50.0)
        );
        assert_eq!(shape(TestType::Stress).value(300.0), 200.0);
        // Spike: 100 until 240 s, 500 from 270 s to 330 s, 100 again from 360 s.
        let spike = shape(TestType::Spike);
        assert_eq!(
            (spike.value(200.0), spike.value(300.0), spike.value(400.0)),
            (100.0, 500.0, 100.0)
        );
        assert_eq!(shape(TestType::Soak).value(30.0), 100.0);
        // Breakpoint: 0 → 1000 linearly over the whole run.
        assert_eq!(shape(TestType::Breakpoint).value(300.0), 500.0);
        // Scalability: 100, 200, … 500 for 120 s each.
        let steps = shape(TestType::Scalability);
        let levels: Vec<f64> = (0..5)
            .map(|i| steps.value(60.0 + 120.0 * i as f64))
            .collect();
        assert_eq!(levels, vec![100.0, 200.0, 300.0, 400.0, 500.0]);
    }

    #[test]
    fn names_and_bounds() {
        for t in TestType::ALL {
            assert_eq!(TestType::parse(&t.to_string()).unwrap(), t);
        }
        assert!(TestType::parse("smoke").is_err());
        assert!(TestType::Load.stages(0.0, Duration::from_secs(60)).is_err());
        assert!(TestType::Load.stages(10.0, Duration::from_secs(5)).is_err());
    }
}
