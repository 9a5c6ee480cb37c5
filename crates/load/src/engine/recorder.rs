//! Each loader thread folds its samples into its own [`Interval`] and hands it to the collector once
//! per second: no lock and no allocation per request.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use scalelab_metrics::{CustomKind, Interval, Sample};
use tokio::sync::mpsc::UnboundedSender;

/// What a loader thread tells the collector.
#[derive(Debug)]
pub enum Report {
    /// Second `interval.second` of thread `thread` is complete.
    Interval {
        thread: usize,
        interval: Box<Interval>,
    },
    /// Thread `thread` has stopped; it reports nothing more.
    Finished { thread: usize },
}

/// The per-thread accumulator of the current second, and the thread's gauges.
pub struct Recorder {
    thread: usize,
    start: Instant,
    current: RefCell<Interval>,
    reports: UnboundedSender<Report>,
    /// Virtual users running on this thread, per scenario.
    vus: Vec<Cell<u64>>,
    /// Virtual users running on this thread, and the most of them at once in the current second.
    running: Cell<u64>,
    running_peak: Cell<u64>,
    /// Virtual users allocated on this thread (running or idle in a pool), and the most at once in
    /// the current second.
    allocated: Rc<Cell<u64>>,
    allocated_peak: Cell<u64>,
    /// Requests sent and not yet answered on this thread.
    pub in_flight: Cell<u64>,
    /// Set by [`Recorder::finish`]: nothing is recorded after it.
    finished: Cell<bool>,
    /// The thread's CPU time when it last handed over a second.
    cpu_at_last_send: Cell<Duration>,
}

/// The CPU time of the calling thread (zero where the clock cannot be read).
fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

impl Recorder {
    /// A recorder for the calling thread (its CPU time is measured from here).
    pub fn new(
        thread: usize,
        scenarios: usize,
        start: Instant,
        reports: UnboundedSender<Report>,
    ) -> Self {
        Self {
            thread,
            start,
            current: RefCell::new(Interval::new(0)),
            reports,
            vus: (0..scenarios).map(|_| Cell::new(0)).collect(),
            running: Cell::new(0),
            running_peak: Cell::new(0),
            allocated: Rc::new(Cell::new(0)),
            allocated_peak: Cell::new(0),
            in_flight: Cell::new(0),
            finished: Cell::new(false),
            cpu_at_last_send: Cell::new(thread_cpu()),
        }
    }

    /// The run's start: every sample's timestamps are offsets from it.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Offset of `instant` from the start of the run.
    pub fn offset(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }

    /// Records a request; it belongs to the second in which it completed.
    pub fn record(&self, sample: &Sample) {
        self.roll(sample.done.as_secs());
        self.current.borrow_mut().record(sample);
    }

    /// Counts a check of the request just recorded: checks run right after their request, with no
    /// await between, so they belong to the second it was recorded in (no clock read needed).
    pub fn record_check(&self, check: usize, passed: bool) {
        self.current.borrow_mut().record_check(check, passed);
    }

    /// Adds a value to a script's custom metric, in the current second.
    pub fn record_custom(&self, name: &str, kind: CustomKind, value: f64) {
        self.roll_now();
        let at = self.start.elapsed();
        self.current
            .borrow_mut()
            .record_custom(name, kind, value, at);
    }

    pub fn record_iteration(&self, scenario: usize, duration: Duration) {
        self.roll_now();
        self.current
            .borrow_mut()
            .record_iteration(scenario, duration);
    }

    /// Notes how late an arrival's first request was sent, and whether the arrival waited for a
    /// busy VU; it belongs to the current second (the request's own sample is recorded right
    /// after, with no await between).
    pub fn record_send_delay(&self, delay: Duration, waited: bool) {
        self.current.borrow_mut().record_send_delay(delay, waited);
    }

    /// Counts an iteration of `scenario` cut short by the end of the run.
    pub fn record_interrupted(&self, scenario: usize) {
        self.roll_now();
        self.current.borrow_mut().record_interrupted(scenario);
    }

    /// Counts a request cut off in flight by the end of the run.
    pub fn record_interrupted_request(&self) {
        self.roll_now();
        self.current.borrow_mut().record_interrupted_request();
    }

    /// Counts `count` iterations of `scenario` that were due and never started.
    pub fn record_dropped(&self, scenario: usize, count: u64) {
        self.roll_now();
        self.current.borrow_mut().record_dropped(scenario, count);
    }

    /// A VU of `scenario` started (+1) or ended (-1).
    pub fn count_vu(&self, scenario: usize, started: bool) {
        let step = |cell: &Cell<u64>| {
            cell.set(if started {
                cell.get() + 1
            } else {
                cell.get() - 1
            })
        };
        step(&self.vus[scenario]);
        step(&self.running);
        self.running_peak
            .set(self.running_peak.get().max(self.running.get()));
    }

    /// Counts a virtual user as allocated for as long as the returned guard lives.
    pub fn allocate_vu(&self) -> Allocated {
        self.allocated.set(self.allocated.get() + 1);
        self.allocated_peak
            .set(self.allocated_peak.get().max(self.allocated.get()));
        Allocated(self.allocated.clone())
    }

    /// Hands over every completed second up to now (called by the thread's once-a-second ticker).
    pub fn roll_now(&self) {
        self.roll(self.start.elapsed().as_secs());
    }

    /// Sends the current second (and empty ones for any skipped) until `second` is current.
    fn roll(&self, second: u64) {
        if self.finished.get() {
            // Whatever ends after the thread reported its last second is not counted twice.
            return;
        }
        let mut current = self.current.borrow_mut();
        while current.second < second {
            let next = current.second + 1;
            self.send(&mut current, next);
        }
    }

    fn send(&self, current: &mut Interval, next: u64) {
        current.gauges.vus = self.vus.iter().map(Cell::get).sum();
        for (scenario, vus) in self.vus.iter().enumerate() {
            current.scenario_mut(scenario).vus = vus.get();
        }
        current.gauges.in_flight = self.in_flight.get();
        current.gauges.vus_peak = self.running_peak.replace(self.running.get());
        current.gauges.vus_allocated = self.allocated_peak.replace(self.allocated.get());
        let cpu = thread_cpu();
        let spent = cpu.saturating_sub(self.cpu_at_last_send.replace(cpu));
        current.loader_cpu_micros = u64::try_from(spent.as_micros()).unwrap_or(u64::MAX);
        let finished = std::mem::replace(current, Interval::new(next));
        let _ = self.reports.send(Report::Interval {
            thread: self.thread,
            interval: Box::new(finished),
        });
    }

    /// Sends what is left and says the thread is done.
    pub fn finish(&self) {
        let mut current = self.current.borrow_mut();
        let next = current.second + 1;
        self.send(&mut current, next);
        self.finished.set(true);
        let _ = self.reports.send(Report::Finished {
            thread: self.thread,
        });
    }
}

/// A virtual user counted as allocated; dropping it frees the count.
pub struct Allocated(Rc<Cell<u64>>);

impl Drop for Allocated {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}
