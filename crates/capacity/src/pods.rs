//! Kubernetes-style pricing: a pod costs its CPU and memory **requests** per hour, whatever it uses.

use crate::Usage;
use crate::quote::Quote;

/// Prices per vCPU-hour and GiB-hour of requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodPrices {
    pub description: &'static str,
    pub source: &'static str,
    pub usd_per_vcpu_hour: f64,
    pub usd_per_gib_hour: f64,
}

impl PodPrices {
    /// OpenCost's default prices (`configs/default.json`, "Default prices based on GCP us-central1"),
    /// which OpenCost uses for clusters without a cloud price list.
    pub const OPENCOST_DEFAULT: Self = Self {
        description: "OpenCost default prices (based on GCP us-central1), USD per vCPU-hour and GiB-hour",
        source: "https://github.com/opencost/opencost/blob/develop/configs/default.json",
        usd_per_vcpu_hour: 0.031611,
        usd_per_gib_hour: 0.004237,
    };

    /// Dollars per hour of one pod requesting `vcpus` and `gib`.
    pub fn per_pod_hour(&self, vcpus: f64, gib: f64) -> f64 {
        vcpus * self.usd_per_vcpu_hour + gib * self.usd_per_gib_hour
    }

    /// The pods of `usage`, repeated `repeats` times, each requesting `vcpus` and `gib`: billed per second
    /// from start to stop, no minimum.
    pub fn usage(&self, usage: &Usage, vcpus: f64, gib: f64, repeats: f64) -> Quote {
        let pod_hours: f64 = usage
            .lifetimes
            .iter()
            .map(|l| l.terminated - l.launched)
            .sum::<f64>()
            / 3600.0
            * repeats;
        Quote {
            what: format!("pods requesting {vcpus} vCPU and {gib} GiB"),
            instance_hours: pod_hours,
            cost: pod_hours * self.per_pod_hour(vcpus, gib),
            requests: Some(usage.served_requests * repeats),
        }
    }

    /// `count` pods around the clock for `hours`.
    pub fn fixed(&self, count: u32, hours: f64, vcpus: f64, gib: f64) -> Quote {
        let pod_hours = f64::from(count) * hours;
        Quote {
            what: format!("fixed: {count} pods for {hours} h"),
            instance_hours: pod_hours,
            cost: pod_hours * self.per_pod_hour(vcpus, gib),
            requests: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScaleInOrder;

    #[test]
    fn pods_pay_for_their_requests_by_the_second() {
        let prices = PodPrices::OPENCOST_DEFAULT;
        // 0.5 vCPU x $0.031611 + 1 GiB x $0.004237 = $0.0200425 a pod-hour.
        assert!((prices.per_pod_hour(0.5, 1.0) - 0.0200425).abs() < 1e-12);
        // 1 pod for 2 h and a 2nd for 30 s (no minimum): 2 h + 30 s; 1,000 requests.
        let usage = Usage::from_counts(
            [(0.0, 1), (60.0, 2), (90.0, 1)],
            7200.0,
            ScaleInOrder::Newest,
            1000.0,
        )
        .unwrap();
        let quote = prices.usage(&usage, 0.5, 1.0, 1.0);
        let hours = 2.0 + 30.0 / 3600.0;
        assert!((quote.instance_hours - hours).abs() < 1e-12);
        assert!((quote.cost - hours * 0.0200425).abs() < 1e-12);
        assert!((prices.fixed(4, 10.0, 0.5, 1.0).cost - 40.0 * 0.0200425).abs() < 1e-12);
    }
}
