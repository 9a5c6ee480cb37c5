//! Capacity and cost: how much one instance can serve, what instances cost, and what a fleet costs over time.
//!
//! Pure code: no I/O and no clock. `capacity.yaml` is parsed from text the caller has read. The built-in price catalog is compiled in; other catalogs are parsed
//! from text the caller has read.

mod billing;
pub mod commitment;
mod file;
mod model;
mod pods;
mod prices;
pub mod quote;
mod schedule;
mod usage;

pub use billing::{
    BILLING_MINIMUM, InstanceLifetime, ScaleInOrder, billed_seconds, cost_per_million,
    lifetimes_from_changes, saving_percent,
};
pub use file::{CapacityFile, CpuModel, MemoryModel};
pub use model::{LinearCapacity, StepLoad};
pub use pods::PodPrices;
pub use prices::{Burstable, InstanceType, PriceCatalog};
pub use schedule::WeeklySchedule;
pub use usage::Usage;

/// Most instances a fleet may hold at once: in a policy, a fixed fleet, a schedule or a priced
/// timeline. Checked before anything is allocated for them.
pub const MAX_INSTANCES: u32 = 1_000_000;
/// Most instance launches one priced timeline may hold (each is kept as a lifetime, 16 bytes).
pub const MAX_LAUNCHES: usize = 10_000_000;

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
        let catalog = PriceCatalog::built_in();
        let micro = catalog.find("t2.micro").unwrap();
        // By hand: 48 weeks x 168 h = 8,064 h; x 5 instances = 40,320 instance-hours; x $0.0116 =
        // $467.712.
        let fixed = quote::fixed(micro, 5, 48.0 * 168.0);
        assert_eq!(fixed.instance_hours, 40_320.0);
        assert!((fixed.cost - 467.712).abs() < 1e-9, "{}", fixed.cost);
        // By hand: 5 x 12 h x 5 weekdays = 300 plus 1 x 108 other hours = 408 instance-hours a week;
        // x 48 = 19,584; x $0.0116 = $227.1744.
        let text = "mon-fri 08:00-20:00=5, otherwise=1";
        let schedule = WeeklySchedule::parse(text).unwrap();
        let scheduled = quote::scheduled(micro, &schedule, text, 48.0);
        assert_eq!(scheduled.instance_hours, 19_584.0);
        assert!(
            (scheduled.cost - 227.1744).abs() < 1e-9,
            "{}",
            scheduled.cost
        );
        // Saving: $240.5376 of $467.712 = 51.43 %.
        assert!((fixed.cost - scheduled.cost - 240.5376).abs() < 1e-9);
        assert_eq!(
            format!("{:.1}", saving_percent(fixed.cost, scheduled.cost)),
            "51.4"
        );
    }
}
