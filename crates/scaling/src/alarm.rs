//! A CloudWatch-style metric alarm: samples are folded into periods by a statistic; each complete
//! period is one datapoint; the alarm is in ALARM when at least `datapoints_to_alarm` of the last
//! `evaluation_periods` datapoints breach the threshold. Periods without samples are missing and
//! count as not breaching.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Metric;

/// How samples within one period become a datapoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    #[default]
    #[serde(alias = "Average")]
    Average,
    #[serde(alias = "Maximum")]
    Maximum,
    #[serde(alias = "Minimum")]
    Minimum,
}

/// How a datapoint is compared with the threshold to count as breaching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    #[serde(alias = "GreaterThanThreshold")]
    GreaterThan,
    #[serde(alias = "GreaterThanOrEqualToThreshold")]
    GreaterThanOrEqual,
    #[serde(alias = "LessThanThreshold")]
    LessThan,
    #[serde(alias = "LessThanOrEqualToThreshold")]
    LessThanOrEqual,
}

impl Comparison {
    /// True for alarms on values above the threshold (`>`, `>=`).
    pub fn above(self) -> bool {
        matches!(self, Self::GreaterThan | Self::GreaterThanOrEqual)
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::GreaterThan => ">",
            Self::GreaterThanOrEqual => ">=",
            Self::LessThan => "<",
            Self::LessThanOrEqual => "<=",
        }
    }

    fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::GreaterThan => value > threshold,
            Self::GreaterThanOrEqual => value >= threshold,
            Self::LessThan => value < threshold,
            Self::LessThanOrEqual => value <= threshold,
        }
    }
}

/// An alarm's definition, as in CloudWatch `PutMetricAlarm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    #[serde(default)]
    pub metric: Metric,
    #[serde(default)]
    pub statistic: Statistic,
    pub threshold: f64,
    pub comparison: Comparison,
    /// Length of one datapoint.
    #[serde(default = "one_minute", with = "scalelab_config::duration_serde")]
    pub period: Duration,
    /// How many recent datapoints are evaluated.
    #[serde(default = "one")]
    pub evaluation_periods: u32,
    /// How many of them must breach for ALARM [default: evaluation_periods].
    #[serde(default)]
    pub datapoints_to_alarm: Option<u32>,
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}

fn one() -> u32 {
    1
}

impl AlarmConfig {
    /// Checks the counts and the period; `field` names the alarm in errors.
    pub(crate) fn validate(&self, field: &str) -> Result<(), String> {
        let needed = self.datapoints_to_alarm.unwrap_or(self.evaluation_periods);
        if self.evaluation_periods == 0 {
            return Err(format!("{field}.evaluation_periods must be at least 1"));
        }
        if needed == 0 || needed > self.evaluation_periods {
            return Err(format!(
                "{field}.datapoints_to_alarm must be between 1 and evaluation_periods ({}), not {needed}",
                self.evaluation_periods
            ));
        }
        if self.period.is_zero() {
            return Err(format!("{field}.period must be above 0"));
        }
        Ok(())
    }
}

/// An alarm's running state.
#[derive(Debug, Clone)]
pub struct Alarm {
    config: AlarmConfig,
    /// Index of the first period not yet complete.
    next_index: u64,
    /// Samples of the period being filled.
    open: Option<OpenPeriod>,
    /// Breach results of the most recent complete periods, newest last.
    recent: VecDeque<bool>,
    in_alarm: bool,
    last_datapoint: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct OpenPeriod {
    sum: f64,
    count: u32,
    min: f64,
    max: f64,
}

impl OpenPeriod {
    fn value(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Average => self.sum / f64::from(self.count),
            Statistic::Maximum => self.max,
            Statistic::Minimum => self.min,
        }
    }
}

impl Alarm {
    pub fn new(config: AlarmConfig) -> Self {
        Self {
            recent: VecDeque::with_capacity(config.evaluation_periods as usize),
            config,
            next_index: 0,
            open: None,
            in_alarm: false,
            last_datapoint: None,
        }
    }

    pub fn config(&self) -> &AlarmConfig {
        &self.config
    }

    /// True while the alarm is in ALARM.
    pub fn in_alarm(&self) -> bool {
        self.in_alarm
    }

    /// The value of the most recent complete datapoint.
    pub fn last_datapoint(&self) -> Option<f64> {
        self.last_datapoint
    }

    /// The last datapoint against the threshold, e.g. `cpu 26.9 > 25`.
    pub fn describe(&self) -> String {
        let config = &self.config;
        format!(
            "{} {:.1} {} {}",
            config.metric,
            self.last_datapoint.unwrap_or(f64::NAN),
            config.comparison.symbol(),
            config.threshold
        )
    }

