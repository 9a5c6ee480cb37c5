//! `scalelab fit`: the capacity model from a run already made and the CPU series of its server,
//! aligned to the run's seconds.

use std::path::Path;
use std::time::UNIX_EPOCH;

use scalelab_capacity::{CapacityFile, CpuModel};
use scalelab_metrics::ClusterRow;
use scalelab_metrics::output::{read_summary, read_timeseries};

use crate::analysis::{LinearFit, linear_fit};
use crate::series::{Series, Window};

/// Why a run and a CPU series could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("{0}")]
    Results(std::io::Error),
    #[error("{0}")]
    Mismatch(String),
}

/// The load of a run: requests completed in each second, per instance in service.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLoad {
    /// Unix seconds of the run's second 0.
    pub start: f64,
    /// Requests per second per instance, by second; `None` where no instance was in service.
    pub per_second: Vec<Option<f64>>,
}

impl RunLoad {
    /// Reads `summary.json`, `timeseries.csv` and, for a cluster run, `cluster.csv` (whose
    /// `in_service` column, summed over groups, divides the load) from `dir`.
    pub fn read(dir: &Path) -> Result<Self, FitError> {
        let summary = read_summary(dir).map_err(FitError::Results)?;
        let start = humantime::parse_rfc3339_weak(&summary.started_at)
            .map_err(|e| {
                FitError::Mismatch(format!(
                    "summary.json: started_at '{}': {e}",
                    summary.started_at
                ))
            })?
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let rows = read_timeseries(dir).map_err(FitError::Results)?;
        let seconds = rows.iter().map(|r| r.second + 1).max().unwrap_or(0) as usize;
        let mut requests = vec![0.0; seconds];
        for row in &rows {
            requests[row.second as usize] += row.count as f64;
        }
        let instances = instances_in_service(dir, seconds)?;
        let per_second = requests
            .iter()
            .zip(instances)
            .map(|(&r, n)| match n {
                None => Some(r),
                Some(n) if n > 0.0 => Some(r / n),
                Some(_) => None,
            })
            .collect();
        Ok(Self { start, per_second })
    }

    /// Mean load over `[from, to)` Unix seconds, each second weighted by its overlap; `None` unless
    /// at least 90 % of the window lies on seconds with a load.
    pub fn mean_over(&self, from: f64, to: f64) -> Option<f64> {
        let (a, b) = (from - self.start, to - self.start);
        let (mut sum, mut covered) = (0.0, 0.0);
        let first = a.floor().max(0.0) as usize;
        for (second, load) in self.per_second.iter().enumerate().skip(first) {
            let overlap = (b.min(second as f64 + 1.0) - a.max(second as f64)).max(0.0);
            if second as f64 >= b {
                break;
            }
            if let Some(load) = load {
                sum += load * overlap;
                covered += overlap;
            }
        }
        (covered >= 0.9 * (b - a) && covered > 0.0).then(|| sum / covered)
    }
}

/// Instances in service per second from `cluster.csv` (`None` per second without the file).
fn instances_in_service(dir: &Path, seconds: usize) -> Result<Vec<Option<f64>>, FitError> {
    let path = dir.join("cluster.csv");
    if !path.exists() {
        return Ok(vec![None; seconds]);
    }
    let bad = |why: String| FitError::Mismatch(format!("{}: {why}", path.display()));
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no '{name}' column")))
    };
    let (second_at, in_service_at) = (column("second")?, column("in_service")?);
    let mut instances = vec![Some(0.0); seconds];
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let number = |at: usize| -> Result<f64, FitError> {
            record[at].parse().map_err(|_| {
                bad(format!(
                    "row {}: '{}' is not a number",
                    index + 2,
                    &record[at]
                ))
            })
        };
        let second = number(second_at)? as usize;
        if let Some(Some(n)) = instances.get_mut(second) {
            *n += number(in_service_at)?;
        }
    }
    Ok(instances)
}

/// Pairs every CPU datapoint with the run's mean load over the period it covers (the median gap
/// between datapoints: starting at the timestamp for CloudWatch, ending at it otherwise). Points
/// outside the run are left out; none inside is an error that gives both time ranges.
pub fn align(load: &RunLoad, series: &Series) -> Result<Vec<(f64, f64)>, FitError> {
    let period = series.period().ok_or_else(|| {
        FitError::Mismatch(format!(
            "the {} series has one data point: a fit needs a period and two points",
            series.format
        ))
    })?;
    let pairs: Vec<(f64, f64)> = series
        .points
        .iter()
        .filter_map(|&(t, cpu)| {
            let (from, to) = match series.window {
                Window::Starting => (t, t + period),
                Window::Ending => (t - period, t),
            };
            load.mean_over(from, to).map(|l| (l, cpu))
        })
        .collect();
    if pairs.is_empty() {
        let first = series.points.first().map_or(0.0, |p| p.0);
        let last = series.points.last().map_or(0.0, |p| p.0);
        return Err(FitError::Mismatch(format!(
            "the {} series ({} to {}, every {period} s) does not overlap the run ({} to {}): check \
             that both are of the same run and that timestamps are in UTC",
            series.format,
            rfc3339(first),
            rfc3339(last),
            rfc3339(load.start),
            rfc3339(load.start + load.per_second.len() as f64)
        )));
    }
    Ok(pairs)
}

