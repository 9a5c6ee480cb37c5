//! The custom metrics a script defines (`k6/metrics`): names checked as k6 checks them, one type
//! per name, and a bound on how many.

use std::sync::Mutex;

use scalelab_metrics::CustomKind;

/// Custom metrics a script may define: each is kept per second of the run and in the summary.
pub const MAX_METRICS: usize = 1_000;

/// Names of k6's built-in metrics, which a custom metric may not take.
const BUILT_IN: &[&str] = &[
    "vus",
    "vus_max",
    "iterations",
    "iteration_duration",
    "dropped_iterations",
    "data_received",
    "data_sent",
    "checks",
    "http_reqs",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
    "http_req_duration",
    "http_req_failed",
];

/// The run's custom metrics, shared by every VU.
#[derive(Debug, Default)]
pub struct Registry(Mutex<Vec<(String, CustomKind)>>);

impl Registry {
    /// Defines `name` as a metric of `kind`; defining it again with the same type is allowed (each
    /// VU runs the init code). The error says why not.
    pub fn define(&self, name: &str, kind: CustomKind) -> Result<(), String> {
        check_name(name)?;
        let mut metrics = self.0.lock().expect("metrics lock");
        if let Some((_, existing)) = metrics.iter().find(|(n, _)| n == name) {
            return if *existing == kind {
                Ok(())
            } else {
                Err(format!(
                    "metric '{name}' already exists as a {}, not a {}",
                    existing.as_str(),
                    kind.as_str()
                ))
            };
        }
        if metrics.len() >= MAX_METRICS {
            return Err(format!(
                "metric '{name}': a script may define at most {MAX_METRICS} custom metrics"
            ));
        }
        metrics.push((name.to_owned(), kind));
        Ok(())
    }

    /// Every metric defined, in definition order.
    pub fn all(&self) -> Vec<(String, CustomKind)> {
        self.0.lock().expect("metrics lock").clone()
    }
}

/// k6's rule: 1 to 128 Unicode letters, numbers and `_`, not starting with a number.
fn check_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    let valid = (1..=128).contains(&length)
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.chars().next().is_some_and(char::is_numeric);
    if !valid {
        return Err(format!(
            "invalid metric name '{name}': 1 to 128 letters, numbers and '_', not starting with a \
             number (as in k6)"
        ));
    }
    if BUILT_IN.contains(&name) {
        return Err(format!(
            "metric '{name}' is a built-in metric: give the custom metric another name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_k6_rules_and_keep_one_type() {
        let registry = Registry::default();
        registry.define("waiting_time", CustomKind::Trend).unwrap();
        registry.define("waiting_time", CustomKind::Trend).unwrap();
        registry.define("ошибки_2", CustomKind::Counter).unwrap();
        let err = registry
            .define("waiting_time", CustomKind::Gauge)
            .unwrap_err();
        assert!(
            err.contains("already exists as a trend, not a gauge"),
            "{err}"
        );
        for bad in ["", "2xx", "my-metric", "a b", &"x".repeat(129)] {
            let err = registry.define(bad, CustomKind::Rate).unwrap_err();
            assert!(err.contains("invalid metric name"), "{bad}: {err}");
        }
        registry.define(&"x".repeat(128), CustomKind::Rate).unwrap();
        assert!(
            registry
                .define("http_req_duration", CustomKind::Trend)
                .unwrap_err()
                .contains("built-in")
        );
        assert_eq!(registry.all().len(), 3);
    }

    #[test]
    fn the_number_of_metrics_is_bounded() {
        let registry = Registry::default();
        for i in 0..MAX_METRICS {
            registry
                .define(&format!("m{i}"), CustomKind::Counter)
                .unwrap();
        }
        // Redefining one still works; a new one does not.
        registry.define("m0", CustomKind::Counter).unwrap();
        let err = registry
            .define("one_more", CustomKind::Counter)
            .unwrap_err();
        assert!(err.contains("at most 1000 custom metrics"), "{err}");
    }
}
