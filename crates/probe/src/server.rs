//! The server's CPU time and resident memory, read while the staircase runs: from /proc for a local
//! process, or from the `process_cpu_seconds_total` and `process_resident_memory_bytes` samples of
//! its Prometheus endpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Where the server's CPU and memory are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSource {
    /// A local process, from /proc/PID/stat and /proc/PID/statm.
    Pid(i32),
    /// A Prometheus text endpoint exposing the process collector's metrics.
    MetricsUrl(String),
}

/// Longest wait for one reading of a Prometheus endpoint, connection included: a server that accepts
/// the connection and never answers fails the reading instead of stalling it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client of the readings, bounded by [`READ_TIMEOUT`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(READ_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Why the server could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read process {pid} from /proc: {source}")]
    Proc { pid: i32, source: procfs::ProcError },
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url} has no sample of {metric}")]
    Missing { url: String, metric: &'static str },
}

/// One reading: seconds since the staircase began, CPU seconds used so far, resident bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub at: f64,
    pub cpu_seconds: f64,
    pub resident_bytes: Option<f64>,
    /// The whole machine's (busy, total) CPU ticks from /proc/stat, for a local process: a server
    /// can be CPU-bound on a machine other processes keep busy.
    pub machine_ticks: Option<(u64, u64)>,
}

/// Busy and total CPU ticks of this machine since boot.
fn machine_ticks() -> Option<(u64, u64)> {
    use procfs::CurrentSI;
    let t = procfs::KernelStats::current().ok()?.total;
    let idle = t.idle + t.iowait.unwrap_or(0);
    let busy = t.user
        + t.nice
        + t.system
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    Some((busy, busy + idle))
}

impl ServerSource {
    /// Reads the server once (`at` is filled in by the caller).
    pub async fn read(&self, client: &reqwest::Client) -> Result<Reading, ServerError> {
        match self {
            Self::Pid(pid) => {
                let process = procfs::process::Process::new(*pid)
                    .map_err(|source| ServerError::Proc { pid: *pid, source })?;
                let stat = process
                    .stat()
                    .map_err(|source| ServerError::Proc { pid: *pid, source })?;
                let ticks = procfs::ticks_per_second() as f64;
                let resident = process
                    .statm()
                    .ok()
                    .map(|m| (m.resident * procfs::page_size()) as f64);
                Ok(Reading {
                    at: 0.0,
                    cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
                    resident_bytes: resident,
                    machine_ticks: machine_ticks(),
                })
            }
            Self::MetricsUrl(url) => {
                let failed = |error: reqwest::Error| ServerError::Fetch {
                    url: url.clone(),
                    reason: if error.is_timeout() {
                        format!("no answer within {READ_TIMEOUT:?}")
                    } else {
                        error.to_string()
                    },
                };
                let response = client.get(url).send().await.map_err(failed)?;
                if !response.status().is_success() {
                    return Err(ServerError::Fetch {
                        url: url.clone(),
                        reason: format!("status {}", response.status()),
                    });
                }
                let text = response.text().await.map_err(failed)?;
                let cpu_seconds = sample_value(&text, "process_cpu_seconds_total").ok_or(
                    ServerError::Missing {
                        url: url.clone(),
                        metric: "process_cpu_seconds_total",
                    },
                )?;
                Ok(Reading {
                    at: 0.0,
                    cpu_seconds,
                    resident_bytes: sample_value(&text, "process_resident_memory_bytes"),
                    machine_ticks: None,
                })
            }
        }
    }
}

