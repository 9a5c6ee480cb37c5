//! The Kubernetes HPA's replica calculator for one metric (kubernetes/kubernetes
//! `pkg/controller/podautoscaler/replica_calculator.go`, `GetResourceReplicas` and
//! `calcPlainMetricReplicas` with `groupPods`; `metrics/utilization.go`; notes `hpa.md` K1, K3).
//!
//! All arithmetic is on integers, so ratios and tolerances compare exactly (a ratio of exactly 1.1
//! with tolerance 0.1 is within it): samples become milli-units as the controller reads quantities
//! (CPU and memory: thousandths of a percent of the replica's request; other metrics: thousandths of
//! their unit), tolerances millionths. Every replica of a group has the same request, so the
//! controller's `floor(100 x sum(usage) / sum(request))` is the floor of the mean percent.
//!
//! Kubernetes itself multiplies `ratio x pods` in float64 before `ceil`, which adds one where the exact
//! product is whole but its float is not (25 pods at 14 % of a 50 % target: 7.000000000000001 -> 8);
//! here it is exact (7). Its tolerance test since v1.33, `1 - down <= ratio <= 1 + up` in float64,
//! agrees with the exact one at 0.9 and 1.1 (the older `|1 - ratio| <= tolerance` scaled at 1.1).

use std::time::Duration;

use crate::observation::{Replica, ReplicaState};
use crate::{Metric, Observation};

/// Tolerances per direction, in millionths (`--horizontal-pod-autoscaler-tolerance`, or
/// `behavior.scaleUp/scaleDown.tolerance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerances {
    pub up: i128,
    pub down: i128,
}

impl Tolerances {
    pub fn new(up: f64, down: f64) -> Self {
        let millionths = |t: f64| (t * 1e6).round() as i128;
        Self {
            up: millionths(up),
            down: millionths(down),
        }
    }

    /// `1 - down <= usage / target <= 1 + up`, inclusive at both ends (K1 `isWithin`).
    fn within(self, usage: i128, target: i128) -> bool {
        let scaled = usage * 1_000_000;
        target * (1_000_000 - self.down) <= scaled && scaled <= target * (1_000_000 + self.up)
    }
}

/// The controller-wide settings the calculator reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calculator {
    pub tolerances: Tolerances,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (default 5 min).
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (default 30 s).
    pub initial_readiness_delay: Duration,
}

/// Why a metric gives no proposal (the controller's errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("no pods returned by selector")]
    NoPods,
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoSamples,
}

/// How `groupPods` sorts one pod.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Group {
    /// Failed or deleting: forgotten.
    Discarded,
    /// Pending, or (CPU) not yet usable: set aside; counted at 0 only on a scale-up.
    Unready,
    /// No sample: 0 on a scale-up, the fallback on a scale-down.
    Missing,
    /// Its sample counts; `readyPodCount` counts these.
    Ready(i128),
}

impl Calculator {
    /// K1 `groupPods`. A `Pending` replica without a sample is a pod in phase Pending; with one it is
    /// a running pod that is not Ready: for CPU set aside (inside the initialization period because
    /// it is not Ready; after it because it never was: its readiness last changed within the initial
    /// readiness delay of its start), for other metrics its sample counts as Kubernetes counts it.
    fn group(&self, replica: &Replica, metric: Metric, window: Duration) -> Group {
        let pending = match replica.state {
            ReplicaState::Draining | ReplicaState::Failed => return Group::Discarded,
            ReplicaState::Pending => true,
            ReplicaState::InService => false,
        };
        let Some(sample) = replica.sample(metric) else {
            return if pending {
                Group::Unready
            } else {
                Group::Missing
            };
        };
        if metric == Metric::Cpu {
            let unready = if replica.age < self.cpu_initialization_period {
                // Not Ready, or the sample's window began before the pod became Ready.
                pending || replica.state_for < window
            } else {
                let readiness_changed_after_start = replica.age.saturating_sub(replica.state_for);
                pending && readiness_changed_after_start < self.initial_readiness_delay
            };
            if unready {
                return Group::Unready;
            }
        }
        Group::Ready(milli(sample))
    }

