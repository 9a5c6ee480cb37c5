//! Capacity and cost: how much one instance can serve, what instances cost, and what a fleet costs over time.
//!
//! Pure code: no I/O and no clock. `capacity.yaml` is parsed from text the caller has read. The built-in price catalog is compiled in; other catalogs are parsed
//! from text the caller has read.

mod billing;
mod file;
mod model;
mod prices;
mod schedule;

pub use billing::{
    BILLING_MINIMUM, InstanceLifetime, ScaleInOrder, billed_seconds, cost_per_million,
    lifetimes_from_changes, saving_percent,
};
pub use file::{CapacityFile, CpuModel, MemoryModel};
pub use model::{LinearCapacity, StepLoad};
pub use prices::{InstanceType, PriceCatalog};
pub use schedule::WeeklySchedule;

/// Why capacity or cost input was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CapacityError {
    #[error("{0}")]
    Invalid(String),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finops_case_to_the_cent() {
        let price = PriceCatalog::built_in()
            .find("t2.micro")
            .unwrap()
            .usd_per_hour;
        let weeks = 48.0;
        // 5 x t2.micro around the clock for 48 weeks = 8,064 h each.
        let fixed = 5.0 * 168.0 * weeks * price;
        assert!((fixed - 467.712).abs() < 1e-9, "{fixed}");
        let schedule = WeeklySchedule::parse("mon-fri 08:00-20:00=5, otherwise=1").unwrap();
        let scheduled = schedule.instance_hours_per_week() * weeks * price;
        assert!((scheduled - 227.1744).abs() < 1e-9, "{scheduled}");
        assert_eq!(format!("{:.1}", saving_percent(fixed, scheduled)), "51.4");
    }
}
