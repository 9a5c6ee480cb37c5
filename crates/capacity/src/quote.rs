//! Priced alternatives: a fixed fleet, a weekly schedule, or a fleet's usage, each at on-demand prices.

use crate::billing::cost_per_million;
use crate::{InstanceType, Usage, WeeklySchedule};

/// One way to pay for a fleet, priced.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// What is priced, e.g. `fixed: 5 x t2.micro for 8064 h`.
    pub what: String,
    pub instance_hours: f64,
    /// Dollars for the whole period.
    pub cost: f64,
    /// Requests served over the period, when known.
    pub requests: Option<f64>,
}

impl Quote {
    /// Dollars per million requests served, when any were.
    pub fn per_million(&self) -> Option<f64> {
        self.requests.and_then(|r| cost_per_million(self.cost, r))
    }
}

/// `count` instances of `instance` around the clock for `hours`, on demand.
pub fn fixed(instance: &InstanceType, count: u32, hours: f64) -> Quote {
    let instance_hours = f64::from(count) * hours;
    Quote {
        what: format!("fixed: {count} x {} for {hours} h", instance.name),
        instance_hours,
        cost: instance_hours * instance.usd_per_hour,
        requests: None,
    }
}

/// `schedule` repeated for `weeks`, on demand.
pub fn scheduled(
    instance: &InstanceType,
    schedule: &WeeklySchedule,
    text: &str,
    weeks: f64,
) -> Quote {
    let instance_hours = schedule.instance_hours_per_week() * weeks;
    Quote {
        what: format!("schedule '{text}' for {weeks} weeks"),
        instance_hours,
        cost: instance_hours * instance.usd_per_hour,
        requests: None,
    }
}

/// `usage` repeated `repeats` times, every instance on demand.
pub fn on_demand(instance: &InstanceType, usage: &Usage, repeats: f64) -> Quote {
    let instance_hours = usage.instance_hours() * repeats;
    Quote {
        what: "autoscaled, on demand".into(),
        instance_hours,
        cost: instance_hours * instance.usd_per_hour,
        requests: Some(usage.served_requests * repeats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PriceCatalog, ScaleInOrder};

    #[test]
    fn a_fixed_fleet_and_a_timeline_on_demand() {
        let catalog = PriceCatalog::built_in();
        let micro = catalog.find("t2.micro").unwrap();
        // 3 instances for 10 h: 30 instance-hours x $0.0116 = $0.348.
        let three = fixed(micro, 3, 10.0);
        assert_eq!(three.instance_hours, 30.0);
        assert!((three.cost - 0.348).abs() < 1e-12, "{}", three.cost);
        assert_eq!(three.per_million(), None);
        // 1 instance for 2 h plus 1 for the second hour: 3 instance-hours x $0.0116 = $0.0348;
        // twice over: $0.0696 for 2 x 3,000,000 requests = $0.0116 per million.
        let usage =
            Usage::from_counts([(0.0, 1), (3600.0, 2)], 7200.0, ScaleInOrder::Newest, 3e6).unwrap();
        let twice = on_demand(micro, &usage, 2.0);
        assert!((twice.cost - 0.0696).abs() < 1e-12, "{}", twice.cost);
        assert!((twice.per_million().unwrap() - 0.0116).abs() < 1e-12);
    }
}
