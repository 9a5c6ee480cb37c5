//! What every configuration file of scalelab shares (plans, policies, cluster files, command-line
//! values): durations written as `90s`, `1m30s` or plain seconds, their serde form, and the
//! "did you mean" suggestion for a misspelt name.

mod duration;
pub mod duration_serde;
mod names;

pub use duration::{DurationError, format_duration, parse_duration};
pub use names::{closest, did_you_mean, with_nearest_field};