    /// Adds the sample measured over the interval ending at `now` (`None`: not measured). A period
    /// `[k p, (k+1) p)` is complete once a sample at or after its end arrives; a complete period without
    /// samples is missing.
    pub fn observe(&mut self, now: Duration, sample: Option<f64>) {
        let period_ms = self.config.period.as_millis().max(1) as u64;
        let now_ms = now.as_millis() as u64;
        // The sample ending exactly at a period's end belongs to that period.
        let index = now_ms.saturating_sub(1) / period_ms;
        if self.next_index < index {
            let open = self.open.take();
            if let Some(open) = open {
                self.close(open);
            }
            let closed_with_data = u64::from(open.is_some());
            let missing = (index - self.next_index - closed_with_data)
                .min(u64::from(self.config.evaluation_periods));
            for _ in 0..missing {
                self.push(false);
            }
            self.next_index = index;
        }
        if let Some(value) = sample {
            let open = self.open.get_or_insert(OpenPeriod {
                sum: 0.0,
                count: 0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            });
            open.sum += value;
            open.count += 1;
            open.min = open.min.min(value);
            open.max = open.max.max(value);
        }
        if now_ms >= (index + 1) * period_ms {
            match self.open.take() {
                Some(open) => self.close(open),
                None => self.push(false),
            }
            self.next_index = index + 1;
        }
    }

    fn close(&mut self, open: OpenPeriod) {
        let value = open.value(self.config.statistic);
        self.last_datapoint = Some(value);
        self.push(
            self.config
                .comparison
                .breaches(value, self.config.threshold),
        );
    }

    fn push(&mut self, breaching: bool) {
        if self.recent.len() == self.config.evaluation_periods as usize {
            self.recent.pop_front();
        }
        self.recent.push_back(breaching);
        let needed = self
            .config
            .datapoints_to_alarm
            .unwrap_or(self.config.evaluation_periods) as usize;
        self.in_alarm = self.recent.iter().filter(|b| **b).count() >= needed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(evaluation_periods: u32, datapoints_to_alarm: Option<u32>) -> Alarm {
        Alarm::new(AlarmConfig {
            metric: Metric::Cpu,
            statistic: Statistic::Average,
            threshold: 70.0,
            comparison: Comparison::GreaterThan,
            period: Duration::from_secs(60),
            evaluation_periods,
            datapoints_to_alarm,
        })
    }

    fn minute(m: u64) -> Duration {
        Duration::from_secs(60 * m)
    }

    #[test]
    fn m_out_of_n_datapoints() {
        // 3 of 5 datapoints above 70 put the alarm in ALARM, as in the CloudWatch documentation.
        let mut a = alarm(5, Some(3));
        let states: Vec<bool> = [80.0, 50.0, 90.0, 75.0, 40.0, 40.0]
            .iter()
            .enumerate()
            .map(|(i, cpu)| {
                a.observe(minute(i as u64 + 1), Some(*cpu));
                a.in_alarm()
            })
            .collect();
        // After minute 6 the window is 50, 90, 75, 40, 40: two breaches, back to OK.
        assert_eq!(states, [false, false, false, true, true, false]);
    }

    #[test]
    fn a_period_averages_its_samples_and_closes_at_its_end() {
        let mut a = alarm(1, None);
        // Samples every 20 s: 60, 80, 85 -> average 75 > 70 at the period's end (60 s).
        a.observe(Duration::from_secs(20), Some(60.0));
        a.observe(Duration::from_secs(40), Some(80.0));
        assert!(!a.in_alarm() && a.last_datapoint().is_none());
        a.observe(Duration::from_secs(60), Some(85.0));
        assert!(a.in_alarm());
        assert_eq!(a.last_datapoint(), Some(75.0));
    }

    #[test]
    fn missing_periods_do_not_breach() {
        let mut a = alarm(2, None);
        a.observe(minute(1), Some(90.0));
        a.observe(minute(2), Some(90.0));
        assert!(a.in_alarm());
        a.observe(minute(3), None);
        assert!(!a.in_alarm());
    }

    #[test]
    fn bad_counts_are_rejected() {
        let mut config = alarm(2, Some(3)).config().clone();
        assert!(
            config
                .validate("alarm")
                .unwrap_err()
                .contains("datapoints_to_alarm")
        );
        config.evaluation_periods = 0;
        assert!(
            config
                .validate("alarm")
                .unwrap_err()
                .contains("evaluation_periods")
        );
    }
}
