//! Scaling and health events: shown live on stderr, kept for the caller, written to `events.csv`
//! ([`read_events`] reads it back).

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::recorder::with_header;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A replica's process was started.
    Launch,
    /// A new replica passed its health check and joined the rotation.
    InService,
    /// Health checks put a replica back in rotation.
    Healthy,
    /// Health checks took a replica out of rotation.
    Unhealthy,
    /// The load balancer took a replica out of rotation (it refused a connection).
    OutOfRotation,
    /// A replica's process exited on its own.
    Exited,
    /// A replica is replaced (it exited, stayed unhealthy or never started).
    Replace,
    /// The autoscaler raised the desired capacity.
    ScaleOut,
    /// The autoscaler lowered the desired capacity.
    ScaleIn,
    /// A replica left the rotation to finish its in-flight requests.
    Drain,
    /// A replica's process was stopped (SIGTERM, SIGKILL after the grace period).
    Stop,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::Launch => "launch",
            EventKind::InService => "in_service",
            EventKind::Healthy => "healthy",
            EventKind::Unhealthy => "unhealthy",
            EventKind::OutOfRotation => "out_of_rotation",
            EventKind::Exited => "exited",
            EventKind::Replace => "replace",
            EventKind::ScaleOut => "scale_out",
            EventKind::ScaleIn => "scale_in",
            EventKind::Drain => "drain",
            EventKind::Stop => "stop",
        })
    }
}

/// One event; `seconds` counts from the cluster's clock zero (negative before it: start-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seconds: f64,
    pub group: String,
    pub replica: Option<u64>,
    pub kind: EventKind,
    pub detail: String,
}

/// The file name inside a results directory.
pub const FILE: &str = "events.csv";

/// Reads `events.csv` from `dir`; errors name the file and the line.
pub fn read_events(dir: &Path) -> io::Result<Vec<Event>> {
    let path = dir.join(FILE);
    let invalid = |e: csv::Error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    };
    let bytes = scalelab_config::read_bounded(&path, scalelab_metrics::output::MAX_FILE_BYTES)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    reader
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(invalid)
}

/// The cluster's event log. Events before the clock starts (the start-up) are stamped when it
/// starts, with negative seconds.
#[derive(Debug)]
pub struct EventLog {
    live: bool,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    zero: Option<Instant>,
    unstamped: Vec<(Instant, Event)>,
    events: Vec<Event>,
    csv: Option<csv::Writer<BufWriter<File>>>,
}

impl Inner {
    fn stamp(&mut self, at: Instant, zero: Instant, mut event: Event) {
        let seconds = if at >= zero {
            (at - zero).as_secs_f64()
        } else {
            -(zero - at).as_secs_f64()
        };
        event.seconds = (seconds * 1000.0).round() / 1000.0;
        if let Some(csv) = &mut self.csv {
            let written = csv.serialize(&event).and_then(|()| Ok(csv.flush()?));
            if let Err(error) = written {
                tracing::warn!(%error, "cannot write events.csv");
            }
        }
        self.events.push(event);
    }
}

impl EventLog {
    /// A log that prints events to stderr when `live`, and streams them to `dir/events.csv`.
    pub fn new(dir: Option<&Path>, live: bool) -> io::Result<Self> {
        let csv = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let sample = Event {
                    seconds: 0.0,
                    group: String::new(),
                    replica: None,
                    kind: EventKind::Launch,
                    detail: String::new(),
                };
                Some(with_header(&dir.join(FILE), &sample)?)
            }
            None => None,
        };
        Ok(Self {
            live,
            inner: Mutex::new(Inner {
                zero: None,
                unstamped: Vec::new(),
                events: Vec::new(),
                csv,
            }),
        })
    }

    /// Starts the clock now (when the cluster is ready and the load may begin).
    pub fn start_clock(&self) -> Instant {
        let zero = Instant::now();
        let mut inner = self.inner.lock().expect("events lock");
        inner.zero = Some(zero);
        for (at, event) in std::mem::take(&mut inner.unstamped) {
            inner.stamp(at, zero, event);
        }
        zero
    }

    pub fn record(&self, group: &str, replica: Option<u64>, kind: EventKind, detail: String) {
        let at = Instant::now();
        let event = Event {
            seconds: 0.0,
            group: group.to_owned(),
            replica,
            kind,
            detail,
        };
        tracing::debug!(?event, "cluster event");
        let mut inner = self.inner.lock().expect("events lock");
        if self.live {
            let when = match inner.zero {
                Some(zero) => format!("{:>7.1}s", at.saturating_duration_since(zero).as_secs_f64()),
                None => "start-up".to_owned(),
            };
            let who = replica.map(|r| format!(" #{r}")).unwrap_or_default();
            // Not eprintln!, which panics when stderr is a closed pipe: a lost line is no failure.
            let _ = writeln!(
                io::stderr().lock(),
                "[{when}] {}{who}: {} {}",
                event.group,
                event.kind,
                event.detail
            );
        }
        match inner.zero {
            Some(zero) => inner.stamp(at, zero, event),
            None => inner.unstamped.push((at, event)),
        }
    }

    /// Every event stamped so far.
    pub fn events(&self) -> Vec<Event> {
        self.inner.lock().expect("events lock").events.clone()
    }
}
