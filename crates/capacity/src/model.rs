//! The linear capacity model: CPU % of one instance = coefficient x load per instance + base, capped at 100 %.

use serde::{Deserialize, Serialize};

use crate::CapacityError;

/// CPU % of one instance as a linear function of the load it serves (in the load's own unit, e.g.
/// requests per minute). An instance serves load until its CPU reaches 100 %; the rest is unserved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearCapacity {
    /// CPU percentage points per unit of load on one instance.
    pub coefficient: f64,
    /// CPU % of an idle instance.
    #[serde(default)]
    pub base: f64,
}

/// What a fleet does with one step of offered load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLoad {
    /// CPU % of each in-service instance (load is spread evenly); `None` with no instance in service.
    pub cpu_percent: Option<f64>,
    /// Load served by each in-service instance; `None` with no instance in service.
    pub load_per_instance: Option<f64>,
    /// Load the fleet serves.
    pub served: f64,
    /// Load above the fleet's capacity, not served.
    pub unserved: f64,
}

impl LinearCapacity {
    /// A model with a positive coefficient and a base in `[0, 100)`.
    pub fn new(coefficient: f64, base: f64) -> Result<Self, CapacityError> {
        if !(coefficient.is_finite() && coefficient > 0.0) {
            return Err(CapacityError::Invalid(format!(
                "the CPU coefficient must be a number above 0, not {coefficient}"
            )));
        }
        if !(0.0..100.0).contains(&base) {
            return Err(CapacityError::Invalid(format!(
                "the base CPU must be at least 0 % and below 100 %, not {base}"
            )));
        }
        Ok(Self { coefficient, base })
    }

    /// The load one instance serves at 100 % CPU.
    pub fn capacity_per_instance(&self) -> f64 {
        (100.0 - self.base) / self.coefficient
    }

    /// Spreads `offered` load evenly over `instances` in service.
    pub fn serve(&self, offered: f64, instances: u32) -> StepLoad {
        if instances == 0 {
            return StepLoad {
                cpu_percent: None,
                load_per_instance: None,
                served: 0.0,
                unserved: offered,
            };
        }
        let per_instance = offered / f64::from(instances);
        let served_per_instance = per_instance.min(self.capacity_per_instance());
        StepLoad {
            cpu_percent: Some((self.coefficient * per_instance + self.base).min(100.0)),
            load_per_instance: Some(served_per_instance),
            served: served_per_instance * f64::from(instances),
            unserved: (per_instance - served_per_instance) * f64::from(instances),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_linear_then_capped_and_the_excess_is_unserved() {
        // The worked example: 0.0008967 % per request per minute, so 40,000 rpm is 35.868 %.
        let model = LinearCapacity::new(0.0008967, 0.0).unwrap();
        let one = model.serve(40_000.0, 1);
        assert!((one.cpu_percent.unwrap() - 35.868).abs() < 1e-9);
        assert_eq!(one.unserved, 0.0);
        // 150,000 rpm over 2 instances: 75,000 each = 67.25 %.
        let two = model.serve(150_000.0, 2);
        assert!((two.cpu_percent.unwrap() - 67.2525).abs() < 1e-9);
        // 10 % base, 1 % per unit: capacity 90 per instance; 200 over 2 = 100 each, 10 unserved each.
        let based = LinearCapacity::new(1.0, 10.0).unwrap();
        let over = based.serve(200.0, 2);
        assert_eq!(over.cpu_percent, Some(100.0));
        assert!((over.served - 180.0).abs() < 1e-9 && (over.unserved - 20.0).abs() < 1e-9);
        let none = based.serve(50.0, 0);
        assert_eq!(
            (none.cpu_percent, none.served, none.unserved),
            (None, 0.0, 50.0)
        );
    }

    #[test]
    fn bad_models_are_rejected() {
        assert!(LinearCapacity::new(0.0, 0.0).is_err());
        assert!(LinearCapacity::new(1.0, 100.0).is_err());
        assert!(LinearCapacity::new(f64::NAN, 0.0).is_err());
    }
}
