use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::TargetError;

/// How the service takes on concurrent requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every request is served concurrently; CPU work runs on a blocking pool.
    Async,
    /// At most `workers` requests are served at once (like gunicorn sync workers); up to `backlog`
    /// more wait in FIFO order; beyond that the service answers 503 at once.
    Sync { workers: usize, backlog: usize },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Async => write!(f, "async"),
            Mode::Sync { workers, backlog } => {
                write!(f, "sync ({workers} workers, backlog {backlog})")
            }
        }
    }
}

/// Everything the stress service can be told at start-up.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    pub mode: Mode,
    /// When set, `/stress/*` requires `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Seed of the random choices (stress percent when absent); `None` seeds from the OS.
    pub seed: Option<u64>,
    /// Most memory all memory-stress jobs may hold together; `None` means half of the memory
    /// available when the service starts.
    pub memory_cap: Option<u64>,
    /// Most CPU all CPU-stress jobs may burn together, in % of all cores (0 < cap <= 100).
    pub cpu_cap: f64,
    /// How long in-flight requests may run on after a shutdown begins.
    pub grace: Duration,
    /// Longest wait for a request's head, from the connection's start or its previous response.
    pub header_timeout: Duration,
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: Mode::Async,
            token: None,
            seed: None,
            memory_cap: None,
            cpu_cap: 100.0,
            grace: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
        }
    }
}

impl TargetConfig {
    /// The default configuration, which listens on a free loopback port: what tests and embedded
    /// runs use.
    pub fn loopback() -> Self {
        Self::default()
    }

    pub(crate) fn validate(&self) -> Result<(), TargetError> {
        if !(self.cpu_cap > 0.0 && self.cpu_cap <= 100.0) {
            return Err(TargetError::Config(format!(
                "the CPU cap must be above 0 and at most 100 (% of all cores), not {}",
                self.cpu_cap
            )));
        }
        if self.header_timeout.is_zero() {
            return Err(TargetError::Config(
                "the header timeout must be above 0".into(),
            ));
        }
        if let Mode::Sync { workers: 0, .. } = self.mode {
            return Err(TargetError::Config(
                "sync mode needs at least 1 worker".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn memory_cap_bytes(&self) -> u64 {
        self.memory_cap
            .unwrap_or_else(|| crate::process::memory_available_bytes() / 2)
    }

    pub(crate) fn rng(&self) -> StdRng {
        match self.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        }
    }
}
