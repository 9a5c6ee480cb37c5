//! What a staircase shows: the maximum sustainable rate, the knee, the fitted capacity model and
//! the characterization.

use scalelab_capacity::{CapacityFile, CpuModel, MemoryModel};
use serde::Serialize;

use crate::analysis::{
    Characterization, LinearFit, StepFigures, characterize, knee, linear_fit, max_sustainable_rate,
};
use crate::staircase::{Ended, Measurement};

/// The figures drawn from a [`Measurement`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    /// The highest offered rate of the steps before the first that did not keep up.
    pub max_sustainable_rate: Option<f64>,
    /// Whether a step failed (otherwise the rate above is a lower bound).
    pub limit_found: bool,
    pub knee: Option<f64>,
    /// CPU % of the machine against offered requests per second, over the steps that kept up.
    pub cpu_fit: Option<LinearFit>,
    /// Resident MiB against offered requests per second, over the steps that kept up.
    pub memory_fit: Option<LinearFit>,
    pub characterization: Option<Characterization>,
    /// What could not be found, and why.
    pub notes: Vec<String>,
}

impl Findings {
    pub fn from(m: &Measurement) -> Self {
        let figures: Vec<StepFigures> = m
            .steps
            .iter()
            .map(|s| StepFigures {
                offered: s.offered,
                throughput: s.throughput,
                throughput_spread: s.throughput_spread,
                service_ms: s.service_ms,
                p50_ms: s.p50_ms,
                mean_in_flight: s.mean_in_flight,
                cpu_percent: s.cpu_percent,
                machine_cpu_percent: s.machine_cpu_percent,
                kept_up: s.kept_up(),
            })
            .collect();
        let mut notes = Vec::new();
        let kept: Vec<_> = m.steps.iter().take_while(|s| s.kept_up()).collect();
        let cpu_points: Vec<(f64, f64)> = kept
            .iter()
            .filter_map(|s| Some((s.requests_per_second, s.cpu_percent?)))
            .collect();
        let memory_points: Vec<(f64, f64)> = kept
            .iter()
            .filter_map(|s| Some((s.offered_requests, s.memory_bytes? / 1_048_576.0)))
            .collect();
        let cpu_fit = linear_fit(&cpu_points);
        match m.steps.first() {
            None => notes.push("no step was completed: nothing to fit".into()),
            Some(first) if !first.kept_up() => notes.push(format!(
                "the server did not keep up with the first step ({:.1}/s): {}{}; no fit",
                first.offered,
                first
                    .shortfalls
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
                if first.errors.is_empty() {
                    String::new()
                } else {
                    let errors: Vec<String> = first
                        .errors
                        .iter()
                        .map(|(k, n)| format!("{n} × {k}"))
                        .collect();
                    format!(" (failures: {})", errors.join(", "))
                }
            )),
            Some(_) if !m.server_seen => notes.push(
                "the server's CPU was not seen (give --pid or --metrics-url): no capacity model"
                    .into(),
            ),
            Some(_) if cpu_fit.is_none() => notes.push(format!(
                "{} step(s) kept up with the CPU seen: a fit needs two at different loads",
                cpu_points.len()
            )),
            Some(_) => {}
        }
        let limit_found = m.ended == Ended::Limit;
        if !limit_found {
            notes.push(match m.ended {
                Ended::Interrupted => "interrupted: the limit was not reached".into(),
                _ => "every step kept up: the maximum sustainable rate is a lower bound; raise \
                      --max-rate or --max-duration to find the limit"
                    .into(),
            });
        }
        Self {
            max_sustainable_rate: max_sustainable_rate(&figures),
            limit_found,
            knee: knee(&figures),
            cpu_fit,
            memory_fit: linear_fit(&memory_points),
            characterization: characterize(&figures, m.max_vus),
            notes,
        }
    }

    /// The capacity model to write as `capacity.yaml`, when the CPU was fitted. A small negative
    /// idle CPU (noise around 0) becomes 0.
    pub fn capacity_file(&self, vcpus: u32) -> Option<CapacityFile> {
        let fit = self.cpu_fit?;
        if fit.slope <= 0.0 {
            return None;
        }
        Some(CapacityFile {
            vcpus,
            cpu: CpuModel {
                coefficient: round(fit.slope),
                base: round(fit.intercept.clamp(0.0, 99.0)),
                cpu_seconds_per_request: round(fit.slope * f64::from(vcpus) / 100.0),
                r2: round(fit.r2),
                points: fit.points as u32,
            },
            memory: self.memory_fit.map(|m| MemoryModel {
                mib_per_load: round(m.slope),
                base_mib: round(m.intercept),
                r2: round(m.r2),
            }),
            max_sustainable_rate: self.max_sustainable_rate,
        })
    }
}

/// Six significant digits: what the measurement supports, and a file people can read.
fn round(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 5 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(round(0.000896712345), 0.000896712);
        assert_eq!(round(1234.56789), 1234.57);
        assert_eq!(round(-0.5), -0.5);
    }
}