    /// The replicas `metric` asks for, `current` being the scale's replicas and `target` the
    /// metric's target (a whole percent for CPU and memory, an average value otherwise).
    pub fn replicas(
        &self,
        current: u32,
        observation: &Observation,
        metric: Metric,
        target: f64,
    ) -> Result<u32, MetricError> {
        if observation.replicas.is_empty() {
            return Err(MetricError::NoPods);
        }
        let resource = matches!(metric, Metric::Cpu | Metric::Memory);
        // Utilization: a whole percent; a missing pod on a scale-down uses max(100 %, target) of its
        // request (PR #112178). Values: milli-units; a missing pod uses the target itself.
        let (target, fallback) = if resource {
            let percent = target as i128;
            (percent, 1000 * percent.max(100))
        } else {
            let value = milli(target);
            (value, value)
        };
        let usage = |samples: &[i128]| -> i128 {
            let (sum, n) = (samples.iter().sum::<i128>(), samples.len() as i128);
            if resource {
                // K3: floor(100 x sum(usage) / sum(request)), from milli-percents.
                sum / (1000 * n)
            } else {
                // K1 GetMetricUsageRatio: integer average.
                sum / n
            }
        };
        let (mut samples, mut unready, mut missing) = (Vec::new(), 0, 0);
        for replica in &observation.replicas {
            match self.group(replica, metric, observation.window) {
                Group::Discarded => {}
                Group::Unready => unready += 1,
                Group::Missing => missing += 1,
                Group::Ready(sample) => samples.push(sample),
            }
        }
        if samples.is_empty() {
            return Err(MetricError::NoSamples);
        }
        let current = i128::from(current);
        let ready = samples.len() as i128;
        let first = usage(&samples);
        let scale_up_with_unready = unready > 0 && first > target;
        if !scale_up_with_unready && missing == 0 {
            if self.tolerances.within(first, target) {
                return Ok(current as u32);
            }
            return Ok(ceil_div(first * ready, target) as u32);
        }
        // Slow path: fill in the missing and (on a scale-up) the unready pods, then recount.
        if first < target {
            samples.extend(std::iter::repeat_n(fallback, missing));
        } else if first > target {
            samples.extend(std::iter::repeat_n(0, missing));
        }
        if scale_up_with_unready {
            samples.extend(std::iter::repeat_n(0, unready));
        }
        let second = usage(&samples);
        let flipped = (first < target && second > target) || (first > target && second < target);
        if self.tolerances.within(second, target) || flipped {
            return Ok(current as u32);
        }
        let proposal = ceil_div(second * samples.len() as i128, target);
        // A proposal moving against the recounted direction keeps the current count.
        if (second < target && proposal > current) || (second > target && proposal < current) {
            return Ok(current as u32);
        }
        Ok(proposal as u32)
    }
}

/// A sample in milli-units, rounded; negative samples (none should be) count as 0.
fn milli(value: f64) -> i128 {
    (value * 1000.0).round().max(0.0) as i128
}

