//! Background CPU and memory stress jobs, bounded by caps and stopped on shutdown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Length of one duty cycle of the CPU burner: busy for `percent` of it, asleep for the rest.
const DUTY_PERIOD: Duration = Duration::from_millis(100);

/// Gauges of the stress jobs, read by `/metrics`.
#[derive(Debug, Default)]
pub struct StressGauges {
    pub cpu_jobs: AtomicU64,
    pub memory_jobs: AtomicU64,
    pub memory_held_bytes: AtomicU64,
}

/// Why a stress job was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Accepting it would pass a cap; the message says which.
    OverCap(String),
    /// The allocator could not provide the memory.
    AllocationFailed(String),
}

/// The stress jobs of one service and the caps they share.
pub struct StressJobs {
    stop: CancellationToken,
    cpu_percent_in_use: Mutex<f64>,
    memory_cap: u64,
    /// Most CPU stress all jobs may run together, in % of all cores.
    cpu_cap: f64,
    memory_reserved: Mutex<u64>,
    next_id: AtomicU64,
    pub gauges: Arc<StressGauges>,
}

/// A running CPU stress job.
pub struct CpuJob {
    pub id: u64,
    pub cores: usize,
}

impl StressJobs {
    pub fn new(memory_cap: u64, cpu_cap: f64) -> Self {
        Self {
            cpu_cap,
            stop: CancellationToken::new(),
            cpu_percent_in_use: Mutex::new(0.0),
            memory_cap,
            memory_reserved: Mutex::new(0),
            next_id: AtomicU64::new(1),
            gauges: Arc::default(),
        }
    }

    /// Stops every job now and refuses new ones.
    pub fn stop_all(&self) {
        self.stop.cancel();
    }

    /// Starts burning `percent` of every core for `duration` on dedicated threads.
    pub fn start_cpu(
        self: &Arc<Self>,
        percent: f64,
        duration: Duration,
    ) -> Result<CpuJob, Refusal> {
        {
            let mut in_use = self.cpu_percent_in_use.lock().expect("cpu lock");
            if *in_use + percent > self.cpu_cap + 1e-9 {
                return Err(Refusal::OverCap(format!(
                    "CPU stress of {percent}% would bring the total to {}% of the cores (max {}%)",
                    *in_use + percent,
                    self.cpu_cap
                )));
            }
            *in_use += percent;
        }
        let release = Arc::new(CpuRelease {
            jobs: self.clone(),
            percent,
        });
        self.gauges.cpu_jobs.fetch_add(1, Ordering::Relaxed);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let deadline = Instant::now() + duration;
        for core in 0..cores {
            let release = release.clone();
            let stop = self.stop.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("stress-cpu-{core}"))
                .spawn(move || {
                    burn(percent, deadline, &stop);
                    drop(release);
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "could not start a CPU stress thread");
            }
        }
        Ok(CpuJob {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            cores,
        })
    }

    /// Allocates `bytes`, touches every page, holds them for `duration` (or until shutdown), frees them.
    pub async fn hold_memory(&self, bytes: u64, duration: Duration) -> Result<u64, Refusal> {
        let _reservation = self.reserve_memory(bytes)?;
        let size =
            usize::try_from(bytes).map_err(|_| Refusal::AllocationFailed("too large".into()))?;
        let block = tokio::task::spawn_blocking(move || {
            let mut block: Vec<u8> = Vec::new();
            block
                .try_reserve_exact(size)
                .map_err(|e| Refusal::AllocationFailed(e.to_string()))?;
            // Writing every byte makes the kernel back every page: resident memory really grows.
            block.resize(size, 0xA5);
            Ok::<_, Refusal>(block)
        })
        .await
        .map_err(|e| Refusal::AllocationFailed(e.to_string()))??;
        self.gauges.memory_jobs.fetch_add(1, Ordering::Relaxed);
        self.gauges
            .memory_held_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = self.stop.cancelled() => {}
        }
        drop(block);
        self.gauges
            .memory_held_bytes
            .fetch_sub(bytes, Ordering::Relaxed);
        self.gauges.memory_jobs.fetch_sub(1, Ordering::Relaxed);
        Ok(bytes)
    }

    fn reserve_memory(&self, bytes: u64) -> Result<MemoryReservation<'_>, Refusal> {
        if self.stop.is_cancelled() {
            return Err(Refusal::OverCap("the service is shutting down".into()));
        }
        let mut reserved = self.memory_reserved.lock().expect("memory lock");
        if *reserved + bytes > self.memory_cap {
            return Err(Refusal::OverCap(format!(
                "memory stress of {bytes} bytes would exceed the cap of {} bytes ({} already held)",
                self.memory_cap, *reserved
            )));
        }
        *reserved += bytes;
        Ok(MemoryReservation { jobs: self, bytes })
    }
}

/// Returns a CPU job's share of the cores when its last thread ends.
struct CpuRelease {
    jobs: Arc<StressJobs>,
    percent: f64,
}

impl Drop for CpuRelease {
    fn drop(&mut self) {
        *self.jobs.cpu_percent_in_use.lock().expect("cpu lock") -= self.percent;
        self.jobs.gauges.cpu_jobs.fetch_sub(1, Ordering::Relaxed);
    }
}

struct MemoryReservation<'a> {
    jobs: &'a StressJobs,
    bytes: u64,
}

impl Drop for MemoryReservation<'_> {
    fn drop(&mut self) {
        *self.jobs.memory_reserved.lock().expect("memory lock") -= self.bytes;
    }
}

/// Duty-cycles one thread: busy `percent` of each period, asleep for the rest, until `deadline`.
fn burn(percent: f64, deadline: Instant, stop: &CancellationToken) {
    let busy = DUTY_PERIOD.mul_f64(percent / 100.0);
    while !stop.is_cancelled() {
        let start = Instant::now();
        if start >= deadline {
            break;
        }
        while start.elapsed() < busy {
            std::hint::spin_loop();
        }
        let rest = DUTY_PERIOD.saturating_sub(start.elapsed());
        std::thread::sleep(rest.min(deadline.saturating_duration_since(Instant::now())));
    }
}