fn rfc3339(unix: f64) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_secs_f64(unix.max(0.0));
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The least-squares fit of CPU % against load and the model it gives on `vcpus`.
pub fn fit(pairs: &[(f64, f64)], vcpus: u32) -> Result<(LinearFit, CapacityFile), FitError> {
    let fit = checked_fit(pairs)?;
    let file = CapacityFile {
        vcpus,
        cpu: CpuModel {
            coefficient: fit.slope,
            base: fit.intercept.clamp(0.0, 99.0),
            cpu_seconds_per_request: fit.slope * f64::from(vcpus) / 100.0,
            r2: fit.r2,
            points: fit.points as u32,
        },
        memory: None,
        max_sustainable_rate: None,
    };
    Ok((fit, file))
}

/// The least-squares fit of a cluster group's CPU % per replica against the requests per second each
/// replica in service answered: a point per second of `rows` (one group's) with a CPU measurement.
pub fn cluster_fit(rows: &[ClusterRow]) -> Result<LinearFit, FitError> {
    let pairs: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| r.in_service > 0)
        .filter_map(|r| Some((r.requests as f64 / f64::from(r.in_service), r.cpu_avg_pct?)))
        .collect();
    checked_fit(&pairs)
}

/// The least-squares line through (load, CPU %) `pairs`, refused unless CPU grows with load.
fn checked_fit(pairs: &[(f64, f64)]) -> Result<LinearFit, FitError> {
    let fit = linear_fit(pairs).ok_or_else(|| {
        FitError::Mismatch(format!(
            "{} aligned point(s) at {} distinct load(s): a fit needs two different loads",
            pairs.len(),
            {
                let mut loads: Vec<f64> = pairs.iter().map(|p| p.0).collect();
                loads.dedup();
                loads.len()
            }
        ))
    })?;
    if fit.slope <= 0.0 {
        return Err(FitError::Mismatch(format!(
            "CPU does not grow with load (slope {:.6} % per request/s, R² {:.3}): is it the \
             right server's CPU?",
            fit.slope, fit.r2
        )));
    }
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_is_averaged_over_the_covered_seconds() {
        let load = RunLoad {
            start: 100.0,
            per_second: vec![Some(10.0), Some(20.0), Some(30.0), None],
        };
        // [100.5, 102.5): half of 10, all of 20, half of 30 over 2 s = (5 + 20 + 15) / 2 = 20.
        assert_eq!(load.mean_over(100.5, 102.5), Some(20.0));
        // [102, 104): 30 over 1 s, the second without instances is not covered: 50 % < 90 %.
        assert_eq!(load.mean_over(102.0, 104.0), None);
        // Before the run.
        assert_eq!(load.mean_over(90.0, 95.0), None);
    }

    #[test]
    fn cloudwatch_periods_start_and_others_end_at_the_timestamp() {
        let load = RunLoad {
            start: 0.0,
            per_second: vec![
                Some(1.0),
                Some(1.0),
                Some(3.0),
                Some(3.0),
                Some(5.0),
                Some(5.0),
            ],
        };
        let series = |window| Series {
            format: "test",
            points: vec![(0.0, 7.0), (2.0, 8.0), (4.0, 9.0), (6.0, 10.0)],
            window,
        };
        assert_eq!(
            align(&load, &series(Window::Starting)).unwrap(),
            vec![(1.0, 7.0), (3.0, 8.0), (5.0, 9.0)]
        );
        assert_eq!(
            align(&load, &series(Window::Ending)).unwrap(),
            vec![(1.0, 8.0), (3.0, 9.0), (5.0, 10.0)]
        );
        let far = Series {
            points: vec![(1000.0, 1.0), (1060.0, 2.0)],
            ..series(Window::Ending)
        };
        let error = align(&load, &far).unwrap_err().to_string();
        assert!(error.contains("does not overlap the run"), "{error}");
    }

    #[test]
    fn a_cluster_is_fitted_per_replica_in_service() {
        let second = |in_service, requests, cpu| ClusterRow {
            in_service,
            requests,
            cpu_avg_pct: cpu,
            ..ClusterRow::default()
        };
        // 10 % per request/s per replica + 1 %: 20/s on 2 = 10/s each (101 %), 12/s on 3 = 4/s (41 %),
        // 0/s on 1 (1 %); a second without a CPU sample and one with no replica are left out.
        let rows = [
            second(2, 20, Some(101.0)),
            second(3, 12, Some(41.0)),
            second(1, 0, Some(1.0)),
            second(2, 50, None),
            second(0, 7, Some(90.0)),
        ];
        let line = cluster_fit(&rows).unwrap();
        assert!((line.slope - 10.0).abs() < 1e-9 && (line.intercept - 1.0).abs() < 1e-9);
        assert_eq!(line.points, 3);
        let flat = cluster_fit(&rows[2..3]).unwrap_err().to_string();
        assert!(flat.contains("two different loads"), "{flat}");
    }
}
