//! The open model's release timer. tokio's timer has a 1 ms wheel and rounds deadlines up, so an
//! arrival released by it goes out up to a millisecond late; on Linux a timerfd (a high-resolution
//! kernel timer, within the thread's 50 µs timer slack) releases it on time without spinning.
//! Elsewhere, or if the timerfd cannot be made, tokio's timer stands in.

use std::time::{Duration, Instant};

/// Waits for arrival times, one at a time.
pub struct ReleaseTimer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<linux::Timer>>,
    /// When the last wait ended.
    woke: Option<Instant>,
}

/// The shortest time between two wake-ups. Above 10,000 arrivals/s a wake-up releases every arrival
/// due since the last one, each at most this late, instead of arming the timer per arrival: each
/// arming and wake-up costs a timer reprogramming and a context switch (on a VM, exits to the
/// hypervisor). At 20,000 req/s for 4 s (bench/README.md) the loader took 3.2–3.5 s of CPU when it
/// woke per arrival, 1.6–1.7 s with 100 µs and 1.1–1.35 s with 250 µs; the send delay's p50 was
/// 0.09, 0.11 and 0.2 ms, its p99 0.5–1.3 ms in all three (the VM's wake-up latency).
const QUANTUM: Duration = Duration::from_micros(100);

impl ReleaseTimer {
    pub fn new() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            fd: linux::Timer::new()
                .and_then(linux::register)
                .inspect_err(|error| {
                    tracing::debug!(%error, "no timerfd: arrivals use the 1 ms timer");
                })
                .ok(),
            woke: None,
        }
    }

    /// Returns at `due` (at once if it has passed), or [`QUANTUM`] after the last wake-up if that
    /// is later.
    pub async fn until(&mut self, due: Instant) {
        let due = self.woke.map_or(due, |woke| due.max(woke + QUANTUM));
        self.wait(due).await;
        self.woke = Some(Instant::now());
    }

    async fn wait(&mut self, due: Instant) {
        let Some(wait) = due
            .checked_duration_since(Instant::now())
            .filter(|w| !w.is_zero())
        else {
            return;
        };
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd
            && linux::wait(fd, wait).await.is_ok()
        {
            return;
        }
        let _ = wait;
        tokio::time::sleep_until(due.into()).await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, RawFd};
    use std::time::Duration;

    use nix::sys::time::TimeSpec;
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    use tokio::io::unix::AsyncFd;

    /// A non-blocking CLOCK_MONOTONIC timerfd (the clock `Instant` reads).
    pub struct Timer(TimerFd);

    impl Timer {
        pub fn new() -> io::Result<Self> {
            let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
            Ok(Self(TimerFd::new(ClockId::CLOCK_MONOTONIC, flags)?))
        }
    }

    impl AsRawFd for Timer {
        fn as_raw_fd(&self) -> RawFd {
            self.0.as_fd().as_raw_fd()
        }
    }

    /// Registers the timer with the runtime's reactor. `AsyncFd::new` is deprecated because a type
    /// could close or swap its descriptor while registered (tokio PR 8587); `Timer` owns its
    /// `OwnedFd` and never does, and the unsafe `register` is not open to this crate.
    #[allow(deprecated)]
    pub fn register(timer: Timer) -> io::Result<AsyncFd<Timer>> {
        AsyncFd::new(timer)
    }

    /// Arms the timer `wait` from now and waits for it to expire. Arming clears any expiration
    /// left by an earlier wait that was cancelled, so a stale one never releases early.
    pub async fn wait(fd: &AsyncFd<Timer>, wait: Duration) -> io::Result<()> {
        fd.get_ref().0.set(
            Expiration::OneShot(TimeSpec::from_duration(wait)),
            TimerSetTimeFlags::empty(),
        )?;
        loop {
            let mut guard = fd.readable().await?;
            match guard.try_io(|inner| inner.get_ref().0.wait().map_err(io::Error::from)) {
                Ok(result) => {
                    // The one expiration is consumed: without this the next wait would find the
                    // readiness still set and spend a read on EAGAIN before sleeping.
                    guard.clear_ready();
                    return result;
                }
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The timer never releases early, whether the wait is below, at or above tokio's 1 ms tick,
    /// already over, or follows a wait that was cancelled while armed.
    #[tokio::test(flavor = "current_thread")]
    async fn never_releases_before_the_due_time() {
        let mut timer = ReleaseTimer::new();
        #[cfg(target_os = "linux")]
        assert!(timer.fd.is_some(), "Linux has timerfd");
        for micros in [0, 50, 300, 999, 1000, 1500, 2500] {
            let due = Instant::now() + Duration::from_micros(micros);
            timer.until(due).await;
            assert!(Instant::now() >= due, "{micros} µs");
        }
        timer.until(Instant::now() - Duration::from_millis(5)).await;
        // Cancelled while armed for 1 ms; a later 20 ms wait must not take the stale expiry.
        let cancelled = Instant::now() + Duration::from_millis(1);
        let _ = tokio::time::timeout(Duration::from_micros(1), timer.until(cancelled)).await;
        std::thread::sleep(Duration::from_millis(2));
        let due = Instant::now() + Duration::from_millis(20);
        timer.until(due).await;
        assert!(Instant::now() >= due);
    }

    /// Arrivals closer together than the quantum are released together, a quantum after the last
    /// wake-up, not one timer each.
    #[tokio::test(flavor = "current_thread")]
    async fn wakes_at_most_once_per_quantum() {
        let mut timer = ReleaseTimer::new();
        let start = Instant::now();
        // 50 arrivals 10 µs apart: 10 per quantum.
        let mut wake_ups = Vec::new();
        for k in 0..50 {
            timer.until(start + Duration::from_micros(10 * k)).await;
            wake_ups.push(timer.woke.expect("woke"));
        }
        for (k, pair) in wake_ups.windows(2).enumerate() {
            assert!(pair[1] >= pair[0] + QUANTUM, "wake-up {} came early", k + 1);
        }
    }
}
