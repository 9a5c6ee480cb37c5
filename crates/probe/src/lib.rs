//! Capacity from measurement: an open-model staircase that finds where a server stops keeping up,
//! the server's CPU and memory on each step, the fitted capacity model and what kind of server it is.

pub mod analysis;
pub mod findings;
pub mod fit;
pub mod mix;
pub mod output;
pub mod series;
pub mod server;
pub mod staircase;

pub use findings::Findings;
pub use server::{ServerError, ServerSource};
pub use staircase::{Ended, Growth, Measurement, ProbeOptions, Staircase, Step, run};

/// Why a capacity test could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Plan(scalelab_load::engine::CompileError),
    #[error("reading the server's CPU and memory: {0}")]
    Server(#[from] ServerError),
    #[error("running the staircase: {0}")]
    Io(std::io::Error),
    #[error("interrupted before the first step")]
    Interrupted,
}