fn ceil_div(numerator: i128, denominator: i128) -> i128 {
    (numerator + denominator - 1) / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn calculator() -> Calculator {
        Calculator {
            tolerances: Tolerances::new(0.1, 0.1),
            cpu_initialization_period: 5 * MINUTE,
            initial_readiness_delay: Duration::from_secs(30),
        }
    }

    fn pod(state: ReplicaState, cpu: Option<f64>) -> Replica {
        Replica {
            state,
            age: 60 * MINUTE,
            state_for: 60 * MINUTE,
            cpu,
            ..Replica::default()
        }
    }

    fn ready(cpu: f64) -> Replica {
        pod(ReplicaState::InService, Some(cpu))
    }

    fn observe(replicas: Vec<Replica>) -> Observation {
        Observation {
            replicas,
            window: MINUTE,
        }
    }

    fn cpu(current: u32, replicas: Vec<Replica>, target: f64) -> Result<u32, MetricError> {
        calculator().replicas(current, &observe(replicas), Metric::Cpu, target)
    }

    #[test]
    fn utilization_is_a_truncated_whole_percent() {
        // 102.9 % and 102.9 %: floor(100 x 2058 / 2000) = 102; 102 / 100 is within 0.1.
        assert_eq!(cpu(2, vec![ready(102.9), ready(102.9)], 100.0), Ok(2));
        // 3 pods at 60.9 %, target 50: floor(182.7 / 3) = 60 -> ceil(60 x 3 / 50) = ceil(3.6) = 4.
        assert_eq!(cpu(3, vec![ready(60.9); 3], 50.0), Ok(4));
        // 2 pods at 55.99 %, target 50: floor(55.99) = 55 -> 55 / 50 = 1.1, within: no change,
        // where 55.99 / 50 = 1.12 would scale to ceil(2.24) = 3.
        assert_eq!(cpu(2, vec![ready(55.99); 2], 50.0), Ok(2));
    }

    #[test]
    fn tolerance_is_inclusive_and_exact_per_direction() {
        // 55 / 50 = 1.1 exactly: within 0.1 (1.1 - 1 in floating point is 0.10000000000000009).
        assert_eq!(cpu(4, vec![ready(55.0); 4], 50.0), Ok(4));
        // 45 / 50 = 0.9 exactly: within too.
        assert_eq!(cpu(4, vec![ready(45.0); 4], 50.0), Ok(4));
        // 56 / 50 = 1.12: ceil(4 x 1.12) = ceil(4.48) = 5.
        assert_eq!(cpu(4, vec![ready(56.0); 4], 50.0), Ok(5));
        // Up tolerance 0.5, down 0.05, 20 pods: 70 / 50 = 1.4 stays at 20; 47 / 50 = 0.94 is below
        // 0.95 -> ceil(20 x 47 / 50) = ceil(18.8) = 19 (with the default 0.1 it stays at 20).
        let mut calc = calculator();
        calc.tolerances = Tolerances::new(0.5, 0.05);
        let twenty = |value| observe(vec![ready(value); 20]);
        assert_eq!(calc.replicas(20, &twenty(70.0), Metric::Cpu, 50.0), Ok(20));
        assert_eq!(calc.replicas(20, &twenty(47.0), Metric::Cpu, 50.0), Ok(19));
        assert_eq!(cpu(20, vec![ready(47.0); 20], 50.0), Ok(20));
    }

    #[test]
    fn the_product_is_exact_where_float64_would_add_one() {
        // 25 pods at 14 %, target 50: ceil(14 x 25 / 50) = ceil(7) = 7 (float64: 14 / 50 x 25 =
        // 7.000000000000001, ceil 8).
        assert_eq!(cpu(25, vec![ready(14.0); 25], 50.0), Ok(7));
    }

    #[test]
    fn pending_pods_on_a_scale_down_are_left_out_and_the_ratio_multiplies_ready_pods() {
        // 1 ready pod at 10 %, 4 pending, target 50: ratio 10 / 50 = 0.2 < 1, no missing pods, so
        // the fast path: ceil(0.2 x 1) = 1 (not 5).
        let mut pods = vec![ready(10.0)];
        pods.extend(vec![pod(ReplicaState::Pending, None); 4]);
        assert_eq!(cpu(5, pods, 50.0), Ok(1));
    }

    #[test]
    fn unready_pods_count_at_zero_on_a_scale_up_and_a_flip_keeps_the_count() {
        // 2 ready at 90 %, 2 pending, target 50: 90 / 50 = 1.8 > 1, recount with the pending at 0:
        // floor(180 / 4) = 45 -> 0.9 < 1: the direction flips, keep 4.
        let mut pods = vec![ready(90.0); 2];
        pods.extend(vec![pod(ReplicaState::Pending, None); 2]);
        assert_eq!(cpu(4, pods.clone(), 50.0), Ok(4));
        // At 150 %: floor(300 / 4) = 75 -> 1.5 -> ceil(1.5 x 4) = 6.
        pods[0].cpu = Some(150.0);
        pods[1].cpu = Some(150.0);
        assert_eq!(cpu(4, pods, 50.0), Ok(6));
    }

    #[test]
    fn missing_samples_count_at_zero_up_and_at_the_request_down() {
        // 2 at 80 %, 1 in service without a sample, target 50: 80 / 50 > 1 -> the missing pod at 0:
        // floor(160 / 3) = 53 -> 1.06, within 0.1: keep 3.
        let missing = pod(ReplicaState::InService, None);
        assert_eq!(cpu(3, vec![ready(80.0), ready(80.0), missing], 50.0), Ok(3));
        // 2 at 20 %, 1 missing: 20 / 50 < 1 -> the missing pod at max(100, 50) = 100 % of its
        // request: floor(140 / 3) = 46 -> 0.92, within: keep 3.
        assert_eq!(cpu(3, vec![ready(20.0), ready(20.0), missing], 50.0), Ok(3));
        // 3 at 10 %, 1 missing: floor(130 / 4) = 32 -> 0.64 -> ceil(0.64 x 4) = ceil(2.56) = 3.
        let mut pods = vec![ready(10.0); 3];
        pods.push(missing);
        assert_eq!(cpu(4, pods.clone(), 50.0), Ok(3));
        // Target 150 % (above 100): the missing pod is filled at 150 %: floor((30 + 150) / 4) = 45
        // -> 45 / 150 = 0.3 -> ceil(0.3 x 4) = ceil(1.2) = 2.
        assert_eq!(cpu(4, pods, 150.0), Ok(2));
    }

    #[test]
    fn failed_and_draining_pods_are_discarded() {
        // 2 at 100 %, target 50, plus a failed and a draining pod at 100 %: ceil(2 x 2) = 4.
        let pods = vec![
            ready(100.0),
            ready(100.0),
            pod(ReplicaState::Failed, Some(100.0)),
            pod(ReplicaState::Draining, Some(100.0)),
        ];
        assert_eq!(cpu(2, pods, 50.0), Ok(4));
    }

    #[test]
    fn cpu_initialization_period_and_readiness_delay_decide_which_samples_count() {
        // A pod started 2 min ago, ready for 30 s of a 1-minute window: its sample began before it
        // was ready, so it is set aside; alone with a pod at 20 % (target 50): 0.4 -> ceil(0.4) = 1.
        let young = Replica {
            age: 2 * MINUTE,
            state_for: Duration::from_secs(30),
            ..ready(100.0)
        };
        assert_eq!(cpu(2, vec![ready(20.0), young], 50.0), Ok(1));
        // Ready for a whole window: it counts: floor(120 / 2) = 60 -> 1.2 -> ceil(2.4) = 3.
        let settled = Replica {
            state_for: MINUTE,
            ..young
        };
        assert_eq!(cpu(2, vec![ready(20.0), settled], 50.0), Ok(3));
        // After the period an unready (pending) pod that was ready once (its readiness changed
        // 10 min after its start, beyond the 30 s delay) counts with its sample; one that never was
        // (readiness changed at its start) does not.
        let was_ready = Replica {
            state: ReplicaState::Pending,
            age: 20 * MINUTE,
            state_for: 10 * MINUTE,
            cpu: Some(100.0),
            ..Replica::default()
        };
        assert_eq!(cpu(2, vec![ready(20.0), was_ready], 50.0), Ok(3));
        let never_ready = Replica {
            state_for: 20 * MINUTE,
            ..was_ready
        };
        assert_eq!(cpu(2, vec![ready(20.0), never_ready], 50.0), Ok(1));
        // Memory has no initialization period: a running unready pod's sample counts (K1).
        let memory = |r: Replica| Replica { memory: r.cpu, ..r };
        let pods = observe(vec![memory(ready(20.0)), memory(never_ready)]);
        assert_eq!(calculator().replicas(2, &pods, Metric::Memory, 50.0), Ok(3));
    }

    #[test]
    fn errors_without_pods_or_samples() {
        assert_eq!(cpu(1, vec![], 50.0), Err(MetricError::NoPods));
        assert_eq!(
            cpu(2, vec![pod(ReplicaState::Pending, None); 2], 50.0),
            Err(MetricError::NoSamples)
        );
    }

    #[test]
    fn average_values_use_milli_units_and_integer_averages() {
        // requests per pod 0.3, 0.3, 0.301 against 0.2: sum 901 milli / 3 = 300 -> 300 / 200 = 1.5
        // -> ceil(1.5 x 3) = ceil(4.5) = 5.
        let with = |requests| Replica {
            requests: Some(requests),
            ..ready(0.0)
        };
        let pods = observe(vec![with(0.3), with(0.3), with(0.301)]);
        assert_eq!(
            calculator().replicas(3, &pods, Metric::RequestsPerTarget, 0.2),
            Ok(5)
        );
        // A missing pod on a scale-down counts at the target itself: (100 + 100 + 200) / 3 = 133
        // milli against 200 -> 0.665 -> ceil(0.665 x 3) = ceil(1.995) = 2.
        let pods = observe(vec![with(0.1), with(0.1), ready(0.0)]);
        assert_eq!(
            calculator().replicas(3, &pods, Metric::RequestsPerTarget, 0.2),
            Ok(2)
        );
    }
}