/// The value of the first sample of `metric` in Prometheus or OpenMetrics text (label sets and a
/// trailing timestamp allowed). Written by hand: two numbers do not justify a parser crate.
pub fn sample_value(text: &str, metric: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?;
        let rest = match rest.chars().next()? {
            '{' => &rest[rest.find('}')? + 1..],
            ' ' | '\t' => rest,
            _ => return None,
        };
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Readings taken every `every` until stopped, timed from `start`.
#[derive(Clone, Default)]
pub struct Readings(Arc<Mutex<Vec<Reading>>>);

impl Readings {
    /// Reads `source` every `every` from `start` until `stop`; failed reads are skipped (logged
    /// as gaps: the step they fall in then has fewer readings, or none).
    pub fn spawn(
        source: ServerSource,
        start: Instant,
        every: Duration,
        stop: CancellationToken,
    ) -> Self {
        let readings = Self::default();
        let shared = readings.clone();
        tokio::spawn(async move {
            let client = client();
            let mut ticker = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = ticker.tick() => {}
                }
                let read = tokio::select! {
                    _ = stop.cancelled() => break,
                    read = source.read(&client) => read,
                };
                if let Ok(mut reading) = read {
                    reading.at = start.elapsed().as_secs_f64();
                    shared.0.lock().expect("never poisoned").push(reading);
                }
            }
        });
        readings
    }

    /// Everything read so far.
    pub fn snapshot(&self) -> Vec<Reading> {
        self.0.lock().expect("never poisoned").clone()
    }
}

/// What the readings of one window show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// The server's CPU % of a machine of `vcpus`.
    pub cpu_percent: f64,
    /// Mean resident bytes.
    pub memory_bytes: Option<f64>,
    /// The whole machine's busy CPU %, when read.
    pub machine_percent: Option<f64>,
}

/// [`Usage`] over `[from, to]` seconds, from the first and last readings inside the window
/// (`None` with fewer than two).
pub fn usage(readings: &[Reading], from: f64, to: f64, vcpus: u32) -> Option<Usage> {
    let inside: Vec<&Reading> = readings
        .iter()
        .filter(|r| r.at >= from && r.at <= to)
        .collect();
    let (first, last) = (inside.first()?, inside.last()?);
    if last.at - first.at <= 0.0 {
        return None;
    }
    let cpu =
        (last.cpu_seconds - first.cpu_seconds) / (last.at - first.at) * 100.0 / f64::from(vcpus);
    let memory: Vec<f64> = inside.iter().filter_map(|r| r.resident_bytes).collect();
    let memory = (!memory.is_empty()).then(|| memory.iter().sum::<f64>() / memory.len() as f64);
    let machine = match (first.machine_ticks, last.machine_ticks) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
            Some(b1.saturating_sub(b0) as f64 / (t1 - t0) as f64 * 100.0)
        }
        _ => None,
    };
    Some(Usage {
        cpu_percent: cpu,
        memory_bytes: memory,
        machine_percent: machine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_found_with_or_without_labels() {
        let text = "# TYPE process_cpu_seconds counter\n\
                    process_cpu_seconds_total_other 9\n\
                    process_cpu_seconds_total 12.5\n\
                    process_resident_memory_bytes{instance=\"a\"} 1.5e6 1700000000\n";
        assert_eq!(sample_value(text, "process_cpu_seconds_total"), Some(12.5));
        assert_eq!(
            sample_value(text, "process_resident_memory_bytes"),
            Some(1.5e6)
        );
        assert_eq!(sample_value(text, "missing"), None);
    }

    #[test]
    fn usage_is_cpu_seconds_over_wall_seconds_per_vcpu() {
        let r = |at: f64, cpu, mem, busy| Reading {
            at,
            cpu_seconds: cpu,
            resident_bytes: Some(mem),
            machine_ticks: Some((busy, (100.0 * at) as u64)),
        };
        let readings = [
            r(0.5, 1.0, 10.0, 0),
            r(1.0, 1.2, 20.0, 50),
            r(3.0, 2.0, 30.0, 230),
            r(4.0, 9.0, 0.0, 300),
        ];
        // Inside [1, 3]: 0.8 CPU s over 2 s = 40 % of one vCPU = 20 % of two; memory (20+30)/2;
        // the machine busy for 180 of 200 ticks = 90 %.
        let u = usage(&readings, 1.0, 3.0, 2).unwrap();
        assert!((u.cpu_percent - 20.0).abs() < 1e-9);
        assert_eq!(u.memory_bytes, Some(25.0));
        assert_eq!(u.machine_percent, Some(90.0));
        assert!(usage(&readings, 1.0, 1.5, 2).is_none());
    }
}
