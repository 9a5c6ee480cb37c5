//! The load engine: plans people already write (k6 options, Artillery scripts, native scalelab plans),
//! executors that turn their shapes into virtual users and arrivals, and the HTTP client that measures.

pub mod client;
pub mod engine;
mod executor;
pub mod plan;
