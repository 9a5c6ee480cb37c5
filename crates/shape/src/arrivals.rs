//! Exact arrival times of an open-model load whose shape is a rate per second.

use crate::Shape;

/// The times (seconds from the start) at which arrivals are due under a rate shape: arrival `k`
/// (from 0) is due when the integral of the rate first reaches `k`, so a constant 10/s starts at 0.0,
/// 0.1, 0.2, … and a shape whose integral is `N` yields exactly `ceil(N)` arrivals. Each time is solved
/// in closed form on its linear segment, so there is no drift over long runs.
#[derive(Debug, Clone)]
pub struct Arrivals<'a> {
    shape: &'a Shape,
    segment: usize,
    /// Integral of the rate from 0 to the start of `segment`.
    before_segment: f64,
    next: u64,
    /// Whether an arrival due exactly at the end of the shape is made.
    through_end: bool,
}

impl<'a> Arrivals<'a> {
    pub fn new(shape: &'a Shape) -> Self {
        Self {
            shape,
            segment: 0,
            before_segment: 0.0,
            next: 0,
            through_end: false,
        }
    }

    /// The arrivals of `shape` and one more when the integral reaches a whole number exactly at
    /// the end: k6's `constant-arrival-rate` starts an iteration at `t = duration` too (10/s for
    /// 3 s starts 31, measured with k6 v1.1.0), while its `ramping-arrival-rate` does not.
    pub fn through_end(shape: &'a Shape) -> Self {
        Self {
            through_end: true,
            ..Self::new(shape)
        }
    }
}

impl Iterator for Arrivals<'_> {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        let points = self.shape.points();
        let wanted = self.next as f64;
        while self.segment + 1 < points.len() {
            let (t0, v0) = points[self.segment];
            let (t1, v1) = points[self.segment + 1];
            let area = (v0 + v1) / 2.0 * (t1 - t0);
            let remaining = wanted - self.before_segment;
            let last = self.segment + 2 == points.len();
            // A relative tolerance: the integral of 10/s over 3 s is 30 give or take rounding.
            let at_end = self.through_end && last && remaining <= area * (1.0 + 1e-12);
            if area > 0.0 && (remaining < area || at_end) {
                let slope = (v1 - v0) / (t1 - t0);
                // Solve v0·x + slope/2·x² = remaining for x >= 0, in the form stable for any slope.
                let root = (v0 * v0 + 2.0 * slope * remaining).max(0.0).sqrt();
                let x = if v0 + root > 0.0 {
                    2.0 * remaining / (v0 + root)
                } else {
                    0.0
                };
                self.next += 1;
                return Some(t0 + x.min(t1 - t0));
            }
            self.before_segment += area;
            self.segment += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Phase, Stage};

    #[test]
    fn through_the_end_adds_only_an_arrival_due_exactly_at_the_end() {
        // 10/s for 3 s: 0.0 … 2.9 and 3.0, as k6's constant-arrival-rate runs it (31).
        let shape = Shape::constant(10.0, Duration::from_secs(3));
        let times: Vec<f64> = Arrivals::through_end(&shape).collect();
        assert_eq!(times.len(), 31);
        assert!((times[30] - 3.0).abs() < 1e-9, "{times:?}");
        // 10/s for 2.95 s: the integral 29.5 is not reached by a 31st, so 30 either way.
        let shape = Shape::constant(10.0, Duration::from_secs_f64(2.95));
        assert_eq!(Arrivals::through_end(&shape).count(), 30);
        assert_eq!(Arrivals::new(&shape).count(), 30);
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let shape = Shape::constant(10.0, Duration::from_secs(2));
        let times: Vec<f64> = Arrivals::new(&shape).collect();
        assert_eq!(times.len(), 20);
        for (k, t) in times.iter().enumerate() {
            assert!((t - k as f64 * 0.1).abs() < 1e-9, "{k}: {t}");
        }
    }

    #[test]
    fn ramp_counts_match_the_integral_and_times_invert_it() {
        let shape = Shape::from_phases(&[Phase::Rate {
            duration: Duration::from_secs(600),
            rate: 5.0,
            ramp_to: Some(150.0),
        }])
        .unwrap();
        let times: Vec<f64> = Arrivals::new(&shape).collect();
        assert_eq!(times.len(), 46_500);
        for (k, t) in times.iter().enumerate().step_by(997) {
            assert!(
                (shape.integral(*t) - k as f64).abs() < 1e-6,
                "arrival {k} at {t}"
            );
        }
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn ramp_down_pause_and_jumps() {
        // 0 -> 10/s over 10 s (50 arrivals), 10 -> 0 over 10 s (50), then a pause and a jump to 4/s for 1 s.
        let shape = Shape::from_points(vec![
            (0.0, 0.0),
            (10.0, 10.0),
            (20.0, 0.0),
            (25.0, 0.0),
            (25.0, 4.0),
            (26.0, 4.0),
        ])
        .unwrap();
        let times: Vec<f64> = Arrivals::new(&shape).collect();
        assert_eq!(times.len(), 104);
        // Arrival 50 is the first of the ramp down; by symmetry arrival 75 is at t = 20 - sqrt(50)·... checked by integral.
        assert!((shape.integral(times[75]) - 75.0).abs() < 1e-6);
        assert!(times[100] >= 25.0 && times[103] < 26.0);
        // k6 stages as arrival rates per second: 0->2 over 1 s has area 1: one arrival, at 0.
        let stages = Shape::from_stages(
            0.0,
            &[Stage {
                duration: Duration::from_secs(1),
                target: 2.0,
            }],
        )
        .unwrap();
        assert_eq!(Arrivals::new(&stages).count(), 1);
    }
}
