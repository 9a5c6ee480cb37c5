//! CPU time and memory of this process and thread, read from the kernel.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};
use procfs::Current;

/// CPU time consumed by the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

/// CPU time (user + system) and resident memory of this whole process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessUsage {
    pub cpu: Duration,
    pub resident_bytes: u64,
}

/// Reads [`ProcessUsage`] of this process (zeros where the kernel does not tell).
pub fn process_usage() -> ProcessUsage {
    let cpu = clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default();
    let resident_bytes = procfs::process::Process::myself()
        .and_then(|p| p.statm())
        .map(|statm| statm.resident * procfs::page_size())
        .unwrap_or(0);
    ProcessUsage {
        cpu,
        resident_bytes,
    }
}

/// Physical memory of the machine, in bytes.
pub(crate) fn memory_total_bytes() -> u64 {
    procfs::Meminfo::current().map(|m| m.mem_total).unwrap_or(0)
}

/// Memory available for new allocations without swapping, in bytes.
pub(crate) fn memory_available_bytes() -> u64 {
    procfs::Meminfo::current()
        .map(|m| m.mem_available.unwrap_or(m.mem_free))
        .unwrap_or(0)
}
