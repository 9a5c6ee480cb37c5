//! CPU and memory of replicas from /proc: each replica is a process group, so its usage is the sum
//! over the processes of that group (gunicorn's workers count with their master).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// CPU time and resident memory of one process group at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GroupUsage {
    pub cpu: Duration,
    pub resident_bytes: u64,
}

/// Reads the usage of every process group in `groups` in one pass over /proc.
pub fn usage_by_process_group(groups: &[u32]) -> HashMap<u32, GroupUsage> {
    let mut usage: HashMap<u32, GroupUsage> =
        groups.iter().map(|&g| (g, GroupUsage::default())).collect();
    let Ok(processes) = procfs::process::all_processes() else {
        return usage;
    };
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    for process in processes.flatten() {
        let Ok(stat) = process.stat() else { continue };
        let Some(entry) = u32::try_from(stat.pgrp)
            .ok()
            .and_then(|g| usage.get_mut(&g))
        else {
            continue;
        };
        entry.cpu += Duration::from_secs_f64((stat.utime + stat.stime) as f64 / ticks);
        entry.resident_bytes += stat.rss * page;
    }
    usage
}

/// Physical memory of the host, in bytes (0 when /proc does not tell).
pub fn host_memory_bytes() -> u64 {
    use procfs::Current;
    procfs::Meminfo::current().map_or(0, |m| m.mem_total)
}

/// Turns successive CPU times of one replica into utilisation of its `vcpus`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuMeter {
    last: Option<(Instant, Duration)>,
}

impl CpuMeter {
    /// CPU % since the previous reading: CPU seconds / (elapsed x vcpus) x 100; `None` at the first.
    pub fn utilisation(&mut self, now: Instant, cpu: Duration, vcpus: f64) -> Option<f64> {
        let previous = self.last.replace((now, cpu));
        let (then, used) = previous?;
        let elapsed = now.duration_since(then).as_secs_f64();
        (elapsed > 0.0).then(|| cpu.saturating_sub(used).as_secs_f64() / (elapsed * vcpus) * 100.0)
    }
}

/// What the cluster remembers of one replica between seconds, to measure it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplicaMeter {
    pub cpu: CpuMeter,
    /// Requests it had answered at the previous reading.
    requests: u64,
    /// When it was first seen in service.
    pub in_service_since: Option<Instant>,
}

impl ReplicaMeter {
    /// Requests per second since the previous reading, from its count of requests answered.
    pub fn request_rate(&mut self, requests: u64, elapsed_seconds: f64) -> f64 {
        let previous = std::mem::replace(&mut self.requests, requests);
        requests.saturating_sub(previous) as f64 / elapsed_seconds.max(1e-3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_is_cpu_seconds_over_elapsed_times_vcpus() {
        let mut meter = CpuMeter::default();
        let t0 = Instant::now();
        assert_eq!(meter.utilisation(t0, Duration::from_secs(1), 0.5), None);
        let half = meter.utilisation(
            t0 + Duration::from_secs(2),
            Duration::from_millis(1500),
            0.5,
        );
        assert!((half.unwrap() - 50.0).abs() < 1e-9, "{half:?}");
    }

    #[test]
    fn request_rate_is_the_count_answered_since_the_last_reading_per_second() {
        let mut meter = ReplicaMeter::default();
        // 30 requests in its first 2 s: 15 per second; then 30 -> 36 in 0.5 s: 12 per second.
        assert_eq!(meter.request_rate(30, 2.0), 15.0);
        assert_eq!(meter.request_rate(36, 0.5), 12.0);
    }

    #[test]
    fn this_process_group_is_measured() {
        let own = nix::unistd::getpgrp().as_raw() as u32;
        let usage = usage_by_process_group(&[own]);
        assert!(usage[&own].resident_bytes > 0, "{usage:?}");
    }
}
